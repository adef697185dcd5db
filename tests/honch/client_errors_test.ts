/**
 * Unit tests of error reporting by {@linkcode HonchClient}: coalesced log
 * errors, `run()`, trimmed `$crash` backtraces and the error hook.
 *
 * @module
 */

import assert from "node:assert/strict";
import { harness } from "./_client_harness.ts";

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
  let seen = 0;
  target.addEventListener("error", () => seen++);
  const { client, capture } = harness({}, target);
  assert.equal(client.installErrorHook(), true);
  assert.equal(client.installErrorHook(), true);
  const event = new ErrorEvent("error", { error: new TypeError("boom"), cancelable: true });
  target.dispatchEvent(event);
  assert.equal(event.defaultPrevented, false);
  assert.equal(seen, 1);
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
