/**
 * The deadline for reading a request body. The app stamps each request with
 * it on arrival; {@linkcode readBeforeDeadline} throws a `TimeoutError` once
 * a client has held a partial body past it and cancels the body, so the
 * route answers 408 and lets go of what it buffered. (`Deno.serve` still
 * keeps the socket itself until the client sends the rest or goes away: a
 * cancelled read it has pending does not release the connection.)
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

/**
 * Reads the next chunk of a body, giving up once the request's deadline has
 * passed. A request without a deadline is read as it comes.
 *
 * @param request The request whose body is read.
 * @param reader A reader of that body.
 * @returns The next chunk, or done.
 * @throws {TimeoutError} When the deadline passes first; the body is cancelled.
 * @example
 * ```ts ignore
 * const { done, value } = await readBeforeDeadline(request, reader);
 * ```
 */
export async function readBeforeDeadline(
  request: Request,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  const deadline = deadlines.get(request);
  if (deadline === undefined) return await reader.read();
  const remaining = deadline.at - performance.now();
  if (remaining <= 0) {
    reader.cancel().catch(() => {});
    throw timedOut(deadline.timeoutMs);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Rejected before the cancel, which would settle the pending read as done
      reject(timedOut(deadline.timeoutMs));
      reader.cancel().catch(() => {});
    }, remaining);
  });
  try {
    return await Promise.race([reader.read(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function timedOut(timeoutMs: number): TimeoutError {
  return new TimeoutError(
    `Request body was not complete within ${timeoutMs} ms; raise 'bodyTimeoutMs' for slow clients`,
    timeoutMs,
  );
}
