/**
 * The deadline for reading a request body. The app stamps each request with
 * it on arrival; {@linkcode readBeforeDeadline} throws a `TimeoutError` once
 * a client has held a partial body past it, so the route answers 408 and lets
 * go of what it buffered. (`Deno.serve` still keeps the socket itself until
 * the client sends the rest or goes away.)
 *
 * Two measured choices keep a stalled body cheap in Deno 2.9 (issue 12): a
 * read pending on it costs about three times its buffer until the client
 * goes, so {@linkcode openChunkReader} reads 4 KiB at a time, not a default
 * reader's 64 KiB (3,000 stalled clients' reads: 60 MB, not 470 MB); and a pending
 * read that is cancelled is never freed, even after the client hangs up, so
 * at the deadline the reader is released (the pending read rejects) and the
 * body left uncancelled for the runtime to drop with the connection. A small
 * body of a declared length is read whole with {@linkcode readWholeBeforeDeadline}
 * instead (one step rather than a read per chunk), and at its deadline that
 * read is left pending, never cancelled, for the same reason.
 *
 * @module
 */

import { TimeoutError } from "../core/errors.ts";

/** When each request's body must be read by, with its timeout, in `performance.now()` ms. */
const deadlines = new WeakMap<Request, { at: number; timeoutMs: number }>();

/**
 * Sets the deadline for reading a request's body, counted from now. A request
 * already stamped keeps its first deadline.
 *
 * @param request The request, as the routes will see it.
 * @param timeoutMs How long the whole body may take, in milliseconds.
 * @returns Nothing.
 * @example
 * ```ts ignore
 * stampBodyDeadline(request, 10_000);
 * ```
 */
export function stampBodyDeadline(request: Request, timeoutMs: number): void {
  if (!deadlines.has(request)) {
    deadlines.set(request, { at: performance.now() + timeoutMs, timeoutMs });
  }
}

/** The reading side of a request body, as {@linkcode openChunkReader} makes it. */
export interface ChunkReader {
  /** Reads the next chunk; its bytes are the caller's to keep. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  /** Lets go of the rest of the body. */
  cancel(): Promise<void>;
  /** Unlocks the body; a read still pending is rejected. */
  releaseLock(): void;
}

/**
 * Size of each read of a body. Small on purpose: what a read pending on a
 * stalled client costs grows with it (see the module's note).
 */
const CHUNK_BYTES = 4096;

/**
 * Opens a body for reading in pieces of at most 4 KiB, through a BYOB reader
 * that reuses one buffer, where the body is a byte stream (`Deno.serve`,
 * Bun); other bodies (Node's) are read with a default reader as they come.
 *
 * @param body The request body, not yet locked.
 * @returns A reader whose chunks are fresh copies the caller may keep.
 * @throws {TypeError} When the body is already locked or read.
 * @example
 * ```ts ignore
 * const reader = openChunkReader(request.body!);
 * const { done, value } = await reader.read();
 * ```
 */
export function openChunkReader(body: ReadableStream<Uint8Array>): ChunkReader {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch (error) {
    if (body.locked) throw error;
    // Not a byte stream
    return body.getReader();
  }
  let scratch = new ArrayBuffer(CHUNK_BYTES);
  return {
    async read() {
      const { done, value } = await byob.read(new Uint8Array(scratch));
      if (value === undefined) return { done: true, value: undefined };
      // The read hands the buffer back in value: keep it for the next one
      scratch = value.buffer as ArrayBuffer;
      return done ? { done, value: undefined } : { done, value: value.slice() };
    },
    cancel: () => byob.cancel(),
    releaseLock: () => byob.releaseLock(),
  };
}

/**
 * Reads the next chunk of a body, giving up once the request's deadline has
 * passed. A request without a deadline is read as it comes.
 *
 * @param request The request whose body is read.
 * @param reader A reader of that body.
 * @returns The next chunk, or done.
 * @throws {TimeoutError} When the deadline passes first; the reader is then released.
 * @example
 * ```ts ignore
 * const { done, value } = await readBeforeDeadline(request, reader);
 * ```
 */
export async function readBeforeDeadline(
  request: Request,
  reader: Pick<ChunkReader, "read" | "releaseLock">,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  const deadline = deadlines.get(request);
  if (deadline === undefined) return await reader.read();
  if (deadline.at <= performance.now()) {
    reader.releaseLock();
    throw timedOut(deadline.timeoutMs);
  }
  // Not cancel(): Deno 2.9 never frees a pending read that is cancelled
  const watch = watchUntil(deadline.at, () => reader.releaseLock());
  try {
    return await reader.read();
  } catch (error) {
    // The sweep's release rejects the pending read: that is the deadline.
    if (watch.expired) throw timedOut(deadline.timeoutMs);
    throw error;
  } finally {
    unwatch(watch);
  }
}

/**
 * Reads a whole body the runtime's fastest way (`arrayBuffer()`, one step in
 * `Deno.serve` where a stream read is one per chunk), giving up at the
 * request's deadline. For bodies of a declared, small length only: at the
 * deadline the read is left pending, never cancelled (see the module's note),
 * and the runtime drops it with the connection.
 *
 * @param request The request, its body untouched.
 * @returns The body.
 * @throws {TimeoutError} When the deadline passes first.
 * @example
 * ```ts ignore
 * const bytes = await readWholeBeforeDeadline(request);
 * ```
 */
export function readWholeBeforeDeadline(request: Request): Promise<Uint8Array> {
  const deadline = deadlines.get(request);
  if (deadline === undefined) return request.arrayBuffer().then(toBytes);
  if (deadline.at <= performance.now()) return Promise.reject(timedOut(deadline.timeoutMs));
  // One promise settled by whichever comes first, rather than a race of two
  return new Promise<Uint8Array>((resolve, reject) => {
    const watch = watchUntil(deadline.at, () => reject(timedOut(deadline.timeoutMs)));
    request.arrayBuffer().then(
      (buffer) => {
        unwatch(watch);
        resolve(new Uint8Array(buffer));
      },
      (error) => {
        unwatch(watch);
        reject(error);
      },
    );
  });
}

function toBytes(buffer: ArrayBuffer): Uint8Array {
  return new Uint8Array(buffer);
}

/** A pending read and when its request's body must be complete. */
interface Watch {
  readonly at: number;
  /** Gives the read up at the deadline: releases its reader, or rejects a whole-body read. */
  readonly giveUp: () => void;
  expired: boolean;
}

/**
 * How often pending reads are checked. One interval serves every read in
 * flight, rather than a timer armed and cleared around each chunk, which
 * cost more than the read itself; a body times out up to this much late.
 * The interval stops itself at the first sweep with nothing to watch, not as
 * each read ends: under load the set empties between requests, and starting
 * and stopping an interval per request (with a two-promise race per whole
 * read) cost a sixth of an mkStats event's CPU time in the ingest bench.
 */
const SWEEP_MS = 250;
const watched = new Set<Watch>();
let sweeper: ReturnType<typeof setInterval> | undefined;

/** Has the sweeper give a read up at `at`, until {@linkcode unwatch}. */
function watchUntil(at: number, giveUp: () => void): Watch {
  const watch: Watch = { at, giveUp, expired: false };
  watched.add(watch);
  // Kept referenced: a read of a body that never comes keeps nothing else alive
  sweeper ??= setInterval(sweep, SWEEP_MS);
  return watch;
}

function unwatch(watch: Watch): void {
  watched.delete(watch);
}

function sweep(): void {
  const now = performance.now();
  for (const watch of watched) {
    if (watch.at > now) continue;
    watch.expired = true;
    watched.delete(watch);
    watch.giveUp();
  }
  stopIdleSweeper();
}

/**
 * Stops the shared sweeper when no read is watched; the server calls it on
 * `close()`, so nothing of a closed server's is left running.
 *
 * @returns Nothing.
 * @example
 * ```ts ignore
 * stopIdleSweeper();
 * ```
 */
export function stopIdleSweeper(): void {
  if (watched.size > 0 || sweeper === undefined) return;
  clearInterval(sweeper);
  sweeper = undefined;
}

function timedOut(timeoutMs: number): TimeoutError {
  return new TimeoutError(
    `Request body was not complete within ${timeoutMs} ms; raise 'bodyTimeoutMs' for slow clients`,
    timeoutMs,
  );
}
