/**
 * Checks {@linkcode EmitterClientOptions} once and settles the defaults, in
 * the house wording, with the names the other clients use for the same ideas.
 *
 * @module
 */

import { resolveBackoffOption, type ResolvedBackoff } from "../core/_backoff_option.ts";
import { integer, invalidArgument, optionalFunction } from "../core/validate.ts";
import type { EmitterClientOptions } from "./options.ts";

const ACTION = "create EmitterClient";

/** The options with every field settled. */
export interface ResolvedEmitterOptions {
  endpoint: string;
  clientId: string;
  username: string | undefined;
  keepaliveSeconds: number;
  timeoutMs: number;
  backoff: ResolvedBackoff;
  maxQueuedEvents: number;
  maxQueuedBytes: number;
  WebSocket: typeof WebSocket;
  now: () => number;
  random: () => number;
}

function wsUrl(value: unknown): string {
  if (value === undefined) return "wss://api.emitter.io:443/";
  let url: URL | undefined;
  try {
    if (typeof value === "string" || value instanceof URL) url = new URL(value);
  } catch {
    // Reported below with the house wording
  }
  if (url === undefined || (url.protocol !== "ws:" && url.protocol !== "wss:")) {
    throw invalidArgument(ACTION, "endpoint", "an absolute ws or wss URL", value);
  }
  return url.href;
}

function optionalString(field: string, value: unknown, fallback: string | undefined) {
  if (value === undefined) return fallback;
  if (typeof value !== "string") throw invalidArgument(ACTION, field, "a string", value);
  return value;
}

/**
 * Validates the client options and applies the defaults.
 *
 * @param options The options as given.
 * @returns The settled options.
 * @throws {InvalidArgumentError} When a field is unusable, naming it.
 */
export function resolveEmitterOptions(options: EmitterClientOptions): ResolvedEmitterOptions {
  if (typeof options !== "object" || options === null) {
    throw invalidArgument(ACTION, "options", "an object", options);
  }
  const WebSocketClass = (optionalFunction(ACTION, "WebSocket", options.WebSocket) as
    | typeof WebSocket
    | undefined) ??
    (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (WebSocketClass === undefined) {
    throw invalidArgument(ACTION, "WebSocket", "a WebSocket class in this runtime", undefined);
  }
  return {
    endpoint: wsUrl(options.endpoint),
    clientId: optionalString("clientId", options.clientId, "") ?? "",
    username: optionalString("username", options.username, undefined),
    keepaliveSeconds: integer(ACTION, "keepaliveSeconds", options.keepaliveSeconds, 30, {
      min: 1,
      max: 65535,
    }),
    timeoutMs: integer(ACTION, "timeoutMs", options.timeoutMs, 10_000),
    backoff: resolveBackoffOption(ACTION, options.backoff),
    maxQueuedEvents: integer(ACTION, "maxQueuedEvents", options.maxQueuedEvents, 1000),
    maxQueuedBytes: integer(ACTION, "maxQueuedBytes", options.maxQueuedBytes, 1_048_576),
    WebSocket: WebSocketClass,
    now: optionalFunction<() => number>(ACTION, "now", options.now) ?? Date.now,
    random: optionalFunction<() => number>(ACTION, "random", options.random) ?? Math.random,
  };
}
