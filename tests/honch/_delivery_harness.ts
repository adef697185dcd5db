/**
 * Shared harness of the Honch delivery tests: the policy fixtures, a
 * delivery on the core engine over a scripted fetch double with a fake clock
 * and an array queue, and builders of events, batches and responses.
 *
 * @module
 */

import {
  Delivery,
  type DeliveryContext,
  type DeliveryOptions,
  type DeliveryQueue,
  type QueuedEvent,
} from "../../src/honch/_delivery.ts";
import { fetchTransport } from "../../src/honch/transport.ts";
import { decodeFrame, FrameAssembler } from "../../src/honch/frames.ts";
import { toWireValue } from "../../src/honch/wire_value.ts";
import type { WireBatch, WireEvent } from "../../src/honch/wire_v2.ts";

export interface PolicyCase {
  status: number;
  result: "chunk_stored" | "accepted" | "auth_error" | "rejected" | "retry";
  queue: string;
}
export interface Fixtures {
  http_response_policy: { fixture: { cases: PolicyCase[] } }[];
  wire_v2_fixtures: { name: string; fixture: { expanded_event_json: unknown[] } }[];
}
export const fixtures: Fixtures = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/honch_wire_v2.json", import.meta.url)),
);

// The context of the wire fixture "single-custom-properties".
export const CONTEXT: DeliveryContext = {
  deviceId: "device-1",
  deviceModel: "model-x",
  firmwareVersion: "1.0.0",
  sdkPlatform: "posix",
  sdkVersion: "0.3.1",
  environment: "production",
};
export const SEED = 0xffff_fffe;
export const T0 = 1_700_000_001_025;

export interface Sent {
  url: string;
  headers: Headers;
  body: Uint8Array;
  keepalive: boolean | undefined;
}

export type Responder = (sent: Sent, index: number) => Response | Promise<Response>;

/** The client's queue, as an array: what was dropped is counted per reason. */
export class ArrayQueue implements DeliveryQueue {
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

export const OPTIONS: Omit<DeliveryOptions, "transport" | "now"> = {
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

export function harness(
  responder: Responder,
  options: Partial<DeliveryOptions> = {},
): { delivery: Delivery; sent: Sent[]; clock: { now: number }; queue: ArrayQueue } {
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

export const accept: Responder = (sent: Sent): Response =>
  new Response(null, { status: decodeFrame(sent.body).more ? 202 : 204 });

export function status(code: number, headers: Record<string, string> = {}): Response {
  return new Response(code === 204 ? null : JSON.stringify({ error: "x" }), {
    status: code,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function event(overrides: Partial<QueuedEvent> = {}): QueuedEvent {
  return {
    name: "sample",
    timestampMs: T0,
    distinctId: "user-1",
    properties: {},
    ...overrides,
  };
}

export function contextOf(distinctId: string, sessionId?: string): WireBatch["context"] {
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

export function wireEvent(queued: QueuedEvent): WireEvent {
  return {
    name: queued.name,
    timestampMs: queued.timestampMs,
    properties: Object.entries(queued.properties).map(([key, value]) => ({
      key,
      value: toWireValue(value),
    })),
  };
}

export function batchOf(events: QueuedEvent[]): WireBatch {
  return {
    baseTimeMs: events[0].timestampMs,
    context: contextOf(events[0].distinctId, events[0].sessionId),
    events: events.map(wireEvent),
  };
}

export function messageOf(bodies: Uint8Array[]): Uint8Array {
  const assembler = new FrameAssembler();
  for (const body of bodies) {
    const result = assembler.push(body);
    if (result.complete) return result.message;
  }
  throw new Error("The frames do not complete a message");
}
