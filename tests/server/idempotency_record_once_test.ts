/**
 * `recordOnce()` on its own: a request without a key records at once and
 * digests nothing; a keyed one digests what it records once, to claim, and
 * a short record is its own fingerprint.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MemoryStore } from "../../src/server/mod.ts";
import type { ServerContext } from "../../src/server/_context.ts";
import {
  fingerprint,
  type IdempotencyRefusals,
  recordOnce,
} from "../../src/server/_idempotency.ts";
import { sha256Hex } from "../../src/server/_context.ts";

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

Deno.test("fingerprint() keeps short records as their JSON and digests longer ones", () => {
  assert.equal(fingerprint(["event", "1.0.0", "opened", 1]), '["event","1.0.0","opened",1]');
  const long = ["event", "1.0.0", "e".repeat(60), 1];
  assert.equal(fingerprint(long), sha256Hex(JSON.stringify(long)));
  assert.match(fingerprint(long), /^[0-9a-f]{64}$/);
});

Deno.test("recordOnce() replays a key kept with the digest of a short fingerprint, as an earlier server kept it", async () => {
  const store = new MemoryStore();
  const text = fingerprint(["event", "1.0.0", "opened", 1]);
  // As a server that digested every fingerprint kept it.
  await store.claimIdempotencyKey({
    scope: "test",
    key: "k",
    fingerprint: sha256Hex(text),
    now: 1_000,
    expiresAt: 61_000,
    leaseExpiresAt: 31_000,
    maxPerScope: 10,
    maxTotal: 100,
  });
  await store.settleIdempotencyKey("test", "k", OK);
  const request = (fingerprinted: string) => ({
    key: "k",
    scope: "test",
    fingerprint: () => fingerprinted,
  });
  const record = () => Promise.reject(new Error("A replayed request must not record"));
  assert.deepEqual(await recordOnce(context(), store, request(text), REFUSALS, record), {
    answer: OK,
    replayed: true,
  });
  // Another request under the key is still refused.
  await assert.rejects(
    recordOnce(
      context(),
      store,
      request(fingerprint(["event", "1.0.0", "opened", 2])),
      REFUSALS,
      record,
    ),
    /reused/,
  );
  await store.close();
});

Deno.test("recordOnce() lets a key go on the second try when the store fails the first, so a retry runs", async () => {
  const store = new MemoryStore();
  const settle = store.settleIdempotencyKey.bind(store);
  let releases = 0;
  store.settleIdempotencyKey = (scope, key, answer) => {
    // The first statement after a lost connection fails, as PostgreSQL's driver does
    if (answer === undefined && ++releases === 1) return Promise.reject(new Error("57P01"));
    return settle(scope, key, answer);
  };
  const request = { key: "k1", scope: "test", fingerprint: () => "f" };
  await assert.rejects(
    recordOnce(context(), store, request, REFUSALS, () => Promise.reject(new Error("lost"))),
    /lost/,
  );
  assert.equal(releases, 2);
  // Released: the retry records, where a held claim would answer "in flight" for its lease
  const retried = await recordOnce(context(), store, request, REFUSALS, (settleWith) => {
    settleWith(OK);
    return Promise.resolve(OK);
  });
  assert.deepEqual(retried, { answer: OK, replayed: false });
});
