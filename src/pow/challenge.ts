/**
 * Stateless, signed, expiring, single-use proof-of-work challenges for the
 * server side of the mkStats handshake. A challenge is 40 base64url
 * characters holding a version, 8 random bytes, the difficulty, the expiry
 * and a 128-bit HMAC-SHA256 tag that also covers the subject it was issued
 * for, so the server keeps no state until a solution arrives, and then only
 * the challenge's id until it expires.
 *
 * Layout of the 30 decoded bytes: version (1, value 1) | random (8) |
 * difficulty (1) | expiry in epoch seconds (4, big-endian) | tag (16). The
 * tag is the first 16 bytes of HMAC-SHA256(secret, label | the first 14
 * bytes | subject length as 4 bytes big-endian | subject in UTF-8).
 *
 * @module
 */

import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64url } from "@scure/base";
import { InvalidArgumentError } from "../core/errors.ts";
import { meetsDifficulty } from "./rule.ts";
import type { UsedChallengeStore } from "./used_store.ts";
import { assertIntegerInRange, assertPositive } from "./_validate.ts";
import { describeValue, invalidArgument } from "../core/validate.ts";

/** Options of {@linkcode createChallenge}. */
export interface ChallengeOptions {
  /**
   * The HMAC key, at least 16 bytes; 32 random bytes is right. Treat it as
   * immutable: its prepared HMAC state is cached per array object.
   */
  secret: Uint8Array;
  /**
   * What the challenge is issued for, such as plugin id and user hash; a
   * solution only verifies with the same subject.
   */
  subject: string;
  /**
   * How many leading zero hex digits a solution needs, 1..16; each one
   * multiplies the client's expected work by 16.
   *
   * @default 4
   */
  difficulty?: number;
  /**
   * How long the challenge stays valid, in milliseconds; the expiry is
   * rounded up to a whole second.
   *
   * @default 300000
   */
  ttlMs?: number;
  /**
   * The clock, in epoch milliseconds.
   *
   * @default Date.now
   */
  now?: () => number;
  /**
   * The source of the challenge's random bytes.
   *
   * @default (length) => crypto.getRandomValues(new Uint8Array(length))
   */
  randomBytes?: (length: number) => Uint8Array;
}

/** A challenge to send to a client. */
export interface IssuedChallenge {
  /** The challenge, 40 base64url characters (`pow_challenge`). */
  challenge: string;
  /** The leading zero hex digits a solution needs (`pow_difficulty`). */
  difficulty: number;
  /** When the challenge expires, in epoch milliseconds (a whole second). */
  expiresAt: number;
}

/** Options of {@linkcode verifySolution}. */
export interface VerifyOptions {
  /** The HMAC key the challenge was created with. */
  secret: Uint8Array;
  /** The subject the challenge was created for. */
  subject: string;
  /**
   * Where used challenges are recorded. Required, as there is no safe
   * default: a store made per call would accept replays, and a hidden
   * module-wide one would not be shared between server processes. Create one
   * {@linkcode MemoryUsedChallengeStore} per server (or a shared store for
   * several processes) and pass it to every call.
   */
  usedStore: UsedChallengeStore;
  /**
   * The clock, in epoch milliseconds.
   *
   * @default Date.now
   */
  now?: () => number;
  /**
   * The least difficulty accepted, whatever the challenge says; raise it to
   * refuse challenges issued before the server's difficulty went up.
   *
   * @default 1
   */
  minDifficulty?: number;
}

/**
 * Why {@linkcode verifySolution} refused a solution: `malformed` (not a
 * challenge or nonce of this format), `forged` (tag does not match the
 * secret and subject), `expired`, `insufficient_work` (the nonce does not
 * meet the difficulty, or the difficulty is below `minDifficulty`) or
 * `replayed` (the challenge was already used).
 */
export type VerifyFailure = "malformed" | "forged" | "expired" | "replayed" | "insufficient_work";

/** The outcome of {@linkcode verifySolution}. */
export type VerifyResult =
  | { ok: true; difficulty: number; expiresAt: number }
  | { ok: false; reason: VerifyFailure };

const VERSION = 1;
const RANDOM_LENGTH = 8;
const PAYLOAD_LENGTH = 1 + RANDOM_LENGTH + 1 + 4;
const TAG_LENGTH = 16;
const CHALLENGE_BYTES = PAYLOAD_LENGTH + TAG_LENGTH;
const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{40}$/;
const NONCE_PATTERN = /^[0-9a-f]{1,14}$/;
const MAX_CHALLENGE_DIFFICULTY = 16;
const DEFAULT_DIFFICULTY = 4;
const DEFAULT_TTL_MS = 300_000;
const MIN_SECRET_LENGTH = 16;
const LABEL = new TextEncoder().encode("edgewire/pow/challenge/v1\0");

type Mac = ReturnType<typeof hmac.create>;
/** HMAC state with the key and the label absorbed, per secret array. */
const macCache = new WeakMap<Uint8Array, Mac>();
const encoder = new TextEncoder();

/**
 * Issues a challenge bound to `subject`, signed with `secret`, that expires
 * after `ttlMs`. Nothing is stored; {@linkcode verifySolution} checks it.
 *
 * @param options The secret, subject, difficulty, lifetime, clock and randomness.
 * @returns The challenge string, its difficulty and its expiry.
 * @throws {InvalidArgumentError} When `secret` is shorter than 16 bytes,
 * `subject` is not a string, `difficulty` is not an integer from 1 to 16,
 * `ttlMs` is not positive, or `randomBytes` returns the wrong length.
 *
 * @example Issue, solve and verify
 * ```ts
 * import { createChallenge, MemoryUsedChallengeStore, solvePow, verifySolution } from "@edgewire/sdk/pow";
 *
 * const secret = crypto.getRandomValues(new Uint8Array(32));
 * const usedStore = new MemoryUsedChallengeStore();
 * const { challenge, difficulty } = createChallenge({ secret, subject: "plugin:user" });
 * const { nonce } = await solvePow(challenge, difficulty);
 * const result = await verifySolution(challenge, nonce, { secret, subject: "plugin:user", usedStore });
 * console.log(result.ok); // true
 * ```
 */
export function createChallenge(options: ChallengeOptions): IssuedChallenge {
  const action = "create proof-of-work challenge";
  const {
    secret,
    subject,
    difficulty = DEFAULT_DIFFICULTY,
    ttlMs = DEFAULT_TTL_MS,
    now = Date.now,
    randomBytes = defaultRandomBytes,
  } = options;
  assertSecret(secret, action);
  assertSubject(subject, action);
  assertIntegerInRange("difficulty", difficulty, [1, MAX_CHALLENGE_DIFFICULTY], action);
  assertPositive("ttlMs", ttlMs, action);
  const expirySeconds = Math.ceil((now() + ttlMs) / 1000);
  if (!(expirySeconds >= 0 && expirySeconds <= 0xffffffff)) {
    throw new InvalidArgumentError(
      "ttlMs",
      `Cannot ${action} as its expiry must fall between 1970 and 2106: 'now() + ttlMs' is ${
        describeValue(expirySeconds * 1000)
      } ms`,
    );
  }
  const random = randomBytes(RANDOM_LENGTH);
  if (!(random instanceof Uint8Array) || random.length !== RANDOM_LENGTH) {
    throw new InvalidArgumentError(
      "randomBytes",
      `Cannot ${action} as 'randomBytes' must return ${RANDOM_LENGTH} bytes: it returned ${
        describeValue(random)
      }`,
    );
  }
  const bytes = new Uint8Array(CHALLENGE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes[0] = VERSION;
  bytes.set(random, 1);
  bytes[1 + RANDOM_LENGTH] = difficulty;
  view.setUint32(2 + RANDOM_LENGTH, expirySeconds);
  bytes.set(tag(secret, bytes.subarray(0, PAYLOAD_LENGTH), subject), PAYLOAD_LENGTH);
  return { challenge: base64url.encode(bytes), difficulty, expiresAt: expirySeconds * 1000 };
}

/**
 * Checks a client's answer to a challenge from {@linkcode createChallenge}:
 * format, then signature and subject, then expiry, then the work, and only
 * then marks the challenge used, so that a wrong nonce does not burn it.
 * Costs one HMAC and one SHA-256.
 *
 * @param challenge The challenge the client echoes (`pow_challenge`).
 * @param nonce The client's nonce (`pow_nonce`), 1 to 14 lowercase hex digits.
 * @param options The secret and subject it was issued with, the used-challenge store, a clock
 * and the least difficulty accepted.
 * @returns `{ ok: true, difficulty, expiresAt }`, or `{ ok: false, reason }`.
 * @throws {InvalidArgumentError} Synchronously, when `secret` is shorter than 16
 * bytes, `subject` is not a string, `usedStore` is missing, or `minDifficulty`
 * is not an integer from 1 to 64.
 * @throws {Error} As a rejection, whatever `usedStore.markUsed` rejects with,
 * such as `UsedStoreFullError`.
 *
 * @example
 * ```ts
 * import { MemoryUsedChallengeStore, verifySolution } from "@edgewire/sdk/pow";
 *
 * const usedStore = new MemoryUsedChallengeStore();
 * const secret = new Uint8Array(32);
 * const result = await verifySolution("not-a-challenge", "1157", { secret, subject: "s", usedStore });
 * if (!result.ok) console.log(result.reason); // "malformed"
 * ```
 */
export function verifySolution(
  challenge: string,
  nonce: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const action = "verify proof-of-work solution";
  const { secret, subject, usedStore, now = Date.now, minDifficulty = 1 } = options;
  assertSecret(secret, action);
  assertSubject(subject, action);
  if (typeof usedStore?.markUsed !== "function") {
    throw new InvalidArgumentError(
      "usedStore",
      `Cannot ${action} as 'usedStore' must be a UsedChallengeStore: pass one MemoryUsedChallengeStore (or a shared store) to every call`,
    );
  }
  assertIntegerInRange("minDifficulty", minDifficulty, [1, 64], action);

  if (
    typeof challenge !== "string" || !CHALLENGE_PATTERN.test(challenge) ||
    typeof nonce !== "string" || !NONCE_PATTERN.test(nonce)
  ) {
    return failure("malformed");
  }
  const bytes = base64url.decode(challenge);
  const difficulty = bytes[1 + RANDOM_LENGTH];
  if (
    bytes.length !== CHALLENGE_BYTES || bytes[0] !== VERSION || difficulty < 1 ||
    difficulty > MAX_CHALLENGE_DIFFICULTY
  ) {
    return failure("malformed");
  }
  const expected = tag(secret, bytes.subarray(0, PAYLOAD_LENGTH), subject);
  if (!constantTimeEqual(expected, bytes.subarray(PAYLOAD_LENGTH))) return failure("forged");
  const expiresAt = new DataView(bytes.buffer, bytes.byteOffset).getUint32(2 + RANDOM_LENGTH) *
    1000;
  if (now() >= expiresAt) return failure("expired");
  if (difficulty < minDifficulty || !meetsDifficulty(challenge, nonce, difficulty)) {
    return failure("insufficient_work");
  }
  // Last, so that only a complete, correct answer uses the challenge up.
  return usedStore.markUsed(challenge, expiresAt).then((first): VerifyResult =>
    first ? { ok: true, difficulty, expiresAt } : { ok: false, reason: "replayed" }
  );
}

function failure(reason: VerifyFailure): Promise<VerifyResult> {
  return Promise.resolve({ ok: false, reason });
}

function tag(secret: Uint8Array, payload: Uint8Array, subject: string): Uint8Array {
  let base = macCache.get(secret);
  if (base === undefined) {
    base = hmac.create(sha256, secret).update(LABEL);
    macCache.set(secret, base);
  }
  const subjectBytes = encoder.encode(subject);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, subjectBytes.length);
  const mac = base.clone().update(payload).update(length).update(subjectBytes).digest();
  return mac.subarray(0, TAG_LENGTH);
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

function assertSecret(secret: unknown, action: string): void {
  if (!(secret instanceof Uint8Array) || secret.length < MIN_SECRET_LENGTH) {
    const rule = `a Uint8Array of at least ${MIN_SECRET_LENGTH} bytes`;
    throw invalidArgument(action, "secret", rule, secret);
  }
}

function assertSubject(subject: unknown, action: string): void {
  if (typeof subject !== "string") throw invalidArgument(action, "subject", "a string", subject);
}

function defaultRandomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}
