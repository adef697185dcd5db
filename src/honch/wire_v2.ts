/**
 * The Honch compact event message (wire format v2), in one place: its types
 * (`wire_types.ts`), its tables and limits (`wire_tables.ts`), the encoder
 * {@linkcode encodeMessage} that writes a batch of events with its shared
 * context as the canonical bytes the official SDKs send
 * (`message_encoder.ts`), and the decoder {@linkcode decodeMessage} that
 * reads them back strictly, as capture does (`message_decoder.ts`). The
 * bytes travel inside chunk frames (see `frames.ts`).
 *
 * @example Encode a batch and decode it again
 * ```ts
 * import { decodeMessage, encodeMessage } from "@edgewire/sdk/honch";
 *
 * const text = (value: string) => ({ type: "string", value }) as const;
 * const bytes = encodeMessage({
 *   baseTimeMs: 1000,
 *   context: ["user-1", "device-1", "model-x", "1.0.0", "posix", "0.3.1", "production"]
 *     .map((value, index) => ({ id: index + 1, value: text(value) })),
 *   events: [{ name: "boot", timestampMs: 1000, properties: [] }],
 * });
 * console.log(decodeMessage(bytes).events[0].name); // "boot"
 * ```
 *
 * @module
 */

export type {
  WireBatch,
  WireContextEntry,
  WireEvent,
  WireLimits,
  WireProperty,
} from "./wire_types.ts";
export {
  CAPTURE_LIMITS,
  CONTEXT_KEY_IDS,
  PROMOTED_CONTEXT_KEYS,
  RESERVED_PROPERTY_IDS,
  WIRE_LIMITS,
} from "./wire_tables.ts";
export { encodeMessage, type EncodeOptions, largestFittingPrefix } from "./message_encoder.ts";
export { decodeMessage, type DecodeOptions } from "./message_decoder.ts";
