/**
 * A bare MQTT peer for the transport tests: our codec over a WebSocket or a
 * TCP connection, reading packets as they arrive; keys asked of a served
 * `/keygen`, and one message sent to the peer itself and back.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encodePacket, MqttDecoder, type MqttPacket } from "../../../src/emitter/mqtt/mod.ts";
import type { EdgewireServer } from "../../../src/server/mod.ts";

/** A connection that sends and receives MQTT packets. */
export interface MqttPeer extends AsyncDisposable {
  /** Sends one packet. */
  send(packet: MqttPacket): Promise<void>;
  /** Resolves with the next packet received; rejects when the connection ends first. */
  next(): Promise<MqttPacket>;
}

/** How long a test waits for the next packet before failing, rather than hanging. */
const NEXT_TIMEOUT_MS = 10_000;

function peer(
  write: (bytes: Uint8Array) => Promise<void>,
  close: () => Promise<void>,
): MqttPeer & { push(chunk: Uint8Array): void; end(): void } {
  const decoder = new MqttDecoder();
  const packets: MqttPacket[] = [];
  let ended = false;
  let wake = () => {};
  return {
    push(chunk) {
      packets.push(...decoder.push(chunk));
      wake();
    },
    end() {
      ended = true;
      wake();
    },
    send: (packet) => write(encodePacket(packet)),
    async next() {
      const deadline = Date.now() + NEXT_TIMEOUT_MS;
      while (packets.length === 0) {
        if (ended) throw new Error("the connection ended before the next packet");
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no packet within ${NEXT_TIMEOUT_MS} ms`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
      return packets.shift()!;
    },
    [Symbol.asyncDispose]: close,
  };
}

/** Connects over TCP with `Deno.connect`. */
export async function tcpPeer(port: number): Promise<MqttPeer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let closed = false;
  const p = peer(async (bytes) => {
    let rest = bytes;
    while (rest.length > 0) rest = rest.subarray(await conn.write(rest));
  }, async () => {
    if (!closed) conn.close();
    closed = true;
    await reading;
  });
  const reading = (async () => {
    try {
      while (true) {
        const buffer = new Uint8Array(4096);
        const read = await conn.read(buffer);
        if (read === null) break;
        p.push(buffer.subarray(0, read));
      }
    } catch {
      // closed here
    }
    p.end();
  })();
  return p;
}

/** Connects over WebSocket, offering `protocols`. */
export async function websocketPeer(url: string, protocols: string[]): Promise<MqttPeer> {
  const socket = new WebSocket(url, protocols);
  socket.binaryType = "arraybuffer";
  const closed = new Promise<void>((resolve) => socket.addEventListener("close", () => resolve()));
  const p = peer((bytes) => Promise.resolve(socket.send(bytes)), async () => {
    socket.close();
    await closed;
  });
  socket.addEventListener("message", (event) => p.push(new Uint8Array(event.data)));
  socket.addEventListener("close", () => p.end());
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot open ${url}`)), { once: true });
  });
  return p;
}

/** A channel key made by the server's `POST /keygen` with the generated license's master key. */
export async function channelKey(server: EdgewireServer, channel: string): Promise<string> {
  const response = await server.fetch(
    new Request("http://localhost/keygen", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: server.emitter.secret, channel, type: "rw", ttl: 0 }),
    }),
  );
  const body = await response.json();
  if (response.status !== 200 || typeof body.key !== "string") {
    throw new Error(`keygen answered ${response.status} ${JSON.stringify(body)}`);
  }
  return body.key;
}

/** Asks the server at `base` over HTTP for a read-write key to `channel`, with the master `secret`. */
export async function requestKey(
  base: string | URL,
  secret: string,
  channel: string,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL("/keygen", base), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: secret, channel, type: "rw", ttl: 0 }),
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

/** The key {@linkcode requestKey} gets, checking the server answered 200 with one. */
export async function issuedKey(
  base: string | URL,
  secret: string,
  channel: string,
): Promise<string> {
  const { status, body } = await requestKey(base, secret, channel);
  const key = (body as { key?: unknown } | undefined)?.key;
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(typeof key, "string", JSON.stringify(body));
  return key as string;
}

/**
 * Connects `peer` with {@linkcode CONNECT}, subscribes it to `channel` under
 * `key`, publishes `payload` there and checks it comes back, unchanged.
 */
export async function roundTrip(
  peer: MqttPeer,
  key: string,
  channel: string,
  payload: Uint8Array | string,
): Promise<void> {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const topic = `${key}/${channel}`;
  await peer.send(CONNECT);
  assert.deepEqual(await peer.next(), { type: "connack", sessionPresent: false, returnCode: 0 });
  await peer.send({ type: "subscribe", packetId: 7, subscriptions: [{ topic, qos: 0 }] });
  assert.deepEqual(await peer.next(), { type: "suback", packetId: 7, granted: [0] });
  await peer.send({ type: "publish", topic, payload: bytes, qos: 0, retain: false, dup: false });
  const message = await peer.next();
  assert.equal(message.type, "publish");
  assert.deepEqual(message.type === "publish" && message.payload, bytes);
}

/** The CONNECT of a clean MQTT 3.1.1 session. */
export const CONNECT: MqttPacket = {
  type: "connect",
  protocolVersion: 4,
  clientId: "",
  cleanSession: true,
  keepAlive: 30,
};
