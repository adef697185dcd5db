/**
 * Expansion of a decoded compact message into the canonical Honch event
 * model, as capture stores it: the batch context is promoted into each event
 * (`distinct_id` as a top-level field, ids 2-8 as properties) and typed values
 * become JSON values.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { WireFormatError } from "./errors.ts";
import { EVENT_ENVELOPE_BYTES, JsonSizer, numberLength } from "./_expanded_size.ts";
import { CONTEXT_KEY_IDS, type WireBatch } from "./wire_v2.ts";
import { setJsonProperty, wireValueToJson } from "./wire_value.ts";

/** One event in the canonical Honch event model. */
export interface ExpandedEvent {
  /** The event name. */
  event: string;
  /** The person the event belongs to, from the batch context. */
  distinct_id: string;
  /** When it happened, in epoch milliseconds (`base_time_ms + time_delta_ms`). */
  timestamp: number;
  /** The promoted context properties, then the event's own properties, as JSON values. */
  properties: Record<string, unknown>;
}

const PROMOTED_NAMES = Object.keys(CONTEXT_KEY_IDS).slice(0, 8);

/** Options of {@linkcode expandBatch}: bounds on what a batch may expand to. */
export interface ExpandOptions {
  /**
   * The most bytes all events of the batch may take together as canonical
   * JSON (`JSON.stringify` of each expanded event).
   *
   * @default Infinity
   */
  maxBytes?: number;
  /**
   * The most bytes one event may take as canonical JSON.
   *
   * @default Infinity
   */
  maxEventBytes?: number;
}

/**
 * Expands every event of a batch into the canonical event model. Context ids
 * 2-8 (`$device_id` … `$session_id`) become properties ahead of the event's
 * own; ingest metadata (ids 9, 10 and extensions) is not promoted. With
 * `maxBytes` or `maxEventBytes`, every event is measured from its compact
 * values first (a string referenced many times is measured once), so a batch
 * whose references would expand past a bound is refused before any of it
 * is built.
 *
 * @param batch A batch, as {@linkcode decodeMessage} returns it.
 * @param options The bounds on the expanded bytes, per batch and per event.
 * @returns One expanded event per event, in order.
 * @throws {InvalidArgumentError} When the batch has no string `distinct_id` context entry.
 * @throws {WireFormatError} `"oversize"` when the events would take more than `maxBytes`
 * together, or one of them more than `maxEventBytes`, as JSON.
 * @example
 * ```ts
 * import { expandBatch } from "@edgewire/sdk/honch";
 *
 * const text = (value: string) => ({ type: "string", value }) as const;
 * const [event] = expandBatch({
 *   baseTimeMs: 1000,
 *   context: [{ id: 1, value: text("user-1") }, { id: 2, value: text("device-1") }],
 *   events: [{ name: "boot", timestampMs: 1000, properties: [] }],
 * });
 * console.log(event.properties); // { "$device_id": "device-1" }
 * ```
 */
export function expandBatch(batch: WireBatch, options: ExpandOptions = {}): ExpandedEvent[] {
  let distinctId: string | undefined;
  const promoted: [string, unknown][] = [];
  const context = [...batch.context].sort((a, b) => a.id - b.id);
  for (const { id, value } of context) {
    if (id === 1 && value.type === "string") distinctId = value.value;
    else if (id >= 2 && id <= 8) promoted.push([PROMOTED_NAMES[id - 1], wireValueToJson(value)]);
  }
  if (distinctId === undefined) {
    throw new InvalidArgumentError(
      "context",
      "Cannot expand the batch as its context has no string 'distinct_id' (id 1): decode it with decodeMessage first",
    );
  }
  const maxBytes = options.maxBytes ?? Infinity;
  const maxEventBytes = options.maxEventBytes ?? Infinity;
  if (maxBytes < Infinity || maxEventBytes < Infinity) {
    measure(batch, distinctId, promoted, maxBytes, maxEventBytes);
  }
  const expanded: ExpandedEvent[] = new Array(batch.events.length);
  for (let index = 0; index < batch.events.length; index++) {
    const event = batch.events[index];
    const properties: Record<string, unknown> = {};
    for (const [key, value] of promoted) properties[key] = value;
    for (const property of event.properties) {
      setJsonProperty(properties, property.key, wireValueToJson(property.value));
    }
    expanded[index] = {
      event: event.name,
      distinct_id: distinctId,
      timestamp: event.timestampMs,
      properties,
    };
  }
  return expanded;
}

function measure(
  batch: WireBatch,
  distinctId: string,
  promoted: [string, unknown][],
  maxBytes: number,
  maxEventBytes: number,
): void {
  const sizer = new JsonSizer();
  // Promoted values are strings or JSON-safe values: their text is measured once per batch.
  let shared = EVENT_ENVELOPE_BYTES + sizer.text(distinctId);
  for (const [name, value] of promoted) {
    shared += sizer.text(name) + 1 + new TextEncoder().encode(JSON.stringify(value)).length;
  }
  let total = 0;
  for (let index = 0; index < batch.events.length; index++) {
    const event = batch.events[index];
    const entries = promoted.length + event.properties.length;
    let size = shared + sizer.text(event.name) + numberLength(event.timestampMs) +
      Math.max(0, entries - 1);
    for (const property of event.properties) {
      size += sizer.text(property.key) + 1 + sizer.value(property.value);
      if (size > maxEventBytes) break;
    }
    total += size;
    if (size > maxEventBytes) {
      throw new WireFormatError(
        "oversize",
        `Cannot expand the batch as event ${index} takes more than ${maxEventBytes} bytes as JSON: send smaller events`,
      );
    }
    if (total > maxBytes) {
      throw new WireFormatError(
        "oversize",
        `Cannot expand the batch as its events take more than ${maxBytes} bytes as JSON: send fewer or smaller events per message`,
      );
    }
  }
}
