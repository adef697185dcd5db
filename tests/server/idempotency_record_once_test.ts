/**
 * `recordOnce()` on its own: a request without a key records at once and
 * digests nothing; a keyed one digests what it records once, to claim.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MemoryStore } from "../../src/server/mod.ts";
import type { ServerContext } from "../../src/server/_context.ts";
import { type IdempotencyRefusals, recordOnce } from "../../src/server/_idempotency.ts";

const REFUSALS: IdempotencyRefusals = {
  invalid: () => {
    throw new Error("invalid");
  },
  inFlight: () => {
    throw new Error("in flight");
  },
  reused: () => {
    throw new Error("reused");
  },
};

/** What recordOnce reads of the server context: the clock, the bounds and the pruner's kick. */
function context(): ServerContext {
  return {
    now: () => 1_000,
    idempotency: { windowMs: 60_000, maxKeysPerScope: 10, maxKeys: 100 },
    maintain: () => Promise.resolve(),
  } as unknown as ServerContext;
}

const OK = { status: 200, body: '{"ok":true}' };

Deno.test("recordOnce() records a request without a key without digesting it", async () => {
  const store = new MemoryStore();
  let records = 0;
  const result = await recordOnce(
    context(),
    store,
    {
      key: undefined,
      scope: "test",
      fingerprint: () => {
        throw new Error("An unkeyed request must not be digested");
      },
    },
    REFUSALS,
    (settleWith) => {
      records++;
      assert.equal(settleWith(OK), undefined);
      return Promise.resolve(OK);
    },
  );
  assert.deepEqual(result, { answer: OK, replayed: false });
  assert.equal(records, 1);
  await store.close();
});

Deno.test("recordOnce() digests a keyed request once per attempt and replays its answer", async () => {
  const store = new MemoryStore();
  let digests = 0;
  const request = {
    key: "k-1",
    scope: "test",
    fingerprint: () => {
      digests++;
      return "f".repeat(64);
    },
  };
  let records = 0;
  // An answer without a write: recordOnce settles the key itself
  const first = await recordOnce(context(), store, request, REFUSALS, () => {
    records++;
    return Promise.resolve(OK);
  });
  assert.deepEqual(first, { answer: OK, replayed: false });
  const again = await recordOnce(context(), store, request, REFUSALS, () => {
    throw new Error("A replay must not record");
  });
  assert.deepEqual(again, { answer: OK, replayed: true });
  assert.equal(records, 1);
  assert.equal(digests, 2);
  await store.close();
});
