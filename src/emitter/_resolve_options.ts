/**
 * Checks {@linkcode EmitterClientOptions} once and settles the defaults, in
 * the house wording, with the names the other clients use for the same ideas.
 *
 * @module
 */

import { resolveBackoffOption, type ResolvedBackoff } from "../core/_backoff_option.ts";
import {
  integer,
  invalidArgument,
  optionalFunction,
  webSocketClass,
  webSocketUrl,
} from "../core/validate.ts";
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
  const WebSocketClass = webSocketClass(ACTION, options.WebSocket);
  return {
    endpoint: options.endpoint === undefined
      ? "wss://api.emitter.io:443/"
      : webSocketUrl(ACTION, "endpoint", options.endpoint),
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
