import assert from "node:assert/strict";
import { MemoryStorage } from "../../src/core/storage.ts";
import { HonchClient } from "../../src/honch/client.ts";
import { HONCH_SDK_VERSION } from "../../src/honch/version.ts";
import type { HonchClientOptions } from "../../src/honch/options.ts";
import { encodeMessage } from "../../src/honch/wire_v2.ts";
import { toWireValue } from "../../src/honch/wire_value.ts";
import { OfflineError, ServerError } from "../../src/honch/errors.ts";
import { createServer } from "../../src/server/mod.ts";

const PROJECT_KEY = "phc_e2e_project";
const ADMIN_KEY = "admin-key-for-tests-only";

interface Running extends AsyncDisposable {
  base: string;
  captures: () => number;
  events(): Promise<StoredEvent[]>;
  /** A fetch for the client that can answer /capture itself instead of the server. */
  fetch: typeof fetch;
  override: { next?: () => Response | undefined };
}

function start(): Running {
  const server = createServer({
    adminKey: ADMIN_KEY,
    honch: { projectKeys: [PROJECT_KEY] },
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  const base = `http://127.0.0.1:${http.addr.port}`;
  let captures = 0;
  const override: Running["override"] = {};
  return {
    base,
    override,
    captures: () => captures,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname === "/capture") {
        captures++;
        const replaced = override.next?.();
        if (replaced) {
          await request.body?.cancel();
          return replaced;
        }
      }
      return await fetch(request);
    },
    async events() {
      const response = await fetch(
        `${base}/api/honch/events?project_key=${PROJECT_KEY}&limit=1000`,
        {
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
        },
      );
      assert.equal(response.status, 200);
      return (await response.json()).events;
    },
    async [Symbol.asyncDispose]() {
      await http.shutdown();
      await server.close();
    },
  };
}

function clientFor(running: Running, extra: Partial<HonchClientOptions> = {}): HonchClient {
  return new HonchClient({
    apiKey: PROJECT_KEY,
    deviceId: "dev_e2e",
    deviceModel: "E2E-Board",
    firmwareVersion: "1.0.0",
    endpoint: running.base,
    flushMinIntervalMs: 0xFFFFFFFF,
    fetch: running.fetch,
    ...extra,
  });
}

interface StoredEvent {
  event: string;
  distinct_id: string;
  properties: Record<string, unknown>;
}

const named = (events: StoredEvent[], prefix: string): StoredEvent[] =>
  events.filter((e) => e.event.startsWith(prefix));

Deno.test("HonchClient batches 45 events into uploads the server stores exactly once", async () => {
  await using running = start();
  const client = clientFor(running, { batchSize: 20 });
  for (let i = 0; i < 45; i++) client.track("sample", { i });
  const result = await client.flush();
  assert.equal(result.stopped, "drained");
  assert.equal(result.remaining, 0);
  const samples = named(await running.events(), "sample");
  assert.deepEqual(samples.map((e) => e.properties.i), Array.from({ length: 45 }, (_, i) => i));
  assert.ok(running.captures() >= 3, `${running.captures()} uploads for batches of 20`);
  assert.equal(samples[0].distinct_id, "dev_e2e");
  assert.equal(samples[0].properties.$device_model, "E2E-Board");
  await client.shutdown();
});

Deno.test("a message too large for one 4096-byte frame goes up as several frames and arrives whole", async () => {
  await using running = start();
  // Pick the padding that makes the client's message 4094 bytes: with the frame header, id and
  // CRC that cannot fit one 4096-byte frame, so the upload must be multi-frame
  const context = [
    "dev_e2e",
    "dev_e2e",
    "E2E-Board",
    "1.0.0",
    "javascript-deno",
    HONCH_SDK_VERSION,
    "production",
  ]
    .map((value, i) => ({ id: i + 1, value: toWireValue(value) }));
  const readings = Array.from({ length: 420 }, (_, i) => i + 0.5);
  const sizeWith = (pad: number) =>
    encodeMessage({
      baseTimeMs: Date.now(),
      context,
      events: [{
        name: "large",
        timestampMs: Date.now(),
        properties: [{ key: "readings", value: toWireValue(readings) }, {
          key: "pad",
          value: toWireValue("x".repeat(pad)),
        }],
      }],
    }).length;
  const pad = Array.from({ length: 512 }, (_, p) => p).find((p) => sizeWith(p) === 4094);
  assert.ok(pad !== undefined, "some padding gives a 4094-byte message");

  const headers: number[] = [];
  const client = clientFor(running, {
    fetch: async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname === "/capture") {
        headers.push(new Uint8Array(await request.clone().arrayBuffer())[0]);
      }
      return await running.fetch(request);
    },
  });
  await client.ready();
  await client.flush(); // the start events, in their own batch
  headers.length = 0;
  client.track("large", { readings, pad: "x".repeat(pad) });
  const result = await client.flush();
  assert.deepEqual([result.remaining, result.dropped], [0, 0]);
  assert.ok(headers.length >= 2, `${headers.length} frames`);
  assert.ok(headers[0] & 0x40, "the first frame says more follow");
  assert.ok(headers.at(-1)! & 0x20, "the last frame is a continuation");
  const [large] = named(await running.events(), "large");
  assert.deepEqual(large.properties.readings, readings);
  await client.shutdown();
});

Deno.test("a durable queue survives a restart: nothing lost, nothing doubled", async () => {
  await using running = start();
  const storage = new MemoryStorage();
  running.override.next = () => new Response(null, { status: 503 });
  const first = clientFor(running, { storage });
  for (let i = 0; i < 5; i++) first.track("kept", { i });
  const failed = await first.flush({ deadlineMs: 50 });
  assert.ok(failed.remaining >= 5);
  await first.shutdown({ deadlineMs: 50 });
  running.override.next = undefined;

  const second = clientFor(running, { storage });
  await second.ready();
  const result = await second.flush();
  assert.equal(result.remaining, 0);
  const kept = named(await running.events(), "kept");
  assert.deepEqual(kept.map((e) => e.properties.i), [0, 1, 2, 3, 4]);
  await second.flush();
  assert.equal(
    named(await running.events(), "kept").length,
    5,
    "a second flush sends nothing again",
  );
  await second.shutdown();
});

Deno.test("429 and 503 with Retry-After keep events queued until the wait has passed", async () => {
  await using running = start();
  const clock = { now: Date.parse("2026-11-22T12:00:00Z") };
  const answers = [
    new Response(null, { status: 429, headers: { "retry-after": "30" } }),
    new Response("maintenance", { status: 503, headers: { "retry-after": "60" } }),
  ];
  running.override.next = () => answers.shift();
  const client = clientFor(running, { now: () => clock.now });
  client.track("patient");
  const limited = await client.flush({ deadlineMs: 50 });
  assert.equal(limited.stopped, "deadline");
  assert.ok(limited.remaining > 0);
  clock.now += 31_000;
  const unavailable = await client.flush({ deadlineMs: 50 });
  assert.ok(unavailable.error instanceof ServerError);
  assert.equal(unavailable.error.status, 503);
  assert.equal(named(await running.events(), "patient").length, 0);
  clock.now += 61_000;
  const done = await client.flush();
  assert.equal(done.remaining, 0);
  assert.equal(named(await running.events(), "patient").length, 1);
  assert.ok(client.queueStats().retries >= 2);
  await client.shutdown();
});

Deno.test("offline, flush throws OfflineError and tick waits; online again, events arrive", async () => {
  await using running = start();
  const client = clientFor(running);
  client.disconnected();
  client.track("while_offline");
  await assert.rejects(client.flush(), OfflineError);
  assert.equal((await client.tick()).kind, "offline");
  assert.equal(running.captures(), 0, "nothing is sent while offline");
  client.connected();
  await client.flush();
  const events = await running.events();
  assert.equal(named(events, "while_offline").length, 1);
  assert.deepEqual(named(events, "$connectivity_change").map((e) => e.properties.state), [
    "disconnected",
    "connected",
  ]);
  await client.shutdown();
});

Deno.test("run() reports a $crash with the crash site first, flushes and rethrows", async () => {
  await using running = start();
  const client = clientFor(running);
  function crashSite(): never {
    throw new RangeError("sensor out of range");
  }
  await assert.rejects(client.run(() => crashSite()), RangeError);
  const [crash] = named(await running.events(), "$crash");
  assert.ok(crash, "the crash reached the server before run() rethrew");
  assert.equal(crash.properties.message, "sensor out of range");
  assert.match(String(crash.properties.backtrace).split("\n")[0], /crashSite/);
  await client.shutdown();
});

Deno.test("the queue bound drops the oldest events and counts them", async () => {
  await using running = start();
  const client = clientFor(running, { maxQueuedEvents: 5 });
  await client.ready();
  for (let i = 0; i < 8; i++) client.track("bounded", { i });
  const stats = client.queueStats();
  assert.equal(stats.queued, 5);
  assert.ok(stats.dropped >= 3);
  assert.ok((stats.droppedByReason.overflow ?? 0) >= 3);
  await client.flush();
  assert.deepEqual(named(await running.events(), "bounded").map((e) => e.properties.i), [
    3,
    4,
    5,
    6,
    7,
  ]);
  await client.shutdown();
});

Deno.test("a refused project key drops one batch and keeps the rest queued", async () => {
  await using running = start();
  const client = clientFor(running, { apiKey: "phc_wrong_key", batchSize: 5 });
  await client.ready();
  for (let i = 0; i < 12; i++) client.track("unauthorised", { i });
  const before = client.queueStats().queued;
  const result = await client.flush();
  assert.equal(result.stopped, "auth_error");
  assert.equal(result.dropped, 5);
  assert.equal(result.remaining, before - 5);
  assert.equal(client.queueStats().droppedByReason.auth_error, 5);
  assert.equal(running.captures(), 1, "one refused upload, then it stops");
  await client.shutdown({ deadlineMs: 0 });
});
