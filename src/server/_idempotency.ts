/**
 * `Idempotency-Key` on the recording routes (mkStats `/data` and `/event`,
 * migas `/api/breadcrumb` and the GraphQL `add_breadcrumb`/`add_project`
 * mutations), after IETF draft-ietf-httpapi-idempotency-key-header. A key is
 * claimed before anything is recorded and settled with the answer given, so
 * a retry within the window is answered as the first request was (its
 * status and body, marked `Idempotent-Replayed: true`) and records nothing.
 *
 * A key is scoped per service and per install or project, so one client's
 * key never meets another's. What a key promises is the request's
 * fingerprint: the fields it records (their JSON when short, else its
 * digest), not its bytes, so a retry that refreshes a timestamp or an
 * install token is still the same request. A key brought again with
 * another fingerprint is refused (422 `idempotency_key_reused`, as the
 * draft says); a key whose first request is still running is refused 409
 * `idempotency_key_in_use` with `Retry-After: 1`. A request that records
 * nothing (refused, or failed) releases its key, so its retry runs afresh.
 *
 * @module
 */

import type { ServerContext } from "./_context.ts";
import { sha256Hex } from "./_context.ts";
import type { IdempotencySettlement, IdempotentAnswer } from "./common/idempotency_store.ts";
import type { ServerStore } from "./store.ts";

/** The request header that carries the key. */
export const IDEMPOTENCY_HEADER = "idempotency-key";

/** The header a replayed answer carries, as Stripe's and others' do. */
export const REPLAYED_HEADER = "idempotent-replayed";

/**
 * How long an unanswered claim holds before another request may take the key
 * over: far longer than any request of the reference server runs, and short
 * enough that a crash between claim and answer blocks a key only briefly.
 */
const LEASE_MS = 30_000;

/** 1 to 255 visible ASCII characters: a UUID, a ULID, or any client's own token. */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** How one service refuses what the key check finds, in that service's own error shape. */
export interface IdempotencyRefusals {
  /** The header is not 1..255 visible ASCII characters. */
  invalid(): never;
  /** The key's first request has not answered yet. */
  inFlight(): never;
  /** The key came with another request before. */
  reused(): never;
}

/** One recording request's key, where it belongs, and what it records. */
export interface IdempotentRequest {
  /** The key, or `undefined` when the request carries none (then nothing is remembered). */
  key: string | undefined;
  /** Whose key it is: service, then install or project. */
  scope: string;
  /**
   * What the request records, from {@linkcode fingerprint};
   * called only when the request carries a key, so an unkeyed one skips it.
   */
  fingerprint: () => string;
}

/**
 * Reads the `Idempotency-Key` header. The draft's form is a structured-field
 * string (`"…"`); a bare token, as most clients send, is taken as it is.
 *
 * @param request The request.
 * @param refuse Called when the header is present but malformed.
 * @returns The key, or `undefined` when the header is absent.
 */
export function readIdempotencyKey(request: Request, refuse: () => never): string | undefined {
  const raw = request.headers.get(IDEMPOTENCY_HEADER);
  if (raw === null) return undefined;
  let key = raw.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1);
  if (!KEY.test(key)) refuse();
  return key;
}

/**
 * The longest fingerprint kept as the JSON text itself rather than its
 * digest: as long as a digest's hex, so a row is no larger, and an mkStats
 * event's fields fit. Hashing one costs more than the rest of the key's
 * handling; the text also never collides. (A JSON array starts with `[`,
 * so a text is never taken for a digest.)
 */
const TEXT_FINGERPRINT_MAX = 64;

/**
 * What a request records, in a fixed order, as a fingerprint: the JSON
 * text when it is short, its SHA-256 otherwise.
 *
 * @param parts The recorded fields, JSON-serialisable.
 * @returns The JSON of `parts` when at most 64 characters long, else its SHA-256 as lowercase hex.
 */
export function fingerprint(parts: readonly unknown[]): string {
  return fingerprintOfJson(JSON.stringify(parts));
}

/**
 * The fingerprint of parts already written as their JSON array, for a route
 * that writes it faster than `JSON.stringify` of an array it would build.
 *
 * @param text The JSON text of the parts.
 * @returns `text` when at most 64 characters long, else its SHA-256 as lowercase hex.
 */
export function fingerprintOfJson(text: string): string {
  return text.length <= TEXT_FINGERPRINT_MAX ? text : sha256Hex(text);
}

/**
 * Whether a kept fingerprint is this request's: the same, or the digest a
 * server before short fingerprints were kept as text made of it, so a
 * retry across an upgrade is still replayed.
 */
function sameFingerprint(kept: string, fingerprint: string): boolean {
  return kept === fingerprint ||
    (fingerprint.length <= TEXT_FINGERPRINT_MAX && kept === sha256Hex(fingerprint));
}

/**
 * Turns the answer a recording write will give into the settlement it
 * passes to the store with that write, so the store keeps both in one
 * transaction; `undefined` when the request carries no key.
 */
export type SettleWith = (answer: IdempotentAnswer) => IdempotencySettlement | undefined;

/**
 * Runs a recording request once per key: the first request runs `record`
 * and its answer is kept; a retry gets that answer back without running it.
 * Without a key, `record` simply runs. `record` hands `settleWith(answer)`
 * to its store write, so the answer is kept atomically with what it records
 * and a crash between the two cannot record a retry twice.
 *
 * @param context The server context (clock and idempotency settings).
 * @param store Where keys are kept; expired ones are pruned now and then.
 * @param request The key, its scope and the request's fingerprint.
 * @param refuse The service's refusals for a key in use or reused.
 * @param record Records the request, settling the key through `settleWith`, and returns the
 *   answer to give; a throw releases the key.
 * @returns The answer, and whether it is a replay.
 * @throws {RequestRejection} From `refuse`, or whatever `record` throws.
 */
export function recordOnce(
  context: ServerContext,
  store: ServerStore,
  request: IdempotentRequest,
  refuse: IdempotencyRefusals,
  record: (settleWith: SettleWith) => Promise<IdempotentAnswer>,
): Promise<RecordedAnswer> {
  // Without a key nothing is claimed: one step, as most requests come
  if (request.key === undefined) return record(NO_SETTLEMENT).then(freshAnswer);
  return recordKeyed(context, store, request.key, request, refuse, record);
}

/** An answer, and whether it replays a retry's first answer. */
export interface RecordedAnswer {
  /** The status and body. */
  answer: IdempotentAnswer;
  /** Whether it is a replay. */
  replayed: boolean;
}

const NO_SETTLEMENT: SettleWith = () => undefined;

function freshAnswer(answer: IdempotentAnswer): RecordedAnswer {
  return { answer, replayed: false };
}

async function recordKeyed(
  context: ServerContext,
  store: ServerStore,
  key: string,
  request: IdempotentRequest,
  refuse: IdempotencyRefusals,
  record: (settleWith: SettleWith) => Promise<IdempotentAnswer>,
): Promise<RecordedAnswer> {
  const scope = request.scope;
  // It only starts a pass when one is due, and never waits for it
  void context.maintain(store);
  const now = context.now();
  const { windowMs, maxKeysPerScope, maxKeys } = context.idempotency;
  const fingerprint = request.fingerprint();
  const claim = await store.claimIdempotencyKey({
    scope,
    key,
    fingerprint,
    now,
    expiresAt: now + windowMs,
    leaseExpiresAt: now + Math.min(LEASE_MS, windowMs),
    maxPerScope: maxKeysPerScope,
    maxTotal: maxKeys,
  });
  if (claim.status === "held") {
    if (!sameFingerprint(claim.fingerprint, fingerprint)) refuse.reused();
    if (claim.answer === undefined) refuse.inFlight();
    return { answer: claim.answer, replayed: true };
  }
  let answer: IdempotentAnswer;
  let settled = false;
  try {
    answer = await record((given) => {
      settled = true;
      return { scope, key, answer: given };
    });
  } catch (error) {
    // Nothing was recorded: the key is free for the retry.
    await release(store, scope, key);
    throw error;
  }
  // A record that wrote nothing (an answer without a write) settles here instead.
  if (!settled) await store.settleIdempotencyKey(scope, key, answer);
  return { answer, replayed: false };
}

/**
 * Lets a key go, trying twice: a store that lost its connection under the
 * record may fail the next call too, before it has connected again. A store
 * still failing leaves the claim to its lease, which then answers the
 * retries 409 until it ends.
 */
async function release(store: ServerStore, scope: string, key: string): Promise<void> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      await store.settleIdempotencyKey(scope, key, undefined);
      return;
    } catch {
      // Once more, then the lease
    }
  }
}

/**
 * Builds the HTTP answer for a kept or fresh {@linkcode IdempotentAnswer}.
 *
 * @param answer The status and JSON body.
 * @param replayed Whether it answers a retry; then `Idempotent-Replayed: true` is set.
 * @returns The response.
 */
export function answerResponse(answer: IdempotentAnswer, replayed: boolean): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (replayed) headers[REPLAYED_HEADER] = "true";
  return new Response(answer.body, { status: answer.status, headers });
}
