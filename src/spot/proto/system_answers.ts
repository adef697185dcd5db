/**
 * The bodies of the relay's own endpoints that are not bottles: `@/time`
 * answers 12 bytes, the Unix seconds as a big-endian u64 then the
 * nanoseconds as a big-endian u32 (spotlib reads the first 12 and ignores
 * the rest); `@/group_list` answers the members' 32-byte key hashes end to end.
 *
 * @module
 */

import { invalidArgument } from "../../core/validate.ts";
import { KEY_HASH_BYTES, keyTarget } from "./address.ts";
import { SpotProtocolError } from "./errors.ts";

/** The length of an `@/time` answer. */
export const TIME_ANSWER_BYTES = 12;

/** The relay's clock, as `@/time` answers it. */
export interface SpotTime {
  /** Whole seconds since the Unix epoch. */
  seconds: number;
  /** Nanoseconds past them; Go normalises values of a second or more, and so does `epochMilliseconds`. */
  nanoseconds: number;
  /** The same instant in milliseconds since the epoch, as `Date.now()` counts. */
  epochMilliseconds: number;
}

/**
 * Parses an `@/time` answer.
 *
 * @param body The answer's body.
 * @returns The relay's time.
 * @throws {SpotProtocolError} With code `invalid_time` when the body is shorter than 12
 * bytes or the seconds are beyond 2^53 - 1.
 *
 * @example
 * ```ts
 * import { encodeTimeAnswer, parseTimeAnswer } from "./system_answers.ts";
 *
 * console.log(parseTimeAnswer(encodeTimeAnswer(1_700_000_000_123)).nanoseconds); // 123000000
 * ```
 */
export function parseTimeAnswer(body: Uint8Array): SpotTime {
  if (body.length < TIME_ANSWER_BYTES) {
    throw new SpotProtocolError(
      "invalid_time",
      `Cannot parse Spot time answer of ${body.length} bytes as it needs ${TIME_ANSWER_BYTES}: retry the query`,
    );
  }
  const view = new DataView(body.buffer, body.byteOffset, TIME_ANSWER_BYTES);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const nanoseconds = view.getUint32(8);
  if (high > 0x1fffff) {
    throw new SpotProtocolError(
      "invalid_time",
      `Cannot parse Spot time answer as its seconds are beyond 2^53 - 1 (high word ${high}): retry the query`,
    );
  }
  const seconds = high * 2 ** 32 + low;
  return {
    seconds,
    nanoseconds,
    epochMilliseconds: seconds * 1000 + Math.floor(nanoseconds / 1e6),
  };
}

/**
 * Encodes an `@/time` answer, as the relay sends it.
 *
 * @param epochMilliseconds The time in milliseconds since the epoch, such as `Date.now()`.
 * @returns The 12-byte body.
 * @throws {InvalidArgumentError} When the time is not a non-negative finite number of
 * at most 2^53 - 1 milliseconds.
 *
 * @example
 * ```ts
 * import { encodeTimeAnswer } from "./system_answers.ts";
 *
 * console.log(encodeTimeAnswer(1500).length); // 12
 * ```
 */
export function encodeTimeAnswer(epochMilliseconds: number): Uint8Array {
  if (
    typeof epochMilliseconds !== "number" || !Number.isFinite(epochMilliseconds) ||
    epochMilliseconds < 0 || epochMilliseconds > Number.MAX_SAFE_INTEGER
  ) {
    throw invalidArgument(
      "encode Spot time answer",
      "epochMilliseconds",
      "a non-negative finite number up to 2^53 - 1",
      epochMilliseconds,
    );
  }
  const seconds = Math.floor(epochMilliseconds / 1000);
  const nanoseconds = Math.floor((epochMilliseconds - seconds * 1000) * 1e6);
  const body = new Uint8Array(TIME_ANSWER_BYTES);
  const view = new DataView(body.buffer);
  view.setUint32(0, Math.floor(seconds / 2 ** 32));
  view.setUint32(4, seconds % 2 ** 32);
  view.setUint32(8, Math.min(nanoseconds, 999_999_999));
  return body;
}

/**
 * Parses an `@/group_list` answer into the members' key targets.
 *
 * @param body The answer's body: 32-byte key hashes end to end.
 * @returns One `k.<hash>` target per member.
 * @throws {SpotProtocolError} With code `invalid_group_list` when the length is not a
 * multiple of 32 (spotlib would turn the short tail into a member; we refuse it).
 *
 * @example
 * ```ts
 * import { parseGroupList } from "./system_answers.ts";
 *
 * console.log(parseGroupList(new Uint8Array(64)).length); // 2
 * ```
 */
export function parseGroupList(body: Uint8Array): string[] {
  if (body.length % KEY_HASH_BYTES !== 0) {
    throw new SpotProtocolError(
      "invalid_group_list",
      `Cannot parse Spot group list of ${body.length} bytes as it is not a multiple of ${KEY_HASH_BYTES}: retry the query`,
    );
  }
  const members: string[] = [];
  for (let offset = 0; offset < body.length; offset += KEY_HASH_BYTES) {
    members.push(keyTarget(body.subarray(offset, offset + KEY_HASH_BYTES)));
  }
  return members;
}

/**
 * Encodes an `@/group_list` answer, as the relay sends it.
 *
 * @param hashes The members' 32-byte key hashes.
 * @returns Them end to end.
 * @throws {InvalidArgumentError} When a hash is not 32 bytes.
 *
 * @example
 * ```ts
 * import { encodeGroupList } from "./system_answers.ts";
 *
 * console.log(encodeGroupList([new Uint8Array(32)]).length); // 32
 * ```
 */
export function encodeGroupList(hashes: readonly Uint8Array[]): Uint8Array {
  const body = new Uint8Array(hashes.length * KEY_HASH_BYTES);
  hashes.forEach((hash, index) => {
    if (!(hash instanceof Uint8Array) || hash.length !== KEY_HASH_BYTES) {
      throw invalidArgument("encode Spot group list", `hashes[${index}]`, "32 bytes", hash);
    }
    body.set(hash, index * KEY_HASH_BYTES);
  });
  return body;
}
