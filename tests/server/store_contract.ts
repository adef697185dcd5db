/**
 * The contract every {@linkcode ServerStore} keeps, as one suite:
 * `runStoreContract(name, make)` registers a test per behaviour of every
 * method of the shared, mkStats, Honch and migas interfaces, and, for a store
 * whose fixture can reopen it, that everything written survives a restart.
 * A new store (Postgres, …) only has to pass it.
 *
 * @module
 */

import assert from "node:assert/strict";
import type {
  HonchUploadKey,
  IdempotencyClaim,
  InstallRecord,
  ServerStore,
} from "../../src/server/mod.ts";

/** A store under test, and how to restart and remove it. */
export interface StoreFixture {
  /** The open store. */
  store: ServerStore;
  /** Closes the store and opens it again over the same data; absent when nothing is kept. */
  reopen?: () => Promise<ServerStore>;
  /** Removes whatever the store left behind; the store is closed by then. */
  dispose(): Promise<void>;
}

const USER = "a".repeat(64);
const PROJECT_HASH = "f".repeat(64);
const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

function install(tokenHash: string, now: number, tokenExpiresAt = now + 1000): InstallRecord {
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

function upload(messageId: number, streamId = "s"): HonchUploadKey {
  return { projectKeyHash: PROJECT_HASH, streamId, sourceType: 0, messageId };
}

function crumb(userId: string | undefined, timestamp: number, project = "acme/tool") {
  return {
    project,
    projectVersion: "1.0.0",
    language: "python",
    languageVersion: "3.12",
    timestamp,
    sessionId: undefined,
    userId,
    userType: "general",
    platform: "linux",
    container: "unknown",
    isCi: false,
    status: "R",
    statusDesc: undefined,
    errorType: undefined,
    errorDesc: undefined,
  };
}

const EVENT = { event: "boot", distinct_id: "u1", timestamp: 1, properties: { n: 1 } };

function claim(key: string, now: number, extra: Partial<IdempotencyClaim> = {}): IdempotencyClaim {
  return {
    scope: "mkstats\np\nu",
    key,
    fingerprint: "f1",
    now,
    expiresAt: now + 1000,
    leaseExpiresAt: now + 100,
    maxPerScope: 100,
    maxTotal: 1000,
    ...extra,
  };
}

const OK_ANSWER = { status: 200, body: '{"ok":true}' };

/**
 * Registers the contract's tests for one store.
 *
 * @param name How the store is named in test names.
 * @param make Opens a new, empty store.
 */
export function runStoreContract(name: string, make: () => Promise<StoreFixture>): void {
  const test = (title: string, body: (fixture: StoreFixture) => Promise<void>): void => {
    Deno.test(`${name}: ${title}`, async () => {
      const fixture = await make();
      try {
        await body(fixture);
      } finally {
        await fixture.store.close();
        await fixture.dispose();
      }
    });
  };

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
    await store.pruneChallenges(5000); // not expired yet: only marks expiring before now go
    assert.equal(await store.markChallengeUsed("c1", 5000), false);
    await store.pruneChallenges(5001);
    assert.equal(await store.markChallengeUsed("c1", 9000), true);
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
    await store.pruneIdempotencyKeys(1001);
    // Claimed "now" at 0 again: only a pruned row can be claimed before it expires.
    assert.equal((await store.claimIdempotencyKey(claim("old", 0))).status, "claimed");
    assert.equal((await store.claimIdempotencyKey(claim("new", 0))).status, "held");
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
    await store.pruneInstallTokens(2000);
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

  test("a partial upload opens once, is found while live, and is replaced once expired", async ({ store }) => {
    const key = upload(1);
    assert.equal(await store.findHonchPartial(key, 0), undefined);
    const opening = { totalLength: 6, payload: bytes(1, 2), now: 0, expiresAt: 100 };
    const opened = await Promise.all([
      store.openHonchPartial(key, opening),
      store.openHonchPartial(key, opening),
    ]);
    assert.deepEqual(opened.sort(), [false, true]);
    assert.deepEqual(await store.findHonchPartial(key, 99), {
      totalLength: 6,
      received: 2,
      expiresAt: 100,
    });
    assert.equal(await store.findHonchPartial(key, 100), undefined);
    assert.equal(
      await store.openHonchPartial(key, {
        totalLength: 9,
        payload: bytes(7),
        now: 100,
        expiresAt: 300,
      }),
      true,
    );
    assert.deepEqual(await store.findHonchPartial(key, 150), {
      totalLength: 9,
      received: 1,
      expiresAt: 300,
    });
    assert.deepEqual(await store.readHonchPartialBytes(key), bytes(7));
    // Another stream, source type or message id is another upload.
    assert.equal(await store.findHonchPartial(upload(1, "other"), 150), undefined);
    assert.equal(await store.findHonchPartial({ ...key, sourceType: 1 }, 150), undefined);
  });

  test("appendHonchFrame holds a frame only where the held bytes stop, once", async ({ store }) => {
    const key = upload(2);
    assert.equal(
      await store.appendHonchFrame(key, { offset: 0, payload: bytes(1), now: 0 }),
      false,
    );
    assert.deepEqual(await store.readHonchPartialBytes(key), bytes());
    await store.openHonchPartial(key, {
      totalLength: 8,
      payload: bytes(1, 2),
      now: 0,
      expiresAt: 100,
    });
    assert.equal(
      await store.appendHonchFrame(key, { offset: 3, payload: bytes(9), now: 1 }),
      false,
    );
    const frame = { offset: 2, payload: bytes(3, 4), now: 1 };
    const appended = await Promise.all([1, 2, 3].map(() => store.appendHonchFrame(key, frame)));
    assert.deepEqual(appended.sort(), [false, false, true]);
    assert.equal(await store.appendHonchFrame(key, { offset: 4, payload: bytes(5), now: 2 }), true);
    assert.equal((await store.findHonchPartial(key, 2))?.received, 5);
    assert.deepEqual(await store.readHonchPartialBytes(key), bytes(1, 2, 3, 4, 5));
    // An expired partial takes nothing more.
    assert.equal(
      await store.appendHonchFrame(key, { offset: 5, payload: bytes(6), now: 100 }),
      false,
    );
    await store.discardHonchPartial(key);
    assert.equal(await store.findHonchPartial(key, 2), undefined);
    assert.deepEqual(await store.readHonchPartialBytes(key), bytes());
  });

  test("completeHonchMessage stores once, tells duplicates from collisions, drops the partial", async ({ store }) => {
    const key = upload(3);
    await store.openHonchPartial(key, {
      totalLength: 4,
      payload: bytes(1),
      now: 0,
      expiresAt: 100,
    });
    const done = { digest: "d1", events: [EVENT], now: 10, expiresAt: 100 };
    assert.equal(await store.completeHonchMessage(key, done), "stored");
    assert.equal(await store.findHonchPartial(key, 10), undefined);
    assert.equal(await store.completeHonchMessage(key, { ...done, now: 20 }), "duplicate");
    assert.equal(await store.completeHonchMessage(key, { ...done, digest: "d2" }), "collision");
    assert.equal((await store.listHonchEvents(PROJECT_HASH, 10)).length, 1);
    // Once the marker expired, the id may carry a new message.
    assert.equal(
      await store.completeHonchMessage(key, { ...done, digest: "d2", now: 100 }),
      "stored",
    );
    assert.equal((await store.listHonchEvents(PROJECT_HASH, 10)).length, 2);
  });

  test("a coredump is kept as a blob under its upload key", async ({ store }) => {
    const key = { ...upload(4), sourceType: 1 };
    assert.equal(
      await store.completeHonchMessage(key, {
        digest: "d",
        events: [],
        blob: bytes(9, 8, 7),
        now: 5,
        expiresAt: 50,
      }),
      "stored",
    );
    assert.deepEqual(await store.listHonchBlobs(PROJECT_HASH, 10), [
      { key, bytes: bytes(9, 8, 7), receivedAt: 5 },
    ]);
    assert.deepEqual(await store.listHonchBlobs("0".repeat(64), 10), []);
    assert.deepEqual(await store.listHonchEvents(PROJECT_HASH, 10), []);
  });

  test("events are listed newest last, up to the limit, per project, big integers as text", async ({ store }) => {
    const events = [1, 2, 3].map((n) => ({ ...EVENT, event: `e${n}`, timestamp: n }));
    await store.addHonchEvents(PROJECT_HASH, events, 7);
    await store.addHonchEvents("0".repeat(64), [EVENT], 7);
    await store.addHonchEvents(PROJECT_HASH, [{
      ...EVENT,
      event: "big",
      properties: { id: 2n ** 64n - 1n, nested: { list: [1, "a", null, true] } },
    }], 8);
    const listed = await store.listHonchEvents(PROJECT_HASH, 2);
    assert.deepEqual(listed, [
      { ...EVENT, event: "e3", timestamp: 3 },
      {
        ...EVENT,
        event: "big",
        properties: { id: "18446744073709551615", nested: { list: [1, "a", null, true] } },
      },
    ]);
    assert.equal((await store.listHonchEvents(PROJECT_HASH, 100)).length, 4);
  });

  test("pruneHonch drops expired partials and markers and keeps live ones", async ({ store }) => {
    await store.openHonchPartial(upload(5), {
      totalLength: 4,
      payload: bytes(1),
      now: 0,
      expiresAt: 10,
    });
    await store.openHonchPartial(upload(6), {
      totalLength: 4,
      payload: bytes(2),
      now: 0,
      expiresAt: 99,
    });
    await store.completeHonchMessage(upload(7), { digest: "a", events: [], now: 0, expiresAt: 10 });
    await store.completeHonchMessage(upload(8), { digest: "b", events: [], now: 0, expiresAt: 99 });
    await store.pruneHonch(11);
    assert.deepEqual(await store.readHonchPartialBytes(upload(5)), bytes());
    assert.deepEqual(await store.readHonchPartialBytes(upload(6)), bytes(2));
    assert.equal(
      await store.completeHonchMessage(upload(8), {
        digest: "c",
        events: [],
        now: 11,
        expiresAt: 99,
      }),
      "collision",
    );
  });

  test("migas projects register once, keep facts left unset, and list sorted", async ({ store }) => {
    assert.equal(await store.findMigasProject("acme/tool"), undefined);
    assert.equal(
      await store.registerMigasProject({
        project: "acme/tool",
        latestVersion: "1.2.0",
        badVersions: ["1.0.0"],
        now: 1,
      }),
      true,
    );
    assert.equal(await store.registerMigasProject({ project: "acme/tool", now: 2 }), false);
    assert.deepEqual(await store.findMigasProject("acme/tool"), {
      project: "acme/tool",
      latestVersion: "1.2.0",
      badVersions: ["1.0.0"],
    });
    await store.registerMigasProject({ project: "acme/tool", badVersions: [], now: 3 });
    assert.deepEqual((await store.findMigasProject("acme/tool"))?.badVersions, []);
    assert.equal((await store.findMigasProject("acme/tool"))?.latestVersion, "1.2.0");
    await store.registerMigasProject({ project: "Zed/b", now: 4 });
    await store.registerMigasProject({ project: "able/a", now: 4 });
    assert.deepEqual(await store.listMigasProjects(), ["Zed/b", "able/a", "acme/tool"]);
    assert.equal((await store.findMigasProject("able/a"))?.latestVersion, undefined);
  });

  test("migas usage counts breadcrumbs in an inclusive range, or distinct users", async ({ store }) => {
    for (const [user, time] of [["u1", 10], ["u1", 20], ["u2", 30], [undefined, 40], ["u3", 50]]) {
      await store.addMigasBreadcrumb(crumb(user as string | undefined, time as number));
    }
    await store.addMigasBreadcrumb(crumb("u9", 20, "other/tool"));
    const count = (start: number, end: number, unique: boolean) =>
      store.countMigasUsage({ project: "acme/tool", start, end, unique });
    assert.equal(await count(10, 40, false), 4);
    assert.equal(await count(10, 40, true), 2);
    assert.equal(await count(11, 49, false), 3);
    assert.equal(await count(11, 19, false), 0);
    assert.equal(await count(0, 100, true), 3);
    assert.equal(
      await store.countMigasUsage({ project: "no/such", start: 0, end: 99, unique: false }),
      0,
    );
  });

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
