/**
 * What every {@linkcode EmitterStore} shares when it answers a query: the two
 * wildcard words, the real broker's match of a query against a message's
 * `ssid`, the cap on `limit`, and the order stored messages are returned in.
 * The memory and SQLite stores both follow it, so they answer alike.
 *
 * @module
 */

import { murmur32String } from "../../emitter/security/murmur.ts";
import type { EmitterMessageQuery, EmitterStoredMessage } from "./store.ts";

/** The word of a `+` segment: matches any one word at its place. */
export const SINGLE_WILDCARD: number = murmur32String("+");

/** The word of a `#` segment: matches any word at its place, as the real broker's match does. */
export const MULTI_WILDCARD: number = murmur32String("#");

/**
 * The most messages one query returns: a larger `limit` is read as this
 * many, so a subscription's `last` or a history request cannot make a store
 * read an unbounded number of rows.
 */
export const MAX_EMITTER_QUERY_LIMIT = 1000;

/**
 * Whether a query word matches any message word at its place.
 *
 * @param word One word of a query's `ssid`.
 * @returns `true` for the hash of `+` or `#`.
 */
export function isWildcard(word: number): boolean {
  return word === SINGLE_WILDCARD || word === MULTI_WILDCARD;
}

/**
 * Matches a message's words against a query's, as the real broker does: the
 * message has at least as many words, and each query word is equal to the
 * message's word at its place or a wildcard.
 *
 * @param query The query's words.
 * @param ssid The message's words.
 * @returns Whether the message matches.
 */
export function ssidMatches(query: readonly number[], ssid: readonly number[]): boolean {
  if (query.length > ssid.length) return false;
  // Deeper words differ more often, so they are compared first.
  for (let i = query.length - 1; i >= 0; i--) {
    if (query[i] !== ssid[i] && !isWildcard(query[i])) return false;
  }
  return true;
}

/**
 * How many messages a query may return: its `limit` as a whole number in
 * `0..MAX_EMITTER_QUERY_LIMIT`.
 *
 * @param query The query.
 * @returns The bounded limit; 0 for a limit that is not a positive number.
 */
export function boundedLimit(query: EmitterMessageQuery): number {
  const limit = Math.floor(query.limit);
  if (!(limit > 0)) return 0;
  return Math.min(limit, MAX_EMITTER_QUERY_LIMIT);
}

/**
 * Whether a stored message answers a query on time: inside the window
 * (inclusive) and not expired at `now`.
 *
 * @param query The query.
 * @param message The stored message.
 * @returns Whether it is in the window and still served.
 */
export function inWindow(query: EmitterMessageQuery, message: EmitterStoredMessage): boolean {
  return message.time >= query.from && message.time <= query.until &&
    message.expiresAt > query.now;
}

/**
 * Copies a message, so that neither the caller nor the store can change the
 * other's bytes.
 *
 * @param message The message.
 * @returns A copy with its own `id`, `ssid` and `payload`.
 */
export function copyMessage(message: EmitterStoredMessage): EmitterStoredMessage {
  return {
    id: message.id.slice(),
    ssid: [...message.ssid],
    channel: message.channel,
    payload: message.payload.slice(),
    time: message.time,
    expiresAt: message.expiresAt,
  };
}
