/**
 * The contract every {@linkcode ServerStore} keeps, as one suite:
 * `runStoreContract(name, make)` registers a test per behaviour of every
 * method of the shared, mkStats, Honch, migas, Emitter and Spot interfaces, and, for a store
 * whose fixture can reopen it, that everything written survives a restart.
 * A new store (Postgres, …) only has to pass it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sharedContract } from "./_contract_shared.ts";
import { mkstatsContract } from "./_contract_mkstats.ts";
import { honchContract } from "./_contract_honch.ts";
import { migasContract } from "./_contract_migas.ts";
import { emitterContract } from "./_contract_emitter.ts";
import { spotContract } from "./_contract_spot.ts";
import { dashboardReadsContract } from "./_contract_dashboard_reads.ts";
import {
  bytes,
  claim,
  crumb,
  EVENT,
  install,
  OK_ANSWER,
  PROJECT_HASH,
  type StoreFixture,
  upload,
} from "./_contract_fixtures.ts";

export type { StoreFixture } from "./_contract_fixtures.ts";

/**
 * Registers the contract's tests for one store.
 *
 * @param name How the store is named in test names.
 * @param make Opens a new, empty store.
 * @param options `ignore`: register the tests ignored (a store whose database is missing).
 */
export function runStoreContract(
  name: string,
  make: () => Promise<StoreFixture>,
  options: { ignore?: boolean } = {},
): void {
  const test = (title: string, body: (fixture: StoreFixture) => Promise<void>): void => {
    Deno.test({
      name: `${name}: ${title}`,
      ignore: options.ignore ?? false,
      async fn() {
        const fixture = await make();
        try {
          await body(fixture);
        } finally {
          await fixture.store.close();
          await fixture.dispose();
        }
      },
    });
  };

  sharedContract(test);
  mkstatsContract(test);
  honchContract(test);
  migasContract(test);
  emitterContract(test);
  spotContract(test);
  dashboardReadsContract(test);

  test("everything written survives closing and reopening the store", async (fixture) => {
    if (fixture.reopen === undefined) return;
    const first = fixture.store;
    await first.ensureMeta("secret", "s1");
    await first.markChallengeUsed("c", 1000);
    await first.recordInstall(install("h", 1));
    await first.addEventCount({
      pluginId: "p",
      version: "1",
      event: "e",
      day: "2025-01-01",
      count: 3,
    });
    await first.openHonchPartial(upload(9), {
      totalLength: 6,
      payload: bytes(1, 2),
      now: 0,
      expiresAt: 500,
    });
    await first.completeHonchMessage(upload(10), {
      digest: "m",
      events: [EVENT],
      now: 0,
      expiresAt: 500,
    });
    await first.registerMigasProject({ project: "acme/tool", latestVersion: "2.0.0", now: 0 });
    await first.addMigasBreadcrumb(crumb("u1", 5));
    await first.claimIdempotencyKey(claim("kept", 0));
    await first.settleIdempotencyKey("mkstats\np\nu", "kept", OK_ANSWER);
    const store = await fixture.reopen();
    fixture.store = store;
    assert.equal(await store.getMeta("secret"), "s1");
    assert.equal(await store.markChallengeUsed("c", 1000), false);
    assert.equal((await store.findInstallToken("h"))?.pluginId, "p");
    assert.deepEqual((await store.getStats("p")).events, [{ event: "e", version: "1", count: 3 }]);
    // The upload goes on where it stopped before the restart.
    assert.equal(
      await store.appendHonchFrame(upload(9), { offset: 2, payload: bytes(3), now: 1 }),
      true,
    );
    assert.deepEqual(await store.readHonchPartialBytes(upload(9)), bytes(1, 2, 3));
    assert.equal(
      await store.completeHonchMessage(upload(10), {
        digest: "m",
        events: [EVENT],
        now: 1,
        expiresAt: 500,
      }),
      "duplicate",
    );
    assert.deepEqual(await store.listHonchEvents(PROJECT_HASH, 10), [EVENT]);
    assert.equal((await store.findMigasProject("acme/tool"))?.latestVersion, "2.0.0");
    assert.equal(
      await store.countMigasUsage({ project: "acme/tool", start: 0, end: 9, unique: true }),
      1,
    );
    assert.deepEqual(await store.claimIdempotencyKey(claim("kept", 1)), {
      status: "held",
      fingerprint: "f1",
      answer: OK_ANSWER,
    });
  });
}
