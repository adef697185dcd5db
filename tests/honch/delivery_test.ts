/**
 * The Honch delivery on the core engine, against fetch doubles and the
 * reference server: batch forming, message ids, frames, the capture response
 * policy, backoff, spacing, and the rule that a batch keeps its bytes and id
 * until capture settles it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { NetworkError, TimeoutError } from "../../src/core/errors.ts";
import {
  Delivery,
  type DeliveryContext,
  type DeliveryOptions,
  type DeliveryQueue,
  type FlushStep,
  type QueuedEvent,
} from "../../src/honch/_delivery.ts";
import { expandBatch } from "../../src/honch/expand.ts";
import { fetchTransport } from "../../src/honch/transport.ts";
import { decodeFrame, encodeFrames, FrameAssembler } from "../../src/honch/frames.ts";
import { toWireValue } from "../../src/honch/wire_value.ts";
import {
  decodeMessage,
  encodeMessage,
  largestFittingPrefix,
  type WireBatch,
  type WireEvent,
} from "../../src/honch/wire_v2.ts";
import { createServer } from "../../src/server/mod.ts";

interface PolicyCase {
  status: number;
  result: "chunk_stored" | "accepted" | "auth_error" | "rejected" | "retry";
  queue: string;
}
interface Fixtures {
  http_response_policy: { fixture: { cases: PolicyCase[] } }[];
  wire_v2_fixtures: { name: string; fixture: { expanded_event_json: unknown[] } }[];
}
const fixtures: Fixtures = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/honch_wire_v2.json", import.meta.url)),
);

// The context of the wire fixture "single-custom-properties".
const CONTEXT: DeliveryContext = {
  deviceId: "device-1",
  deviceModel: "model-x",
  firmwareVersion: "1.0.0",
  sdkPlatform: "posix",
  sdkVersion: "0.3.1",
  environment: "production",
};
const SEED = 0xffff_fffe;
const T0 = 1_700_000_001_025;

interface Sent {
  url: string;
  headers: Headers;
  body: Uint8Array;
  keepalive: boolean | undefined;
}

type Responder = (sent: Sent, index: number) => Response | Promise<Response>;

/** The client's queue, as an array: what was dropped is counted per reason. */
class ArrayQueue implements DeliveryQueue {
  items: QueuedEvent[] = [];
  readonly dropped: Record<string, number> = {};
  peek(count: number): QueuedEvent[] {
    return this.items.slice(0, count);
  }
  shift(count: number): void {
    this.items.splice(0, count);
  }
  drop(count: number, reason: string): void {
    this.items.splice(0, count);
    if (count > 0) this.dropped[reason] = (this.dropped[reason] ?? 0) + count;
  }
}

const OPTIONS: Omit<DeliveryOptions, "transport" | "now"> = {
  endpoint: "http://collector.test/base/",
  apiKey: "phc_test",
  timeoutMs: 1000,
  random: () => 0.5,
  backoff: { initialMs: 1000, maxMs: 300_000, jitter: 0.25 },
  minIntervalMs: 0,
  batchSize: 20,
  streamId: "0a1b2c3d",
  messageIdSeed: SEED,
};

function harness(responder: Responder, options: Partial<DeliveryOptions> = {}) {
  const sent: Sent[] = [];
  const clock = { now: T0 };
  const queue = new ArrayQueue();
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request: Sent = {
      url: String(input),
      headers: new Headers(init?.headers),
      body: new Uint8Array(init?.body as Uint8Array),
      keepalive: init?.keepalive,
    };
    sent.push(request);
    return await responder(request, sent.length - 1);
  }) as typeof globalThis.fetch;
  const delivery = new Delivery(
    {
      ...OPTIONS,
      transport: fetchTransport(fetch),
      now: () => clock.now,
      ...options,
    },
    CONTEXT,
    queue,
  );
  return { delivery, sent, clock, queue };
}

const accept: Responder = (sent) =>
  new Response(null, { status: decodeFrame(sent.body).more ? 202 : 204 });

function status(code: number, headers: Record<string, string> = {}): Response {
  return new Response(code === 204 ? null : JSON.stringify({ error: "x" }), {
    status: code,
    headers: { "content-type": "application/json", ...headers },
  });
}

function event(overrides: Partial<QueuedEvent> = {}): QueuedEvent {
  return {
    name: "sample",
    timestampMs: T0,
    distinctId: "user-1",
    properties: {},
    ...overrides,
  };
}

function contextOf(distinctId: string, sessionId?: string) {
  const values = [
    distinctId,
    CONTEXT.deviceId,
    CONTEXT.deviceModel,
    CONTEXT.firmwareVersion,
    CONTEXT.sdkPlatform,
    CONTEXT.sdkVersion,
    CONTEXT.environment,
  ];
  const context = values.map((value, index) => ({ id: index + 1, value: toWireValue(value) }));
  if (sessionId !== undefined) context.push({ id: 8, value: toWireValue(sessionId) });
  return context;
}

function wireEvent(queued: QueuedEvent): WireEvent {
  return {
    name: queued.name,
    timestampMs: queued.timestampMs,
    properties: Object.entries(queued.properties).map(([key, value]) => ({
      key,
      value: toWireValue(value),
    })),
  };
}

function batchOf(events: QueuedEvent[]): WireBatch {
  return {
    baseTimeMs: events[0].timestampMs,
    context: contextOf(events[0].distinctId, events[0].sessionId),
    events: events.map(wireEvent),
  };
}

function messageOf(bodies: Uint8Array[]): Uint8Array {
  const assembler = new FrameAssembler();
  for (const body of bodies) {
    const result = assembler.push(body);
    if (result.complete) return result.message;
  }
  throw new Error("The frames do not complete a message");
}

Deno.test("a single-frame upload is byte-identical to encodeMessage and encodeFrames of the batch", async () => {
  const { delivery, sent, queue } = harness(accept);
  const queued = event({
    properties: { mode: "auto", previous_mode: "auto", samples: 3, tags: ["auto", "hdr"] },
  });
  queue.items.push(queued);
  const step = await delivery.step({ keepalive: true });
  assert.deepEqual(step, { kind: "sent", events: 1 });
  assert.deepEqual(queue.items, []);
  assert.equal(delivery.sent, 1);
  assert.equal(sent.length, 1);
  const message = encodeMessage(batchOf([queued]));
  assert.deepEqual(sent[0].body, encodeFrames(message, { messageId: SEED })[0]);
  assert.equal(sent[0].url, "http://collector.test/base/capture");
  assert.equal(sent[0].headers.get("content-type"), "application/vnd.honch.chunk");
  assert.equal(sent[0].headers.get("x-honch-project-key"), "phc_test");
  assert.equal(sent[0].headers.get("x-honch-stream-id"), "0a1b2c3d");
  assert.equal(sent[0].keepalive, true);
  // The expansion is exactly what the wire fixture expects of the same event.
  const fixture = fixtures.wire_v2_fixtures.find((f) => f.name === "single-custom-properties");
  assert.deepEqual(expandBatch(decodeMessage(message)), fixture?.fixture.expanded_event_json);
});

Deno.test("each new batch takes the next message id, wrapping at 2^32", async () => {
  const { delivery, sent, queue } = harness(accept);
  for (const name of ["first", "second", "third"]) {
    queue.items.push(event({ name }));
    assert.equal((await delivery.step()).kind, "sent");
  }
  assert.deepEqual(sent.map((s) => decodeFrame(s.body).messageId), [0xffff_fffe, 0xffff_ffff, 0]);
});

Deno.test("reserved battery and RSSI numbers are written with the int tag", async () => {
  const { delivery, sent, queue } = harness(accept);
  queue.items.push(event({ properties: { $battery_level: 44, $wifi_rssi: -60 } }));
  await delivery.step();
  const message = messageOf(sent.map((s) => s.body));
  const [decoded] = decodeMessage(message).events;
  assert.deepEqual(decoded.properties, [
    { key: "$battery_level", value: { type: "int", value: 44 } },
    { key: "$wifi_rssi", value: { type: "int", value: -60 } },
  ]);
  // Reserved id 1 (key 02), tag int (04), ZigZag 44 (58), as the C SDK writes it.
  const hex = Array.from(message, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.ok(hex.includes("020458"));
});

Deno.test("a batch ends where the distinct id or the session changes and at batchSize", async () => {
  const { delivery, sent, queue } = harness(accept, { batchSize: 2 });
  queue.items.push(
    event({ name: "a1" }),
    event({ name: "a2" }),
    event({ name: "a3" }),
    event({ name: "s1", sessionId: "sess_1" }),
    event({ name: "s2", sessionId: "sess_1" }),
    event({ name: "b1", distinctId: "user-2", sessionId: "sess_1" }),
  );
  const counts: number[] = [];
  for (;;) {
    const step = await delivery.step();
    if (step.kind !== "sent") {
      assert.equal(step.kind, "empty");
      break;
    }
    counts.push(step.events);
  }
  assert.deepEqual(counts, [2, 1, 2, 1]);
  const batches = sent.map((s) => decodeMessage(messageOf([s.body])));
  assert.deepEqual(batches.map((b) => b.events.map((e) => e.name)), [
    ["a1", "a2"],
    ["a3"],
    ["s1", "s2"],
    ["b1"],
  ]);
  const ids = (b: WireBatch) =>
    b.context.map((c) => `${c.id}=${(c.value as { value: string }).value}`);
  assert.ok(!ids(batches[1]).some((c) => c.startsWith("8=")));
  assert.ok(ids(batches[2]).includes("8=sess_1"));
  assert.ok(ids(batches[3]).includes("1=user-2"));
  assert.equal(batches[2].baseTimeMs, T0);
});

Deno.test("a batch is the largest prefix that encodes within 4096 bytes", async () => {
  const { delivery, sent, queue } = harness(accept, { batchSize: 50 });
  // Unique 150-byte strings: the string table passes 2048 bytes before 50 events.
  const events = Array.from(
    { length: 30 },
    (_, i) => event({ timestampMs: T0 + i, properties: { blob: `${i}`.padEnd(150, "x") } }),
  );
  queue.items.push(...events);
  const expected = largestFittingPrefix(batchOf(events));
  assert.ok(expected > 1 && expected < 30);
  const step = await delivery.step();
  assert.deepEqual(step, { kind: "sent", events: expected });
  assert.equal(queue.items.length, 30 - expected);
  const message = messageOf(sent.map((s) => s.body));
  assert.ok(message.length <= 4096);
  assert.deepEqual(message, encodeMessage(batchOf(events.slice(0, expected))));
  assert.throws(() => encodeMessage(batchOf(events.slice(0, expected + 1))));
});

Deno.test("a single event too large for a message is dropped as oversize without a request", async () => {
  const { delivery, sent, queue } = harness(accept);
  const next = event();
  queue.items.push(event({ properties: { dump: new Uint8Array(5000) } }), next);
  const step = await delivery.step();
  assert.deepEqual(step, { kind: "dropped", events: 1, reason: "oversize" });
  assert.equal(sent.length, 0);
  assert.deepEqual(queue.items, [next]);
  assert.deepEqual(queue.dropped, { oversize: 1 });
  // The next batch takes the first message id: the dropped event never had one
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  assert.equal(decodeFrame(sent[0].body).messageId, SEED);
});

Deno.test("a message larger than maxFrameBytes goes as several frames, each non-final one answered 202", async () => {
  const { delivery, sent, queue } = harness(accept, { maxFrameBytes: 64 });
  const events = [event({ properties: { note: "n".repeat(200) } }), event({ name: "two" })];
  queue.items.push(...events);
  const step = await delivery.step();
  assert.deepEqual(step, { kind: "sent", events: 2 });
  const message = encodeMessage(batchOf(events));
  const frames = encodeFrames(message, { messageId: SEED, maxFrameBytes: 64 });
  assert.ok(frames.length >= 4);
  assert.deepEqual(sent.map((s) => s.body), frames);
  assert.ok(sent.every((s) => s.headers.get("x-honch-stream-id") === "0a1b2c3d"));
});

Deno.test("every case of the http response policy fixture maps to its flush step", async () => {
  const cases = fixtures.http_response_policy[0].fixture.cases;
  assert.equal(cases.length, 13);
  for (const policy of cases) {
    const { delivery, sent, queue } = harness(() => {
      if (policy.status === 0) throw new TypeError("connection refused");
      return status(policy.status);
    });
    queue.items.push(event());
    const step = await delivery.step();
    const label = `status ${policy.status}`;
    assert.equal(sent.length, 1, label);
    switch (policy.result) {
      case "accepted":
        assert.deepEqual(step, { kind: "sent", events: 1 }, label);
        assert.equal(queue.items.length, 0, label);
        break;
      case "auth_error":
      case "rejected":
        assert.deepEqual(
          step,
          { kind: "dropped", events: 1, reason: policy.result, status: policy.status },
          label,
        );
        assert.deepEqual(queue.dropped, { [policy.result]: 1 }, label);
        assert.equal(queue.items.length, 0, label);
        break;
      case "chunk_stored":
      case "retry":
        // Preserve: nothing is consumed and the backoff is armed.
        assert.equal(step.kind, "retry", label);
        if (step.kind !== "retry") break;
        assert.equal(step.waitMs, 1000, label);
        if (policy.status === 0) {
          assert.equal(step.status, undefined);
          assert.ok(step.error instanceof NetworkError);
        } else {
          assert.equal(step.status, policy.status, label);
        }
        assert.equal(queue.items.length, 1, label);
        assert.equal(delivery.retries, 1, label);
        assert.equal(delivery.backoffRemainingMs(), 1000, label);
        break;
    }
  }
});

Deno.test("a refusal without capture's JSON error code is retried, not dropped", async () => {
  const answers: (() => Response)[] = [
    () =>
      new Response("<html>Not Found</html>", {
        status: 404,
        headers: { "content-type": "text/html" },
      }),
    () => new Response(null, { status: 401 }),
    () => new Response('{"message":"bad"}', { status: 400 }),
  ];
  for (const answer of answers) {
    const { delivery, queue } = harness(() => answer());
    queue.items.push(event());
    const step = await delivery.step();
    assert.equal(step.kind, "retry");
    assert.equal(queue.items.length, 1);
    assert.deepEqual(queue.dropped, {});
  }
});

Deno.test("a request that times out is retried with a TimeoutError", async () => {
  // The client aborts the transport's signal when the deadline passes.
  const fetchWithSignal =
    ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      })) as typeof fetch;
  const { delivery, queue } = harness(accept, {
    transport: fetchTransport(fetchWithSignal),
    timeoutMs: 5,
  });
  queue.items.push(event());
  const step = await delivery.step();
  assert.equal(step.kind, "retry");
  assert.ok(step.kind === "retry" && step.error instanceof TimeoutError);
  assert.equal(queue.items.length, 1);
});

Deno.test("backoff waits ±25% of a delay that doubles to the cap and resets after a success", async () => {
  const randoms = [0, 0.5, 1 - 2 ** -20, 0.5, 0.5, 0.5];
  let fail = true;
  const { delivery, clock, queue } = harness(() => status(fail ? 503 : 204), {
    backoff: { initialMs: 1000, maxMs: 4000, jitter: 0.25 },
    random: () => randoms.shift() ?? 0.5,
  });
  queue.items.push(event());
  const waits: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const step = await delivery.step();
    assert.equal(step.kind, "retry");
    if (step.kind !== "retry") return;
    waits.push(step.waitMs);
    clock.now += step.waitMs - 1;
    assert.deepEqual(await delivery.step(), { kind: "backoff", waitMs: 1 });
    assert.equal(delivery.backoffRemainingMs(), 1);
    clock.now += 1;
  }
  // 1000 × 0.75; 2000 × 1; 4000 × ~1.25; then the 4000 cap × 1.
  assert.deepEqual(waits, [750, 2000, 5000, 4000, 4000]);
  assert.equal(delivery.retries, 5);
  fail = false;
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  assert.equal(delivery.lastSuccessAt, clock.now);
  assert.equal(delivery.backoffRemainingMs(), 0);
  fail = true;
  queue.items.push(event());
  const after = await delivery.step();
  assert.equal(after.kind === "retry" && after.waitMs, 1000);
});

Deno.test("a Retry-After longer than the backoff wins", async () => {
  const answers = [
    status(429, { "retry-after": "120" }),
    status(503, { "retry-after": "1" }),
  ];
  const { delivery, clock, queue } = harness(() => answers.shift() ?? status(204));
  queue.items.push(event());
  const first = await delivery.step();
  assert.deepEqual(
    first.kind === "retry" && { waitMs: first.waitMs, status: first.status },
    { waitMs: 120_000, status: 429 },
  );
  clock.now += 120_000;
  // The backoff (2000) is now longer than Retry-After (1000).
  const second = await delivery.step();
  assert.equal(second.kind === "retry" && second.waitMs, 2000);
});

Deno.test("after a success the next upload waits for minIntervalMs unless spacing is ignored or disabled", async () => {
  const { delivery, sent, clock, queue } = harness(accept, { batchSize: 1, minIntervalMs: 15_000 });
  queue.items.push(event(), event(), event());
  assert.equal((await delivery.step()).kind, "sent");
  clock.now += 5000;
  assert.deepEqual(await delivery.step(), { kind: "spacing", waitMs: 10_000 });
  assert.equal(sent.length, 1);
  assert.equal((await delivery.step({ ignoreSpacing: true })).kind, "sent");
  clock.now += 15_000;
  assert.equal((await delivery.step()).kind, "sent");
  assert.deepEqual(await delivery.step(), { kind: "empty" });

  const disabled = harness(accept, { batchSize: 1, minIntervalMs: 0xffff_ffff });
  disabled.queue.items.push(event(), event());
  assert.equal((await disabled.delivery.step()).kind, "sent");
  assert.equal((await disabled.delivery.step()).kind, "sent");
});

Deno.test("a 409 in the middle of an upload restarts it from offset 0 with the same message id", async () => {
  let conflicts = 1;
  const { delivery, sent, clock, queue } = harness((request, index) => {
    if (index === 1 && conflicts-- > 0) return status(409);
    return accept(request, index);
  }, { maxFrameBytes: 64 });
  const events = [event({ properties: { note: "n".repeat(150) } })];
  queue.items.push(...events);
  const step = await delivery.step();
  assert.equal(step.kind === "retry" && step.status, 409);
  clock.now += delivery.backoffRemainingMs();
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  const total = encodeFrames(encodeMessage(batchOf(events)), {
    messageId: SEED,
    maxFrameBytes: 64,
  });
  assert.ok(total.length >= 3);
  // Two frames of the first attempt, then every frame again from the init frame.
  assert.deepEqual(sent.map((s) => s.body), [total[0], total[1], ...total]);
  const frames = sent.map((s) => decodeFrame(s.body));
  assert.ok(frames.every((f) => f.messageId === SEED));
});

Deno.test("a retryable failure mid-upload resumes from the failed frame", async () => {
  let failures = 1;
  const { delivery, sent, clock, queue } = harness((request, index) => {
    if (index === 1 && failures-- > 0) return status(503);
    return accept(request, index);
  }, { maxFrameBytes: 64 });
  queue.items.push(event({ properties: { note: "n".repeat(150) } }));
  assert.equal((await delivery.step()).kind, "retry");
  clock.now += delivery.backoffRemainingMs();
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  const offsets = sent.map((s) => decodeFrame(s.body).offset);
  assert.equal(offsets[2], offsets[1]);
  assert.equal(offsets.filter((o) => o === 0).length, 1);
});

Deno.test("a batch keeps its bytes and message id through retries; events queued meanwhile go to the next batch", async () => {
  let fail = 2;
  const { delivery, sent, clock, queue } = harness((request, index) =>
    fail-- > 0 ? status(503) : accept(request, index)
  );
  queue.items.push(event({ name: "old" }), event());
  for (let attempt = 0; attempt < 2; attempt++) {
    assert.equal((await delivery.step()).kind, "retry");
    queue.items.push(event({ name: `late${attempt}` }));
    clock.now += delivery.backoffRemainingMs();
  }
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 2 });
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 2 });
  assert.deepEqual(sent[0].body, sent[1].body);
  assert.deepEqual(sent[0].body, sent[2].body);
  assert.deepEqual(sent.map((s) => decodeFrame(s.body).messageId), [SEED, SEED, SEED, SEED + 1]);
  const names = sent.map((s) => decodeMessage(messageOf([s.body])).events.map((e) => e.name));
  assert.deepEqual(names.at(-1), ["late0", "late1"]);
});

Deno.test("a 409 message_collision sends the same bytes again under the next message id", async () => {
  let collide = true;
  const { delivery, sent, clock, queue } = harness((request, index) => {
    if (!collide) return accept(request, index);
    collide = false;
    return new Response('{"error":"message_collision"}', {
      status: 409,
      headers: { "content-type": "application/json" },
    });
  });
  queue.items.push(event());
  const step = await delivery.step();
  assert.equal(step.kind === "retry" && step.status, 409);
  clock.now += delivery.backoffRemainingMs();
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  const frames = sent.map((s) => decodeFrame(s.body));
  assert.deepEqual(frames.map((f) => f.messageId), [SEED, SEED + 1]);
  assert.deepEqual(frames[0].payload, frames[1].payload);
});

Deno.test("a pending batch whose events left the queue is abandoned, not sent", async () => {
  let fail = true;
  const { delivery, sent, clock, queue } = harness((request, index) =>
    fail ? status(503) : accept(request, index)
  );
  queue.items.push(event({ name: "forgotten" }));
  assert.equal((await delivery.step()).kind, "retry");
  // What reset() does to the client's queue
  queue.items = [event({ name: "after_reset" })];
  clock.now += delivery.backoffRemainingMs();
  fail = false;
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  assert.equal(sent.length, 2);
  const last = decodeMessage(messageOf([sent[1].body]));
  assert.deepEqual(last.events.map((e) => e.name), ["after_reset"]);
  assert.equal(decodeFrame(sent[1].body).messageId, SEED + 1);
  assert.deepEqual(queue.items, []);
  assert.deepEqual(queue.dropped, {});
});

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
