/**
 * Checks the Spot client's options once, at construction, and settles
 * every default.
 *
 * @module
 */

import { resolveBackoffOption, type ResolvedBackoff } from "../core/_backoff_option.ts";
import type { Storage } from "../core/storage/types.ts";
import {
  httpUrl,
  integer,
  invalidArgument,
  nonEmptyString,
  optionalFunction,
  optionalObject,
  webSocketClass,
  webSocketUrl,
} from "../core/validate.ts";
import { PrivateKey } from "./crypto/mod.ts";
import type { SpotClientOptions } from "./options.ts";

const ACTION = "create SpotClient";

/** The discovery service of the real clients. */
export const DEFAULT_SPOT_ENDPOINT = "https://ws.atonline.com";

/** The options with every field settled. */
export interface ResolvedSpotOptions {
  url: string | undefined;
  endpoint: string;
  minConnections: number;
  key: PrivateKey | undefined;
  storage: Storage | undefined;
  storageKey: string;
  meta: Record<string, string>;
  timeoutMs: number;
  backoff: ResolvedBackoff;
  maxQueuedEvents: number;
  maxCachedIDCards: number;
  WebSocket: typeof WebSocket;
  fetch: typeof fetch;
  now: () => number;
  random: () => number;
}

function meta(value: unknown): Record<string, string> {
  const record = optionalObject<Record<string, unknown>>(ACTION, "meta", value) ?? {};
  const out: Record<string, string> = Object.create(null);
  for (const [name, text] of Object.entries(record)) {
    if (typeof text !== "string") {
      throw invalidArgument(ACTION, `meta.${name}`, "a string", text);
    }
    out[name] = text;
  }
  return out;
}

/**
 * Checks the options and fills in the defaults.
 *
 * @param options The options given to the constructor.
 * @returns The settled options.
 * @throws {InvalidArgumentError} When an option is not of its type or range.
 *
 * @example
 * ```ts
 * import { resolveSpotOptions } from "./_resolve_options.ts";
 *
 * console.log(resolveSpotOptions({ url: "ws://127.0.0.1:1/_websocket" }).minConnections); // 1
 * ```
 */
export function resolveSpotOptions(options: SpotClientOptions): ResolvedSpotOptions {
  if (typeof options !== "object" || options === null) {
    throw invalidArgument(ACTION, "options", "an object", options);
  }
  const WebSocketClass = webSocketClass(ACTION, options.WebSocket);
  if (options.key !== undefined && !(options.key instanceof PrivateKey)) {
    throw invalidArgument(ACTION, "key", "a PrivateKey", options.key);
  }
  return {
    url: options.url === undefined ? undefined : webSocketUrl(ACTION, "url", options.url),
    endpoint: httpUrl(ACTION, "endpoint", options.endpoint, DEFAULT_SPOT_ENDPOINT),
    minConnections: integer(ACTION, "minConnections", options.minConnections, 1, {
      min: 1,
      max: 10,
    }),
    key: options.key,
    storage: optionalObject<Storage>(ACTION, "storage", options.storage, ["get", "set", "delete"]),
    storageKey: nonEmptyString(ACTION, "storageKey", options.storageKey, "edgewire:spot:key"),
    meta: meta(options.meta),
    timeoutMs: integer(ACTION, "timeoutMs", options.timeoutMs, 30_000),
    backoff: resolveBackoffOption(ACTION, options.backoff),
    maxQueuedEvents: integer(ACTION, "maxQueuedEvents", options.maxQueuedEvents, 1000),
    maxCachedIDCards: integer(ACTION, "maxCachedIDCards", options.maxCachedIDCards, 1024),
    WebSocket: WebSocketClass,
    fetch: optionalFunction<typeof fetch>(ACTION, "fetch", options.fetch) ??
      ((input, init) => fetch(input, init)),
    now: optionalFunction<() => number>(ACTION, "now", options.now) ?? Date.now,
    random: optionalFunction<() => number>(ACTION, "random", options.random) ?? Math.random,
  };
}
