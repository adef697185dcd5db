/**
 * The shapes of Honch wire format v2 as JavaScript sees them: a batch of
 * events with its shared context, each event's properties, and the size
 * limits a message is checked against. Types only.
 *
 * @example
 * ```ts
 * import type { WireBatch } from "@edgewire/sdk/honch";
 *
 * const batch: WireBatch = { baseTimeMs: 0, context: [], events: [] };
 * console.log(batch.events.length); // 0
 * ```
 *
 * @module
 */

import type { WireValue } from "./wire_value.ts";

/** One property of an event, or one entry of a nested map. */
export interface WireProperty {
  /** The property name; reserved names such as `$battery_level` travel as numeric ids. */
  key: string;
  /** The typed value. */
  value: WireValue;
}

/** One event of a batch. */
export interface WireEvent {
  /** The event name, never empty. */
  name: string;
  /** When the event happened, in epoch milliseconds. */
  timestampMs: number;
  /** The event's own properties, in wire order; promoted context keys are not allowed here. */
  properties: WireProperty[];
}

/**
 * One batch context entry: `id` is a context key id (1 `distinct_id` … 7
 * `$environment` required strings, 8 `$session_id`, 9 `device_time_source`
 * 0..3, 10 `capabilities`, 128 and above extensions of any value).
 */
export interface WireContextEntry {
  /** The context key id, see {@linkcode CONTEXT_KEY_IDS}. */
  id: number;
  /** The typed value: a string for ids 1-8, a uint for 9 and 10. */
  value: WireValue;
}

/** A batch of events sharing one context, the content of one compact message. */
export interface WireBatch {
  /** The epoch milliseconds every event time is a delta from. */
  baseTimeMs: number;
  /** The batch context; the encoder writes it in ascending id order. */
  context: WireContextEntry[];
  /** The events, 1 to {@linkcode WIRE_LIMITS}.maxEvents of them. */
  events: WireEvent[];
}

/** The size limits a compact message is checked against. */
export interface WireLimits {
  /** Events per message. */
  maxEvents: number;
  /** String table entries. */
  maxStrings: number;
  /** UTF-8 bytes per string table entry. */
  maxStringBytes: number;
  /** UTF-8 bytes of the whole string table. */
  maxTotalStringBytes: number;
  /** Properties per event. */
  maxProperties: number;
  /** How many arrays and maps may nest inside one another. */
  maxDepth: number;
  /** Bytes of the whole compact message, before chunking. */
  maxMessageBytes: number;
}
