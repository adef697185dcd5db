/**
 * `GET /metrics` reports the store's sizes: `edgewire_store_rows{table}` for
 * what each store counts cheaply (every map of the memory store; only the
 * bounded tables of SQLite), and for SQLite the database's bytes from its
 * page counts. A store without `storeSizes()` adds no store gauge.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createServer, MemoryStore, type ServerStore } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { upload } from "./_contract_fixtures.ts";

const ADMIN = "store-metrics-admin-key";

async function scrape(server: { fetch(r: Request): Promise<Response> }): Promise<string> {
  const response = await server.fetch(
    new Request("http://x/metrics", { headers: { authorization: `Bearer ${ADMIN}` } }),
  );
  assert.equal(response.status, 200);
  return await response.text();
}

/** Every sample of `name`, by its label set as written (`""` when it has none). */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match !== null && match[1] === name) found.set(match[2] ?? "", Number(match[3]));
  }
  return found;
}

/** Two open Honch partial uploads and three spent challenges. */
async function fill(store: ServerStore): Promise<void> {
  for (const id of [1, 2]) {
    await store.openHonchPartial(upload(id), {
      totalLength: 8,
      payload: new Uint8Array([id]),
      now: 0,
      expiresAt: 1000,
    });
  }
  for (const id of ["a", "b", "c"]) await store.markChallengeUsed(id, 1000);
}

Deno.test("the memory store's map sizes are reported as edgewire_store_rows by table", async () => {
  const store = new MemoryStore();
  const server = createServer({ adminKey: ADMIN, store });
  try {
    await fill(store);
    const text = await scrape(server);
    const rows = samples(text, "edgewire_store_rows");
    assert.equal(rows.get('{table="honch_partials"}'), 2);
    assert.equal(rows.get('{table="used_challenges"}'), 3);
    assert.equal(rows.get('{table="honch_events"}'), 0);
    assert.equal(rows.get('{table="emitter_messages"}'), 0);
    // One HELP and one TYPE for every table's sample.
    assert.equal(
      text.split("\n").filter((l) => l === "# TYPE edgewire_store_rows gauge").length,
      1,
    );
    // Memory has no database file to measure.
    assert.equal(samples(text, "edgewire_store_bytes").size, 0);
  } finally {
    await server.close();
  }
});

Deno.test("a SQLite store reports its database bytes and only its bounded tables' rows", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  try {
    const store = new SqliteStore(path);
    const server = createServer({ adminKey: ADMIN, store });
    try {
      await fill(store);
      const text = await scrape(server);
      const raw = new DatabaseSync(path, { readOnly: true });
      const pragma = (name: string) =>
        Number(Object.values(raw.prepare(`PRAGMA ${name}`).get() as Record<string, number>)[0]);
      const pageSize = pragma("page_size");
      const bytes = pragma("page_count") * pageSize;
      const free = pragma("freelist_count") * pageSize;
      raw.close();
      assert.ok(bytes > 0);
      assert.equal(samples(text, "edgewire_store_bytes").get(""), bytes);
      assert.equal(samples(text, "edgewire_store_free_bytes").get(""), free);
      // Tables a bound keeps small are counted; ones growing with traffic, such as
      // used_challenges, never are: a COUNT(*) over them on every scrape would be a scan.
      assert.deepEqual(
        [...samples(text, "edgewire_store_rows")],
        [
          ['{table="emitter_key_bans"}', 0],
          ['{table="honch_partials"}', 2],
          ['{table="idempotency_keys"}', 0],
        ],
      );
    } finally {
      await server.close();
    }
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.remove(`${path}${suffix}`).catch(() => {});
    }
  }
});

Deno.test("a store without storeSizes adds no store gauge and metrics still answer", async () => {
  const memory = new MemoryStore();
  const { storeSizes: _omitted, ...store } = memory;
  const server = createServer({ adminKey: ADMIN, store: store as ServerStore });
  try {
    const text = await scrape(server);
    assert.doesNotMatch(text, /edgewire_store_/);
    assert.match(text, /edgewire_rate_limit_keys /);
  } finally {
    await server.close();
  }
});
