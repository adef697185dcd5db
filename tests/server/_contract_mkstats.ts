/**
 * The {@linkcode ServerStore} contract of the mkStats interface: install
 * tokens, pings and stats.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ContractTest, install, USER } from "./_contract_fixtures.ts";

/**
 * Registers the contract's tests of the mkStats store interface: install
 * tokens and stats.
 *
 * @param test Registers one contract test for the store.
 */
export function mkstatsContract(test: ContractTest): void {
  test("install tokens are found by hash, report pings, and go on pruneInstallTokens", async ({ store }) => {
    await store.recordInstall(install("h1", 100));
    await store.recordInstall(install("h2", 200, 5000));
    assert.deepEqual(await store.findInstallToken("h1"), {
      pluginId: "p",
      userHash: USER,
      expiresAt: 1100,
      hasPinged: false,
    });
    assert.equal(await store.findInstallToken("nope"), undefined);
    await store.recordPing({
      pluginId: "p",
      userHash: USER,
      version: "1.0.1",
      day: "2025-01-01",
      now: 300,
    });
    assert.equal((await store.findInstallToken("h2"))?.hasPinged, true);
    // A new handshake by the same install keeps its first ping.
    await store.recordInstall(install("h3", 400));
    assert.equal((await store.findInstallToken("h3"))?.hasPinged, true);
    // h1 and h3 expired (h2 lives to 5200): one a call at a limit of 1.
    assert.equal(await store.pruneInstallTokens(2000, 1), 1);
    assert.equal(await store.pruneInstallTokens(2000, 1), 1);
    assert.equal(await store.pruneInstallTokens(2000, 1), 0);
    assert.equal(await store.findInstallToken("h1"), undefined);
    assert.ok(await store.findInstallToken("h2"));
  });

  test("stats count installs once, daily actives per day and events per version", async ({ store }) => {
    await store.recordInstall(install("h1", 100));
    await store.recordInstall(install("h2", 200)); // the same install re-handshaking
    for (const day of ["2025-01-02", "2025-01-01", "2025-01-01"]) {
      await store.recordPing({ pluginId: "p", userHash: USER, version: "1", day, now: 1 });
    }
    const count = (pluginId: string, event: string, version: string, day: string, n: number) =>
      store.addEventCount({ pluginId, version, event, day, count: n });
    await count("p", "e", "1", "2025-01-01", 2);
    await count("p", "e", "1", "2025-01-02", 5);
    await count("p", "d", "2", "2025-01-02", 1);
    await count("p", "d", "10", "2025-01-02", 4);
    await count("q", "e", "1", "2025-01-02", 9);
    assert.deepEqual(await store.getStats("p"), {
      plugin_id: "p",
      installs: 1,
      daily_actives: [{ day: "2025-01-01", count: 1 }, { day: "2025-01-02", count: 1 }],
      events: [
        { event: "d", version: "10", count: 4 },
        { event: "d", version: "2", count: 1 },
        { event: "e", version: "1", count: 7 },
      ],
    });
    assert.deepEqual(await store.getStats("nobody"), {
      plugin_id: "nobody",
      installs: 0,
      daily_actives: [],
      events: [],
    });
  });
}
