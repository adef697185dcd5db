/**
 * Emitter topics, parsed as the real broker parses them:
 * `<key>/<channel>/[?name=value&name=value]`. The key is everything before the
 * first `/`; each channel segment is made of `- . / 0-9 :`, `A-Z [ \ ] ^ _ `` ` a-z`
 * or `$`, or is one wildcard (`+`, `#` or `*`) alone; the channel ends with `/`;
 * option names and values are non-empty ASCII letters and digits. A topic that
 * breaks any rule parses to type `"invalid"`: parsing never throws.
 *
 * @module
 */

import { murmur32String } from "./murmur.ts";

/** What a topic is: unusable, a single channel, or a pattern with wildcards. */
export type ChannelType = "invalid" | "static" | "wildcard";

/** One `name=value` option of a topic. */
export interface ChannelOption {
  /** The option's name, such as `ttl`. */
  readonly key: string;
  /** The option's value, as written. */
  readonly value: string;
}

/** A parsed topic. When `type` is `"invalid"` the other fields are partial. */
export interface EmitterChannel {
  /** Whether the topic is usable, and whether it has wildcards. */
  readonly type: ChannelType;
  /** The channel key (32 characters) or `emitter` for the broker's API. */
  readonly key: string;
  /** The channel with its final `/` and without options, such as `a/b/`. */
  readonly channel: string;
  /** The murmur hash of each segment, in order (the first is the target). */
  readonly query: readonly number[];
  /** The options in the order written. */
  readonly options: readonly ChannelOption[];
}

/** The earliest and latest unix second accepted in `from` and `until`. */
export const CHANNEL_TIME_RANGE: { readonly min: 1514764800; readonly max: 3029529600 } = Object
  .freeze({ min: 1514764800, max: 3029529600 });

const SLASH = 0x2f;

function isSegmentChar(c: number): boolean {
  return (c >= 45 && c <= 58) || (c >= 65 && c <= 122) || c === 36;
}

function isAlphanumeric(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Reads the options after `?`; `undefined` when one breaks the grammar. */
function parseOptions(text: string): ChannelOption[] | undefined {
  const options: ChannelOption[] = [];
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    const end = text.indexOf("&", eq + 1);
    const stop = end < 0 ? text.length : end;
    if (eq <= i || stop <= eq + 1) return undefined;
    for (let j = i; j < stop; j++) {
      if (j !== eq && !isAlphanumeric(text.charCodeAt(j))) return undefined;
    }
    options.push({ key: text.slice(i, eq), value: text.slice(eq + 1, stop) });
    i = stop + 1;
  }
  return options;
}

/**
 * Parses a topic the way the Emitter broker does, hashing each segment.
 *
 * @param topic The full topic, such as `KEY/a/b/?ttl=30`.
 * @returns The parsed channel; its `type` is `"invalid"` when the topic breaks the grammar.
 * @throws Never, whatever the input.
 * @example
 * ```ts
 * import { parseChannel } from "./channel.ts";
 *
 * const parsed = parseChannel("emitter/a/+/?last=5");
 * console.log(parsed.type, parsed.channel, parsed.options); // "wildcard" "a/+/" [{ key: "last", value: "5" }]
 * ```
 */
export function parseChannel(topic: string): EmitterChannel {
  const query: number[] = [];
  const invalid = (key = "", channel = ""): EmitterChannel => ({
    type: "invalid",
    key,
    channel,
    query,
    options: [],
  });
  const slash = topic.indexOf("/");
  if (slash <= 0) return invalid();
  const key = topic.slice(0, slash);
  let wildcard = false;
  let start = slash + 1;
  let chars = 0;
  let wildcards = 0;
  for (let i = start; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === SLASH) {
      if (chars === 0 && wildcards === 0) return invalid(key);
      query.push(murmur32String(topic.slice(start, i)));
      const last = i + 1 === topic.length;
      if (last || topic.charCodeAt(i + 1) === 0x3f) {
        const channel = topic.slice(slash + 1, i + 1);
        const options = last ? [] : parseOptions(topic.slice(i + 2));
        if (options === undefined) return invalid(key, channel);
        return { type: wildcard ? "wildcard" : "static", key, channel, query, options };
      }
      start = i + 1;
      chars = 0;
      wildcards = 0;
    } else if (c === 0x23 || c === 0x2b || c === 0x2a) {
      if (chars > 0 || wildcards > 0) return invalid(key);
      wildcards++;
      wildcard = true;
    } else if (isSegmentChar(c)) {
      if (wildcards > 0) return invalid(key);
      chars++;
    } else {
      return invalid(key);
    }
  }
  return invalid(key);
}

/**
 * Parses a channel (with its options) under a key, as the broker does for API
 * requests that give the two apart.
 *
 * @param key The channel key.
 * @param channelWithOptions The channel, such as `a/b/?ttl=5`.
 * @returns The parsed channel.
 * @throws Never.
 * @example
 * ```ts
 * import { makeChannel } from "./channel.ts";
 *
 * console.log(makeChannel("key1", "a/b/").channel); // "a/b/"
 * ```
 */
export function makeChannel(key: string, channelWithOptions: string): EmitterChannel {
  return parseChannel(`${key}/${channelWithOptions}`);
}

/**
 * Reads an integer option as Go's `strconv.ParseInt(value, 10, 64)` would.
 *
 * @param channel The parsed channel.
 * @param name The option's name, such as `ttl` or `last`.
 * @returns The value, or `undefined` when the option is missing or not a 64-bit integer.
 * @throws Never.
 * @example
 * ```ts
 * import { integerOption, parseChannel } from "./channel.ts";
 *
 * console.log(integerOption(parseChannel("emitter/a/?ttl=42"), "ttl")); // 42
 * ```
 */
export function integerOption(channel: EmitterChannel, name: string): number | undefined {
  const option = channel.options.find((o) => o.key === name);
  if (option === undefined || !/^[+-]?[0-9]+$/.test(option.value)) return undefined;
  const value = BigInt(option.value);
  if (value > 0x7fffffffffffffffn || value < -0x8000000000000000n) return undefined;
  return Number(value);
}

/**
 * Whether the topic asks not to echo a publish to its sender (`me=0`).
 *
 * @param channel The parsed channel.
 * @returns `true` when `me` is an integer equal to 0.
 * @throws Never.
 * @example
 * ```ts
 * import { excludesSender, parseChannel } from "./channel.ts";
 *
 * console.log(excludesSender(parseChannel("emitter/a/?me=0"))); // true
 * ```
 */
export function excludesSender(channel: EmitterChannel): boolean {
  return integerOption(channel, "me") === 0;
}

function toWindowTime(value: number | undefined): number {
  if (value === undefined || value < CHANNEL_TIME_RANGE.min || value > CHANNEL_TIME_RANGE.max) {
    return 0;
  }
  return value;
}

/**
 * The `from` and `until` options as unix seconds, each 0 when missing or
 * outside {@linkcode CHANNEL_TIME_RANGE}.
 *
 * @param channel The parsed channel.
 * @returns The window; 0 means unbounded on that side.
 * @throws Never.
 * @example
 * ```ts
 * import { channelWindow, parseChannel } from "./channel.ts";
 *
 * console.log(channelWindow(parseChannel("emitter/a/?from=1514764800"))); // { from: 1514764800, until: 0 }
 * ```
 */
export function channelWindow(channel: EmitterChannel): { from: number; until: number } {
  return {
    from: toWindowTime(integerOption(channel, "from")),
    until: toWindowTime(integerOption(channel, "until")),
  };
}

/**
 * The channel and its options without the key, as the broker writes it back
 * (links, errors).
 *
 * @param channel The parsed channel.
 * @returns Such as `a/b/?ttl=5`.
 * @throws Never.
 * @example
 * ```ts
 * import { channelSafeString, parseChannel } from "./channel.ts";
 *
 * console.log(channelSafeString(parseChannel("KEY/a/?ttl=5"))); // "a/?ttl=5"
 * ```
 */
export function channelSafeString(channel: EmitterChannel): string {
  if (channel.options.length === 0) return channel.channel;
  return `${channel.channel}?${channel.options.map((o) => `${o.key}=${o.value}`).join("&")}`;
}

/**
 * The whole topic again: key, channel and options.
 *
 * @param channel The parsed channel.
 * @returns Such as `KEY/a/?ttl=5`.
 * @throws Never.
 * @example
 * ```ts
 * import { channelString, parseChannel } from "./channel.ts";
 *
 * console.log(channelString(parseChannel("emitter/a/?last=2"))); // "emitter/a/?last=2"
 * ```
 */
export function channelString(channel: EmitterChannel): string {
  return `${channel.key}/${channelSafeString(channel)}`;
}
