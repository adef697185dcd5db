/**
 * Validates {@linkcode HonchClientOptions} once, at construction, through
 * the core's option checks, and fills in the defaults: every error names
 * the option, what it must be and what it was, and numbers beyond the wire
 * limits are clamped.
 *
 * @module
 */

import { resolveBackoffOption } from "../core/_backoff_option.ts";
import type { Jitter } from "../core/backoff.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { pageOrigin } from "../core/runtime/mod.ts";
import { MemoryStorage, type Storage } from "../core/storage.ts";
import {
  httpUrl,
  integer,
  nonEmptyString,
  optionalFunction,
  optionalObject,
} from "../core/validate.ts";
import { SPACING_DISABLED } from "./_delivery.ts";
import { MAX_CONTEXT_BYTES, MAX_DISTINCT_ID_BYTES } from "./_properties.ts";
import type { HonchClientOptions } from "./options.ts";
import { fetchTransport, type HonchTransport } from "./transport.ts";

/**
 * The options with every default filled in. Each field is the option of the
 * same name, except `flushIntervalMs` (`flushIntervalSeconds` in
 * milliseconds), `minIntervalMs` (`flushMinIntervalMs`), and `transport`,
 * which is `fetchTransport(fetch)` unless one was given.
 */
export interface ResolvedOptions {
  apiKey: string;
  deviceId: string;
  deviceModel: string;
  firmwareVersion: string;
  endpoint: string;
  environment: string;
  resetReason: string;
  batchSize: number;
  maxQueuedEvents: number;
  maxEventBytes: number;
  timeoutMs: number;
  flushIntervalMs: number;
  minIntervalMs: number;
  flushEventThreshold: number;
  backoff: { initialMs: number; maxMs: number; jitter: Jitter };
  batteryLowThreshold: number;
  connectivity: (() => boolean) | undefined;
  batteryLevel: (() => number | undefined) | undefined;
  autoProperties: (() => Record<string, unknown> | undefined) | undefined;
  transport: HonchTransport;
  now: () => number;
  random: () => number;
  storage: Storage;
  globals: object;
}

const ACTION = "create HonchClient";
const MAX_BATCH_SIZE = 50;
const MAX_TIMEOUT_MS = 10_000;
/** The Honch protocol's backoff: ±25% around a doubling delay. */
const HONCH_JITTER = 0.25;

/**
 * Checks the options and fills in the defaults.
 *
 * @param options What the caller passed to the constructor.
 * @returns The options to build the client from.
 * @throws {InvalidArgumentError} When an option is missing or invalid; `argument` names it.
 */
export function resolveOptions(options: HonchClientOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(
      "options",
      "Cannot create HonchClient as 'options' must be an object: pass apiKey, deviceId, deviceModel and firmwareVersion",
    );
  }
  const context = { maxBytes: MAX_CONTEXT_BYTES };
  const globals = optionalObject<object>(ACTION, "globals", options.globals) ?? globalThis;
  const origin = pageOrigin(globals);
  if (options.endpoint === undefined && origin === undefined) {
    throw new InvalidArgumentError(
      "endpoint",
      "Cannot create HonchClient as 'endpoint' is not set and there is no page origin to default to: pass your capture endpoint, such as \"https://collector.example.com\"",
    );
  }
  const backoff = resolveBackoffOption(ACTION, options.backoff, HONCH_JITTER);
  const fetchImpl = optionalFunction<typeof fetch>(ACTION, "fetch", options.fetch);
  return {
    apiKey: nonEmptyString(ACTION, "apiKey", options.apiKey),
    deviceId: nonEmptyString(ACTION, "deviceId", options.deviceId, undefined, {
      maxBytes: MAX_DISTINCT_ID_BYTES,
    }),
    deviceModel: nonEmptyString(ACTION, "deviceModel", options.deviceModel, undefined, context),
    firmwareVersion: nonEmptyString(
      ACTION,
      "firmwareVersion",
      options.firmwareVersion,
      undefined,
      context,
    ),
    endpoint: httpUrl(ACTION, "endpoint", options.endpoint, origin),
    environment: nonEmptyString(ACTION, "environment", options.environment, "production", context),
    resetReason: nonEmptyString(ACTION, "resetReason", options.resetReason, "unknown", context),
    batchSize: Math.min(integer(ACTION, "batchSize", options.batchSize, 20), MAX_BATCH_SIZE),
    maxQueuedEvents: integer(ACTION, "maxQueuedEvents", options.maxQueuedEvents, 1000),
    maxEventBytes: integer(ACTION, "maxEventBytes", options.maxEventBytes, 8192, { min: 256 }),
    timeoutMs: Math.min(integer(ACTION, "timeoutMs", options.timeoutMs, 2500), MAX_TIMEOUT_MS),
    flushIntervalMs: integer(ACTION, "flushIntervalSeconds", options.flushIntervalSeconds, 120) *
      1000,
    minIntervalMs: integer(ACTION, "flushMinIntervalMs", options.flushMinIntervalMs, 15_000, {
      min: 0,
      max: SPACING_DISABLED,
    }),
    flushEventThreshold: integer(ACTION, "flushEventThreshold", options.flushEventThreshold, 20),
    backoff,
    batteryLowThreshold: integer(
      ACTION,
      "batteryLowThreshold",
      options.batteryLowThreshold,
      15,
      { min: 0, max: 100 },
    ),
    connectivity: optionalFunction(ACTION, "connectivity", options.connectivity),
    batteryLevel: optionalFunction(ACTION, "batteryLevel", options.batteryLevel),
    autoProperties: optionalFunction(ACTION, "autoProperties", options.autoProperties),
    transport: optionalFunction<HonchTransport>(ACTION, "transport", options.transport) ??
      fetchTransport(fetchImpl),
    now: optionalFunction<() => number>(ACTION, "now", options.now) ?? (() => Date.now()),
    random: optionalFunction<() => number>(ACTION, "random", options.random) ?? cryptoRandom,
    storage: optionalObject<Storage>(ACTION, "storage", options.storage, [
      "get",
      "set",
      "delete",
    ]) ?? new MemoryStorage(),
    globals,
  };
}

function cryptoRandom(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] / 0x1_0000_0000;
}
