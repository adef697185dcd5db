/**
 * Discovery as the real Spot clients do it: GET
 * `<endpoint>/_special/rest/Spot:connect`, read `{hosts, min_conn}` (maybe
 * wrapped in `{data}`), and dial `wss://<host>/_websocket` for each host
 * (`ws://` when the endpoint is plain `http:`, for a local relay).
 *
 * @module
 */

import { BackoffGate } from "../core/backoff.ts";
import { Deadline } from "../core/deadline.ts";
import { delay } from "../core/delay.ts";
import {
  AbortedError,
  EdgewireError,
  HttpError,
  NetworkError,
  TimeoutError,
} from "../core/errors.ts";
import { parseDiscoveryAnswer } from "./proto/mod.ts";
import type { ResolvedSpotOptions } from "./_resolve_options.ts";

/** The path of the discovery call under the endpoint. */
export const DISCOVERY_PATH = "/_special/rest/Spot:connect";

/** The relays to dial. */
export interface DiscoveredRelays {
  /** The WebSocket URL of each host, at most 10. */
  urls: string[];
  /** How many connections the service asks for. */
  minConn: number;
}

/**
 * Asks the discovery service which relays to dial.
 *
 * @param endpoint The service's base URL.
 * @param fetchFn The fetch function.
 * @param timeoutMs The deadline.
 * @param signal Stops the call.
 * @returns The relays.
 * @throws {HttpError} When the service answers a status other than 2xx.
 * @throws {NetworkError} When it cannot be reached.
 * @throws {TimeoutError} When it does not answer in time.
 * @throws {AbortedError} When `signal` aborts.
 * @throws {SpotProtocolError} With code `invalid_discovery` for an answer without hosts.
 *
 * @example
 * ```ts
 * import { discoverRelays } from "./_discovery.ts";
 *
 * const fakeFetch: typeof fetch = () =>
 *   Promise.resolve(Response.json({ data: { hosts: ["relay.example"], min_conn: 1 } }));
 * const relays = await discoverRelays("https://service.example", fakeFetch, 1000);
 * console.log(relays.urls); // ["wss://relay.example/_websocket"]
 * ```
 */
export async function discoverRelays(
  endpoint: string,
  fetchFn: typeof fetch,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DiscoveredRelays> {
  const url = endpoint + DISCOVERY_PATH;
  const deadline = new Deadline(timeoutMs, {
    signal,
    onTimeout: (ms) => new TimeoutError(`Cannot discover Spot relays within ${ms} ms`, ms),
    onAbort: (reason) => new AbortedError("Spot relay discovery was aborted", { cause: reason }),
  });
  try {
    let response: Response;
    try {
      response = await deadline.race(
        fetchFn(url, {
          method: "GET",
          headers: { accept: "application/json" },
          signal: deadline.signal,
        }),
      );
    } catch (cause) {
      if (cause instanceof TimeoutError || cause instanceof AbortedError) throw cause;
      throw new NetworkError(
        `Cannot reach the Spot discovery service at ${new URL(url).host}: check 'endpoint'`,
        { cause },
      );
    }
    const text = await deadline.race(response.text());
    if (!response.ok) {
      throw new HttpError(
        `Cannot discover Spot relays as ${
          new URL(url).host
        } answered HTTP ${response.status}: retry later`,
        response.status,
        { body: text.slice(0, 500) },
      );
    }
    const answer = parseDiscoveryAnswer(text);
    const scheme = endpoint.startsWith("http:") ? "ws" : "wss";
    return {
      urls: answer.hosts.map((host) => `${scheme}://${host}/_websocket`),
      minConn: answer.minConn,
    };
  } finally {
    deadline.end();
  }
}

/**
 * The URLs the client keeps connections to: `minConnections` times the
 * explicit `url`, or every host discovery answers, asking again after the
 * backoff until it answers or `signal` aborts.
 *
 * @param o The client options.
 * @param signal Stops the retries.
 * @param failed Told of each failed discovery.
 * @returns The URLs, or `undefined` once `signal` aborted.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { relayUrls } from "./_discovery.ts";
 * import { resolveSpotOptions } from "./_resolve_options.ts";
 *
 * const o = resolveSpotOptions({ url: "ws://127.0.0.1:1/_websocket", minConnections: 2 });
 * console.log((await relayUrls(o, new AbortController().signal, () => {}))?.length); // 2
 * ```
 */
export async function relayUrls(
  o: ResolvedSpotOptions,
  signal: AbortSignal,
  failed: (error: EdgewireError) => void,
): Promise<string[] | undefined> {
  if (o.url !== undefined) return Array.from({ length: o.minConnections }, () => o.url!);
  const gate = new BackoffGate({ ...o.backoff, random: o.random, now: o.now });
  while (!signal.aborted) {
    try {
      return (await discoverRelays(o.endpoint, o.fetch, o.timeoutMs, signal)).urls;
    } catch (error) {
      if (signal.aborted) return undefined;
      failed(
        error instanceof EdgewireError
          ? error
          : new NetworkError("Cannot discover Spot relays", { cause: error }),
      );
      try {
        await delay(gate.failed(), { signal });
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
