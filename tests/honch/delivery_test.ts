import assert from "node:assert/strict";
import { NetworkError, TimeoutError } from "../../src/core/errors.ts";
import {
  Delivery,
  type DeliveryContext,
  type DeliveryOptions,
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

function harness(responder: Responder, options: Partial<DeliveryOptions> = {}) {
  const sent: Sent[] = [];
  const clock = { now: T0 };
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
  const delivery = new Delivery({
    endpointUrl: "http://collector.test/base/",
    apiKey: "phc_test",
    transport: fetchTransport(fetch),
    timeoutMs: 1000,
    now: () => clock.now,
    random: () => 0.5,
    retryInitialMs: 1000,
    retryMaxMs: 300_000,
    minIntervalMs: 0,
    batchSize: 20,
    streamId: "0a1b2c3d",
    messageIdSeed: SEED,
    ...options,
  }, CONTEXT);
  return { delivery, sent, clock };
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
  const { delivery, sent } = harness(accept);
  const queued = event({
    properties: { mode: "auto", previous_mode: "auto", samples: 3, tags: ["auto", "hdr"] },
  });
  const step = await delivery.step([queued], { keepalive: true });
  assert.deepEqual(step, { kind: "sent", events: 1 });
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
  const { delivery, sent } = harness(accept);
  await delivery.step([event()]);
  await delivery.step([event({ name: "second" })]);
  await delivery.step([event({ name: "third" })]);
  assert.deepEqual(sent.map((s) => decodeFrame(s.body).messageId), [0xffff_fffe, 0xffff_ffff, 0]);
});

Deno.test("reserved battery and RSSI numbers are written with the int tag", async () => {
  const { delivery, sent } = harness(accept);
  await delivery.step([event({ properties: { $battery_level: 44, $wifi_rssi: -60 } })]);
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
  const { delivery, sent } = harness(accept, { batchSize: 2 });
  let queue: QueuedEvent[] = [
    event({ name: "a1" }),
    event({ name: "a2" }),
    event({ name: "a3" }),
    event({ name: "s1", sessionId: "sess_1" }),
    event({ name: "s2", sessionId: "sess_1" }),
    event({ name: "b1", distinctId: "user-2", sessionId: "sess_1" }),
  ];
  const counts: number[] = [];
  for (;;) {
    const step = await delivery.step(queue);
    if (step.kind !== "sent") break;
    counts.push(step.events);
    queue = queue.slice(step.events);
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
  const { delivery, sent } = harness(accept, { batchSize: 50 });
  // Unique 150-byte strings: the string table passes 2048 bytes before 50 events.
  const queue = Array.from(
    { length: 30 },
    (_, i) => event({ timestampMs: T0 + i, properties: { blob: `${i}`.padEnd(150, "x") } }),
  );
  const expected = largestFittingPrefix(batchOf(queue));
  assert.ok(expected > 1 && expected < 30);
  const step = await delivery.step(queue);
  assert.deepEqual(step, { kind: "sent", events: expected });
  const message = messageOf(sent.map((s) => s.body));
  assert.ok(message.length <= 4096);
  assert.deepEqual(message, encodeMessage(batchOf(queue.slice(0, expected))));
  assert.throws(() => encodeMessage(batchOf(queue.slice(0, expected + 1))));
});

Deno.test("a single event too large for a message is dropped as oversize without a request", async () => {
  const { delivery, sent } = harness(accept);
  const step = await delivery.step([
    event({ properties: { dump: new Uint8Array(5000) } }),
    event(),
  ]);
  assert.deepEqual(step, { kind: "dropped", events: 1, reason: "oversize" });
  assert.equal(sent.length, 0);
});

Deno.test("a message larger than maxFrameBytes goes as several frames, each non-final one answered 202", async () => {
  const { delivery, sent } = harness(accept, { maxFrameBytes: 64 });
  const queue = [event({ properties: { note: "n".repeat(200) } }), event({ name: "two" })];
  const step = await delivery.step(queue);
  assert.deepEqual(step, { kind: "sent", events: 2 });
  const message = encodeMessage(batchOf(queue));
  const frames = encodeFrames(message, { messageId: SEED, maxFrameBytes: 64 });
  assert.ok(frames.length >= 4);
  assert.deepEqual(sent.map((s) => s.body), frames);
  assert.ok(sent.every((s) => s.headers.get("x-honch-stream-id") === "0a1b2c3d"));
});

Deno.test("every case of the http response policy fixture maps to its flush step", async () => {
  const cases = fixtures.http_response_policy[0].fixture.cases;
  assert.equal(cases.length, 13);
  for (const policy of cases) {
    const { delivery, sent } = harness(() => {
      if (policy.status === 0) throw new TypeError("connection refused");
      return status(policy.status);
    });
    const step = await delivery.step([event()]);
    const label = `status ${policy.status}`;
    assert.equal(sent.length, 1, label);
    switch (policy.result) {
      case "accepted":
        assert.deepEqual(step, { kind: "sent", events: 1 }, label);
        break;
      case "auth_error":
      case "rejected":
        assert.deepEqual(
          step,
          { kind: "dropped", events: 1, reason: policy.result, status: policy.status },
          label,
        );
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
        assert.equal(delivery.retries, 1, label);
        assert.equal(delivery.backoffRemainingMs(), 1000, label);
        break;
    }
  }
});

Deno.test("a request that times out is retried with a TimeoutError", async () => {
  // The client aborts the transport's signal when the deadline passes.
  const fetchWithSignal =
    ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      })) as typeof fetch;
  const timed = new Delivery({
    endpointUrl: "http://collector.test",
    apiKey: "k",
    transport: fetchTransport(fetchWithSignal),
    timeoutMs: 5,
    now: () => T0,
    random: () => 0.5,
    retryInitialMs: 1000,
    retryMaxMs: 300_000,
    minIntervalMs: 0,
    batchSize: 20,
    streamId: "00000000",
    messageIdSeed: 0,
  }, CONTEXT);
  const step = await timed.step([event()]);
  assert.equal(step.kind, "retry");
  assert.ok(step.kind === "retry" && step.error instanceof TimeoutError);
});

Deno.test("backoff waits ±25% of a delay that doubles to the cap and resets after a success", async () => {
  const randoms = [0, 0.5, 1 - 2 ** -20, 0.5, 0.5, 0.5];
  let fail = true;
  const { delivery, clock } = harness(() => status(fail ? 503 : 204), {
    retryInitialMs: 1000,
    retryMaxMs: 4000,
    random: () => randoms.shift() ?? 0.5,
  });
  const waits: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const step = await delivery.step([event()]);
    assert.equal(step.kind, "retry");
    if (step.kind !== "retry") return;
    waits.push(step.waitMs);
    clock.now += step.waitMs - 1;
    assert.deepEqual(await delivery.step([event()]), { kind: "backoff", waitMs: 1 });
    assert.equal(delivery.backoffRemainingMs(), 1);
    clock.now += 1;
  }
  // 1000 × 0.75; 2000 × 1; 4000 × ~1.25; then the 4000 cap × 1.
  assert.deepEqual(waits, [750, 2000, 5000, 4000, 4000]);
  assert.equal(delivery.retries, 5);
  fail = false;
  assert.deepEqual(await delivery.step([event()]), { kind: "sent", events: 1 });
  assert.equal(delivery.lastSuccessAt, clock.now);
  assert.equal(delivery.backoffRemainingMs(), 0);
  fail = true;
  const after = await delivery.step([event()]);
  assert.equal(after.kind === "retry" && after.waitMs, 1000);
});

Deno.test("a Retry-After longer than the backoff wins", async () => {
  const answers = [
    status(429, { "retry-after": "120" }),
    status(503, { "retry-after": "1" }),
  ];
  const { delivery, clock } = harness(() => answers.shift() ?? status(204));
  const first = await delivery.step([event()]);
  assert.deepEqual(
    first.kind === "retry" && { waitMs: first.waitMs, status: first.status },
    { waitMs: 120_000, status: 429 },
  );
  clock.now += 120_000;
  // The backoff (2000) is now longer than Retry-After (1000).
  const second = await delivery.step([event()]);
  assert.equal(second.kind === "retry" && second.waitMs, 2000);
});

Deno.test("after a success the next upload waits for minIntervalMs unless spacing is ignored or disabled", async () => {
  const { delivery, sent, clock } = harness(accept, { minIntervalMs: 15_000 });
  assert.equal((await delivery.step([event()])).kind, "sent");
  clock.now += 5000;
  assert.deepEqual(await delivery.step([event()]), { kind: "spacing", waitMs: 10_000 });
  assert.equal(sent.length, 1);
  assert.equal((await delivery.step([event()], { ignoreSpacing: true })).kind, "sent");
  clock.now += 15_000;
  assert.equal((await delivery.step([event()])).kind, "sent");
  assert.deepEqual(await delivery.step([]), { kind: "empty" });

  const disabled = harness(accept, { minIntervalMs: 0xffff_ffff });
  assert.equal((await disabled.delivery.step([event()])).kind, "sent");
  assert.equal((await disabled.delivery.step([event()])).kind, "sent");
});

Deno.test("a 409 in the middle of an upload restarts it from offset 0 with the same message id", async () => {
  let conflicts = 1;
  const { delivery, sent, clock } = harness((request, index) => {
    if (index === 1 && conflicts-- > 0) return status(409);
    return accept(request, index);
  }, { maxFrameBytes: 64 });
  const queue = [event({ properties: { note: "n".repeat(150) } })];
  const step = await delivery.step(queue);
  assert.equal(step.kind === "retry" && step.status, 409);
  clock.now += delivery.backoffRemainingMs();
  assert.deepEqual(await delivery.step(queue), { kind: "sent", events: 1 });
  const total = encodeFrames(encodeMessage(batchOf(queue)), { messageId: SEED, maxFrameBytes: 64 });
  assert.ok(total.length >= 3);
  // Two frames of the first attempt, then every frame again from the init frame.
  assert.deepEqual(sent.map((s) => s.body), [total[0], total[1], ...total]);
  const frames = sent.map((s) => decodeFrame(s.body));
  assert.ok(frames.every((f) => f.messageId === SEED));
});

Deno.test("a retryable failure mid-upload resumes from the failed frame", async () => {
  let failures = 1;
  const { delivery, sent, clock } = harness((request, index) => {
    if (index === 1 && failures-- > 0) return status(503);
    return accept(request, index);
  }, { maxFrameBytes: 64 });
  const queue = [event({ properties: { note: "n".repeat(150) } })];
  assert.equal((await delivery.step(queue)).kind, "retry");
  clock.now += delivery.backoffRemainingMs();
  assert.deepEqual(await delivery.step(queue), { kind: "sent", events: 1 });
  const offsets = sent.map((s) => decodeFrame(s.body).offset);
  assert.equal(offsets[2], offsets[1]);
  assert.equal(offsets.filter((o) => o === 0).length, 1);
});

Deno.test("a batch that changed while backing off takes a new message id", async () => {
  let fail = true;
  const { delivery, sent, clock } = harness((request, index) =>
    fail ? status(503) : accept(request, index)
  );
  await delivery.step([event({ name: "old" }), event()]);
  clock.now += delivery.backoffRemainingMs();
  fail = false;
  await delivery.step([event()]);
  assert.deepEqual(sent.map((s) => decodeFrame(s.body).messageId), [SEED, SEED + 1]);
});

Deno.test("uploads reach the reference server and GET /api/honch/events shows the expanded events", async () => {
  const server = createServer({ honch: { projectKeys: ["k"] }, adminKey: "a" });
  const steps: FlushStep[] = [];
  const delivery = new Delivery({
    endpointUrl: "http://edge.test/",
    apiKey: "k",
    transport: fetchTransport((input, init) => server.fetch(new Request(input, init))),
    timeoutMs: 5000,
    now: () => Date.now(),
    random: () => 0.5,
    retryInitialMs: 1000,
    retryMaxMs: 300_000,
    minIntervalMs: 0xffff_ffff,
    batchSize: 2,
    streamId: "deadbeef",
    messageIdSeed: 7,
    maxFrameBytes: 100,
  }, CONTEXT);
  let queue: QueuedEvent[] = [
    event({ name: "boot", properties: { reset_reason: "power_on", $battery_level: 44 } }),
    event({ name: "tap", timestampMs: T0 + 5, sessionId: "sess_1", properties: { pin: 3 } }),
    event({ name: "tap", timestampMs: T0 + 9, sessionId: "sess_1", properties: { pin: 4 } }),
  ];
  while (queue.length > 0) {
    const step = await delivery.step(queue);
    steps.push(step);
    if (step.kind !== "sent") break;
    queue = queue.slice(step.events);
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
});
