/**
 * How queued Honch events become one wire-v2 message: the leading run of
 * the queue that shares the first event's identity and session, at most
 * `batchSize`, cut to the largest prefix that encodes within the wire limits,
 * with the device and SDK context of every batch. Pure: the queue is read,
 * never changed.
 *
 * @module
 */

import { toWireValue, type WireValue } from "./wire_value.ts";
import { encodeMessage, largestFittingPrefix } from "./message_encoder.ts";
import { WIRE_LIMITS } from "./wire_tables.ts";
import type { WireBatch, WireContextEntry, WireEvent, WireProperty } from "./wire_types.ts";

/**
 * One event as the client queues it. `properties` holds the plain JavaScript
 * values given to `track()` (plus the automatic ones), already validated with
 * `toWireValue`; they are converted again when a batch is built, so the
 * durable queue stores only JSON-like values.
 */
export interface QueuedEvent {
  /** The event name. */
  name: string;
  /** When the event happened, in Unix milliseconds. */
  timestampMs: number;
  /** The identity the event belongs to: context id 1 of its batch. */
  distinctId: string;
  /** The session the event belongs to: context id 8 of its batch, when present. */
  sessionId?: string;
  /**
   * User and automatic properties in sending order. `$battery_level` and
   * `$wifi_rssi` integers are written with the signed `int` tag, as the C SDK does.
   */
  properties: Record<string, unknown>;
}

/** The device and SDK context written into every batch (context ids 2 to 7). */
export interface DeliveryContext {
  /** `$device_id`, context id 2. */
  deviceId: string;
  /** `$device_model`, context id 3. */
  deviceModel: string;
  /** `$firmware_version`, context id 4. */
  firmwareVersion: string;
  /** `$sdk_platform`, context id 5. */
  sdkPlatform: string;
  /** `$sdk_version`, context id 6. */
  sdkVersion: string;
  /** `$environment`, context id 7. */
  environment: string;
}

/** One message formed from the head of the queue, or why the head event cannot be sent. */
export type BuiltBatch =
  | { count: number; message: Uint8Array; problem?: undefined }
  | { count: 0; problem: "oversize" | "rejected"; message?: undefined };

// The C SDK writes these reserved numbers with the signed tag whatever their sign.
const SIGNED_RESERVED_KEYS = new Set(["$battery_level", "$wifi_rssi"]);

/**
 * Forms the next message from the head of the queue.
 *
 * @param events The head of the queue, oldest first; never modified.
 * @param batchSize The most events in one message (at most 50, the wire limit).
 * @param context The device and SDK context.
 * @returns How many leading events the message holds and its bytes, or, when not even the
 * first fits, whether it is too large (`oversize`) or cannot be converted (`rejected`).
 */
export function buildBatch(
  events: readonly QueuedEvent[],
  batchSize: number,
  context: DeliveryContext,
): BuiltBatch {
  const first = events[0];
  const limit = Math.min(batchSize, WIRE_LIMITS.maxEvents, events.length);
  const wireEvents: WireEvent[] = [];
  let unconvertible = false;
  for (let index = 0; index < limit; index++) {
    const event = events[index];
    if (event.distinctId !== first.distinctId || event.sessionId !== first.sessionId) break;
    const converted = toWireEvent(event);
    if (converted === undefined) {
      unconvertible = index === 0;
      break;
    }
    wireEvents.push(converted);
  }
  const candidate: WireBatch = {
    baseTimeMs: first.timestampMs,
    context: contextOf(first, context),
    events: wireEvents,
  };
  const count = largestFittingPrefix(candidate);
  if (count === 0) return { count: 0, problem: unconvertible ? "rejected" : "oversize" };
  return { count, message: encodeMessage({ ...candidate, events: wireEvents.slice(0, count) }) };
}

function contextOf(first: QueuedEvent, c: DeliveryContext): WireContextEntry[] {
  const values = [
    first.distinctId,
    c.deviceId,
    c.deviceModel,
    c.firmwareVersion,
    c.sdkPlatform,
    c.sdkVersion,
    c.environment,
  ];
  const context: WireContextEntry[] = values.map((value, index) => ({
    id: index + 1,
    value: { type: "string", value },
  }));
  if (first.sessionId !== undefined) {
    context.push({ id: 8, value: { type: "string", value: first.sessionId } });
  }
  return context;
}

function toWireEvent(event: QueuedEvent): WireEvent | undefined {
  const properties: WireProperty[] = [];
  try {
    for (const key of Object.keys(event.properties)) {
      let value: WireValue = toWireValue(event.properties[key], { path: `properties.${key}` });
      if (value.type === "uint" && SIGNED_RESERVED_KEYS.has(key)) {
        value = { type: "int", value: value.value };
      }
      properties.push({ key, value });
    }
  } catch (error) {
    if (error instanceof TypeError) return undefined;
    throw error;
  }
  return { name: event.name, timestampMs: event.timestampMs, properties };
}
