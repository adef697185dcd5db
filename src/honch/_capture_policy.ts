/**
 * The Honch capture response policy as delivery outcomes: which answers to
 * one frame mean the message was taken, refused for good (dropped and
 * counted), or may be taken later (kept, with backoff). Only capture's own
 * JSON refusal drops a batch: a 401 with an `error` code is `auth_error`, any
 * other 4xx with one (400, 404, 413, 415, 422…) is `rejected`; a 409 is a
 * retry from offset 0; a 408, a 429, a 5xx, a timeout, a network error and
 * an answer without capture's `error` code (a proxy's HTML 404) are retries.
 *
 * @module
 */

import { HttpError } from "../core/errors.ts";
import { httpOutcome, type HttpOutcomePolicy, type HttpResult } from "../core/delivery/mod.ts";
import type { SendOutcome } from "../core/delivery/mod.ts";
import type { HttpAnswer } from "../core/http.ts";

/** Which answers are capture's refusals of a batch. */
export const CAPTURE_POLICY: HttpOutcomePolicy = {
  refusal(answer) {
    const { status } = answer;
    if (status < 400 || status > 499 || status === 409) return undefined;
    if (errorCode(answer.body) === undefined) return undefined;
    return status === 401 ? "auth_error" : "rejected";
  },
};

/**
 * Classifies the answer to one frame. A 409 is a retry whose reason says
 * whether the message id names another message (`"message_collision"`) or
 * the upload must start again (`"conflict"`); a 202 stays `sent`, for the
 * caller to tell a stored chunk from a complete message. Every outcome that
 * is not `sent` and came with an answer carries it as an {@linkcode HttpError}.
 *
 * @param result The answer or the error of the request.
 * @param path The capture URL's origin and path, for the error message.
 * @returns Sent, retry or dropped.
 */
export function frameOutcome(result: HttpResult, path: string): SendOutcome {
  const answer = result.answer;
  if (answer?.status === 409) {
    const code = errorCode(answer.body);
    const outcome: SendOutcome = {
      kind: "retry",
      reason: code === "message_collision" ? "message_collision" : "conflict",
      status: 409,
      error: httpError(answer, path),
      answer: answer.body,
    };
    if (answer.retryAfterMs !== undefined) outcome.retryAfterMs = answer.retryAfterMs;
    return outcome;
  }
  const outcome = httpOutcome(result, CAPTURE_POLICY);
  if (outcome.kind !== "sent" && answer !== undefined) outcome.error = httpError(answer, path);
  return outcome;
}

/**
 * The `error` code of capture's JSON body, such as `"invalid_project_key"`.
 *
 * @param body The decoded body.
 * @returns The code, or `undefined` when the body is not capture's JSON error.
 */
export function errorCode(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const { error } = body as { error?: unknown };
  return typeof error === "string" && error !== "" ? error : undefined;
}

function httpError(answer: HttpAnswer, path: string): HttpError {
  const code = errorCode(answer.body);
  return new HttpError(
    `POST ${path} answered ${answer.status}${code === undefined ? "" : ` (${code})`}`,
    answer.status,
    { code, retryAfterMs: answer.retryAfterMs, body: answer.body },
  );
}
