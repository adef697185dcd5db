/**
 * The options of the Honch capture routes, `ServerOptions.honch`: sizes,
 * expansion bounds, partial-upload lifetimes and quotas, the rate limit.
 *
 * @module
 */

import type { RateLimitOptions } from "../options.ts";

/** The Honch capture settings of {@linkcode createServer}. */
export interface HonchServerOptions {
  /**
   * The accepted `X-Honch-Project-Key` values. Each must be non-empty and
   * without whitespace; only their hashes are kept. With none, capture
   * answers every request 401 `invalid_project_key`.
   *
   * @default []
   */
  projectKeys?: string[];
  /**
   * The largest compact message (or coredump blob) reassembled from frames,
   * in bytes, at least 4096 (the SDK limit); larger ones get 413
   * `message_too_large`. Also bounds a JSON ingest body.
   *
   * @default 1048576 (1 MiB)
   */
  maxMessageBytes?: number;
  /**
   * The largest frame (request body) accepted, in bytes, at least 4096 (the
   * SDK frame size); larger ones get 413 `payload_too_large`.
   *
   * @default 65536 (64 KiB)
   */
  maxFrameBytes?: number;
  /**
   * How long a partial multi-frame upload is kept, in milliseconds, counted
   * from its init frame; a client whose upload expired gets 409 and starts
   * again from offset 0.
   *
   * @default 600000 (10 minutes)
   */
  partialTtlMs?: number;
  /**
   * How long a completed message is remembered, in milliseconds, so a retry
   * of it is answered 204 and stored once.
   *
   * @default 86400000 (24 hours)
   */
  duplicateWindowMs?: number;
  /**
   * How many times its own size a message (or a JSON ingest body) may grow
   * when expanded into JSON events, counted before anything is built; a
   * message may always expand to `maxExpandedEventBytes`. Beyond it: 413
   * `expansion_too_large`, and the partial upload is discarded.
   *
   * @default 64
   */
  maxExpansionRatio?: number;
  /**
   * The most bytes one message's events may take as JSON, whatever its size;
   * beyond it: 413 `expansion_too_large`.
   *
   * @default 8388608 (8 MiB)
   */
  maxExpandedBytes?: number;
  /**
   * The most bytes one event may take as JSON; beyond it: 413
   * `expansion_too_large`. At most `maxExpandedBytes`.
   *
   * @default 1048576 (1 MiB)
   */
  maxExpandedEventBytes?: number;
  /**
   * The partial multi-frame uploads one project key may hold open at once,
   * and the bytes their init frames declare together. Past either, an init
   * frame gets 429 `partial_quota_exceeded` with `Retry-After`, which the
   * Honch client retries. The byte quotas must be at least `maxMessageBytes`.
   *
   * @default { count: 1000, bytes: 268435456 } (256 MiB)
   */
  partialsPerProject?: HonchPartialQuotaOptions;
  /**
   * The same quota per project key and `X-Honch-Stream-Id`.
   *
   * @default { count: 4, bytes: 4194304 } (4 MiB)
   */
  partialsPerStream?: HonchPartialQuotaOptions;
  /**
   * The same quota per client address, as `clientAddress` reports it.
   *
   * @default { count: 64, bytes: 33554432 } (32 MiB)
   */
  partialsPerAddress?: HonchPartialQuotaOptions;
  /**
   * Requests per project key on `POST /capture` (`/e`, `/chunks`), checked
   * right after the key and before the body is read; past it requests get
   * 429 `rate_limited` with `Retry-After`, which the Honch client retries.
   * `capacity: Infinity` disables it.
   *
   * @default { capacity: 2000, refillPerSecond: 200 }
   */
  rateLimit?: RateLimitOptions;
}

/** A quota on open partial uploads: how many, and how many declared bytes together. */
export interface HonchPartialQuotaOptions {
  /**
   * How many partial uploads may be open at once.
   *
   * @default see the field that holds this quota
   */
  count?: number;
  /**
   * How many bytes their init frames may declare together.
   *
   * @default see the field that holds this quota
   */
  bytes?: number;
}
