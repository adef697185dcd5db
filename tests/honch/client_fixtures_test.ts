/**
 * Runs every `event_behaviour_fixtures` entry of the shared Honch vectors
 * through a real {@linkcode HonchClient} and its delivery, against a fake
 * capture endpoint that reassembles the frames, decodes the messages and
 * expands the events as capture stores them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { HonchClient } from "../../src/honch/client.ts";
import type { HonchClientOptions } from "../../src/honch/options.ts";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { decodeFrame, FrameAssembler } from "../../src/honch/frames.ts";
import { decodeMessage } from "../../src/honch/wire_v2.ts";
import { expandBatch, type ExpandedEvent } from "../../src/honch/expand.ts";
import { MemoryStorage, type Storage } from "../../src/core/storage.ts";

interface Operation {
  op: string;
  event?: string;
  properties?: Record<string, unknown>;
  distinct_id?: string;
  traits?: Record<string, unknown>;
  session_name?: string | null;
}

interface Fixture {
  name: string;
  fixture: {
    config?: Record<string, string>;
    operations?: Operation[];
    input?: {
      event: string;
      config: Record<string, string>;
      properties: Record<string, unknown>;
    };
    expect?: Record<string, unknown>;
    expected?: Record<string, unknown>;
  };
}

const fixtures: Fixture[] = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/honch_wire_v2.json", import.meta.url)),
).event_behaviour_fixtures;

// Fixtures without a device_id expect this one.
const FIXTURE_DEVICE_ID = "dev_a3f2c1d4e5f6";
const LIFECYCLE = new Set(["$device_boot", "$firmware_update", "$device_shutdown"]);

/** A fake capture endpoint: 202 for non-final frames, 204 for complete messages. */
function fakeCapture(): { fetch: typeof fetch; events: ExpandedEvent[] } {
  const events: ExpandedEvent[] = [];
  const assemblers = new Map<number, FrameAssembler>();
  const fetchImpl = (_input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const bytes = new Uint8Array(init?.body as Uint8Array);
    const frame = decodeFrame(bytes);
    let assembler = assemblers.get(frame.messageId);
    if (assembler === undefined) {
      assembler = new FrameAssembler();
      assemblers.set(frame.messageId, assembler);
    }
    const result = assembler.push(frame);
    if (!result.complete) return Promise.resolve(new Response(null, { status: 202 }));
    assemblers.delete(frame.messageId);
    events.push(...expandBatch(decodeMessage(result.message)));
    return Promise.resolve(new Response(null, { status: 204 }));
  };
  return { fetch: fetchImpl as typeof fetch, events };
}

function clientFor(
  config: Record<string, string>,
  fetchImpl: typeof fetch,
  storage: Storage = new MemoryStorage(),
): HonchClient {
  const options: HonchClientOptions = {
    apiKey: config.api_key ?? "test-key",
    deviceId: config.device_id ?? FIXTURE_DEVICE_ID,
    deviceModel: config.device_model,
    firmwareVersion: config.firmware_version,
    environment: config.environment,
    endpoint: "http://capture.test",
    fetch: fetchImpl,
    storage,
  };
  return new HonchClient(options);
}

function apply(client: HonchClient, operation: Operation): void {
  switch (operation.op) {
    case "track":
      client.track(operation.event!, operation.properties);
      return;
    case "identify":
      client.identify(operation.distinct_id!, operation.traits);
      return;
    case "reset":
      client.reset();
      return;
    case "session_start":
      client.sessionStart(operation.session_name);
      return;
    case "session_end":
      client.sessionEnd();
      return;
  }
  throw new Error(`Unknown fixture operation ${operation.op}`);
}

/** Compares with the fixtures' wildcards: `"*"` is any non-empty string, `"sess_*"` a prefix. */
function assertMatches(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === "string" && expected.endsWith("*")) {
    assert.equal(typeof actual, "string", path);
    const prefix = expected.slice(0, -1);
    assert.ok((actual as string).startsWith(prefix), `${path}: ${actual} lacks ${prefix}`);
    assert.ok(
      (actual as string).length > prefix.length,
      `${path}: ${actual} is empty after ${prefix}`,
    );
    return;
  }
  if (typeof expected === "object" && expected !== null && !Array.isArray(expected)) {
    assert.equal(typeof actual, "object", path);
    for (const [key, value] of Object.entries(expected)) {
      assertMatches((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
    return;
  }
  assert.deepEqual(actual, expected, path);
}

function userEvents(events: ExpandedEvent[]): ExpandedEvent[] {
  return events.filter((event) => !LIFECYCLE.has(event.event));
}

for (const entry of fixtures) {
  Deno.test(`event behaviour fixture '${entry.name}' holds`, async () => {
    const { fixture } = entry;
    const expected = (fixture.expected ?? fixture.expect)!;
    const capture = fakeCapture();
    if (fixture.input !== undefined) {
      // One event tracked directly from `input`.
      const client = clientFor(fixture.input.config, capture.fetch);
      if (typeof expected.error === "string") {
        assert.throws(
          () => client.track(fixture.input!.event, fixture.input!.properties),
          (error: unknown) =>
            error instanceof InvalidArgumentError && error.code === expected.error,
        );
        await client.flush();
        assert.deepEqual(userEvents(capture.events), []);
        return;
      }
      client.track(fixture.input.event, fixture.input.properties);
      await client.flush();
      const sent = capture.events.filter((event) => event.event === expected.event);
      assert.equal(sent.length, 2, "the client's own $device_boot and the tracked one");
      assertMatches(sent[1], expected, "event");
      return;
    }

    const storage = new MemoryStorage();
    let client = clientFor(fixture.config!, capture.fetch, storage);
    let rebootedAt = -1;
    for (const operation of fixture.operations!) {
      if (operation.op === "reboot") {
        await client.shutdown();
        rebootedAt = capture.events.length;
        client = clientFor(fixture.config!, capture.fetch, storage);
        continue;
      }
      apply(client, operation);
    }
    const result = await client.flush();
    assert.equal(result.remaining, 0);
    const events = userEvents(capture.events.slice(Math.max(rebootedAt, 0)));

    if (typeof expected.event === "string") {
      const event = events.find((candidate) => candidate.event === expected.event);
      assert.ok(event, `${expected.event} was sent`);
      assertMatches(event, expected, "event");
    }
    if (Array.isArray(expected.events)) {
      assert.deepEqual(events.map((event) => event.event), expected.events);
    }
    if (typeof expected.session_id_prefix === "string") {
      const present = new Set(expected.session_id_present_on as string[]);
      const ids = new Set<unknown>();
      for (const event of events.filter((candidate) => present.has(candidate.event))) {
        assertMatches(event.properties.$session_id, `${expected.session_id_prefix}*`, event.event);
        ids.add(event.properties.$session_id);
      }
      assert.equal(ids.size, 1, "one session id throughout");
    }
    if (typeof expected.final_distinct_id === "string") {
      assert.equal(client.getDistinctId(), expected.final_distinct_id);
      assert.deepEqual(
        capture.events.map((event) => event.event),
        expected.queued_events_after_reset,
      );
      for (const event of capture.events) {
        assert.equal(event.distinct_id, expected.final_distinct_id);
      }
    }
    if (typeof expected.pre_identify_distinct_id_after_reboot === "string") {
      assert.deepEqual(events.map((event) => event.event), expected.queued_events_after_reboot);
      for (const event of events) {
        assert.equal(event.distinct_id, expected.pre_identify_distinct_id_after_reboot);
      }
    }
    await client.shutdown();
  });
}
