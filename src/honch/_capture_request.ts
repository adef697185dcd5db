/**
 * One call of a {@linkcode HonchTransport} under the client's deadline: the
 * signal is aborted when the deadline passes and the call is abandoned then
 * even when the transport ignores the signal, every failure becomes a core
 * `TimeoutError` or `NetworkError`, and the answer becomes the core
 * {@linkcode HttpAnswer} that `httpOutcome()` classifies (a JSON body parsed,
 * `Retry-After` read), whatever its status.
 *
 * @module
 */

import { NetworkError, TimeoutError } from "../core/errors.ts";
import { type HttpAnswer, parseRetryAfter } from "../core/http.ts";
import type { HonchTransport, HonchTransportRequest } from "./transport.ts";

/** A request without the signal, which {@linkcode sendCapture} makes. */
export type CaptureRequest = Omit<HonchTransportRequest, "signal">;

/**
 * Calls `transport` with `request` and a signal aborted at `request.timeoutMs`.
 *
 * @param transport The transport to call.
 * @param request What to send.
 * @param now The clock that turns a `Retry-After` date into a delay.
 * @returns The status, headers, decoded body and `Retry-After` of the answer, whatever the status.
 * @throws {TimeoutError} When the deadline passes first, whether or not the transport noticed.
 * @throws {NetworkError} When the transport throws anything else or answers no status.
 */
export async function sendCapture(
  transport: HonchTransport,
  request: CaptureRequest,
  now: () => number,
): Promise<HttpAnswer> {
  const path = describe(request.url);
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new TimeoutError(
    `Cannot finish POST ${path} within ${request.timeoutMs} ms`,
    request.timeoutMs,
  );
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(timeout);
      reject(timeout);
    }, request.timeoutMs);
  });
  let response;
  try {
    const call = Promise.resolve().then(() => transport({ ...request, signal: controller.signal }));
    response = await Promise.race([call, deadline]);
  } catch (error) {
    if (error instanceof TimeoutError || controller.signal.aborted) {
      throw error instanceof TimeoutError ? error : timeout;
    }
    if (error instanceof NetworkError) throw error;
    throw new NetworkError(`Cannot reach ${path}: ${messageOf(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  const status = (response as { status?: unknown } | undefined)?.status;
  if (typeof status !== "number" || !Number.isInteger(status)) {
    throw new NetworkError(`Cannot read the answer of POST ${path}: the transport gave no status`);
  }
  const answer: HttpAnswer = {
    status,
    headers: toHeaders(response.headers),
    body: decode(response.body),
    retryAfterMs: parseRetryAfter(header(response.headers, "retry-after"), now()),
  };
  return answer;
}

function header(
  headers: Headers | Record<string, string> | undefined,
  name: string,
): string | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (typeof (headers as Headers).get === "function") {
    return (headers as Headers).get(name) ?? undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === "string") return value;
  }
  return undefined;
}

// A JSON object or array given as text is parsed, as core postRaw() does; anything else is kept
function decode(body: unknown): unknown {
  if (typeof body !== "string" || !/^\s*[{[]/.test(body)) return body === "" ? undefined : body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

function toHeaders(headers: Headers | Record<string, string> | undefined): Headers {
  if (headers instanceof Headers) return headers;
  const result = new Headers();
  for (const [name, value] of Object.entries(headers ?? {})) {
    try {
      result.set(name, String(value));
    } catch {
      // A transport's header that HTTP cannot carry is not one the client reads
    }
  }
  return result;
}

// Messages name the origin and path only: a query string may carry a key.
function describe(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.origin + parsed.pathname;
  } catch {
    return "the capture URL";
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
