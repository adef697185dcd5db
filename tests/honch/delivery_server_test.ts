/**
 * The Honch delivery against the reference server: uploads reach it and its
 * admin events route shows the expanded events.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Delivery, type FlushStep } from "../../src/honch/_delivery.ts";
import { fetchTransport } from "../../src/honch/transport.ts";
import { createServer } from "../../src/server/mod.ts";
import { ArrayQueue, CONTEXT, event, OPTIONS, T0 } from "./_delivery_harness.ts";

Deno.test("uploads reach the reference server and GET /api/honch/events shows the expanded events", async () => {
  const server = createServer({ honch: { projectKeys: ["k"] }, adminKey: "a" });
  const steps: FlushStep[] = [];
  const queue = new ArrayQueue();
  const delivery = new Delivery(
    {
      ...OPTIONS,
      endpoint: "http://edge.test/",
      apiKey: "k",
      transport: fetchTransport((input, init) => server.fetch(new Request(input, init))),
      timeoutMs: 5000,
      now: () => Date.now(),
      minIntervalMs: 0xffff_ffff,
      batchSize: 2,
      streamId: "deadbeef",
      messageIdSeed: 7,
      maxFrameBytes: 100,
    },
    CONTEXT,
    queue,
  );
  queue.items.push(
    event({ name: "boot", properties: { reset_reason: "power_on", $battery_level: 44 } }),
    event({ name: "tap", timestampMs: T0 + 5, sessionId: "sess_1", properties: { pin: 3 } }),
    event({ name: "tap", timestampMs: T0 + 9, sessionId: "sess_1", properties: { pin: 4 } }),
  );
  while (queue.items.length > 0) {
    const step = await delivery.step();
    steps.push(step);
    if (step.kind !== "sent") break;
  }
  assert.deepEqual(steps, [{ kind: "sent", events: 1 }, { kind: "sent", events: 2 }]);
  const response = await server.fetch(
    new Request("http://edge.test/api/honch/events?project_key=k", {
      headers: { authorization: "Bearer a" },
    }),
  );
  assert.equal(response.status, 200);
  const { events } = await response.json();
  const base = {
    $device_id: "device-1",
    $device_model: "model-x",
    $firmware_version: "1.0.0",
    $sdk_platform: "posix",
    $sdk_version: "0.3.1",
    $environment: "production",
  };
  assert.deepEqual(events, [
    {
      event: "boot",
      distinct_id: "user-1",
      timestamp: T0,
      properties: { ...base, reset_reason: "power_on", $battery_level: 44 },
    },
    {
      event: "tap",
      distinct_id: "user-1",
      timestamp: T0 + 5,
      properties: { ...base, $session_id: "sess_1", pin: 3 },
    },
    {
      event: "tap",
      distinct_id: "user-1",
      timestamp: T0 + 9,
      properties: { ...base, $session_id: "sess_1", pin: 4 },
    },
  ]);
  await server.close();
});
