/**
 * The SQLite store's idempotency keys, which it indexes in memory over
 * rows appended in claim order: the index stays true to the rows when
 * other stores (other processes) write the same file, across a reopen, at
 * the bounds, and after an upgrade from either earlier layout.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";
import { DatabaseSync } from "node:sqlite";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { IDEMPOTENCY_KEYS, sqliteScript } from "../../src/server/_sqlite_schema.ts";
import { claim, OK_ANSWER } from "./_contract_fixtures.ts";
import { evalWithGc } from "../_helpers/gc_eval.ts";

const SCOPE = "mkstats\np\nu";

async function withFile(body: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(`${dir}/shared.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Two stores on one file, as two processes would open it; `after` reads the file once both closed. */
async function withTwoStores(
  body: (first: SqliteStore, second: SqliteStore, path: string) => Promise<void>,
  after?: (path: string) => void,
): Promise<void> {
  await withFile(async (path) => {
    const first = new SqliteStore(path);
    const second = new SqliteStore(path);
    try {
      await body(first, second, path);
    } finally {
      await first.close();
      await second.close();
    }
    after?.(path);
  });
}

/** The id a scope is stored under: the first 16 bytes of its SHA-256, as base64url. */
function scopeIdOf(scope: string): string {
  return base64urlnopad.encode(sha256(new TextEncoder().encode(scope)).subarray(0, 16));
}

/** Each scope's rows, by the scope names given, and the table's under `''`. */
function rowCounts(path: string, scopes: readonly string[]): Record<string, number> {
  const names = new Map(scopes.map((scope) => [scopeIdOf(scope), scope]));
  const raw = new DatabaseSync(path);
  try {
    const counts: Record<string, number> = {};
    for (
      const row of raw.prepare(
        "SELECT scope_id, COUNT(*) AS n FROM idempotency_claims GROUP BY scope_id",
      ).all()
    ) {
      counts[names.get(String(row.scope_id)) ?? `unknown ${row.scope_id}`] = Number(row.n);
    }
    counts[""] = Number(raw.prepare("SELECT COUNT(*) AS n FROM idempotency_claims").get()!.n);
    return counts;
  } finally {
    raw.close();
  }
}

/** The names of the tables and triggers whose name starts with `idempotency`. */
function idempotencyObjects(path: string): string[] {
  const raw = new DatabaseSync(path);
  try {
    return raw.prepare(
      "SELECT type || ' ' || name AS object FROM sqlite_master WHERE name LIKE 'idempotency%' ORDER BY name",
    ).all().map((row) => String(row.object));
  } finally {
    raw.close();
  }
}

Deno.test("two SQLite stores on one file keep the idempotency bounds exact", async () => {
  await withTwoStores(async (first, second) => {
    const bounded = { maxPerScope: 3, maxTotal: 5 };
    for (let i = 0; i < 8; i++) {
      const store = i % 2 === 0 ? first : second;
      const scope = i % 3 === 0 ? "a" : "b";
      // Each claim and settle in the same batch, the stores taking turns.
      await Promise.all([
        store.claimIdempotencyKey(claim(`k${i}`, i, { scope, ...bounded })),
        store.settleIdempotencyKey(scope, `k${i}`, OK_ANSWER),
      ]);
    }
    // A released key, and a replaced one (its lease over, unanswered), change no bound.
    await second.claimIdempotencyKey(claim("gone", 10, { scope: "a", ...bounded }));
    await second.settleIdempotencyKey("a", "gone", undefined);
    await first.claimIdempotencyKey(claim("late", 11, { scope: "a", ...bounded }));
    // A claim settles before its commit; in one process, the other store waits for it.
    await first.getMeta("none");
    await second.claimIdempotencyKey(claim("late", 200, { scope: "a", ...bounded }));
    await second.getMeta("none");
    assert.equal(await first.pruneIdempotencyKeys(1006, 100), 2);
  }, (path) => {
    assert.deepEqual(rowCounts(path, ["a", "b"]), { a: 2, b: 1, "": 3 });
  });
});

Deno.test("a key one SQLite store claimed is held by another on the same file, with its answer once settled", async () => {
  await withTwoStores(async (first, second) => {
    assert.deepEqual(await first.claimIdempotencyKey(claim("k", 1)), { status: "claimed" });
    await first.getMeta("none");
    assert.deepEqual(await second.claimIdempotencyKey(claim("k", 2)), {
      status: "held",
      fingerprint: "f1",
      answer: undefined,
    });
    await first.settleIdempotencyKey(SCOPE, "k", OK_ANSWER);
    assert.deepEqual(await second.claimIdempotencyKey(claim("k", 3)), {
      status: "held",
      fingerprint: "f1",
      answer: OK_ANSWER,
    });
    // And the other way round.
    assert.equal((await second.claimIdempotencyKey(claim("j", 4))).status, "claimed");
    await second.getMeta("none");
    assert.equal((await first.claimIdempotencyKey(claim("j", 5))).status, "held");
  });
});

Deno.test("a key another SQLite store committed earlier in the same turn is held", async () => {
  await withTwoStores(async (first, second) => {
    await first.claimIdempotencyKey(claim("earlier", 1));
    await first.getMeta("none");
    // All in one turn: the first store reads the file's version, the second commits a claim
    // (closing commits at once), then the first claims the same key.
    const read = first.findMigasProject("acme/tool");
    const claimed = second.claimIdempotencyKey(claim("k", 2));
    await second.close();
    const again = first.claimIdempotencyKey(claim("k", 3));
    await read;
    assert.equal((await claimed).status, "claimed");
    assert.equal((await again).status, "held");
  });
});

Deno.test("a key another SQLite store on the same file released, pruned or forgot at a bound is claimed afresh", async () => {
  await withTwoStores(async (first, second, path) => {
    for (const key of ["released", "pruned", "bounded"]) {
      await first.claimIdempotencyKey(claim(key, 1, { expiresAt: key === "pruned" ? 5 : 1000 }));
    }
    await first.settleIdempotencyKey(SCOPE, "pruned", OK_ANSWER);
    await first.settleIdempotencyKey(SCOPE, "bounded", OK_ANSWER);
    // The second store learns of all three, then the first forgets them.
    assert.equal((await second.claimIdempotencyKey(claim("bounded", 2))).status, "held");
    await first.settleIdempotencyKey(SCOPE, "released", undefined);
    assert.equal(await first.pruneIdempotencyKeys(10, 100), 1);
    // A new key in a scope bounded to one forgets every older one.
    await first.claimIdempotencyKey(claim("newest", 11, { maxPerScope: 1 }));
    await first.getMeta("none");
    assert.deepEqual(rowCounts(path, [SCOPE]), { [SCOPE]: 1, "": 1 });
    for (const key of ["released", "pruned", "bounded"]) {
      assert.equal((await second.claimIdempotencyKey(claim(key, 12))).status, "claimed", key);
    }
    assert.equal((await second.claimIdempotencyKey(claim("newest", 12))).status, "held");
  }, (path) => {
    assert.deepEqual(rowCounts(path, [SCOPE]), { [SCOPE]: 4, "": 4 });
  });
});

Deno.test("a SQLite store holds a key claimed earlier in the same batch, in flight and then answered", async () => {
  const store = new SqliteStore(":memory:");
  try {
    const [first, second] = await Promise.all([
      store.claimIdempotencyKey(claim("k", 1)),
      store.claimIdempotencyKey(claim("k", 1, { fingerprint: "f2" })),
    ]);
    assert.deepEqual(first, { status: "claimed" });
    assert.deepEqual(second, { status: "held", fingerprint: "f1", answer: undefined });
    // Answered and claimed again in one batch: the row is written once, with its answer.
    const [, third] = await Promise.all([
      store.settleIdempotencyKey(SCOPE, "k", OK_ANSWER),
      store.claimIdempotencyKey(claim("k", 2)),
    ]);
    assert.deepEqual(third, { status: "held", fingerprint: "f1", answer: OK_ANSWER });
    // Claimed in one batch and answered in a later one, with a retry in that one.
    await store.claimIdempotencyKey(claim("late", 3));
    await store.getMeta("none");
    const [, retry] = await Promise.all([
      store.settleIdempotencyKey(SCOPE, "late", OK_ANSWER),
      store.claimIdempotencyKey(claim("late", 4)),
    ]);
    assert.deepEqual(retry, { status: "held", fingerprint: "f1", answer: OK_ANSWER });
    assert.deepEqual(await store.claimIdempotencyKey(claim("late", 5)), retry);
    // Released in its batch: nothing was written, and the key is free.
    await Promise.all([
      store.claimIdempotencyKey(claim("released", 3)),
      store.settleIdempotencyKey(SCOPE, "released", undefined),
    ]);
    assert.equal((await store.claimIdempotencyKey(claim("released", 4))).status, "claimed");
    // Once committed: a claim not yet answered is written at its batch's commit.
    await store.getMeta("none");
    assert.equal((await store.storeSizes!()).rows.idempotency_keys, 3);
  } finally {
    await store.close();
  }
});

Deno.test("a SQLite store reopened holds the keys it answered and forgets the claims left unanswered", async () => {
  await withFile(async (path) => {
    const store = new SqliteStore(path);
    await store.claimIdempotencyKey(claim("answered", 1));
    await store.settleIdempotencyKey(SCOPE, "answered", OK_ANSWER);
    await store.claimIdempotencyKey(claim("unanswered", 1));
    await store.close();
    const reopened = new SqliteStore(path);
    try {
      assert.deepEqual(await reopened.claimIdempotencyKey(claim("answered", 2)), {
        status: "held",
        fingerprint: "f1",
        answer: OK_ANSWER,
      });
      assert.equal((await reopened.claimIdempotencyKey(claim("unanswered", 2))).status, "claimed");
    } finally {
      await reopened.close();
    }
  });
});

Deno.test("a SQLite store keeps at most maxTotal keys, forgetting the oldest of any scope", async () => {
  await withFile(async (path) => {
    const store = new SqliteStore(path);
    try {
      for (let i = 0; i < 50; i++) {
        const scope = `scope ${i % 7}`;
        await store.claimIdempotencyKey(claim(`k${i}`, i, { scope, maxTotal: 10 }));
        await store.settleIdempotencyKey(scope, `k${i}`, OK_ANSWER);
      }
      assert.equal((await store.storeSizes!()).rows.idempotency_keys, 10);
      // The newest ten are held, the one before them was forgotten.
      for (let i = 40; i < 50; i++) {
        const result = await store.claimIdempotencyKey(
          claim(`k${i}`, 60, { scope: `scope ${i % 7}`, maxTotal: 10 }),
        );
        assert.equal(result.status, "held", `k${i}`);
      }
      assert.equal(
        (await store.claimIdempotencyKey(claim("k39", 60, { scope: "scope 4", maxTotal: 10 })))
          .status,
        "claimed",
      );
    } finally {
      await store.close();
    }
  });
});

Deno.test("a SQLite store deletes the rows of keys forgotten at the total bound at most 1/64 of it late", async () => {
  const store = new SqliteStore(":memory:");
  try {
    const bounded = (key: string, now: number) =>
      claim(key, now, { maxPerScope: 10_000, maxTotal: 6_400, expiresAt: 1e9 });
    const claimAll = async (from: number, to: number) => {
      for (let i = from; i < to; i += 16) {
        await Promise.all(
          Array.from({ length: Math.min(16, to - i) }, (_, j) => [
            store.claimIdempotencyKey(bounded(`k${i + j}`, i + j)),
            store.settleIdempotencyKey(SCOPE, `k${i + j}`, OK_ANSWER),
          ]).flat(),
        );
      }
      await store.getMeta("none");
    };
    await claimAll(0, 6_500);
    // 100 keys forgotten, their rows not deleted yet: a slack of 6,400 / 64.
    assert.equal((await store.storeSizes!()).rows.idempotency_keys, 6_500);
    assert.equal((await store.claimIdempotencyKey(bounded("k99", 7_000))).status, "claimed");
    await store.settleIdempotencyKey(SCOPE, "k99", OK_ANSWER);
    await store.getMeta("none");
    // One more past the slack: every forgotten key's row goes, and the oldest kept stays held.
    assert.equal((await store.storeSizes!()).rows.idempotency_keys, 6_400);
    assert.equal((await store.claimIdempotencyKey(bounded("k101", 7_001))).status, "held");
  } finally {
    await store.close();
  }
});

Deno.test("a SQLite store refuses a malformed claim alone, keeping the batch's other keys", async () => {
  const store = new SqliteStore(":memory:");
  try {
    await store.claimIdempotencyKey(claim("kept", 1));
    const other = store.claimIdempotencyKey(claim("same batch", 1));
    for (
      const malformed of [
        { key: null as unknown as string },
        { fingerprint: 1 as unknown as string },
        { expiresAt: 1.5 },
      ]
    ) {
      await assert.rejects(
        store.claimIdempotencyKey(claim("bad", 1, malformed)),
        (error: unknown) => error instanceof InvalidArgumentError && error.argument === "claim",
      );
    }
    assert.equal((await other).status, "claimed");
    await store.getMeta("none");
    assert.equal((await store.claimIdempotencyKey(claim("kept", 2))).status, "held");
    assert.equal((await store.claimIdempotencyKey(claim("same batch", 2))).status, "held");
    assert.equal((await store.claimIdempotencyKey(claim("new", 2))).status, "claimed");
  } finally {
    await store.close();
  }
});

Deno.test("a SQLite database whose idempotency counts had triggers moves each key over once", async () => {
  await withFile(async (path) => {
    // As the store left a database when triggers kept the counts, and rows kept the scope text.
    const raw = new DatabaseSync(path);
    raw.exec(`${sqliteScript(IDEMPOTENCY_KEYS)}
      CREATE TABLE idempotency_counts (scope TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TRIGGER idempotency_keys_counted AFTER INSERT ON idempotency_keys BEGIN
        INSERT INTO idempotency_counts (scope, n) VALUES (NEW.scope, 1), ('', 1)
          ON CONFLICT (scope) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER idempotency_keys_uncounted AFTER DELETE ON idempotency_keys BEGIN
        UPDATE idempotency_counts SET n = n - 1 WHERE scope IN (OLD.scope, '');
      END;`);
    const insert = raw.prepare(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, expires_at, lease_expires_at, status, body)
         VALUES (?, ?, 'f1', 1000, 100, ?, ?)`,
    );
    insert.run(SCOPE, "a", 200, '{"ok":true}');
    // An unanswered claim, which the next open forgets as a crash's.
    insert.run(SCOPE, "b", null, null);
    raw.close();

    const reopened = new SqliteStore(path);
    try {
      assert.equal((await reopened.claimIdempotencyKey(claim("a", 1))).status, "held");
      await reopened.claimIdempotencyKey(claim("c", 1));
      await reopened.settleIdempotencyKey(SCOPE, "c", OK_ANSWER);
    } finally {
      await reopened.close();
    }
    assert.deepEqual(rowCounts(path, [SCOPE]), { [SCOPE]: 2, "": 2 });
    assert.deepEqual(idempotencyObjects(path), ["table idempotency_claims"]);
  });
});

Deno.test("a SQLite database whose idempotency keys kept scope ids and counts moves them over", async () => {
  await withFile(async (path) => {
    // The layout before this one: a unique index by scope id and key, counts in a table.
    const raw = new DatabaseSync(path);
    raw.exec(`
      CREATE TABLE idempotency_keys (
        seq INTEGER PRIMARY KEY, scope_id TEXT NOT NULL, key TEXT NOT NULL,
        fingerprint BLOB NOT NULL, expires_at INTEGER NOT NULL,
        lease_expires_at INTEGER NOT NULL, status INTEGER, body TEXT);
      CREATE TABLE idempotency_scope_counts (scope_id TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
      CREATE UNIQUE INDEX idempotency_keys_scope_key ON idempotency_keys (scope_id, key);
      CREATE INDEX idempotency_keys_scope_seq ON idempotency_keys (scope_id, seq);
      CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);`);
    const insert = raw.prepare(
      `INSERT INTO idempotency_keys (seq, scope_id, key, fingerprint, expires_at, lease_expires_at, status, body)
         VALUES (?, ?, ?, ?, 1000, 100, 200, '{"ok":true}')`,
    );
    const digest = new Uint8Array(32).fill(0xab);
    // Numbered out of key order: the oldest is the first forgotten after the move.
    insert.run(7, scopeIdOf(SCOPE), "older", digest);
    insert.run(9, scopeIdOf(SCOPE), "newer", digest);
    insert.run(8, scopeIdOf("other"), "x", "not hex");
    raw.exec(`INSERT INTO idempotency_scope_counts VALUES ('${scopeIdOf(SCOPE)}', 2),
      ('${scopeIdOf("other")}', 1), ('', 3)`);
    raw.close();

    const store = new SqliteStore(path);
    try {
      assert.deepEqual(await store.claimIdempotencyKey(claim("newer", 1)), {
        status: "held",
        fingerprint: "ab".repeat(32),
        answer: OK_ANSWER,
      });
      assert.deepEqual(await store.claimIdempotencyKey(claim("x", 1, { scope: "other" })), {
        status: "held",
        fingerprint: "not hex",
        answer: OK_ANSWER,
      });
      // Two in the scope already: a third with a bound of two forgets "older".
      await store.claimIdempotencyKey(claim("third", 1, { maxPerScope: 2 }));
      assert.equal((await store.claimIdempotencyKey(claim("older", 2))).status, "claimed");
    } finally {
      await store.close();
    }
    assert.deepEqual(idempotencyObjects(path), ["table idempotency_claims"]);
  });
});

Deno.test("a SQLite store's index of its idempotency keys costs under 400 bytes a key", async () => {
  // In a child Deno with --expose-gc, so garbage is not counted: 20,000 keys as the routes make
  // them (UUIDs, 1,000 installs' scopes), each claimed and answered.
  const store = new URL("../../src/server/sqlite/mod.ts", import.meta.url).href;
  const script = `
    import { SqliteStore } from ${JSON.stringify(store)};
    const store = new SqliteStore(":memory:");
    const claim = (scope, key) => ({ scope, key, fingerprint: '["event","1.0.0","opened",1]',
      now: 1, expiresAt: 2e12, leaseExpiresAt: 2e12, maxPerScope: 1e9, maxTotal: 1e9 });
    await store.claimIdempotencyKey(claim("warm", "up"));
    globalThis.gc(); globalThis.gc();
    const before = Deno.memoryUsage().heapUsed;
    for (let i = 0; i < 20000; i++) {
      const scope = "mkstats\\nplugin-" + (i % 1000) + "\\n" + String(i % 1000).padStart(64, "0");
      const key = crypto.randomUUID();
      await store.claimIdempotencyKey(claim(scope, key));
      await store.settleIdempotencyKey(scope, key, { status: 200, body: '{"ok":true}' });
    }
    globalThis.gc(); globalThis.gc();
    console.log((Deno.memoryUsage().heapUsed - before) / 20000);
    await store.close();
  `;
  const bytes = Number(await evalWithGc(script));
  console.log(`SqliteStore: ${Math.round(bytes)} bytes of memory per idempotency key`);
  // A UUID alone is about 50 bytes: below that, the keys were not measured.
  assert.ok(bytes > 50 && bytes < 400, `${bytes} bytes per key`);
});
