/**
 * Emitter topics as the official SDKs build them: `key/channel/` and then the
 * options after `?` (`me=0`, `ttl=N` on publish; `last`, `from`, `until` on
 * subscribe), and `key/$share/group/channel/` for a share group, checked with
 * the broker's own parser before anything is sent; and the match of a
 * delivered topic against a subscription.
 *
 * @module
 */

import { integer } from "../core/validate.ts";
import { CHANNEL_TIME_RANGE, parseChannel } from "./security/channel.ts";
import { EMITTER_STATUS, EmitterError } from "./security/errors.ts";

/** A topic ready to send, and its channel without key and options. */
export interface BuiltTopic {
  topic: string;
  channel: string;
}

function build(
  action: string,
  key: unknown,
  channel: unknown,
  options: string[],
): { topic: string; channel: string; wildcard: boolean } {
  if (typeof key !== "string" || key === "" || key.includes("/")) {
    throw new EmitterError(EMITTER_STATUS.unauthorized);
  }
  if (typeof channel !== "string") throw new EmitterError(EMITTER_STATUS.badRequest);
  const path = channel.endsWith("/") ? channel : `${channel}/`;
  const topic = `${key}/${path}${options.length > 0 ? `?${options.join("&")}` : ""}`;
  const parsed = parseChannel(topic);
  if (parsed.type === "invalid" || parsed.channel !== path) {
    throw new EmitterError(EMITTER_STATUS.badRequest, {
      cause: new Error(`Cannot ${action} as the channel does not follow Emitter's grammar`),
    });
  }
  return { topic, channel: path, wildcard: parsed.type === "wildcard" };
}

/**
 * The topic of a publish: `key/channel/?me=0&ttl=N`, options only when given.
 *
 * @param request The key, channel, `me` and `ttl`.
 * @returns The topic and the channel.
 * @throws {EmitterError} 401 for an empty key or one with `/`, 400 for a channel
 * Emitter refuses, 403 for a channel with wildcards.
 * @throws {InvalidArgumentError} When `ttl` is not an integer of 0 or more.
 */
export function publishTopic(
  request: { key: unknown; channel: unknown; me?: unknown; ttl?: unknown },
): BuiltTopic {
  const options: string[] = [];
  if (request.me === false) options.push("me=0");
  if (request.ttl !== undefined) {
    options.push(`ttl=${integer("publish", "ttl", request.ttl, undefined, { min: 0 })}`);
  }
  const built = build("publish", request.key, request.channel, options);
  if (built.wildcard) throw new EmitterError(EMITTER_STATUS.forbidden);
  return { topic: built.topic, channel: built.channel };
}

/**
 * The topic of a subscription: `key/channel/?last=N&from=S&until=S`.
 *
 * @param request The key, channel and replay options.
 * @returns The topic and the channel pattern.
 * @throws {EmitterError} 401 for an empty key or one with `/`, 400 for a channel Emitter refuses.
 * @throws {InvalidArgumentError} When `last`, `from` or `until` is out of range.
 */
export function subscribeTopic(
  request: { key: unknown; channel: unknown; last?: unknown; from?: unknown; until?: unknown },
): BuiltTopic {
  const options: string[] = [];
  if (request.last !== undefined) {
    options.push(`last=${integer("subscribe", "last", request.last, undefined, { min: 0 })}`);
  }
  for (const name of ["from", "until"] as const) {
    if (request[name] === undefined) continue;
    options.push(
      `${name}=${integer("subscribe", name, request[name], undefined, CHANNEL_TIME_RANGE)}`,
    );
  }
  const built = build("subscribe", request.key, request.channel, options);
  return { topic: built.topic, channel: built.channel };
}

/**
 * The topic of a subscription in a share group: `key/$share/group/channel/`
 * with the options of {@linkcode subscribeTopic}. The broker hands each
 * message of the channel to one member of each group.
 *
 * @param request The key, channel, group and replay options.
 * @returns The topic and the channel pattern (without `$share/group/`).
 * @throws {EmitterError} 401 for an empty key or one with `/`, 400 for a channel Emitter
 * refuses or a group that is not one plain channel segment (no `/`, no wildcard).
 * @throws {InvalidArgumentError} When `last`, `from` or `until` is out of range.
 */
export function shareTopic(
  request: {
    key: unknown;
    channel: unknown;
    group: unknown;
    last?: unknown;
    from?: unknown;
    until?: unknown;
  },
): BuiltTopic {
  const { topic, channel } = subscribeTopic(request);
  const { group } = request;
  const segment = typeof group === "string" ? parseChannel(`g/${group}/`) : undefined;
  if (segment?.type !== "static" || segment.query.length !== 1) {
    throw new EmitterError(EMITTER_STATUS.badRequest, {
      cause: new Error(
        "Cannot subscribe as the share group is not one channel segment: use letters, digits and '-._:'",
      ),
    });
  }
  const key = request.key as string;
  return { topic: `${key}/$share/${group}/${topic.slice(key.length + 1)}`, channel };
}

function segments(text: string): string[] {
  const parts = text.split("/");
  if (parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/**
 * Whether a delivered topic belongs to a subscription: Emitter delivers the
 * channel without its key, a plain MQTT broker the whole topic, so both are
 * tried. `+` and `*` match one segment, `#` the rest.
 *
 * @param key The subscription's key.
 * @param pattern The subscription's channel, such as `a/+/`.
 * @param topic The delivered topic.
 * @returns Whether it matches.
 */
export function matchesSubscription(key: string, pattern: string, topic: string): boolean {
  const wanted = segments(pattern);
  const got = segments(topic);
  return matches(wanted, got) || (got[0] === key && matches(wanted, got.slice(1)));
}

function matches(wanted: string[], got: string[]): boolean {
  for (let i = 0; i < wanted.length; i++) {
    if (wanted[i] === "#") return true;
    if (i >= got.length) return false;
    if (wanted[i] !== "+" && wanted[i] !== "*" && wanted[i] !== got[i]) return false;
  }
  return wanted.length === got.length;
}

const encoder = new TextEncoder();

/**
 * The bytes a message is published as: bytes as they are, text as UTF-8,
 * anything else as JSON.
 *
 * @param message What the caller publishes.
 * @returns The payload.
 */
export function messagePayload(message: unknown): Uint8Array {
  if (message instanceof Uint8Array) return message;
  return encoder.encode(typeof message === "string" ? message : JSON.stringify(message));
}
