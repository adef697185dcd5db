/**
 * What every routes file of the server shares: resolved options, the clock,
 * the rate limiters, and the lazily opened store and secret.
 *
 * @module
 */

import { sha256TextBytes, sha256TextHex } from "./_sha256_text.ts";
import { RequestRejection } from "./_validate.ts";
import type { TakeResult } from "./rate_limit.ts";
import type { RateLimiter } from "./_shared_limit.ts";
import type { Backplane } from "./backplane.ts";
import type { ServerStore } from "./store.ts";

/** The store and HMAC secret, available once the server is ready. */
export interface ServerState {
  /** The open store. */
  store: ServerStore;
  /** The HMAC secret that signs proof-of-work challenges. */
  secret: Uint8Array;
}

/** The Honch capture settings, resolved from `ServerOptions.honch`. */
export interface HonchSettings {
  /** The SHA-256 of each accepted project key; empty when capture is closed. */
  readonly projectKeyHashes: readonly Uint8Array[];
  /** The largest compact message (or coredump blob) reassembled, in bytes. */
  readonly maxMessageBytes: number;
  /** The largest frame (request body) accepted, in bytes. */
  readonly maxFrameBytes: number;
  /** How long partial uploads are kept, in milliseconds. */
  readonly partialTtlMs: number;
  /** How long completed-message markers are kept, in milliseconds. */
  readonly duplicateWindowMs: number;
  /** How many times its size a message may grow when expanded. */
  readonly maxExpansionRatio: number;
  /** The most bytes one message's events may take as JSON. */
  readonly maxExpandedBytes: number;
  /** The most bytes one event may take as JSON. */
  readonly maxExpandedEventBytes: number;
  /** The open partial uploads allowed per project key, per stream and per client address. */
  readonly partialQuotas: HonchPartialQuotas;
  /** The burst and refill rate per project key on capture. */
  readonly rateLimit: { readonly capacity: number; readonly refillPerSecond: number };
}

/** A quota on open partial uploads, resolved. */
export interface HonchPartialQuota {
  /** How many may be open at once. */
  readonly count: number;
  /** How many bytes their init frames may declare together. */
  readonly bytes: number;
}

/** The partial-upload quotas of each scope. */
export interface HonchPartialQuotas {
  /** Per project key. */
  readonly project: HonchPartialQuota;
  /** Per project key and stream. */
  readonly stream: HonchPartialQuota;
  /** Per client address. */
  readonly address: HonchPartialQuota;
}

/** The idempotency settings, resolved from `ServerOptions`. */
export interface IdempotencySettings {
  /** How long a key is remembered, in milliseconds. */
  readonly windowMs: number;
  /** The most keys one scope (an install, a project) keeps; beyond it its oldest go. */
  readonly maxKeysPerScope: number;
  /** The most keys the store keeps; beyond it the oldest of any scope go. */
  readonly maxKeys: number;
}

/** The server-wide state routes are built from. */
export interface ServerContext {
  /** The clock, in milliseconds. */
  readonly now: () => number;
  /** The proof-of-work difficulty, in leading zero hex digits. */
  readonly difficulty: number;
  /** How long a challenge stays valid, in milliseconds. */
  readonly challengeTtlMs: number;
  /** How long an install token stays valid, in milliseconds. */
  readonly installTokenTtlMs: number;
  /** The largest request body accepted, in bytes. */
  readonly bodyLimitBytes: number;
  /** The admin key's SHA-256, or `undefined` when the admin routes are disabled. */
  readonly adminKeyHash: Uint8Array | undefined;
  /** The Honch capture settings. */
  readonly honch: HonchSettings;
  /** How `Idempotency-Key`s are remembered. */
  readonly idempotency: IdempotencySettings;
  /** The limiter per install (shared by every process when a backplane is given). */
  readonly installLimiter: RateLimiter;
  /** The limiter per client address. */
  readonly addressLimiter: RateLimiter;
  /** The limiter per Honch project key on capture. */
  readonly projectLimiter: RateLimiter;
  /** The backplane shared with other processes, when one is given. */
  readonly backplane: Backplane | undefined;
  /** The store and secret, opened on first use. */
  state(): Promise<ServerState>;
  /**
   * The caller's address as rate limits and quotas key it (IPv4 whole, IPv6
   * by /64), behind the trusted proxies when `trustProxy` is set.
   */
  clientAddress(request: Request, env: unknown): string;
  /**
   * Starts a background pass that deletes expired rows, when one is due
   * (see `_pruner.ts`); resolves at once, never waiting for it. Cheap to call
   * on every request: it is how a Worker, whose timers do not run between
   * requests, still prunes.
   */
  maintain(store: ServerStore): Promise<void>;
}

/**
 * Charges one request to `key`.
 *
 * @param limiter The limiter to charge.
 * @param key Whom the request is charged to.
 * @returns Nothing for a local limiter (it answers at once), a promise for a
 * shared one; callers await it.
 * @throws {RequestRejection} 429 `rate_limited` with `Retry-After` in whole seconds.
 */
export function enforceRateLimit(limiter: RateLimiter, key: string): void | Promise<void> {
  const result = limiter.take(key);
  if (result instanceof Promise) return result.then(refuseWhenLimited);
  refuseWhenLimited(result);
}

function refuseWhenLimited(result: TakeResult): void {
  if (result.allowed) return;
  const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  throw new RequestRejection(429, { error: "rate_limited" }, { "retry-after": String(seconds) });
}

/**
 * Hashes a string with SHA-256.
 *
 * @param value The string, as UTF-8.
 * @returns The digest.
 */
export function sha256Bytes(value: string): Uint8Array {
  return sha256TextBytes(value);
}

/**
 * Hashes a string with SHA-256.
 *
 * @param value The string, as UTF-8.
 * @returns The digest as lowercase hex.
 */
export function sha256Hex(value: string): string {
  return sha256TextHex(value);
}

/**
 * Compares two digests in time independent of where they differ.
 *
 * @param a One digest.
 * @param b The other.
 * @returns Whether they are equal.
 */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Checks that a request carries the admin key as `Authorization: Bearer <key>`.
 *
 * @param context The server context holding the admin key's hash.
 * @param request The request.
 * @throws {RequestRejection} 403 `admin_disabled` when no admin key is set;
 * 401 `unauthorized` with `WWW-Authenticate: Bearer` when the key is missing or wrong.
 */
export function requireAdmin(context: ServerContext, request: Request): void {
  if (context.adminKeyHash === undefined) {
    throw new RequestRejection(403, { error: "admin_disabled" });
  }
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  // Hashing both sides first makes the comparison length-independent too.
  if (match === null || !digestsEqual(sha256Bytes(match[1]), context.adminKeyHash)) {
    throw new RequestRejection(401, { error: "unauthorized" }, { "www-authenticate": "Bearer" });
  }
}
