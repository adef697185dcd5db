/**
 * Unit tests of {@linkcode HonchClient} with a fake delivery (through the
 * client's hidden construction hook), an injected clock and fake globals.
 *
 * @module
 */

import assert from "node:assert/strict";
import { HonchClient, type HonchClientOptions } from "../../src/honch/client.ts";
import { CLIENT_INTERNALS, type ClientInternals } from "../../src/honch/_client_support.ts";
import type {
  DeliveryContext,
  DeliveryOptions,
  FlushStep,
  QueuedEvent,
} from "../../src/honch/_delivery.ts";
import {
  InvalidArgumentError,
  NotInitializedError,
  OfflineError,
  RateLimitedError,
  RejectedError,
  ServerError,
  TransportError,
} from "../../src/honch/errors.ts";
import { MemoryStorage } from "../../src/core/storage.ts";

/** Records every step and answers with the scripted steps, else sends the whole head batch. */
class FakeDelivery {
  steps: { events: QueuedEvent[]; keepalive?: boolean; ignoreSpacing?: boolean }[] = [];
  sent: QueuedEvent[] = [];
  script: FlushStep[] = [];
  retries = 0;
  constructor(readonly options: DeliveryOptions, readonly context: DeliveryContext) {}
  step(
    events: readonly QueuedEvent[],
    options: { keepalive?: boolean; ignoreSpacing?: boolean } = {},
  ): Promise<FlushStep> {
    this.steps.push({ events: [...events], ...options });
    if (events.length === 0) return Promise.resolve({ kind: "empty" });
    const next = this.script.shift() ??
      { kind: "sent", events: Math.min(events.length, this.options.batchSize) };
    if (next.kind === "sent") this.sent.push(...events.slice(0, next.events));
    if (next.kind === "retry") this.retries++;
    return Promise.resolve(next);
  }
}

interface Harness {
  client: HonchClient;
  delivery: FakeDelivery;
  clock: { now: number };
  names: () => string[];
}

function harness(
  options: Partial<HonchClientOptions> = {},
  globals: object = {},
): Harness {
  const clock = { now: 1_700_000_000_000 };
  let delivery: FakeDelivery | undefined;
  const internals: ClientInternals = {
    delivery: (o, c) => (delivery = new FakeDelivery(o, c)),
    globals,
  };
  let seed = 1;
  const client = new HonchClient({
    apiKey: "test-key",
    endpointUrl: "http://capture.test",
    deviceId: "dev_fixture",
    deviceModel: "FixtureBoard",
    firmwareVersion: "1.2.3",
    now: () => clock.now,
    random: () => (seed = (seed * 16807) % 2147483647) / 2147483647,
    ...options,
    [CLIENT_INTERNALS]: internals,
  } as HonchClientOptions);
  const names = () => delivery!.sent.map((event) => event.name);
  return { client, delivery: delivery!, clock, names };
}

const base = {
  apiKey: "k",
  deviceId: "d",
  deviceModel: "m",
  firmwareVersion: "1",
  endpointUrl: "http://capture.test",
};

Deno.test("the constructor names the invalid option and clamps batchSize and transportTimeoutMs", () => {
  assert.throws(
    () => new HonchClient({ ...base, apiKey: "" }),
    (error: unknown) => error instanceof InvalidArgumentError && error.field === "apiKey",
  );
  assert.throws(
    () => new HonchClient({ ...base, batchSize: 0 }),
    {
      message:
        "Cannot create HonchClient as 'batchSize' must be an integer of at least 1: current value is 0",
    },
  );
  assert.throws(
    () => new HonchClient({ ...base, batteryLowThreshold: 101 }),
    (error: unknown) =>
      error instanceof InvalidArgumentError && error.field === "batteryLowThreshold",
  );
  assert.throws(
    () => new HonchClient({ ...base, endpointUrl: "ftp://x" }),
    (error: unknown) => error instanceof InvalidArgumentError && error.field === "endpointUrl",
  );
  assert.throws(
    () => new HonchClient({ ...base, endpointUrl: undefined }),
    /'endpointUrl' is not set and there is no page origin/,
  );
  assert.throws(
    () => new HonchClient({ ...base, connectivity: true as unknown as () => boolean }),
    (error: unknown) => error instanceof InvalidArgumentError && error.field === "connectivity",
  );
  assert.throws(
    () => new HonchClient({ ...base, flushRetryInitialMs: 5000, flushRetryMaxMs: 10 }),
    (error: unknown) => error instanceof InvalidArgumentError && error.field === "flushRetryMaxMs",
  );
  const { delivery } = harness({
    batchSize: 80,
    transportTimeoutMs: 60_000,
    flushMinIntervalMs: 0xffff_ffff,
  });
  assert.equal(delivery.options.batchSize, 50);
  assert.equal(delivery.options.timeoutMs, 10_000);
  assert.equal(delivery.options.minIntervalMs, 0xffff_ffff);
  assert.match(delivery.options.streamId, /^[0-9a-f]{8}$/);
  assert.equal(delivery.options.messageIdSeed, parseInt(delivery.options.streamId, 16));
  assert.equal(delivery.context.sdkVersion, "0.1.0");
  assert.equal(delivery.context.environment, "production");
});

Deno.test("start queues $device_boot, and $firmware_update after a persisted older version", async () => {
  const storage = new MemoryStorage();
  const first = harness({ storage, resetReason: "power_on" });
  await first.client.flush();
  assert.deepEqual(first.names(), ["$device_boot"]);
  assert.deepEqual(first.delivery.sent[0].properties, { reset_reason: "power_on" });
  await first.client.shutdown();

  const second = harness({ storage, firmwareVersion: "2.0.0" });
  await second.client.ready();
  await second.client.flush();
  assert.deepEqual(second.names(), ["$firmware_update", "$device_boot"]);
  assert.deepEqual(second.delivery.sent[0].properties, {
    previous_version: "1.2.3",
    new_version: "2.0.0",
  });
  assert.deepEqual(second.delivery.sent[1].properties, { reset_reason: "unknown" });
  assert.equal(await storage.get("honch:firmware_version"), "2.0.0");
});

Deno.test("events tracked before ready are queued after the start events", async () => {
  const { client, names } = harness();
  client.track("early", { n: 1 });
  assert.equal(client.queueStats().queued, 1);
  await client.ready();
  assert.equal(client.queueStats().queued, 2);
  await client.flush();
  assert.deepEqual(names(), ["$device_boot", "early"]);
});

Deno.test("track refuses bad names, SDK-owned keys, unencodable and oversized properties", () => {
  const { client } = harness({ maxEventBytes: 256 });
  assert.throws(() => client.track(""), InvalidArgumentError);
  assert.throws(() => client.track("x".repeat(129)), InvalidArgumentError);
  client.track("x".repeat(128));
  for (const key of ["$device_id", "$session_id", "distinct_id", "$sdk_version"]) {
    assert.throws(
      () => client.track("e", { [key]: "v" }),
      (error: unknown) =>
        error instanceof InvalidArgumentError && error.field === `properties.${key}`,
    );
  }
  assert.throws(() => client.track("e", { items: [1, { x: NaN }] }), {
    name: "TypeError",
    message: /'properties\.items\[1\]\.x'/,
  });
  assert.throws(
    () => client.track("e", { blob: new Uint8Array(2) }),
    (error: unknown) => error instanceof InvalidArgumentError && error.field === "properties.blob",
  );
  assert.throws(
    () => client.track("e", { text: "y".repeat(300) }),
    (error: unknown) => error instanceof InvalidArgumentError && error.field === "properties",
  );
});

Deno.test("track stores dates as ISO strings and merges automatic properties", async () => {
  const { client, delivery } = harness({
    autoProperties: () => ({
      $wifi_rssi: -60,
      $device_id: "nope",
      reset_reason: "x",
      region: "eu",
    }),
    batteryLevel: () => 80,
  });
  client.track("e", { at: new Date(0), region: "us" });
  await client.flush();
  assert.deepEqual(delivery.sent[1].properties, {
    at: "1970-01-01T00:00:00.000Z",
    region: "us",
    $wifi_rssi: -60,
    $battery_level: 80,
  });
});

Deno.test("$battery_low is queued once per dip below the threshold", async () => {
  let level = 50;
  const { client, delivery, names } = harness({
    batteryLevel: () => level,
    batteryLowThreshold: 15,
  });
  client.track("a");
  level = 10;
  client.track("b");
  level = 9;
  client.track("c");
  level = 15;
  client.track("d");
  level = 5;
  client.track("e");
  await client.flush();
  assert.deepEqual(names(), [
    "$device_boot",
    "a",
    "b",
    "$battery_low",
    "c",
    "d",
    "e",
    "$battery_low",
  ]);
  const lows = delivery.sent.filter((event) => event.name === "$battery_low");
  assert.deepEqual(lows.map((event) => event.properties), [{ level: 10 }, { level: 5 }]);
});

Deno.test("identify queues $identify with $anon_distinct_id and persists the id", async () => {
  const storage = new MemoryStorage();
  const { client, delivery } = harness({ storage });
  client.identify("user_123", { plan: "beta" });
  client.track("after");
  await client.flush();
  const [, identify, after] = delivery.sent;
  assert.equal(identify.name, "$identify");
  assert.equal(identify.distinctId, "user_123");
  assert.deepEqual(identify.properties, { plan: "beta", $anon_distinct_id: "dev_fixture" });
  assert.equal(after.distinctId, "user_123");
  assert.equal(await storage.get("honch:distinct_id"), "user_123");
  assert.throws(() => client.identify(""), InvalidArgumentError);
});

Deno.test("reset forgets identity, session and queue and queues nothing", async () => {
  const { client, names, delivery } = harness();
  await client.ready();
  client.identify("user_123");
  client.sessionStart("s");
  client.track("before");
  client.reset();
  assert.equal(client.queueStats().queued, 0);
  assert.equal(client.getDistinctId(), "dev_fixture");
  client.track("after");
  await client.flush();
  assert.deepEqual(names(), ["after"]);
  assert.equal(delivery.sent[0].sessionId, undefined);
});

Deno.test("sessions get sess_ ids and a new session ends the running one", async () => {
  const { client, delivery, names } = harness();
  const first = client.sessionStart("a");
  const second = client.sessionStart();
  assert.match(first, /^sess_[0-9a-f]{32}$/);
  assert.notEqual(first, second);
  client.sessionEnd();
  client.sessionEnd();
  await client.flush();
  assert.deepEqual(names(), [
    "$device_boot",
    "$session_start",
    "$session_end",
    "$session_start",
    "$session_end",
  ]);
  assert.deepEqual(delivery.sent.slice(1).map((event) => event.sessionId), [
    first,
    first,
    second,
    second,
  ]);
  assert.deepEqual(delivery.sent[1].properties, { session_name: "a" });
  assert.deepEqual(delivery.sent[3].properties, {});
});

Deno.test("offline flush throws OfflineError and tick skips until connected", async () => {
  const { client, delivery, names } = harness({ flushEventThreshold: 1 });
  client.disconnected();
  await assert.rejects(client.flush(), OfflineError);
  assert.deepEqual(await client.tick(), { kind: "offline" });
  assert.equal(delivery.steps.length, 0);
  client.connected();
  await client.flush();
  assert.deepEqual(names(), ["$device_boot", "$connectivity_change", "$connectivity_change"]);
  assert.deepEqual(delivery.sent.slice(1).map((event) => event.properties.state), [
    "disconnected",
    "connected",
  ]);

  let online = false;
  const viaCallback = harness({ connectivity: () => online });
  await assert.rejects(viaCallback.client.flush(), OfflineError);
  online = true;
  assert.equal((await viaCallback.client.flush()).sent, 1);
});

Deno.test("tick sends one batch when the threshold or the interval is reached", async () => {
  const { client, delivery, clock } = harness({
    flushEventThreshold: 3,
    flushIntervalSeconds: 60,
    batchSize: 2,
  });
  await client.ready();
  assert.deepEqual(await client.tick(), { kind: "not_due" });
  client.track("a");
  client.track("b");
  assert.deepEqual(await client.tick(), { kind: "sent", events: 2 });
  assert.equal(delivery.steps.length, 1);
  assert.deepEqual(await client.tick(), { kind: "not_due" });
  clock.now += 60_000;
  assert.deepEqual(await client.tick(), { kind: "sent", events: 1 });
  assert.deepEqual(await client.tick(), { kind: "empty" });
  assert.equal(client.queueStats().sent, 3);
});

Deno.test("reportLogError coalesces identical errors and counts those beyond the slots", async () => {
  const { client, delivery } = harness();
  for (let i = 0; i < 3; i++) client.reportLogError("sensor failed", { component: "i2c" });
  client.reportLogError("x".repeat(200), { component: "c".repeat(40) });
  client.reportLogError("b");
  client.reportLogError("c");
  client.reportLogError("d");
  client.reportLogError("e");
  await client.flush();
  const errors = delivery.sent.filter((event) => event.name === "$error");
  assert.equal(errors.length, 4);
  assert.deepEqual(errors[0].properties, {
    level: "error",
    component: "i2c",
    message: "sensor failed",
    count: 3,
    dropped: 2,
  });
  assert.equal(errors[1].properties.message, "x".repeat(128));
  assert.equal(errors[1].properties.component, "c".repeat(32));
  assert.deepEqual(errors[2].properties, { level: "error", message: "b", count: 1 });
  await client.flush();
  assert.equal(delivery.sent.filter((event) => event.name === "$error").length, 4);
});

Deno.test("run() returns the result, and on a sync or async throw queues $crash, flushes and rethrows", async () => {
  const { client, delivery } = harness();
  assert.equal(await client.run(() => 7), 7);
  const syncError = new RangeError("bad index");
  await assert.rejects(
    client.run(() => {
      throw syncError;
    }),
    (error: unknown) => error === syncError,
  );
  const asyncError = new Error("late");
  await assert.rejects(
    client.run(async () => {
      await Promise.resolve();
      throw asyncError;
    }),
    (error: unknown) => error === asyncError,
  );
  const crashes = delivery.sent.filter((event) => event.name === "$crash");
  assert.equal(crashes.length, 2);
  assert.equal(crashes[0].properties.name, "RangeError");
  assert.equal(crashes[0].properties.message, "bad index");
  assert.equal(crashes[0].properties.source, "exception");
  const backtrace = crashes[0].properties.backtrace as string;
  assert.match(backtrace, /^at /);
  assert.ok(new TextEncoder().encode(backtrace).length <= 512);
  assert.equal(client.queueStats().queued, 0);
});

Deno.test("$crash backtraces are trimmed by whole frames to fit maxEventBytes", async () => {
  const { client, delivery } = harness({ maxEventBytes: 400 });
  const error = new Error("deep");
  error.stack = "Error: deep\n" +
    Array.from({ length: 40 }, (_, i) => `    at frame${i} (file:///app.ts:${i}:1)`).join("\n");
  await assert.rejects(client.run(() => {
    throw error;
  }));
  const crash = delivery.sent.find((event) => event.name === "$crash")!;
  const frames = (crash.properties.backtrace as string).split("\n");
  assert.equal(frames[0], "at frame0 (file:///app.ts:0:1)");
  assert.ok(frames.length < 40);
  assert.ok(new TextEncoder().encode(JSON.stringify(crash)).length <= 400);
});

Deno.test("the error hook installs once, reports $crash, never cancels the event and uninstalls", async () => {
  const target = new EventTarget();
  const seen: Event[] = [];
  target.addEventListener("error", (event) => seen.push(event));
  const { client, delivery } = harness({}, target);
  assert.equal(client.installErrorHook(), true);
  assert.equal(client.installErrorHook(), true);
  const event = new ErrorEvent("error", { error: new TypeError("boom"), cancelable: true });
  target.dispatchEvent(event);
  assert.equal(event.defaultPrevented, false);
  assert.equal(seen.length, 1);
  const rejection = new Event("unhandledrejection");
  Object.defineProperty(rejection, "reason", { value: "plain reason" });
  target.dispatchEvent(rejection);
  await client.flush();
  const crashes = delivery.sent.filter((queued) => queued.name === "$crash");
  assert.deepEqual(crashes.map((crash) => [crash.properties.name, crash.properties.source]), [
    ["TypeError", "exception"],
    ["string", "unhandled_rejection"],
  ]);
  client.uninstallErrorHook();
  client.uninstallErrorHook();
  target.dispatchEvent(new ErrorEvent("error", { error: new Error("later") }));
  await client.flush();
  assert.equal(delivery.sent.filter((queued) => queued.name === "$crash").length, 2);
  assert.equal(harness({}, {}).client.installErrorHook(), false);
});

Deno.test("the queue bound drops the oldest events and counts them", async () => {
  const { client, delivery } = harness({ maxQueuedEvents: 3 });
  await client.ready();
  for (let i = 0; i < 5; i++) client.track(`e${i}`);
  const stats = client.queueStats();
  assert.equal(stats.queued, 3);
  assert.equal(stats.dropped, 3);
  assert.deepEqual(stats.droppedByReason, { overflow: 3 });
  await client.flush();
  assert.deepEqual(delivery.sent.map((event) => event.name), ["e2", "e3", "e4"]);
});

Deno.test("flush reports retry failures as typed errors and keeps the events", async () => {
  const cases: [FlushStep, new (...args: never[]) => Error][] = [
    [{ kind: "retry", waitMs: 60_000, status: 429 }, RateLimitedError],
    [{ kind: "retry", waitMs: 60_000, status: 503 }, ServerError],
    [{ kind: "retry", waitMs: 60_000, error: new TypeError("down") }, TransportError],
  ];
  for (const [step, type] of cases) {
    const { client, delivery } = harness();
    delivery.script.push(step);
    const result = await client.flush({ deadlineMs: 1000 });
    assert.equal(result.stopped, "deadline");
    assert.equal(result.remaining, 1);
    assert.ok(result.error instanceof type);
    assert.equal(client.queueStats().retries, 1);
  }
  const { client, delivery } = harness();
  delivery.script.push({ kind: "dropped", events: 1, reason: "rejected", status: 422 });
  const result = await client.flush();
  assert.deepEqual([result.dropped, result.remaining, result.stopped], [1, 0, "drained"]);
  assert.ok(result.error instanceof RejectedError && result.error.status === 422);
  assert.deepEqual(client.queueStats().droppedByReason, { rejected: 1 });
});

Deno.test("flush waits out a short backoff within the deadline", async () => {
  const { client, delivery } = harness();
  delivery.script.push({ kind: "retry", waitMs: 5, status: 500 });
  const result = await client.flush({ deadlineMs: 1000 });
  assert.deepEqual([result.sent, result.remaining, result.stopped], [1, 0, "drained"]);
});

Deno.test("a hidden page sends one batch with keepalive", async () => {
  const globals = new EventTarget() as EventTarget & {
    document: EventTarget & { visibilityState: string };
  };
  const document = Object.assign(new EventTarget(), { visibilityState: "visible" });
  globals.document = document;
  const { client, delivery } = harness({}, globals);
  await client.ready();
  document.dispatchEvent(new Event("visibilitychange"));
  await Promise.resolve();
  assert.equal(delivery.steps.length, 0);
  document.visibilityState = "hidden";
  document.dispatchEvent(new Event("visibilitychange"));
  globals.dispatchEvent(new Event("pagehide"));
  await client.flush();
  assert.deepEqual(
    delivery.steps.slice(0, 2).map((step) => [step.keepalive, step.ignoreSpacing]),
    [[true, true], [true, true]],
  );
  await client.shutdown();
  const before = delivery.steps.length;
  globals.dispatchEvent(new Event("pagehide"));
  assert.equal(delivery.steps.length, before);
});

Deno.test("shutdown queues $device_shutdown, flushes and closes the client", async () => {
  const { client, names } = harness();
  client.track("a");
  const result = await client.shutdown();
  assert.deepEqual(names(), ["$device_boot", "a", "$device_shutdown"]);
  assert.equal(result.remaining, 0);
  assert.equal(await client.shutdown(), result);
  assert.throws(() => client.track("b"), NotInitializedError);
  await assert.rejects(() => client.flush(), NotInitializedError);
});

Deno.test("the durable queue survives a restart when the first client is offline", async () => {
  const storage = new MemoryStorage();
  const first = harness({ storage });
  first.client.disconnected();
  first.client.track("kept");
  await first.client.shutdown();
  const second = harness({ storage });
  await second.client.flush();
  assert.deepEqual(second.names(), [
    "$device_boot",
    "$connectivity_change",
    "kept",
    "$device_shutdown",
    "$device_boot",
  ]);
});
