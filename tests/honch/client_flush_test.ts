/**
 * Unit tests of how a {@linkcode HonchClient} sends: offline flushes, tick,
 * the queue bound, typed flush errors, backoff, transport timeouts, hidden
 * pages and shutdown.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  NotInitializedError,
  OfflineError,
  RateLimitedError,
  RejectedError,
  ServerError,
  TransportError,
} from "../../src/honch/errors.ts";
import { NetworkError } from "../../src/core/errors.ts";
import type { Scripted } from "./_fake_capture.ts";
import { harness, settle } from "./_client_harness.ts";

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
