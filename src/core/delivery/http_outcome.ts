/**
 * Maps one HTTP attempt to a {@linkcode SendOutcome}, the same way for every
 * client. A 5xx, a 408, a 429, a timeout, a network error and any answer
 * that is not the service's own (an HTML 404 from a proxy, a 400 without the
 * service's error code, a captive portal's 200 page) are retried; only a
 * refusal the client's `refusal` predicate recognises drops the batch.
 *
 * @module
 */

import { AbortedError, HttpError, NetworkError, TimeoutError } from "../errors.ts";
import type { HttpAnswer } from "../http.ts";
import type { SendOutcome } from "./outcome.ts";

/**
 * How one client tells its service's answers apart from anything else.
 *
 * @example mkStats: JSON error codes that name a bad event
 * ```ts
 * import type { HttpOutcomePolicy } from "@edgewire/sdk";
 *
 * const policy: HttpOutcomePolicy = {
 *   refusal: (answer) => {
 *     const code = (answer.body as { error?: unknown } | undefined)?.error;
 *     return answer.status === 400 && code === "invalid_request" ? "rejected" : undefined;
 *   },
 *   accepted: (answer) => typeof answer.body === "object" && answer.body !== null,
 * };
 * ```
 */
export interface HttpOutcomePolicy {
  /**
   * Names the drop reason when the answer is the service's own refusal of
   * this batch, one no retry can change; `undefined` otherwise. Consulted for
   * every answer but a 408, a 429 and a 5xx, a 2xx included (GraphQL refuses
   * with a 200).
   *
   * @default () => undefined: nothing is ever dropped
   */
  refusal?: (answer: HttpAnswer) => string | undefined;
  /**
   * Whether a 2xx answer is really the service accepting the batch, rather
   * than, say, a captive portal's HTML page.
   *
   * @default () => true
   */
  accepted?: (answer: HttpAnswer) => boolean;
}

/**
 * One HTTP attempt's result: the answer that arrived, or what was thrown.
 *
 * @example
 * ```ts
 * import type { HttpResult } from "@edgewire/sdk";
 *
 * const failed: HttpResult = { error: new TypeError("connection refused") };
 * ```
 */
export type HttpResult = { answer: HttpAnswer; error?: undefined } | {
  answer?: undefined;
  error: unknown;
};

/**
 * Awaits a request and captures its answer or its error, so that
 * {@linkcode httpOutcome} can classify either.
 *
 * @param request The request in flight, from {@linkcode postRaw}.
 * @returns The answer, or the error it was rejected with.
 * @throws Never: a rejection becomes `{ error }`.
 *
 * @example
 * ```ts
 * import { capture, httpOutcome, postRaw } from "@edgewire/sdk";
 *
 * const result = await capture(postRaw("http://127.0.0.1:8787/api/v1/event", "{}", "application/json"));
 * console.log(httpOutcome(result).kind);
 * ```
 */
export async function capture(request: Promise<HttpAnswer>): Promise<HttpResult> {
  try {
    return { answer: await request };
  } catch (error) {
    return { error };
  }
}

/**
 * Classifies one HTTP attempt. In order: a thrown {@linkcode TimeoutError},
 * {@linkcode NetworkError} or {@linkcode AbortedError} is a retry; a 408,
 * 429 or 5xx is a retry honouring `Retry-After`; an answer `refusal`
 * recognises is a drop; an accepted 2xx is sent; anything else is a retry
 * as `"unrecognised_answer"`. An {@linkcode HttpError} (from `postJson`) is
 * read as the answer it carries.
 *
 * @param result The answer or the error, as {@linkcode capture} gives.
 * @param policy The client's refusal and acceptance predicates.
 * @returns Sent, retry (with its reason and `Retry-After`) or dropped (with its reason).
 * @throws Never.
 *
 * @example
 * ```ts
 * import { httpOutcome } from "@edgewire/sdk";
 *
 * const answer = { status: 503, headers: new Headers(), body: "down", retryAfterMs: 2000 };
 * console.log(httpOutcome({ answer })); // { kind: "retry", reason: "server_error", status: 503, retryAfterMs: 2000, answer: "down" }
 * ```
 */
export function httpOutcome(result: HttpResult, policy: HttpOutcomePolicy = {}): SendOutcome {
  let answer = result.answer;
  if (answer === undefined) {
    const error = result.error;
    if (error instanceof HttpError) {
      answer = {
        status: error.status,
        headers: new Headers(),
        body: error.body,
        retryAfterMs: error.retryAfterMs,
      };
    } else if (error instanceof TimeoutError) {
      return { kind: "retry", reason: "timeout", error };
    } else if (error instanceof AbortedError) {
      return { kind: "retry", reason: "aborted", error };
    } else if (error instanceof NetworkError) {
      return { kind: "retry", reason: "network", error };
    } else {
      return { kind: "retry", reason: "unexpected", error };
    }
  }
  const { status } = answer;
  const retryable = status >= 500
    ? "server_error"
    : status === 429
    ? "rate_limited"
    : status === 408
    ? "timeout"
    : undefined;
  if (retryable !== undefined) {
    const outcome: SendOutcome = { kind: "retry", reason: retryable, status };
    if (answer.retryAfterMs !== undefined) outcome.retryAfterMs = answer.retryAfterMs;
    outcome.answer = answer.body;
    return outcome;
  }
  const refused = policy.refusal?.(answer);
  if (refused !== undefined) {
    return { kind: "dropped", reason: refused, status, answer: answer.body };
  }
  if (status >= 200 && status <= 299 && (policy.accepted?.(answer) ?? true)) {
    return { kind: "sent", answer: answer.body };
  }
  return { kind: "retry", reason: "unrecognised_answer", status, answer: answer.body };
}
