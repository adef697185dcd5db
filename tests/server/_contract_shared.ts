/**
 * The {@linkcode ServerStore} contract of the shared interface: meta values,
 * used challenges, close, and idempotency keys with their bounds.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { IdempotencyClaim } from "../../src/server/mod.ts";
import { claim, type ContractTest, OK_ANSWER, upload } from "./_contract_fixtures.ts";

/**
 * Registers the contract's tests of the shared store interface: meta,
 * challenges, close, and idempotency keys.
 *
 * @param test Registers one contract test for the store.
 */
export function sharedContract(test: ContractTest): void {
  test("ensureMeta keeps the first value, setMeta replaces it, getMeta reads it", async ({ store }) => {
    assert.equal(await store.getMeta("k"), undefined);
    assert.equal(await store.ensureMeta("k", "first"), "first");
    assert.equal(await store.ensureMeta("k", "second"), "first");
    await store.setMeta("k", "third");
    assert.equal(await store.getMeta("k"), "third");
    const raced = await Promise.all(
      Array.from({ length: 8 }, (_, index) => store.ensureMeta("raced", `v${index}`)),
    );
    assert.equal(new Set(raced).size, 1);
  });

  test("a challenge is marked used once, and again only after pruneChallenges drops it", async ({ store }) => {
    const marks = await Promise.all([1, 2, 3].map(() => store.markChallengeUsed("c1", 5000)));
    assert.deepEqual(marks.sort(), [false, false, true]);
    // Not expired yet: only marks expiring before now go
    assert.equal(await store.pruneChallenges(5000, 100), 0);
    assert.equal(await store.markChallengeUsed("c1", 5000), false);
    assert.equal(await store.pruneChallenges(5001, 100), 1);
    assert.equal(await store.markChallengeUsed("c1", 9000), true);
  });

  test("pruneChallenges deletes at most limit marks a call and says how many", async ({ store }) => {
    for (let i = 0; i < 5; i++) await store.markChallengeUsed(`old${i}`, 10);
    await store.markChallengeUsed("live", 99);
    assert.deepEqual(
      [
        await store.pruneChallenges(50, 2),
        await store.pruneChallenges(50, 2),
        await store.pruneChallenges(50, 2),
        await store.pruneChallenges(50, 2),
      ],
      [2, 2, 1, 0],
    );
    assert.equal(await store.markChallengeUsed("old0", 99), true);
    assert.equal(await store.markChallengeUsed("live", 99), false);
  });

  test("close is idempotent and every later call rejects", async ({ store }) => {
    await store.close();
    await store.close();
    await assert.rejects(store.getMeta("k"), /closed/);
    await assert.rejects(store.findInstallToken("h"), /closed/);
    await assert.rejects(store.findHonchPartial(upload(1), 0), /closed/);
    await assert.rejects(store.listMigasProjects(), /closed/);
  });

  test("an idempotency key is claimed once, holds its answer, and is scoped", async ({ store }) => {
    assert.deepEqual(await store.claimIdempotencyKey(claim("k", 0)), { status: "claimed" });
    // While the first request runs, the key is held without an answer.
    assert.deepEqual(await store.claimIdempotencyKey(claim("k", 1, { fingerprint: "f2" })), {
      status: "held",
      fingerprint: "f1",
      answer: undefined,
    });
    await store.settleIdempotencyKey("mkstats\np\nu", "k", OK_ANSWER);
    assert.deepEqual(await store.claimIdempotencyKey(claim("k", 2)), {
      status: "held",
      fingerprint: "f1",
      answer: OK_ANSWER,
    });
    // The same key in another scope is another key.
    assert.deepEqual(
      await store.claimIdempotencyKey(claim("k", 2, { scope: "migas\nacme/tool" })),
      { status: "claimed" },
    );
  });

  test("concurrent claims of one idempotency key leave exactly one claimed", async ({ store }) => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store.claimIdempotencyKey(claim("race", 0))),
    );
    assert.equal(results.filter((result) => result.status === "claimed").length, 1);
  });

  test("a released key, an expired one and an unanswered one past its lease are free again", async ({ store }) => {
    await store.claimIdempotencyKey(claim("released", 0));
    await store.settleIdempotencyKey("mkstats\np\nu", "released", undefined);
    assert.equal((await store.claimIdempotencyKey(claim("released", 1))).status, "claimed");
    await store.claimIdempotencyKey(claim("answered", 0));
    await store.settleIdempotencyKey("mkstats\np\nu", "answered", OK_ANSWER);
    assert.equal((await store.claimIdempotencyKey(claim("answered", 999))).status, "held");
    assert.equal((await store.claimIdempotencyKey(claim("answered", 1000))).status, "claimed");
    await store.claimIdempotencyKey(claim("stuck", 0));
    assert.equal((await store.claimIdempotencyKey(claim("stuck", 99))).status, "held");
    assert.equal((await store.claimIdempotencyKey(claim("stuck", 100))).status, "claimed");
    // Settling a key nobody holds changes nothing.
    await store.settleIdempotencyKey("mkstats\np\nu", "never", OK_ANSWER);
    assert.equal((await store.claimIdempotencyKey(claim("never", 101))).status, "claimed");
  });

  test("pruneIdempotencyKeys forgets expired keys and keeps live ones", async ({ store }) => {
    await store.claimIdempotencyKey(claim("old", 0));
    await store.settleIdempotencyKey("mkstats\np\nu", "old", OK_ANSWER);
    await store.claimIdempotencyKey(claim("new", 500));
    await store.settleIdempotencyKey("mkstats\np\nu", "new", OK_ANSWER);
    assert.equal(await store.pruneIdempotencyKeys(1001, 100), 1);
    // Claimed "now" at 0 again: only a pruned row can be claimed before it expires.
    assert.equal((await store.claimIdempotencyKey(claim("old", 0))).status, "claimed");
    assert.equal((await store.claimIdempotencyKey(claim("new", 0))).status, "held");
  });

  test("pruneIdempotencyKeys forgets at most limit keys a call and says how many", async ({ store }) => {
    for (const key of ["a", "b", "c"]) {
      await store.claimIdempotencyKey(claim(key, 0));
      await store.settleIdempotencyKey("mkstats\np\nu", key, OK_ANSWER);
    }
    assert.equal(await store.pruneIdempotencyKeys(1001, 2), 2);
    assert.equal(await store.pruneIdempotencyKeys(1001, 2), 1);
    assert.equal(await store.pruneIdempotencyKeys(1001, 2), 0);
  });

  test("idempotency keys beyond a scope's bound or the total bound forget the oldest first", async ({ store }) => {
    const settled = async (key: string, extra: Partial<IdempotencyClaim>) => {
      assert.equal((await store.claimIdempotencyKey(claim(key, 0, extra))).status, "claimed");
      await store.settleIdempotencyKey(extra.scope ?? "mkstats\np\nu", key, OK_ANSWER);
    };
    for (const key of ["a", "b", "c"]) await settled(key, { maxPerScope: 2 });
    await settled("x", { scope: "other", maxPerScope: 2 });
    const status = async (key: string, scope = "mkstats\np\nu") =>
      (await store.claimIdempotencyKey(claim(key, 1, { scope, maxPerScope: 10 }))).status;
    // "a" was the scope's oldest: forgotten; "b" and "c" and the other scope's key stay.
    assert.equal(await status("b"), "held");
    assert.equal(await status("c"), "held");
    assert.equal(await status("x", "other"), "held");
    assert.equal(await status("a"), "claimed");
    // Now 4 rows (b, c, x, a): a fifth with a total bound of 4 forgets "b", the oldest.
    await settled("y", { scope: "third", maxTotal: 4 });
    assert.equal(await status("c"), "held");
    assert.equal(await status("b"), "claimed");
  });
}
