/**
 * The SQLite store's packed Honch events (`honch_event_batches`, one row per
 * message): every event comes back exactly as the memory store gives it back,
 * the newest ones across rows, and a database holding rows of the former
 * one-row-per-event table (`honch_events`) keeps them, listed before the
 * packed ones.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type HonchEventRecord, MemoryStore } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { HONCH_PARTIALS, HONCH_STORED, sqliteScript } from "../../src/server/_sqlite_schema.ts";
import { packEvents, propertiesToJson, unpackEvents } from "../../src/server/honch/_rows.ts";

const PROJECT = "f".repeat(64);
const OTHER = "0".repeat(64);

/** Events that try every corner of the packed form. */
function awkwardEvents(): HonchEventRecord[] {
  const context = { $device_id: "dev-1", $sdk_version: "0.3.1" };
  return [
    // A shared prefix ending between the halves of a surrogate pair: 😀 and 😁.
    { event: "a", distinct_id: "u1", timestamp: 1, properties: { ...context, s: "x\u{1f600}" } },
    { event: "a", distinct_id: "u1", timestamp: 2, properties: { ...context, s: "x\u{1f601}" } },
    // Line feeds, quotes, a lone surrogate and a key that names the prototype.
    {
      event: 'line\nfeed "quoted" \ud800',
      distinct_id: "u2\n",
      timestamp: -5,
      properties: JSON.parse('{"__proto__": {"x": 1}, "text": "one\\ntwo\\r\\n", "": null}'),
    },
    // Timestamps no difference keeps exact, big integers and nested values.
    { event: "b", distinct_id: "u1", timestamp: 2 ** 60, properties: { id: 2n ** 64n - 1n } },
    { event: "b", distinct_id: "u1", timestamp: 0.5, properties: { list: [1, { a: [] }, "z"] } },
    { event: "é", distinct_id: "ü", timestamp: -(2 ** 53) + 1, properties: {} },
  ];
}

/** What a store gives back for `events`: properties through JSON, as every store keeps them. */
function asStored(events: HonchEventRecord[]): HonchEventRecord[] {
  return events.map((event) => ({
    ...event,
    properties: JSON.parse(propertiesToJson(event.properties)),
  }));
}

async function withStores(
  body: (sqlite: SqliteStore, memory: MemoryStore, path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const sqlite = new SqliteStore(`${dir}/events.db`);
  const memory = new MemoryStore();
  try {
    await body(sqlite, memory, `${dir}/events.db`);
  } finally {
    await sqlite.close();
    await memory.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("packed events read back exactly, shared or not, whatever their text and timestamps", () => {
  const events = awkwardEvents();
  for (const slice of [events, events.slice(0, 2), events.slice(3, 5), events.slice(5)]) {
    const text = packEvents(slice, slice.map((event) => propertiesToJson(event.properties)));
    assert.deepEqual(unpackEvents(text), asStored(slice));
  }
  // A message's events share their context: it is held once, not once per event.
  const many = Array.from({ length: 50 }, (_, n) => ({
    event: "reading",
    distinct_id: "u1",
    timestamp: 1_700_000_000_000 + n * 250,
    properties: { $device_id: "device-1".repeat(8), $sdk_version: "1.0.0", n },
  }));
  const properties = many.map((event) => propertiesToJson(event.properties));
  const packed = packEvents(many, properties);
  assert.ok(packed.length < properties.join("").length / 3);
  assert.deepEqual(unpackEvents(packed), asStored(many));
});

Deno.test("packEvents refuses no events or a timestamp JSON cannot hold, unpackEvents an unknown form", () => {
  assert.throws(() => packEvents([], []), RangeError);
  const timeless = { event: "e", distinct_id: "u", timestamp: NaN, properties: {} };
  assert.throws(() => packEvents([timeless], ["{}"]), /timestamp NaN of event 0/);
  assert.throws(() => unpackEvents('[2,"",null,null,[]]'), SyntaxError);
});

Deno.test("the SQLite store gives back awkward events exactly as the memory store does", async () => {
  await withStores(async (sqlite, memory) => {
    const events = awkwardEvents();
    for (const store of [sqlite, memory]) {
      await store.addHonchEvents(PROJECT, events, 1);
      await store.completeHonchMessage(
        { projectKeyHash: PROJECT, streamId: "", sourceType: 0, messageId: 1 },
        { digest: "d", events: events.slice(0, 2), now: 2, expiresAt: 100 },
      );
    }
    const listed = await sqlite.listHonchEvents(PROJECT, 100);
    assert.deepEqual(listed, await memory.listHonchEvents(PROJECT, 100));
    assert.deepEqual(listed, asStored([...events, ...events.slice(0, 2)]));
  });
});

Deno.test("the SQLite store lists the newest events across packed rows, as the memory store", async () => {
  await withStores(async (sqlite, memory) => {
    const event = (n: number): HonchEventRecord => ({
      event: `e${n}`,
      distinct_id: `u${n % 3}`,
      timestamp: n,
      properties: { $device_id: "d", n },
    });
    let n = 0;
    for (let message = 1; message <= 40; message++) {
      const events = Array.from({ length: message % 7 + 1 }, () => event(n++));
      const key = { projectKeyHash: PROJECT, streamId: "s", sourceType: 0, messageId: message };
      for (const store of [sqlite, memory]) {
        await store.completeHonchMessage(key, { digest: "d", events, now: 1, expiresAt: 9 });
        await store.addHonchEvents(OTHER, [event(-message)], 1);
      }
    }
    // A JSON batch of 250 takes three rows.
    const batch = Array.from({ length: 250 }, () => event(n++));
    for (const store of [sqlite, memory]) await store.addHonchEvents(PROJECT, batch, 2);
    for (const limit of [1, 7, 99, 100, 101, 250, 251, 300, 1000]) {
      const listed = await sqlite.listHonchEvents(PROJECT, limit);
      assert.equal(listed.length, Math.min(limit, n));
      assert.deepEqual(listed, await memory.listHonchEvents(PROJECT, limit));
    }
    assert.deepEqual(
      await sqlite.listHonchEvents(OTHER, 3),
      await memory.listHonchEvents(OTHER, 3),
    );
  });
});

Deno.test("a SQLite database with events from before packed rows lists them before newer ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/old.db`;
    // As the store left a database when it wrote one row per event.
    const raw = new DatabaseSync(path);
    raw.exec(sqliteScript([...HONCH_PARTIALS, ...HONCH_STORED]));
    const insert = raw.prepare(
      `INSERT INTO honch_events (project_key_hash, event, distinct_id, timestamp, properties,
         received_at) VALUES (?, ?, ?, ?, ?, 1)`,
    );
    const old = Array.from({ length: 12 }, (_, n) => ({
      event: `old${n}`,
      distinct_id: "u",
      timestamp: n,
      properties: { n },
    }));
    for (const event of old) {
      insert.run(
        PROJECT,
        event.event,
        event.distinct_id,
        event.timestamp,
        JSON.stringify({ n: event.properties.n }),
      );
      insert.run(OTHER, "elsewhere", "u", 0, "{}");
    }
    raw.close();

    const store = new SqliteStore(path);
    try {
      const fresh = Array.from({ length: 5 }, (_, n) => ({
        event: `new${n}`,
        distinct_id: "u",
        timestamp: 100 + n,
        properties: { n },
      }));
      await store.completeHonchMessage(
        { projectKeyHash: PROJECT, streamId: "", sourceType: 0, messageId: 1 },
        { digest: "d", events: fresh.slice(0, 3), now: 1, expiresAt: 9 },
      );
      await store.addHonchEvents(PROJECT, fresh.slice(3), 1);
      const all = [...old, ...fresh];
      for (const limit of [2, 5, 6, 17, 100]) {
        assert.deepEqual(await store.listHonchEvents(PROJECT, limit), all.slice(-limit));
      }
      assert.equal((await store.listHonchEvents(OTHER, 100)).length, 12);
    } finally {
      await store.close();
    }
    // Reopened, the database is the same: nothing was moved or lost.
    const again = new SqliteStore(path);
    try {
      assert.equal((await again.listHonchEvents(PROJECT, 100)).length, 17);
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
