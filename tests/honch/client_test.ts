/**
 * Unit tests of {@linkcode HonchClient} against an in-memory capture endpoint
 * reached through the `transport` option, with an injected clock and fake
 * globals.
 *
 * @module
 */

import assert from "node:assert/strict";
import { HonchClient } from "../../src/honch/client.ts";
import type { HonchClientOptions } from "../../src/honch/options.ts";
import {
  NotInitializedError,
  OfflineError,
  RateLimitedError,
  RejectedError,
  ServerError,
  TransportError,
} from "../../src/honch/errors.ts";
import { InvalidArgumentError, NetworkError } from "../../src/core/errors.ts";
import { MemoryStorage, StorageError } from "../../src/core/storage.ts";
import { contextValue, FakeCapture, type Scripted } from "./_fake_capture.ts";

interface Harness {
  client: HonchClient;
  capture: FakeCapture;
  clock: { now: number };
  names: () => string[];
}

function harness(
  options: Partial<HonchClientOptions> = {},
  globals: object = {},
): Harness {
  const clock = { now: 1_700_000_000_000 };
  const capture = new FakeCapture();
  let seed = 1;
  const client = new HonchClient({
    apiKey: "test-key",
    endpoint: "http://capture.test",
    deviceId: "dev_fixture",
    deviceModel: "FixtureBoard",
    firmwareVersion: "1.2.3",
    now: () => clock.now,
    random: () => (seed = (seed * 16807) % 2147483647) / 2147483647,
    transport: capture.transport,
    globals,
    ...options,
  });
  return { client, capture, clock, names: () => capture.names() };
}

/** Lets the uploads a page or crash event started run to their end. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

const base = {
  apiKey: "k",
  deviceId: "d",
  deviceModel: "m",
  firmwareVersion: "1",
  endpoint: "http://capture.test",
};

Deno.test("the constructor names the invalid option and clamps batchSize and timeoutMs", async () => {
  assert.throws(
    () => new HonchClient({ ...base, apiKey: "" }),
    (error: unknown) => error instanceof InvalidArgumentError && error.argument === "apiKey",
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
      error instanceof InvalidArgumentError && error.argument === "batteryLowThreshold",
  );
  assert.throws(
    () => new HonchClient({ ...base, endpoint: "ftp://x" }),
    (error: unknown) => error instanceof InvalidArgumentError && error.argument === "endpoint",
  );
  assert.throws(
    () => new HonchClient({ ...base, endpoint: undefined }),
    /'endpoint' is not set and there is no page origin/,
  );
  assert.throws(
    () => new HonchClient({ ...base, connectivity: true as unknown as () => boolean }),
    (error: unknown) => error instanceof InvalidArgumentError && error.argument === "connectivity",
  );
  assert.throws(
    () => new HonchClient({ ...base, backoff: { initialMs: 5000, maxMs: 10 } }),
    (error: unknown) => error instanceof InvalidArgumentError && error.argument === "backoff.maxMs",
  );
  assert.throws(
    () => new HonchClient({ ...base, backoff: { jitter: 2 } }),
    {
      message:
        "Cannot create HonchClient as 'backoff.jitter' must be \"full\" or a number from 0 to 1: current value is 2",
    },
  );
  const { client, capture } = harness({ batchSize: 80, timeoutMs: 60_000 });
  for (let i = 0; i < 80; i++) client.track("e");
  await client.flush();
  assert.deepEqual(capture.messages.map(({ batch }) => batch.events.length), [50, 31]);
  assert.equal(capture.requests[0].timeoutMs, 10_000);
  const streamId = capture.requests[0].headers["x-honch-stream-id"];
  assert.match(streamId, /^[0-9a-f]{8}$/);
  assert.equal(capture.messages[0].messageId, parseInt(streamId, 16));
  assert.equal(capture.requests[0].headers["x-honch-project-key"], "test-key");
  assert.equal(capture.requests[0].url, "http://capture.test/capture");
  assert.equal(contextValue(capture.messages[0].batch, "$sdk_version"), "0.1.0");
  assert.equal(contextValue(capture.messages[0].batch, "$environment"), "production");
});

Deno.test("flushMinIntervalMs spaces uploads started by tick unless it is 0xFFFFFFFF", async () => {
  for (
    const [flushMinIntervalMs, second] of [[15_000, "spacing"], [0xffff_ffff, "sent"]] as const
  ) {
    const { client } = harness({ flushMinIntervalMs, flushEventThreshold: 1 });
    await client.ready();
    assert.equal((await client.tick()).kind, "sent");
    client.track("next");
    assert.equal((await client.tick()).kind, second);
  }
});

Deno.test("start queues $device_boot, and $firmware_update after a persisted older version", async () => {
  const storage = new MemoryStorage();
  const first = harness({ storage, resetReason: "power_on" });
  await first.client.flush();
  assert.deepEqual(first.names(), ["$device_boot"]);
  assert.deepEqual(first.capture.events[0].properties, { reset_reason: "power_on" });
  await first.client.shutdown();

  const second = harness({ storage, firmwareVersion: "2.0.0" });
  await second.client.ready();
  await second.client.flush();
  assert.deepEqual(second.names(), ["$firmware_update", "$device_boot"]);
  assert.deepEqual(second.capture.events[0].properties, {
    previous_version: "1.2.3",
    new_version: "2.0.0",
  });
  assert.deepEqual(second.capture.events[1].properties, { reset_reason: "unknown" });
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
        error instanceof InvalidArgumentError && error.argument === `properties.${key}`,
    );
  }
  assert.throws(() => client.track("e", { items: [1, { x: NaN }] }), {
    name: "TypeError",
    message: /'properties\.items\[1\]\.x'/,
  });
  assert.throws(
    () => client.track("e", { blob: new Uint8Array(2) }),
    (error: unknown) =>
      error instanceof InvalidArgumentError && error.argument === "properties.blob",
  );
  assert.throws(
    () => client.track("e", { text: "y".repeat(300) }),
    (error: unknown) => error instanceof InvalidArgumentError && error.argument === "properties",
  );
});

Deno.test("track stores dates as ISO strings and merges automatic properties", async () => {
  const { client, capture } = harness({
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
  assert.deepEqual(capture.events[1].properties, {
    at: "1970-01-01T00:00:00.000Z",
    region: "us",
    $wifi_rssi: -60,
    $battery_level: 80,
  });
});

Deno.test("$battery_low is queued once per dip below the threshold", async () => {
  let level = 50;
  const { client, capture, names } = harness({
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
  const lows = capture.events.filter((event) => event.name === "$battery_low");
  assert.deepEqual(lows.map((event) => event.properties), [{ level: 10 }, { level: 5 }]);
});

Deno.test("identify queues $identify with $anon_distinct_id and persists the id", async () => {
  const storage = new MemoryStorage();
  const { client, capture } = harness({ storage });
  client.identify("user_123", { plan: "beta" });
  client.track("after");
  await client.flush();
  const [, identify, after] = capture.events;
  assert.equal(identify.name, "$identify");
  assert.equal(identify.distinctId, "user_123");
  assert.deepEqual(identify.properties, { plan: "beta", $anon_distinct_id: "dev_fixture" });
  assert.equal(after.distinctId, "user_123");
  assert.equal(await storage.get("honch:distinct_id"), "user_123");
  assert.throws(() => client.identify(""), InvalidArgumentError);
});

Deno.test("reset forgets identity, session and queue and queues nothing", async () => {
  const { client, names, capture } = harness();
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
  assert.equal(capture.events[0].sessionId, undefined);
});

Deno.test("sessions get sess_ ids and a new session ends the running one", async () => {
  const { client, capture, names } = harness();
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
  assert.deepEqual(capture.events.slice(1).map((event) => event.sessionId), [
    first,
    first,
    second,
    second,
  ]);
  assert.deepEqual(capture.events[1].properties, { session_name: "a" });
  assert.deepEqual(capture.events[3].properties, {});
});

Deno.test("offline flush throws OfflineError and tick skips until connected", async () => {
  const { client, capture, names } = harness({ flushEventThreshold: 1 });
  client.disconnected();
  await assert.rejects(client.flush(), OfflineError);
  assert.deepEqual(await client.tick(), { kind: "offline" });
  assert.equal(capture.requests.length, 0);
  client.connected();
  await client.flush();
  assert.deepEqual(names(), ["$device_boot", "$connectivity_change", "$connectivity_change"]);
  assert.deepEqual(capture.events.slice(1).map((event) => event.properties.state), [
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
  const { client, capture, clock } = harness({
    flushEventThreshold: 3,
    flushIntervalSeconds: 60,
    batchSize: 2,
  });
  await client.ready();
  assert.deepEqual(await client.tick(), { kind: "not_due" });
  client.track("a");
  client.track("b");
  assert.deepEqual(await client.tick(), { kind: "sent", events: 2 });
  assert.equal(capture.requests.length, 1);
  assert.deepEqual(await client.tick(), { kind: "not_due" });
  clock.now += 60_000;
  assert.deepEqual(await client.tick(), { kind: "sent", events: 1 });
  assert.deepEqual(await client.tick(), { kind: "empty" });
  assert.equal(client.queueStats().sent, 3);
});

Deno.test("reportLogError coalesces identical errors and counts those beyond the slots", async () => {
  const { client, capture } = harness();
  for (let i = 0; i < 3; i++) client.reportLogError("sensor failed", { component: "i2c" });
  client.reportLogError("x".repeat(200), { component: "c".repeat(40) });
  client.reportLogError("b");
  client.reportLogError("c");
  client.reportLogError("d");
  client.reportLogError("e");
  await client.flush();
  const errors = capture.events.filter((event) => event.name === "$error");
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
  assert.equal(capture.events.filter((event) => event.name === "$error").length, 4);
});

Deno.test("run() returns the result, and on a sync or async throw queues $crash, flushes and rethrows", async () => {
  const { client, capture } = harness();
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
  const crashes = capture.events.filter((event) => event.name === "$crash");
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
  const { client, capture } = harness({ maxEventBytes: 400 });
  const error = new Error("deep");
  error.stack = "Error: deep\n" +
    Array.from({ length: 40 }, (_, i) => `    at frame${i} (file:///app.ts:${i}:1)`).join("\n");
  await assert.rejects(client.run(() => {
    throw error;
  }));
  const crash = capture.events.find((event) => event.name === "$crash")!;
  const frames = (crash.properties.backtrace as string).split("\n");
  assert.equal(frames[0], "at frame0 (file:///app.ts:0:1)");
  assert.ok(frames.length < 40);
  assert.ok(new TextEncoder().encode(JSON.stringify(crash)).length <= 400);
});

Deno.test("the error hook installs once, reports $crash, never cancels the event and uninstalls", async () => {
  const target = new EventTarget();
  const seen: Event[] = [];
  target.addEventListener("error", (event) => seen.push(event));
  const { client, capture } = harness({}, target);
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
  const crashes = capture.events.filter((queued) => queued.name === "$crash");
  assert.deepEqual(crashes.map((crash) => [crash.properties.name, crash.properties.source]), [
    ["TypeError", "exception"],
    ["string", "unhandled_rejection"],
  ]);
  client.uninstallErrorHook();
  client.uninstallErrorHook();
  target.dispatchEvent(new ErrorEvent("error", { error: new Error("later") }));
  await client.flush();
  assert.equal(capture.events.filter((queued) => queued.name === "$crash").length, 2);
  assert.equal(harness({}, {}).client.installErrorHook(), false);
});

Deno.test("the queue bound drops the oldest events and counts them", async () => {
  const { client, capture } = harness({ maxQueuedEvents: 3 });
  await client.ready();
  for (let i = 0; i < 5; i++) client.track(`e${i}`);
  const stats = client.queueStats();
  assert.equal(stats.queued, 3);
  assert.equal(stats.dropped, 3);
  assert.deepEqual(stats.droppedByReason, { overflow: 3 });
  await client.flush();
  assert.deepEqual(capture.events.map((event) => event.name), ["e2", "e3", "e4"]);
});

Deno.test("flush reports retry failures as typed errors and keeps the events", async () => {
  const cases: [Scripted, new (...args: never[]) => Error][] = [
    [{ status: 429, headers: { "Retry-After": "60" } }, RateLimitedError],
    [{ status: 503, body: '{"error":"unavailable"}' }, ServerError],
    [() => Promise.reject(new NetworkError("Cannot reach capture: refused")), TransportError],
    [() => Promise.reject(new TypeError("fetch failed")), TransportError],
  ];
  for (const [answer, type] of cases) {
    const { client, capture } = harness({ backoff: { initialMs: 60_000 } });
    capture.script.push(answer);
    const result = await client.flush({ deadlineMs: 1000 });
    assert.equal(result.stopped, "deadline");
    assert.equal(result.remaining, 1);
    assert.ok(result.error instanceof type, `${type.name}: ${result.error}`);
    assert.equal(client.queueStats().retries, 1);
    assert.equal(capture.events.length, 0);
  }
  const { client, capture } = harness();
  capture.script.push({ status: 422, body: { error: "invalid_message" } });
  const result = await client.flush();
  assert.deepEqual([result.dropped, result.remaining, result.stopped], [1, 0, "drained"]);
  assert.ok(result.error instanceof RejectedError && result.error.status === 422);
  assert.deepEqual(client.queueStats().droppedByReason, { rejected: 1 });
});

Deno.test("flush waits out a short backoff within the deadline", async () => {
  // The backoff is measured on the client's clock, so this one runs in real time
  const { client, capture } = harness({ backoff: { initialMs: 4 }, now: () => Date.now() });
  capture.script.push({ status: 500 });
  const result = await client.flush({ deadlineMs: 1000 });
  assert.deepEqual([result.sent, result.remaining, result.stopped], [1, 0, "drained"]);
  assert.equal(capture.requests.length, 2);
});

Deno.test("a transport that ignores its signal is abandoned at the transport timeout", async () => {
  const { client, capture } = harness({ timeoutMs: 20, backoff: { initialMs: 60_000 } });
  let aborted = false;
  capture.script.push((request) => {
    request.signal.addEventListener("abort", () => aborted = true);
    return new Promise(() => {});
  });
  const result = await client.flush({ deadlineMs: 1000 });
  assert.equal(result.stopped, "deadline");
  assert.ok(result.error instanceof TransportError);
  assert.equal((result.error.cause as Error).name, "TimeoutError");
  assert.ok(aborted, "the signal was aborted");
  assert.equal(result.remaining, 1);
});

Deno.test("a hidden page sends one batch with keepalive, even right after an upload", async () => {
  const globals = new EventTarget() as EventTarget & {
    document: EventTarget & { visibilityState: string };
  };
  const document = Object.assign(new EventTarget(), { visibilityState: "visible" });
  globals.document = document;
  const { client, capture, names } = harness({}, globals);
  await client.ready();
  document.dispatchEvent(new Event("visibilitychange"));
  await settle();
  assert.equal(capture.requests.length, 0);
  document.visibilityState = "hidden";
  document.dispatchEvent(new Event("visibilitychange"));
  await settle();
  client.track("after_hide");
  // The injected clock stands still: only an upload that ignores the spacing can go now
  globals.dispatchEvent(new Event("pagehide"));
  await settle();
  assert.deepEqual(capture.requests.map((request) => request.keepalive), [true, true]);
  assert.deepEqual(names(), ["$device_boot", "after_hide"]);
  await client.shutdown();
  const before = capture.requests.length;
  globals.dispatchEvent(new Event("pagehide"));
  await settle();
  assert.equal(capture.requests.length, before);
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

Deno.test("a storage that fails at start rejects ready() with the core StorageError and the client goes on", async () => {
  const storage = new MemoryStorage();
  storage.get = () => Promise.reject(new Error("disk gone"));
  const { client, names } = harness({ storage });
  client.track("kept");
  await assert.rejects(client.ready(), (error: unknown) => {
    assert.ok(error instanceof StorageError);
    assert.equal(error.key, "honch:distinct_id");
    assert.equal(error.operation, "get");
    return true;
  });
  await client.flush();
  assert.deepEqual(names(), ["$device_boot", "kept"]);
});

Deno.test("a transport option must be a function", () => {
  assert.throws(
    () =>
      new HonchClient({
        ...base,
        transport: "fetch" as unknown as HonchClientOptions["transport"],
      }),
    (error: unknown) => error instanceof InvalidArgumentError && error.argument === "transport",
  );
});
