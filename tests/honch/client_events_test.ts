/**
 * Unit tests of the events a {@linkcode HonchClient} queues: start events,
 * track, battery, identify, reset and sessions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { MemoryStorage } from "../../src/core/storage.ts";
import { harness } from "./_client_harness.ts";

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
