/**
 * Reads {@linkcode MkStatsClientOptions} once, at construction, through the
 * core validation helpers: every field checked, every default applied, so
 * the rest of the client works from plain, trusted settings.
 *
 * @module
 */

import { BackoffGate } from "../core/backoff.ts";
import { resolveBackoffOption } from "../core/_backoff_option.ts";
import { DEFAULT_TIMEOUT_MS } from "../core/http.ts";
import { readEnv } from "../core/runtime/mod.ts";
import { MemoryStorage, type Storage } from "../core/storage.ts";
import {
  integer,
  invalidArgument,
  nonEmptyString,
  optionalFunction,
  optionalObject,
  positiveNumber,
} from "../core/validate.ts";
import { getClientName } from "./identity.ts";
import { DEFAULT_ENDPOINT, type MkStatsClientOptions, normalizeEndpoint } from "./options.ts";

/** What {@linkcode MkStatsClient} is built from: the options, checked and defaulted. */
export interface MkStatsSettings {
  pluginId: string;
  pluginVersion: string;
  endpoint: string;
  clientName: string;
  clientVersion: string;
  deviceId: string | undefined;
  userHash: string | undefined;
  deviceFingerprint: string | undefined;
  storage: Storage;
  /** Where this plugin's keys live in `storage`. */
  prefix: string;
  timeoutMs: number;
  powMaxMs: number;
  maxQueuedEvents: number;
  fetch: typeof fetch | undefined;
  now: () => number;
  /** The backoff shared by the flush and direct calls. */
  gate: BackoffGate;
}

const ACTION = "create MkStatsClient";
const HEX64 = /^[0-9a-f]{64}$/;

/** A non-empty string that is not only blanks, as the server requires. */
function text(field: string, value: unknown, fallback?: string): string {
  const checked = nonEmptyString(ACTION, field, value, fallback);
  if (checked.trim() === "") throw invalidArgument(ACTION, field, "a non-empty string", value);
  return checked;
}

function hex64(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !HEX64.test(value)) {
    throw invalidArgument(ACTION, field, "64 lowercase hex characters", value);
  }
  return value;
}

/**
 * Checks every option and applies the defaults.
 *
 * @param options What the caller gave.
 * @returns The settings.
 * @throws {InvalidArgumentError} When an option has a value the client cannot use.
 */
export function resolveSettings(options: MkStatsClientOptions): MkStatsSettings {
  if (typeof options !== "object" || options === null) {
    throw invalidArgument(ACTION, "options", "an object", options);
  }
  const pluginId = text("pluginId", options.pluginId);
  const endpoint = options.endpoint ?? readEnv("MKSTATS_API_URL") ?? DEFAULT_ENDPOINT;
  const now = optionalFunction<() => number>(ACTION, "now", options.now) ?? Date.now;
  const backoff = resolveBackoffOption(ACTION, options.backoff);
  const deviceId = options.deviceId === undefined ? undefined : text("deviceId", options.deviceId);
  return {
    pluginId,
    pluginVersion: text("pluginVersion", options.pluginVersion),
    endpoint: normalizeEndpoint(endpoint),
    clientName: text("clientName", options.clientName, getClientName()),
    clientVersion: text("clientVersion", options.clientVersion, "unknown"),
    deviceId,
    userHash: hex64("userHash", options.userHash),
    deviceFingerprint: hex64("deviceFingerprint", options.deviceFingerprint),
    storage:
      optionalObject<Storage>(ACTION, "storage", options.storage, ["get", "set", "delete"]) ??
        new MemoryStorage(),
    prefix: `mkstats:${pluginId}:`,
    timeoutMs: positiveNumber(ACTION, "timeoutMs", options.timeoutMs, DEFAULT_TIMEOUT_MS),
    powMaxMs: positiveNumber(ACTION, "powMaxMs", options.powMaxMs, 6000),
    maxQueuedEvents: integer(ACTION, "maxQueuedEvents", options.maxQueuedEvents, 1000),
    fetch: optionalFunction<typeof fetch>(ACTION, "fetch", options.fetch),
    now,
    gate: new BackoffGate({
      ...backoff,
      random: optionalFunction<() => number>(ACTION, "random", options.random),
      now,
    }),
  };
}
