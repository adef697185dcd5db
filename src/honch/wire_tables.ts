/**
 * The fixed tables of Honch wire format v2: the SDK and capture size
 * limits, the context key ids, the context keys promoted into every event,
 * and the reserved property ids written as numbers instead of strings.
 *
 * @module
 */

import type { WireLimits } from "./wire_types.ts";

/**
 * The default SDK limits every official SDK keeps to, and that
 * {@linkcode encodeMessage} enforces.
 *
 * @example
 * ```ts
 * import { WIRE_LIMITS } from "@edgewire/sdk/honch";
 *
 * console.log(WIRE_LIMITS.maxMessageBytes); // 4096
 * ```
 */
export const WIRE_LIMITS: {
  readonly maxEvents: 50;
  readonly maxStrings: 128;
  readonly maxStringBytes: 512;
  readonly maxTotalStringBytes: 2048;
  readonly maxProperties: 64;
  readonly maxDepth: 8;
  readonly maxMessageBytes: 4096;
} = Object.freeze({
  maxEvents: 50,
  maxStrings: 128,
  maxStringBytes: 512,
  maxTotalStringBytes: 2048,
  maxProperties: 64,
  maxDepth: 8,
  maxMessageBytes: 4096,
});

/**
 * The default capture (server) hard limits: never lower than the SDK limits,
 * for a collector to pass to {@linkcode decodeMessage}.
 *
 * @example
 * ```ts
 * import { CAPTURE_LIMITS, decodeMessage } from "@edgewire/sdk/honch";
 *
 * const decode = (body: Uint8Array) => decodeMessage(body, { limits: CAPTURE_LIMITS });
 * console.log(typeof decode); // "function"
 * ```
 */
export const CAPTURE_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxEvents: 500,
  maxStrings: 4096,
  maxStringBytes: 4096,
  maxTotalStringBytes: 256 * 1024,
  maxProperties: 64,
  maxDepth: 8,
  maxMessageBytes: 1024 * 1024,
});

/**
 * The context key ids by name. Ids 1-8 are promoted into every expanded
 * event (1 as its `distinct_id`, the rest as properties); 9 and 10 are ingest
 * metadata; 11-127 are reserved; 128 and above are extensions.
 *
 * @example
 * ```ts
 * import { CONTEXT_KEY_IDS } from "@edgewire/sdk/honch";
 *
 * console.log(CONTEXT_KEY_IDS.$session_id); // 8
 * ```
 */
export const CONTEXT_KEY_IDS: Readonly<Record<string, number>> = Object.freeze({
  distinct_id: 1,
  $device_id: 2,
  $device_model: 3,
  $firmware_version: 4,
  $sdk_platform: 5,
  $sdk_version: 6,
  $environment: 7,
  $session_id: 8,
  device_time_source: 9,
  capabilities: 10,
});

/**
 * The context keys promoted into every expanded event's properties, in id
 * order (`distinct_id` … `$session_id`): no event property may use them.
 *
 * @example
 * ```ts
 * import { PROMOTED_CONTEXT_KEYS } from "@edgewire/sdk/honch";
 *
 * console.log(PROMOTED_CONTEXT_KEYS.includes("$device_id")); // true
 * ```
 */
export const PROMOTED_CONTEXT_KEYS: readonly string[] = Object.freeze(
  Object.keys(CONTEXT_KEY_IDS).slice(0, 8),
);

/**
 * The reserved property ids by name: these keys are written as
 * `id << 1` instead of a string table reference.
 *
 * @example
 * ```ts
 * import { RESERVED_PROPERTY_IDS } from "@edgewire/sdk/honch";
 *
 * console.log(RESERVED_PROPERTY_IDS.$battery_level); // 1
 * ```
 */
export const RESERVED_PROPERTY_IDS: Readonly<Record<string, number>> = Object.freeze({
  $battery_level: 1,
  $wifi_rssi: 2,
  reset_reason: 3,
  state: 4,
  previous_version: 5,
  new_version: 6,
  session_name: 7,
});
