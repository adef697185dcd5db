/**
 * Where the reference server remembers `Idempotency-Key`s: one row per key
 * and scope, first claimed while the request runs, then holding the answer
 * it gave, forgotten once its window passes. The decisions (what a scope and
 * a fingerprint are, what to answer) live in the server's `_idempotency.ts`;
 * a store only keeps rows, atomically and bounded.
 *
 * @module
 */

/** An answer remembered for a key: the status and the JSON body text sent. */
export interface IdempotentAnswer {
  /** The HTTP status, or 200 for a GraphQL field's result. */
  status: number;
  /** The body, as JSON text. */
  body: string;
}

/**
 * The answer a claimed key keeps, handed to the write that records the
 * request so the store keeps both in one transaction: a crash then leaves
 * either both (a retry gets the answer) or neither (a retry records afresh),
 * never a recorded request whose key still looks unanswered.
 */
export interface IdempotencySettlement {
  /** The claim's scope. */
  scope: string;
  /** The claim's key. */
  key: string;
  /** The answer to replay to retries. */
  answer: IdempotentAnswer;
}

/** A request's claim on a key. */
export interface IdempotencyClaim {
  /** Whose key it is, such as `mkstats\n<plugin>\n<user hash>`: keys of other scopes never meet. */
  scope: string;
  /** The key as the client sent it. */
  key: string;
  /** A digest of what the request records; a retry must bring the same one. */
  fingerprint: string;
  /** The server's current time, in milliseconds. */
  now: number;
  /** When the row may be forgotten, in milliseconds: `now` plus the window. */
  expiresAt: number;
  /** Until when an unanswered claim holds, in milliseconds; after it another request may take it over. */
  leaseExpiresAt: number;
  /** The most rows one scope keeps: claiming beyond it forgets that scope's oldest rows. */
  maxPerScope: number;
  /** The most rows the store keeps: claiming beyond it forgets the oldest rows of any scope. */
  maxTotal: number;
}

/**
 * What a claim found. `claimed`: the key is the caller's, to settle;
 * `held`: a live row already has it, with its fingerprint, and its answer
 * once settled (`undefined` while the first request still runs).
 */
export type IdempotencyClaimResult =
  | { status: "claimed" }
  | { status: "held"; fingerprint: string; answer: IdempotentAnswer | undefined };

/**
 * The idempotency part of a server store. Implementations must make
 * {@linkcode IdempotencyStore.claimIdempotencyKey} atomic: of two concurrent
 * claims on one key, one is `claimed` and the other `held`.
 *
 * @example Claim a key, settle it, and find it held
 * ```ts
 * import { MemoryStore, type IdempotencyStore } from "@edgewire/sdk/server";
 *
 * const store: IdempotencyStore = new MemoryStore();
 * const claim = {
 *   scope: "s", key: "k", fingerprint: "f", now: 0, expiresAt: 1000, leaseExpiresAt: 100,
 *   maxPerScope: 10, maxTotal: 100,
 * };
 * console.log((await store.claimIdempotencyKey(claim)).status); // "claimed"
 * await store.settleIdempotencyKey("s", "k", { status: 200, body: "{}" });
 * console.log(await store.claimIdempotencyKey(claim)); // { status: "held", fingerprint: "f", answer: { status: 200, body: "{}" } }
 * ```
 */
export interface IdempotencyStore {
  /**
   * Claims a key for a request, unless a live row has it. A row whose
   * `expiresAt` passed, or an unanswered one whose lease passed, counts as
   * absent and is replaced. A new row beyond `maxPerScope` or `maxTotal`
   * forgets the oldest rows first.
   *
   * @param claim The scope, key, fingerprint, times and bounds.
   * @returns `claimed`, or `held` with the row's fingerprint and answer.
   */
  claimIdempotencyKey(claim: IdempotencyClaim): Promise<IdempotencyClaimResult>;
  /**
   * Settles a claimed key: keeps the answer given, or, with `undefined`,
   * releases the key because nothing was recorded. A row that was forgotten
   * meanwhile (evicted at a bound) stays forgotten.
   *
   * @param scope The claim's scope.
   * @param key The claim's key.
   * @param answer The answer to replay to retries, or `undefined` to release the key.
   */
  settleIdempotencyKey(
    scope: string,
    key: string,
    answer: IdempotentAnswer | undefined,
  ): Promise<void>;
  /**
   * Forgets at most `limit` of the rows whose window (`expiresAt`) ended
   * before `now`. The server calls it again while it forgets `limit`, so one
   * call stays short. (An unanswered row past its lease needs no prune: a
   * claim replaces it, and its window ends too.)
   *
   * @param now The server's current time, in milliseconds.
   * @param limit The most rows one call forgets, at least 1.
   * @returns How many it forgot.
   */
  pruneIdempotencyKeys(now: number, limit: number): Promise<number>;
}
