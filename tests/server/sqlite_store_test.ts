import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../../src/server/store/sqlite.ts";

const USER = "a".repeat(64);

function install(tokenHash: string, now: number, tokenExpiresAt = now + 1000) {
  return {
    pluginId: "p",
    userHash: USER,
    version: "1.0.0",
    deviceFingerprint: "b".repeat(64),
    clientName: "exteraGram",
    clientVersion: "12.3.1",
    tokenHash,
    tokenExpiresAt,
    now,
  };
}

Deno.test("ensureMeta keeps the first value and setMeta replaces it", async () => {
  const store = new SqliteStore(":memory:");
  assert.equal(await store.getMeta("k"), undefined);
  assert.equal(await store.ensureMeta("k", "first"), "first");
  assert.equal(await store.ensureMeta("k", "second"), "first");
  await store.setMeta("k", "third");
  assert.equal(await store.getMeta("k"), "third");
  await store.close();
});

Deno.test("a challenge is marked used once, and stays used after reopening the file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  try {
    const first = new SqliteStore(path);
    assert.equal(await first.markChallengeUsed("c1", 5000), true);
    assert.equal(await first.markChallengeUsed("c1", 5000), false);
    await first.close();
    const second = new SqliteStore(path);
    assert.equal(await second.markChallengeUsed("c1", 5000), false);
    await second.prune(5001);
    assert.equal(await second.markChallengeUsed("c1", 9000), true);
    await second.close();
    const raw = new DatabaseSync(path);
    const mode = raw.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    assert.equal(mode.journal_mode, "wal");
    raw.close();
  } finally {
    await Deno.remove(path);
    await Deno.remove(`${path}-wal`).catch(() => {});
    await Deno.remove(`${path}-shm`).catch(() => {});
  }
});

Deno.test("install tokens are found by hash, report pings, and expire on prune", async () => {
  const store = new SqliteStore(":memory:");
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
  await store.prune(2000);
  assert.equal(await store.findInstallToken("h1"), undefined);
  assert.ok(await store.findInstallToken("h2"));
  await store.close();
});

Deno.test("stats count installs once, daily actives per day and events per version", async () => {
  const store = new SqliteStore(":memory:");
  await store.recordInstall(install("h1", 100));
  await store.recordInstall(install("h2", 200)); // the same install re-handshaking
  for (const day of ["2025-01-02", "2025-01-01", "2025-01-01"]) {
    await store.recordPing({ pluginId: "p", userHash: USER, version: "1", day, now: 1 });
  }
  await store.addEventCount({
    pluginId: "p",
    version: "1",
    event: "e",
    day: "2025-01-01",
    count: 2,
  });
  await store.addEventCount({
    pluginId: "p",
    version: "1",
    event: "e",
    day: "2025-01-02",
    count: 5,
  });
  await store.addEventCount({
    pluginId: "q",
    version: "1",
    event: "e",
    day: "2025-01-02",
    count: 9,
  });
  assert.deepEqual(await store.getStats("p"), {
    plugin_id: "p",
    installs: 1,
    daily_actives: [{ day: "2025-01-01", count: 1 }, { day: "2025-01-02", count: 1 }],
    events: [{ event: "e", version: "1", count: 7 }],
  });
  await store.close();
});

Deno.test("close is idempotent and later calls reject", async () => {
  const store = new SqliteStore(":memory:");
  await store.close();
  await store.close();
  await assert.rejects(store.getMeta("k"), /closed/);
});
