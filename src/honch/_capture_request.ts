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
import { Deadline } from "../core/deadline.ts";
import { decodeBody, describeUrl, messageOf } from "../core/_http_text.ts";
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
  const path = describeUrl(request.url, "the capture URL");
  const deadline = new Deadline(request.timeoutMs, {
    onTimeout: (ms) => new TimeoutError(`Cannot finish POST ${path} within ${ms} ms`, ms),
  });
  let response;
  try {
    const call = Promise.resolve().then(() => transport({ ...request, signal: deadline.signal }));
    response = await deadline.race(call);
  } catch (error) {
    if (deadline.timedOut) throw deadline.signal.reason;
    if (error instanceof TimeoutError || error instanceof NetworkError) throw error;
    throw new NetworkError(`Cannot reach ${path}: ${messageOf(error)}`, { cause: error });
  } finally {
    deadline.end();
  }
  const status = (response as { status?: unknown } | undefined)?.status;
  if (typeof status !== "number" || !Number.isInteger(status)) {
    throw new NetworkError(`Cannot read the answer of POST ${path}: the transport gave no status`);
  }
  const headers = toHeaders(response.headers);
  const answer: HttpAnswer = {
    status,
    headers,
    body: decodeBody(response.body),
    retryAfterMs: parseRetryAfter(headers.get("retry-after"), now()),
  };
  return answer;
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
