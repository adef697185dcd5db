/**
 * Honch product analytics, wire format v2: the typed values, the compact
 * event-batch message codec, the frames that carry it (with CRC-16 and
 * reassembly), and the expansion a collector stores. Byte-compatible with
 * Honch's capture service and its conformance fixtures. {@linkcode HonchClient}
 * queues, batches and uploads events on top of them.
 *
 * @example Encode a batch, frame it, reassemble and decode it
 * ```ts
 * import { decodeMessage, encodeFrames, encodeMessage, FrameAssembler, toWireValue } from "@edgewire/sdk/honch";
 *
 * const context = ["user-1", "device-1", "model-x", "1.0.0", "posix", "0.3.1", "production"]
 *   .map((value, i) => ({ id: i + 1, value: toWireValue(value) }));
 * const message = encodeMessage({
 *   baseTimeMs: 1700000000000,
 *   context,
 *   events: [{ name: "boot", timestampMs: 1700000000000, properties: [] }],
 * });
 * const assembler = new FrameAssembler();
 * let result;
 * for (const frame of encodeFrames(message, { messageId: 1, maxFrameBytes: 32 })) result = assembler.push(frame);
 * if (result?.complete) console.log(decodeMessage(result.message).events[0].name); // "boot"
 * ```
 *
 * @module
 */

export { HonchClient } from "./client.ts";
export { HONCH_SDK_VERSION } from "./version.ts";
export type { FlushOptions, HonchClientOptions, LogErrorOptions } from "./options.ts";
export type { DeliveryStep, FlushResult, HonchQueueStats, TickResult } from "./results.ts";
export {
  fetchTransport,
  type HonchTransport,
  type HonchTransportRequest,
  type HonchTransportResponse,
} from "./transport.ts";
// Invalid arguments and storage failures are the core's classes, shared by every client.
export { InvalidArgumentError } from "../core/errors.ts";
export { StorageError } from "../core/storage.ts";
export {
  HonchError,
  NotInitializedError,
  OfflineError,
  RateLimitedError,
  RejectedError,
  ServerError,
  TransportError,
  WireFormatError,
  type WireFormatProblem,
} from "./errors.ts";
export {
  toWireValue,
  type ToWireValueOptions,
  type WireValue,
  wireValueToJson,
} from "./wire_value.ts";
export {
  CAPTURE_LIMITS,
  CONTEXT_KEY_IDS,
  decodeMessage,
  type DecodeOptions,
  encodeMessage,
  type EncodeOptions,
  largestFittingPrefix,
  PROMOTED_CONTEXT_KEYS,
  RESERVED_PROPERTY_IDS,
  WIRE_LIMITS,
  type WireBatch,
  type WireContextEntry,
  type WireEvent,
  type WireLimits,
  type WireProperty,
} from "./wire_v2.ts";
export { expandBatch, type ExpandedEvent, type ExpandOptions } from "./expand.ts";
export {
  type AssembleResult,
  type AssemblerOptions,
  crc16,
  decodeFrame,
  encodeFrames,
  type Frame,
  FrameAssembler,
  type FrameOptions,
} from "./frames.ts";
