/**
 * Typed loader of the shared Honch wire-v2 vectors
 * (`tests/fixtures/vectors/honch_wire_v2.json`, copied into the repository), with the
 * conversion of their typed values (hex bytes, decimal-string 64-bit
 * integers, IEEE bit patterns, repeat patterns) into {@linkcode WireValue}s.
 *
 * @module
 */

import { hex } from "@scure/base";
import type { WireBatch, WireContextEntry, WireEvent } from "../../src/honch/wire_v2.ts";
import type { WireValue } from "../../src/honch/wire_value.ts";

/** A typed value as the vectors write it. */
export interface TypedValueJson {
  /** The wire type. */
  type: string;
  /** The value (numbers may be decimal strings for 64-bit edges). */
  value?: unknown;
  /** Bytes as hex, for `bytes`. */
  hex?: string;
  /** IEEE 754 bits as hex, for floats such as NaN. */
  bits_hex?: string;
  /** Raw string bytes as hex (possibly invalid UTF-8). */
  value_hex?: string;
  /** A repeat pattern such as `'a' repeated 513 times`. */
  value_pattern?: string;
  /** C-API specific explicit string size. */
  c_string_size?: number;
  /** Array items. */
  items?: TypedValueJson[];
  /** Map entries in wire order. */
  entries?: { key: string | null; value: TypedValueJson }[];
}

/** A batch as the vectors write it. */
export interface BatchInputJson {
  /** Context entries in id order. */
  context: { key: string; id: number; value: TypedValueJson }[];
  /** The base time. */
  base_time_ms: number;
  /** The events. */
  events?: {
    event: string;
    timestamp_ms: number;
    properties: { key: string; value: TypedValueJson }[];
  }[];
  /** A generated list of events, described in words. */
  events_pattern?: { count: number; event: string; timestamp_ms: string; properties: string };
}

/** One `wire_v2_fixtures` entry. */
export interface WireFixture {
  /** The fixture name. */
  name: string;
  /** The structured input. */
  input: BatchInputJson & { message_id: number; frame_cuts: number[] | null };
  /** The compact message bytes. */
  compact_message_hex: string;
  /** The fixture body. */
  fixture: {
    expanded_event_json: unknown[];
    expected_capture_response_code: number;
    frames: { hex: string; kind: string }[];
  };
}

/** One `unit_vectors_test_wire_v2_c` vector. */
export interface UnitVector {
  /** The C test name. */
  test: string;
  /** What the vector exercises. */
  kind: string;
  /** The input. */
  input: Record<string, unknown>;
  /** The expectation. */
  expect: Record<string, unknown>;
  /** Notes. */
  note?: string;
}

/** One `json_ingest_fixtures` entry. */
export interface JsonIngestFixture {
  /** The fixture name. */
  name: string;
  /** The fixture body. */
  fixture: {
    request: { body: Record<string, unknown> };
    expected_ingest_status: number;
    expected_expanded_events?: unknown[];
    expected_error_codes?: string[];
  };
}

/** The parts of the vectors file the codec tests use. */
export interface HonchVectors {
  /** The conformance fixtures. */
  wire_v2_fixtures: WireFixture[];
  /** The ports of test_wire_v2.c. */
  unit_vectors_test_wire_v2_c: { vectors: UnitVector[] };
  /** The JSON ingest fixtures. */
  json_ingest_fixtures: JsonIngestFixture[];
}

/** The parsed vectors file. */
export const vectors: HonchVectors = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/honch_wire_v2.json", import.meta.url)),
);

/**
 * Turns a decimal string or number into a number when safe, else a bigint.
 *
 * @param value The integer as the vectors write it.
 * @returns The integer.
 */
export function integer(value: unknown): number | bigint {
  const big = BigInt(value as string | number);
  return big >= -BigInt(Number.MAX_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big;
}

function pattern(text: string): string {
  const match = /^'(.)' repeated (\d+) times$/.exec(text);
  if (!match) throw new Error(`Unknown value pattern ${text}`);
  return match[1].repeat(Number(match[2]));
}

/**
 * Converts a typed value of the vectors into a {@linkcode WireValue}. Invalid
 * UTF-8 (`value_hex`) has no JavaScript string form, so it becomes a string
 * with a lone surrogate, the JavaScript analogue the encoder also refuses.
 *
 * @param json The typed value.
 * @returns The wire value.
 */
export function toValue(json: TypedValueJson): WireValue {
  switch (json.type) {
    case "null":
      return { type: "null" };
    case "bool":
      return { type: "bool", value: json.value as boolean };
    case "uint":
    case "int":
      return { type: json.type, value: integer(json.value) };
    case "float32":
    case "float64": {
      if (json.bits_hex !== undefined) {
        const view = new DataView(hex.decode(json.bits_hex).buffer);
        return {
          type: json.type,
          value: json.type === "float32" ? view.getFloat32(0) : view.getFloat64(0),
        };
      }
      return { type: json.type, value: json.value as number };
    }
    case "string": {
      if (json.value_pattern !== undefined) {
        return { type: "string", value: pattern(json.value_pattern) };
      }
      if (json.value_hex !== undefined) {
        try {
          const text = new TextDecoder("utf-8", { fatal: true }).decode(hex.decode(json.value_hex));
          return { type: "string", value: text };
        } catch {
          return { type: "string", value: "\ud800" };
        }
      }
      return { type: "string", value: json.value as string };
    }
    case "bytes":
      return { type: "bytes", value: hex.decode(json.hex ?? "") };
    case "array":
      return { type: "array", items: (json.items ?? []).map(toValue) };
    case "map":
      return {
        type: "map",
        entries: (json.entries ?? []).map((entry) => ({
          key: entry.key as string,
          value: toValue(entry.value),
        })),
      };
    default:
      throw new Error(`Unknown typed value ${json.type}`);
  }
}

/**
 * Converts a vectors batch input into a {@linkcode WireBatch}, generating the
 * events of an `events_pattern`.
 *
 * @param input The batch input.
 * @returns The batch.
 */
export function toBatch(input: BatchInputJson): WireBatch {
  const context: WireContextEntry[] = input.context.map((entry) => ({
    id: entry.id,
    value: toValue(entry.value),
  }));
  let events: WireEvent[];
  if (input.events_pattern !== undefined) {
    const spec = input.events_pattern;
    if (
      spec.timestamp_ms !== "1000 + event_index" ||
      !spec.properties.startsWith("64 properties k00..k63")
    ) {
      throw new Error(`Unknown events pattern ${JSON.stringify(spec)}`);
    }
    events = Array.from({ length: spec.count }, (_, index) => ({
      name: spec.event,
      timestampMs: 1000 + index,
      properties: Array.from({ length: 64 }, (_, j) => ({
        key: `k${String(j).padStart(2, "0")}`,
        value: { type: "uint", value: 123456789 + j } as WireValue,
      })),
    }));
  } else {
    events = (input.events ?? []).map((event) => ({
      name: event.event,
      timestampMs: event.timestamp_ms,
      properties: event.properties.map((property) => ({
        key: property.key,
        value: toValue(property.value),
      })),
    }));
  }
  return { baseTimeMs: input.base_time_ms, context, events };
}

/**
 * The vectors of the given kinds.
 *
 * @param kinds The kinds wanted.
 * @returns The matching unit vectors.
 */
export function unitVectors(...kinds: string[]): UnitVector[] {
  return vectors.unit_vectors_test_wire_v2_c.vectors.filter((vector) =>
    kinds.includes(vector.kind)
  );
}
