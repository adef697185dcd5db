/**
 * Drives the Emitter broker through in-memory links for its tests: a client
 * that encodes packets with the project's MQTT codec and decodes what the
 * broker sends back, a fake clock and timer for deadlines, and keys made
 * with the broker's generated secret.
 *
 * @module
 */

import { MqttDecoder } from "../../../src/emitter/mqtt/decoder.ts";
import { encodePacket } from "../../../src/emitter/mqtt/encoder.ts";
import type {
  MqttConnectPacket,
  MqttPacket,
  MqttPublishPacket,
  MqttQos,
} from "../../../src/emitter/mqtt/packets.ts";
import { keygen } from "../../../src/emitter/security/keygen.ts";
import { singleContractProvider } from "../../../src/emitter/security/contract.ts";
import {
  type BrokerLink,
  type BrokerSession,
  EmitterBroker,
} from "../../../src/server/emitter/broker.ts";
import type { EmitterBrokerOptions } from "../../../src/server/emitter/options.ts";
import type { EmitterStore } from "../../../src/server/emitter/store.ts";

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);
export const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** A clock and a timer a test moves by hand. */
export class FakeTime {
  now = 1_700_000_000_000;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  readonly setTimeout = ((fn: () => void, ms = 0) => {
    const id = this.#next++;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }) as unknown as typeof setTimeout;

  readonly clearTimeout = ((id: number) => {
    this.pending.delete(id);
  }) as unknown as typeof clearTimeout;

  /** Moves the clock and runs the timers that fall due, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.pending.delete(due[0]);
      this.now = Math.max(this.now, due[1].at);
      due[1].fn();
    }
    this.now = end;
  }
}

/** A seeded random source (xorshift), for deterministic ids and share picks. */
export function seeded(seed = 42): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** Makes a broker on a fake clock; close it at the end of the test. */
export async function makeBroker(
  options: EmitterBrokerOptions & { store?: EmitterStore } = {},
): Promise<{ broker: EmitterBroker; time: FakeTime }> {
  const time = new FakeTime();
  const broker = new EmitterBroker({
    now: () => time.now,
    random: seeded(),
    setTimeout: time.setTimeout,
    clearTimeout: time.clearTimeout,
    ...options,
  });
  await broker.ready();
  return { broker, time };
}

/** Makes a key under the broker's generated license. */
export function keyFor(broker: EmitterBroker, channel: string, type = "rw", ttl = 0): string {
  const result = keygen({
    cipher: broker.license.cipher(),
    contracts: singleContractProvider(broker.license),
    connectionId: "test",
  }, { key: broker.secret!, channel, type, ttl });
  if (!result.ok) throw new Error(`keygen refused: ${result.error.message}`);
  return result.key;
}

/** Lets the store's promises and the broker's continuations run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/** One connection to the broker, as a test client. */
export class TestClient implements BrokerLink {
  readonly session: BrokerSession;
  readonly remoteAddress: string;
  /** Whether the broker closed the link. */
  closedByBroker = false;
  /** What `bufferedBytes()` answers. */
  buffered = 0;
  /** Every packet received, in order. */
  readonly received: MqttPacket[] = [];
  /** Every byte array the broker sent, as it sent them. */
  readonly raw: Uint8Array[] = [];
  readonly #decoder = new MqttDecoder({ maxPacketSize: 1 << 24 });
  #read = 0;
  #nextId = 1;

  constructor(broker: EmitterBroker, remoteAddress = "127.0.0.1") {
    this.remoteAddress = remoteAddress;
    this.session = broker.accept(this);
  }

  send(bytes: Uint8Array): void {
    this.raw.push(bytes);
    this.#decoder.push(bytes, this.received);
  }

  bufferedBytes(): number {
    return this.buffered;
  }

  close(): void {
    this.closedByBroker = true;
  }

  /** Sends a packet to the broker. */
  write(packet: MqttPacket): void {
    this.session.receive(encodePacket(packet));
  }

  /** Sends CONNECT. */
  connect(fields: Partial<MqttConnectPacket> = {}): void {
    this.write({
      type: "connect",
      protocolVersion: 4,
      clientId: "",
      cleanSession: true,
      keepAlive: 30,
      ...fields,
    });
  }

  /** Sends PUBLISH; QoS 1 gets the next packet id unless one is given. */
  publish(
    topic: string,
    payload: string | Uint8Array,
    options: { qos?: MqttQos; retain?: boolean; packetId?: number } = {},
  ): number | undefined {
    const qos = options.qos ?? 0;
    const packetId = qos > 0 ? options.packetId ?? this.#nextId++ : undefined;
    this.write({
      type: "publish",
      topic,
      payload: typeof payload === "string" ? text(payload) : payload,
      qos,
      retain: options.retain ?? false,
      dup: false,
      packetId,
    });
    return packetId;
  }

  /** Sends SUBSCRIBE for the topics (QoS 0 each), returning its packet id. */
  subscribe(...topics: string[]): number {
    const packetId = this.#nextId++;
    this.write({
      type: "subscribe",
      packetId,
      subscriptions: topics.map((topic) => ({ topic, qos: 0 })),
    });
    return packetId;
  }

  /** Sends UNSUBSCRIBE for the topics, returning its packet id. */
  unsubscribe(...topics: string[]): number {
    const packetId = this.#nextId++;
    this.write({ type: "unsubscribe", packetId, topics });
    return packetId;
  }

  /** Sends a request to `emitter/<name>/` at QoS 1, returning its packet id. */
  request(name: string, body: unknown): number {
    return this.publish(
      `emitter/${name}/`,
      typeof body === "string" ? body : JSON.stringify(body),
      {
        qos: 1,
      },
    )!;
  }

  /** The packets received since the last call. */
  take(): MqttPacket[] {
    const fresh = this.received.slice(this.#read);
    this.#read = this.received.length;
    return fresh;
  }

  /** The PUBLISH packets received since the last call, as topic and text. */
  messages(): { topic: string; text: string }[] {
    return this.take().filter((p): p is MqttPublishPacket => p.type === "publish")
      .map((p) => ({ topic: p.topic, text: decode(p.payload) }));
  }

  /** The JSON bodies received on `topic` since the last call. */
  answers(topic: string): Record<string, unknown>[] {
    return this.messages().filter((m) => m.topic === topic).map((m) => JSON.parse(m.text));
  }
}

/** A connected client whose CONNACK has been taken. */
export function connected(
  broker: EmitterBroker,
  fields: Partial<MqttConnectPacket> = {},
  address?: string,
): TestClient {
  const client = new TestClient(broker, address);
  client.connect(fields);
  const first = client.take();
  if (first.length !== 1 || first[0].type !== "connack") throw new Error("no CONNACK");
  return client;
}
