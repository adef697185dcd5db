/**
 * Every client, through a proxy that fails answers AFTER the reference
 * server stored what they carried (503, reset, too slow, truncated): each
 * client keeps retrying until everything is acknowledged, and the server's
 * own records, read directly, hold every event exactly once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MemoryStorage } from "../../src/core/storage.ts";
import { HonchClient } from "../../src/honch/client.ts";
import { HONCH_SDK_VERSION } from "../../src/honch/version.ts";
import { encodeMessage } from "../../src/honch/wire_v2.ts";
import { toWireValue } from "../../src/honch/wire_value.ts";
import { createMigas } from "../../src/migas/client.ts";
import { MkStatsClient } from "../../src/mkstats/client.ts";
import { type FaultProxy, seededRandom, startFaultProxy } from "./_fault_proxy.ts";
import { ADMIN_KEY, type Running, startServer } from "./_server.ts";

const TIMEOUT_MS = 250;
const SLOW_MS = 500;
const BACKOFF = { initialMs: 1, maxMs: 4 };
/** Flush rounds before a test gives up: far more than the faults it can meet. */
const MAX_ROUNDS = 400;
const PROJECT_KEY = "phc_fault_project";
const CRUMBS = 12;
const PROJECTS = Array.from({ length: CRUMBS }, (_, i) => `acme/tool-${i}`);

function server(): Running {
  return startServer({
    honch: { projectKeys: [PROJECT_KEY] },
    migas: { projects: PROJECTS.map((project) => ({ project, latestVersion: "2.0.0" })) },
    // The clients retry fast; the limits are not what this suite tests
    rateLimit: { install: { capacity: Infinity }, address: { capacity: Infinity } },
  });
}

function proxy(running: Running, seed: number, faultable?: (m: string, p: string) => boolean) {
  return startFaultProxy({
    upstream: running.base,
    seed,
    rate: 0.45,
    slowMs: SLOW_MS,
    maxFaults: 40,
    faultable,
  });
}

function assertFaulted(faults: FaultProxy): void {
  const injected = Object.entries(faults.counts).filter(([kind]) => kind !== "none");
  // The seed must actually exercise every kind, or the suite proves less than it says
  for (const [kind, count] of injected) assert.ok(count > 0, `no ${kind} fault was injected`);
}

const pause = () => new Promise((done) => setTimeout(done, 5));

function mkstatsClient(base: string, seed: number): MkStatsClient {
  return new MkStatsClient(
    {
      pluginId: "fault_plugin",
      pluginVersion: "1.0.0",
      endpoint: `${base}/api`,
      deviceId: "device-under-faults",
      timeoutMs: TIMEOUT_MS,
      powMaxMs: 20_000,
      backoff: BACKOFF,
      random: seededRandom(seed),
    },
  );
}

async function mkstatsTotals(running: Running, prefix: string): Promise<Map<string, number>> {
  const stats = await running.stats("fault_plugin");
  const totals = new Map<string, number>();
  for (const row of stats.events as { event: string; count: number }[]) {
    if (row.event.startsWith(prefix)) {
      totals.set(row.event, (totals.get(row.event) ?? 0) + row.count);
    }
  }
  return totals;
}

Deno.test("mkStats queued events survive 503s, resets, slow and truncated answers, each counted once", async () => {
  await using running = server();
  await using faults = proxy(running, 0x5eed_0001);
  const client = mkstatsClient(faults.base, 11);
  const expected = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    client.queueEvent(`queued_${i}`, i + 1);
    expected.set(`queued_${i}`, i + 1);
  }
  let drained = false;
  for (let round = 0; round < MAX_ROUNDS && !drained; round++) {
    drained = await client.flushEvents();
    if (!drained) await pause();
  }
  assert.ok(drained, `still queued: ${JSON.stringify(client.queueStats())}`);
  assert.equal(client.queueStats().dropped, 0);
  assert.deepEqual(await mkstatsTotals(running, "queued_"), expected);
  assertFaulted(faults);
});

Deno.test("mkStats trackEvent through faults queues what it could not send, and each event is counted once", async () => {
  await using running = server();
  await using faults = proxy(running, 0x5eed_0002);
  const client = mkstatsClient(faults.base, 12);
  for (let i = 0; i < 15; i++) {
    // Called once per occurrence: a fault (503, reset, timeout, truncated body) queues the
    // event under the key it was sent with, and the call answers {} instead of throwing
    await client.trackEvent(`tracked_${i}`, 2);
  }
  let drained = false;
  for (let round = 0; round < MAX_ROUNDS && !drained; round++) {
    drained = await client.flushEvents();
    if (!drained) await pause();
  }
  assert.ok(drained, `still queued: ${JSON.stringify(client.queueStats())}`);
  assert.equal(client.queueStats().dropped, 0);
  const totals = await mkstatsTotals(running, "tracked_");
  assert.deepEqual(
    totals,
    new Map(Array.from({ length: 15 }, (_, i) => [`tracked_${i}`, 2])),
  );
  assertFaulted(faults);
});

interface StoredEvent {
  event: string;
  properties: Record<string, unknown>;
}

const READINGS = Array.from({ length: 420 }, (_, i) => i + 0.5);

/** The padding, per event index, that makes a lone event's message 4094 bytes. */
function multiFramePad(): (i: number) => string {
  const context = [
    "dev_fault",
    "dev_fault",
    "Fault-Board",
    "1.0.0",
    "javascript-deno",
    HONCH_SDK_VERSION,
    "production",
  ].map((value, id) => ({ id: id + 1, value: toWireValue(value) }));
  const sizeWith = (i: number, pad: number) =>
    encodeMessage({
      baseTimeMs: Date.now(),
      context,
      events: [{
        name: "fault_event",
        timestampMs: Date.now(),
        properties: [
          { key: "i", value: toWireValue(i) },
          { key: "readings", value: toWireValue(READINGS) },
          { key: "pad", value: toWireValue("x".repeat(pad)) },
        ],
      }],
    }).length;
  return (i) => {
    const pad = Array.from({ length: 512 }, (_, p) => p).find((p) => sizeWith(i, p) === 4094);
    assert.ok(pad !== undefined, "some padding gives a 4094-byte message");
    return "x".repeat(pad);
  };
}

async function honchEvents(running: Running): Promise<StoredEvent[]> {
  const response = await fetch(
    `${running.base}/api/honch/events?project_key=${PROJECT_KEY}&limit=1000`,
    { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
  );
  assert.equal(response.status, 200);
  return (await response.json()).events;
}

Deno.test("Honch batches and a multi-frame message survive every fault, each event stored once", async () => {
  await using running = server();
  await using faults = proxy(running, 0x5eed_0003);
  const client = new HonchClient(
    {
      apiKey: PROJECT_KEY,
      deviceId: "dev_fault",
      deviceModel: "Fault-Board",
      firmwareVersion: "1.0.0",
      endpoint: faults.base,
      timeoutMs: TIMEOUT_MS,
      backoff: BACKOFF,
      batchSize: 4,
      flushMinIntervalMs: 0xFFFFFFFF,
      random: seededRandom(13),
    },
  );
  const total = 24;
  // Every sixth event, alone in its batch, makes a 4094-byte message: with the frame
  // header, id and CRC it cannot fit one 4096-byte frame, so it goes up as several
  const big = multiFramePad();
  for (let i = 0; i < total; i++) {
    client.track("fault_event", i % 6 === 5 ? { i, readings: READINGS, pad: big(i) } : { i });
  }
  let remaining = Infinity;
  for (let round = 0; round < MAX_ROUNDS && remaining > 0; round++) {
    const result = await client.flush({ deadlineMs: 5000 });
    remaining = result.remaining;
    if (remaining > 0) await pause();
  }
  assert.equal(remaining, 0, `still queued: ${JSON.stringify(client.queueStats())}`);
  assert.equal(client.queueStats().dropped, 0);
  const stored = (await honchEvents(running)).filter((event) => event.event === "fault_event");
  const seen = stored.map((event) => event.properties.i as number).sort((a, b) => a - b);
  assert.deepEqual(seen, Array.from({ length: total }, (_, i) => i));
  const large = stored.find((event) => event.properties.i === 5);
  assert.deepEqual([large?.properties.readings, large?.properties.pad], [READINGS, big(5)]);
  const frames = faults.requests.filter((request) => request.path === "/capture");
  assert.ok(frames.some((frame) => (frame.firstByte! & 0x20) !== 0), "a continuation frame");
  assertFaulted(faults);
  await client.shutdown();
});

async function usage(running: Running, project: string): Promise<number> {
  const response = await fetch(`${running.base}/api/usage/${project}?start=2000-01-01`);
  assert.equal(response.status, 200);
  return (await response.json()).hits;
}

for (const protocol of ["rest", "graphql"] as const) {
  Deno.test(`migas breadcrumbs over ${protocol} survive every fault, each stored once`, async () => {
    await using running = server();
    await using faults = proxy(running, protocol === "rest" ? 0x5eed_0004 : 0x5eed_0005);
    const migas = createMigas(
      {
        endpoint: faults.base,
        protocol,
        timeoutMs: TIMEOUT_MS,
        backoff: BACKOFF,
        random: seededRandom(14),
        storage: new MemoryStorage(),
        env: () => undefined,
        fileExists: () => Promise.resolve(false),
        logger: () => {},
      },
    );
    for (const project of PROJECTS) await migas.addBreadcrumb(project, "1.0.0");
    let queued = migas.queueStats().queued;
    for (let round = 0; round < MAX_ROUNDS && queued > 0; round++) {
      await pause();
      queued = (await migas.flush()).queued;
    }
    const stats = migas.queueStats();
    assert.equal(stats.queued, 0, `still queued: ${JSON.stringify(stats)}`);
    assert.equal(stats.dropped, 0, JSON.stringify(stats));
    const hits = await Promise.all(PROJECTS.map((project) => usage(running, project)));
    assert.deepEqual(hits, PROJECTS.map(() => 1));
    assertFaulted(faults);
  });
}
