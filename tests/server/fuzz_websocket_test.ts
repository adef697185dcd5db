/**
 * Fuzzes the two WebSocket protocols of `createServer` over real sockets
 * (issue 12): random and mutated MQTT streams to the Emitter broker and Spot
 * packets to the relay, with a fixed seed and a small budget. Each connection
 * is answered or closed in time, and afterwards a fresh connection still gets
 * its CONNACK or handshake challenge and `/healthz` answers 200.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodePacket as encodeMqtt,
  MqttDecoder,
  type MqttPacket,
} from "../../src/emitter/mqtt/mod.ts";
import {
  decodePacket as decodeSpot,
  encodePacket as encodeSpot,
  MESSAGE_FLAG_NOT_BOTTLE,
  type SpotPacket,
} from "../../src/spot/proto/mod.ts";
import { type Identity, makeIdentity, RawPeer, startRelay } from "./spot/_peer.ts";

/** Fixed, so a failure replays the same cases on every run and in CI. */
const SEED = 0x5eed_0012;
const RUNS = 30;
/** How long a connection may stay silent after the fuzzed bytes before it counts as waiting. */
const QUIET_MS = 150;
/** How long a close, an answer or a handshake may take before the test fails. */
const DEADLINE_MS = 3_000;

/** A WebSocket with its binary messages queued and its close awaited. */
class Socket {
  readonly socket: WebSocket;
  readonly messages: Uint8Array[] = [];
  readonly closed: Promise<number>;
  #wake = () => {};

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => {
      const data = event.data;
      this.messages.push(
        typeof data === "string" ? new TextEncoder().encode(data) : new Uint8Array(data),
      );
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (event) => {
        resolve(event.code);
        this.#wake();
      });
    });
  }

  static async open(url: string, protocols?: string[]): Promise<Socket> {
    const socket = new Socket(new WebSocket(url, protocols));
    const opened = await Promise.race([
      new Promise<boolean>((resolve) => {
        socket.socket.addEventListener("open", () => resolve(true), { once: true });
      }),
      socket.closed.then(() => false),
    ]);
    assert.ok(opened, `a fresh connection to ${url} opens`);
    return socket;
  }

  /** Waits until a message arrives, the socket closes or `ms` pass; says which. */
  async settle(ms: number): Promise<"message" | "closed" | "quiet"> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.socket.readyState >= WebSocket.CLOSING) return "closed";
      if (this.messages.length > 0) return "message";
      const left = deadline - Date.now();
      if (left <= 0) return "quiet";
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  send(bytes: Uint8Array): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(bytes);
  }

  /** Closes from this side and fails when the close handshake does not finish in time. */
  async close(): Promise<void> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close();
    const done = await within(this.closed.then(() => true), DEADLINE_MS);
    assert.ok(done, "the server finishes the close handshake in time");
  }
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

type Mutation =
  | { kind: "none" }
  | { kind: "flip"; at: number; mask: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "replace"; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.constant({ kind: "none" as const }), weight: 4 },
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant("replace" as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
);

function mutate(bytes: Uint8Array, change: Mutation): Uint8Array {
  const at = "at" in change && bytes.length > 0 ? change.at % bytes.length : 0;
  switch (change.kind) {
    case "none":
      return bytes;
    case "flip": {
      const copy = bytes.slice();
      if (copy.length > 0) copy[at] ^= change.mask;
      return copy;
    }
    case "truncate":
      return bytes.subarray(0, at);
    case "insert": {
      const copy = new Uint8Array(bytes.length + change.bytes.length);
      copy.set(bytes.subarray(0, at));
      copy.set(change.bytes, at);
      copy.set(bytes.subarray(at), at + change.bytes.length);
      return copy;
    }
    case "replace":
      return change.bytes;
  }
}

/** Splits bytes into frames at the given cut points. */
function frames(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => bytes.length === 0 ? 0 : cut % bytes.length))]
    .sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    if (point > start) out.push(bytes.subarray(start, point));
    start = Math.max(start, point);
  }
  out.push(bytes.subarray(start));
  return out.filter((frame) => frame.length > 0);
}

const topic = fc.stringMatching(/^[a-zA-Z0-9_\-/+#.?=]{1,24}$/);
const packetId = fc.integer({ min: 1, max: 65535 });

const mqttPacket: fc.Arbitrary<MqttPacket> = fc.oneof(
  fc.record({
    type: fc.constant("connect" as const),
    protocolVersion: fc.constantFrom(3 as const, 4 as const),
    clientId: fc.stringMatching(/^[a-z0-9]{0,12}$/),
    cleanSession: fc.boolean(),
    keepAlive: fc.integer({ min: 0, max: 65535 }),
  }),
  fc.record({
    type: fc.constant("publish" as const),
    topic,
    payload: fc.uint8Array({ maxLength: 32 }),
    qos: fc.constant(0 as const),
    retain: fc.boolean(),
    dup: fc.constant(false),
  }),
  fc.record({
    type: fc.constant("publish" as const),
    topic,
    payload: fc.uint8Array({ maxLength: 32 }),
    qos: fc.constant(1 as const),
    retain: fc.boolean(),
    dup: fc.boolean(),
    packetId,
  }),
  fc.record({
    type: fc.constant("subscribe" as const),
    packetId,
    subscriptions: fc.array(
      fc.record({ topic, qos: fc.constantFrom(0 as const, 1 as const) }),
      { minLength: 1, maxLength: 3 },
    ),
  }),
  fc.record({
    type: fc.constant("unsubscribe" as const),
    packetId,
    topics: fc.array(topic, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ type: fc.constant("puback" as const), packetId }),
  fc.record({ type: fc.constantFrom("pingreq" as const, "disconnect" as const) }),
);

const CONNECT: MqttPacket = {
  type: "connect",
  protocolVersion: 4,
  clientId: "",
  cleanSession: true,
  keepAlive: 60,
};

const mqttCase = fc.record({
  startWithConnect: fc.boolean(),
  packets: fc.array(mqttPacket, { maxLength: 5 }),
  mutation,
  cuts: fc.array(fc.nat(), { maxLength: 3 }),
});

/** Connects with a valid CONNECT and asserts a CONNACK comes back: the broker still serves. */
async function assertBrokerAnswers(url: string): Promise<void> {
  const socket = await Socket.open(url, ["mqtt"]);
  try {
    socket.send(encodeMqtt(CONNECT));
    assert.equal(await socket.settle(DEADLINE_MS), "message", "a fresh connection is answered");
    const packets = new MqttDecoder().push(socket.messages[0]);
    assert.equal(packets[0]?.type, "connack");
  } finally {
    await socket.close();
  }
}

async function assertHealthy(origin: string): Promise<void> {
  const health = await fetch(`${origin}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { ok: true });
}

Deno.test("random and mutated MQTT streams never crash the broker", async () => {
  const relay = startRelay();
  const url = `${relay.origin.replace("http", "ws")}/mqtt`;
  const outcomes = new Set<string>();
  try {
    await fc.assert(
      fc.asyncProperty(mqttCase, async ({ startWithConnect, packets, mutation, cuts }) => {
        const stream = [...(startWithConnect ? [CONNECT] : []), ...packets];
        const parts = stream.map((packet) => encodeMqtt(packet));
        const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
        let offset = 0;
        for (const part of parts) {
          joined.set(part, offset);
          offset += part.length;
        }
        const socket = await Socket.open(url, ["mqtt"]);
        try {
          for (const frame of frames(mutate(joined, mutation), cuts)) socket.send(frame);
          // A PINGREQ after the stream: a usable connection answers it, a refused one is closed
          socket.send(encodeMqtt({ type: "pingreq" }));
          const outcome = await socket.settle(QUIET_MS);
          outcomes.add(outcome);
          if (outcome === "message") {
            // Whatever came back must be MQTT the client can decode
            const decoder = new MqttDecoder();
            for (const message of socket.messages) decoder.push(message);
          }
        } finally {
          // A connection left waiting for the rest of a packet must still close in time
          await socket.close();
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    assert.ok(outcomes.has("closed"), "some fuzzed streams are refused");
    assert.ok(outcomes.has("message"), "some fuzzed streams are answered");
    await assertBrokerAnswers(url);
    await assertHealthy(relay.origin);
  } finally {
    await relay.close();
  }
});

const bytes = fc.uint8Array({ maxLength: 48 });
const recipient = fc.oneof(
  fc.constantFrom("@/time", "@/version", "@/idcard_find", "@/nope", "k.x/ping", "/reply", ""),
  fc.stringMatching(/^[@a-z0-9./_]{0,24}$/),
);

const spotPacket: fc.Arbitrary<SpotPacket> = fc.oneof(
  fc.record({ type: fc.constant("ping" as const), payload: bytes }),
  fc.record({
    type: fc.constant("handshake_response" as const),
    response: fc.record({
      id: fc.option(bytes, { nil: null }),
      key: fc.option(bytes, { nil: null }),
      sig: fc.option(bytes, { nil: null }),
    }),
  }),
  fc.record({
    type: fc.constant("message" as const),
    message: fc.record({
      id: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      flags: fc.oneof(fc.constant(MESSAGE_FLAG_NOT_BOTTLE), fc.integer({ min: 0, max: 255 })),
      recipient,
      sender: fc.stringMatching(/^[/a-z0-9]{0,12}$/),
      body: bytes,
    }),
  }),
);

const spotCase = fc.record({
  handshake: fc.boolean(),
  packets: fc.array(fc.tuple(spotPacket, mutation), { maxLength: 4 }),
});

/** Opens a connection and asserts the relay's first packet is a handshake challenge. */
async function assertRelayChallenges(url: string): Promise<void> {
  const peer = await RawPeer.open(url);
  try {
    const packet = decodeSpot(await peer.nextRaw(DEADLINE_MS), "client");
    assert.equal(packet.type, "handshake_request");
  } finally {
    await peer.close();
  }
}

Deno.test("random and mutated Spot packets never crash the relay", async () => {
  const relay = startRelay();
  const identity: Identity = await makeIdentity();
  const outcomes = new Set<string>();
  try {
    await fc.assert(
      fc.asyncProperty(spotCase, async ({ handshake, packets }) => {
        const peer = handshake
          ? await RawPeer.connect(relay.url, identity)
          : await RawPeer.open(relay.url);
        try {
          if (!handshake) {
            // The challenge first, so what comes after is the relay's answer to the fuzz
            const challenge = decodeSpot(await peer.nextRaw(DEADLINE_MS), "client");
            assert.equal(challenge.type, "handshake_request");
          }
          for (const [packet, change] of packets) {
            if (peer.socket.readyState !== WebSocket.OPEN) break;
            peer.socket.send(mutate(encodeSpot(packet), change));
          }
          // A ping after the packets: a usable connection echoes it, a refused one is closed
          if (peer.socket.readyState === WebSocket.OPEN) {
            peer.socket.send(encodeSpot({ type: "ping", payload: new Uint8Array([7]) }));
          }
          const outcome = await within(
            Promise.race([
              peer.nextRaw(QUIET_MS).then(() => "message", () => "closed-or-quiet"),
              peer.closed.then(() => "closed"),
            ]),
            DEADLINE_MS,
          );
          outcomes.add(outcome ?? "hung");
          assert.notEqual(outcome, undefined, "the relay answers or closes in time");
        } finally {
          const closed = await within(peer.close().then(() => true), DEADLINE_MS);
          assert.ok(closed, "the relay finishes the close handshake in time");
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    assert.ok(outcomes.size > 1, `the fuzzer reached more than one outcome: ${[...outcomes]}`);
    await assertRelayChallenges(relay.url);
    await assertHealthy(relay.origin);
  } finally {
    await relay.close();
  }
});
