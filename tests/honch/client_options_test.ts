/**
 * Unit tests of the {@linkcode HonchClient} options: named validation errors,
 * clamping, upload spacing and the transport option.
 *
 * @module
 */

import assert from "node:assert/strict";
import { HonchClient } from "../../src/honch/client.ts";
import type { HonchClientOptions } from "../../src/honch/options.ts";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { contextValue } from "./_fake_capture.ts";
import { base, harness } from "./_client_harness.ts";

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
