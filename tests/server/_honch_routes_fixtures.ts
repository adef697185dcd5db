/**
 * Shared fixtures of the Honch route tests: the wire-v2 vectors, a server
 * with a fake clock, request helpers for frames and JSON ingest, and an
 * independent frame builder (CRC-16, varints) to cut messages into frames.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hex } from "@scure/base";
import type { WireBatch } from "../../src/honch/wire_v2.ts";
import { createServer, type EdgewireServer, type ServerOptions } from "../../src/server/mod.ts";

export interface WireFixture {
  name: string;
  input: { message_id: number; source_type: number; base_time_ms: number };
  compact_message_hex: string;
  fixture: {
    decoded_compact_message: {
      batch_context: Record<string, string>;
      events: { event: string; time_delta_ms: number; properties: Record<string, unknown>[] }[];
    };
    expanded_event_json: unknown[];
    expected_capture_response_code: number;
    frames: { hex: string; kind: string; offset?: number }[];
  };
}

export interface CoredumpFixture {
  name: string;
  input: { message_id: number; stream_id: string };
  fixture: { blob_hex: string; frames: { hex: string; kind: string }[] };
}

export interface JsonFixture {
  name: string;
  fixture: {
    request: { body: unknown };
    expected_ingest_status: number;
    expected_expanded_events?: unknown[];
    expected_accepted?: number;
    expected_rejected?: number;
    expected_error_codes?: string[];
  };
}

export const vectors = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/honch_wire_v2.json", import.meta.url)),
) as {
  wire_v2_fixtures: WireFixture[];
  coredump_fixtures: CoredumpFixture[];
  json_ingest_fixtures: JsonFixture[];
  spec_tables: {
    conformance_fixture_expectations: { expected_capture_response_code: Record<string, number> };
  };
};

export const KEY = "phc_test_project_key";
export const ADMIN = "admin-key-for-tests";
export const CHUNK = "application/vnd.honch.chunk";

export class Clock {
  time = Date.UTC(2025, 0, 15, 12);
  readonly now = (): number => this.time;
}

export function makeServer(options: ServerOptions = {}): { server: EdgewireServer; clock: Clock } {
  const clock = new Clock();
  const server = createServer({
    adminKey: ADMIN,
    now: clock.now,
    ...options,
    honch: { projectKeys: [KEY], ...options.honch },
  });
  return { server, clock };
}

export function postFrame(
  server: EdgewireServer,
  frame: Uint8Array | string,
  headers: Record<string, string> = {},
  path = "/capture",
): Promise<Response> {
  const bytes = typeof frame === "string" ? hex.decode(frame) : frame;
  const body = new Uint8Array(bytes) as Uint8Array<ArrayBuffer>;
  return server.fetch(
    new Request(`http://x${path}`, {
      method: "POST",
      headers: { "content-type": CHUNK, "x-honch-project-key": KEY, ...headers },
      body,
    }),
  );
}

export function postJson(
  server: EdgewireServer,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return server.fetch(
    new Request("http://x/capture", {
      method: "POST",
      headers: { "content-type": "application/json", "x-honch-project-key": KEY, ...headers },
      body: JSON.stringify(body),
    }),
  );
}

export async function status(response: Response): Promise<number> {
  await response.body?.cancel();
  return response.status;
}

export async function errorOf(
  response: Response,
  expected: number,
): Promise<Record<string, unknown>> {
  const body = await response.json();
  assert.equal(response.status, expected, JSON.stringify(body));
  return body;
}

export async function storedEvents(server: EdgewireServer, key = KEY): Promise<unknown[]> {
  const response = await server.fetch(
    new Request(`http://x/api/honch/events?project_key=${encodeURIComponent(key)}&limit=1000`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    }),
  );
  assert.equal(response.status, 200);
  return (await response.json()).events;
}

// An independent frame builder and CRC, so these tests do not lean on the codec under test.
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}

export function uvarint(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

export interface FrameSpec {
  messageId: number;
  sourceType?: number;
  continuation: boolean;
  more: boolean;
  offset?: number;
  totalLength?: number;
  payload: Uint8Array;
  crc?: number;
}

export function frame(spec: FrameSpec): Uint8Array {
  const header = 2 | ((spec.sourceType ?? 0) << 2) | (spec.continuation ? 0x20 : 0) |
    (spec.more ? 0x40 : 0);
  const bytes = [header, ...uvarint(spec.messageId)];
  if (spec.continuation) bytes.push(...uvarint(spec.offset ?? 0));
  else if (spec.more) bytes.push(...uvarint(spec.totalLength ?? 0));
  bytes.push(...spec.payload);
  if (!spec.more) bytes.push((spec.crc ?? 0) & 0xff, (spec.crc ?? 0) >> 8);
  return new Uint8Array(bytes);
}

/** Splits a message into frames starting at `cuts`, the final one carrying the CRC. */
export function chunk(
  message: Uint8Array,
  messageId: number,
  cuts: number[],
  sourceType = 0,
): Uint8Array[] {
  const starts = [0, ...cuts];
  const crc = crc16(message);
  return starts.map((start, index) => {
    const end = index + 1 < starts.length ? starts[index + 1] : message.length;
    const last = index === starts.length - 1;
    return frame({
      messageId,
      sourceType,
      continuation: index > 0,
      more: !last,
      offset: start,
      totalLength: message.length,
      payload: message.subarray(start, end),
      crc,
    });
  });
}

export function fixture(name: string): WireFixture {
  const found = vectors.wire_v2_fixtures.find((entry) => entry.name === name);
  assert.ok(found, name);
  return found;
}

/** The canonical event of a fixture's one decoded event, built from its decoded fields. */
export function expectedFromDecoded(entry: WireFixture): unknown[] {
  const decoded = entry.fixture.decoded_compact_message;
  const { distinct_id, ...promoted } = decoded.batch_context;
  return decoded.events.map((event) => ({
    event: event.event,
    distinct_id,
    timestamp: entry.input.base_time_ms + event.time_delta_ms,
    properties: Object.assign({}, promoted, ...event.properties),
  }));
}

export function context(sdkVersion = "0.3.1"): WireBatch["context"] {
  return [
    "user-1",
    "device-1",
    "model-x",
    "1.0.0",
    "posix",
    sdkVersion,
    "production",
  ].map((value, index) => ({ id: index + 1, value: { type: "string", value } }));
}

export async function removeDb(path: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
}
