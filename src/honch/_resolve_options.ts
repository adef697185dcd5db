/**
 * Validates {@linkcode HonchClientOptions} once, at construction, and fills
 * in the defaults: every error names the option, what it must be and what it
 * was, and numbers beyond the wire limits are clamped.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { MemoryStorage, type Storage } from "../core/storage.ts";
import { SPACING_DISABLED } from "./_delivery.ts";
import { pageOrigin } from "./_page_lifecycle.ts";
import { MAX_CONTEXT_BYTES, MAX_DISTINCT_ID_BYTES, utf8Length } from "./_properties.ts";
import type { HonchClientOptions } from "./options.ts";
import { fetchTransport, type HonchTransport } from "./transport.ts";

/**
 * The options with every default filled in. Each field is the option of the
 * same name, except `timeoutMs` (`transportTimeoutMs`), `flushIntervalMs`
 * (`flushIntervalSeconds` in milliseconds), `minIntervalMs`
 * (`flushMinIntervalMs`), `retryInitialMs` and `retryMaxMs`
 * (`flushRetryInitialMs`, `flushRetryMaxMs`), and `transport`, which is
 * `fetchTransport(fetch)` unless one was given.
 */
export interface ResolvedOptions {
  apiKey: string;
  deviceId: string;
  deviceModel: string;
  firmwareVersion: string;
  endpointUrl: string;
  environment: string;
  resetReason: string;
  batchSize: number;
  maxQueuedEvents: number;
  maxEventBytes: number;
  timeoutMs: number;
  flushIntervalMs: number;
  minIntervalMs: number;
  flushEventThreshold: number;
  retryInitialMs: number;
  retryMaxMs: number;
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

const MAX_BATCH_SIZE = 50;
const MAX_TRANSPORT_TIMEOUT_MS = 10_000;

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
  const apiKey = requiredString(options, "apiKey", Infinity);
  const deviceId = requiredString(options, "deviceId", MAX_DISTINCT_ID_BYTES);
  const deviceModel = requiredString(options, "deviceModel", MAX_CONTEXT_BYTES);
  const firmwareVersion = requiredString(options, "firmwareVersion", MAX_CONTEXT_BYTES);
  const environment = optionalString(options, "environment", "production");
  const globals = options.globals ?? globalThis;
  if (typeof globals !== "object" || globals === null) {
    throw invalid("globals", "must be an object", typeof globals);
  }
  const origin = pageOrigin(globals);
  if (options.endpointUrl === undefined && origin === undefined) {
    throw new InvalidArgumentError(
      "endpointUrl",
      "Cannot create HonchClient as 'endpointUrl' is not set and there is no page origin to default to: pass your capture endpoint, such as \"https://collector.example.com\"",
    );
  }
  const endpointUrl = optionalString(options, "endpointUrl", origin ?? "");
  let parsed: URL | undefined;
  try {
    parsed = new URL(endpointUrl);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
    throw invalid("endpointUrl", "must be an http or https URL", JSON.stringify(endpointUrl));
  }
  const resetReason = optionalString(options, "resetReason", "unknown");
  const batchSize = Math.min(integer(options, "batchSize", 20, 1), MAX_BATCH_SIZE);
  const maxQueuedEvents = integer(options, "maxQueuedEvents", 1000, 1);
  const maxEventBytes = integer(options, "maxEventBytes", 8192, 256);
  const timeoutMs = Math.min(
    integer(options, "transportTimeoutMs", 2500, 1),
    MAX_TRANSPORT_TIMEOUT_MS,
  );
  const flushIntervalMs = integer(options, "flushIntervalSeconds", 120, 1) * 1000;
  const minIntervalMs = integer(options, "flushMinIntervalMs", 15_000, 0, SPACING_DISABLED);
  const flushEventThreshold = integer(options, "flushEventThreshold", 20, 1);
  const retryInitialMs = integer(options, "flushRetryInitialMs", 1000, 1);
  const retryMaxMs = integer(options, "flushRetryMaxMs", 300_000, 1);
  if (retryMaxMs < retryInitialMs) {
    throw invalid(
      "flushRetryMaxMs",
      `must be at least 'flushRetryInitialMs' (${retryInitialMs})`,
      String(retryMaxMs),
    );
  }
  const batteryLowThreshold = integer(options, "batteryLowThreshold", 15, 0, 100);
  const connectivity = callback<() => boolean>(options, "connectivity");
  const batteryLevel = callback<() => number | undefined>(options, "batteryLevel");
  const autoProperties = callback<() => Record<string, unknown> | undefined>(
    options,
    "autoProperties",
  );
  const fetchImpl = callback<typeof fetch>(options, "fetch");
  const transport = callback<HonchTransport>(options, "transport") ?? fetchTransport(fetchImpl);
  const now = callback<() => number>(options, "now") ?? (() => Date.now());
  const random = callback<() => number>(options, "random") ?? cryptoRandom;
  const storage = options.storage ?? new MemoryStorage();
  if (
    typeof storage !== "object" || storage === null || typeof storage.get !== "function" ||
    typeof storage.set !== "function" || typeof storage.delete !== "function"
  ) {
    throw invalid("storage", "must have get, set and delete methods", typeof storage);
  }
  return {
    apiKey,
    deviceId,
    deviceModel,
    firmwareVersion,
    endpointUrl,
    environment,
    resetReason,
    batchSize,
    maxQueuedEvents,
    maxEventBytes,
    timeoutMs,
    flushIntervalMs,
    minIntervalMs,
    flushEventThreshold,
    retryInitialMs,
    retryMaxMs,
    batteryLowThreshold,
    connectivity,
    batteryLevel,
    autoProperties,
    transport,
    now,
    random,
    storage,
    globals,
  };
}

function invalid(field: string, rule: string, current: string): InvalidArgumentError {
  return new InvalidArgumentError(
    field,
    `Cannot create HonchClient as '${field}' ${rule}: current value is ${current}`,
  );
}

function requiredString(options: object, field: string, maxBytes: number): string {
  const value = (options as Record<string, unknown>)[field];
  if (typeof value !== "string" || value === "") {
    throw invalid(
      field,
      "must be a non-empty string",
      typeof value === "string" ? '""' : typeof value,
    );
  }
  if (maxBytes !== Infinity && utf8Length(value) > maxBytes) {
    throw invalid(field, `must be at most ${maxBytes} bytes`, `${utf8Length(value)} bytes long`);
  }
  return value;
}

function optionalString(options: object, field: string, fallback: string): string {
  const value = (options as Record<string, unknown>)[field];
  if (value === undefined) return fallback;
  return requiredString(options, field, MAX_CONTEXT_BYTES);
}

function integer(
  options: object,
  field: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = (options as Record<string, unknown>)[field];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER
      ? `an integer of at least ${min}`
      : `${min}..${max}`;
    throw invalid(field, `must be ${range}`, String(value));
  }
  return value;
}

// deno-lint-ignore no-explicit-any
function callback<F extends (...args: any[]) => any>(
  options: object,
  field: string,
): F | undefined {
  const value = (options as Record<string, unknown>)[field];
  if (value === undefined) return undefined;
  if (typeof value !== "function") throw invalid(field, "must be a function", typeof value);
  return value as F;
}

function cryptoRandom(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] / 0x1_0000_0000;
}
