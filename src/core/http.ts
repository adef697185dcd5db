/**
 * One HTTP request with a deadline that holds even when `fetch` ignores the
 * abort signal, an optional caller signal, and every outcome mapped to a
 * typed error: {@linkcode TimeoutError}, {@linkcode AbortedError},
 * {@linkcode NetworkError} or {@linkcode HttpError} (with `status`, the JSON
 * `error` code and `Retry-After` in milliseconds). {@linkcode postRaw}
 * answers any status instead, for clients that read error bodies.
 *
 * @module
 */

import { AbortedError, HttpError, NetworkError, TimeoutError } from "./errors.ts";
import { positiveNumber } from "./validate.ts";
import { Deadline } from "./deadline.ts";
import { decodeBody, describeUrl, messageOf } from "./_http_text.ts";

/** Options of {@linkcode postJson} and {@linkcode postBytes}. */
export interface RequestOptions {
  /**
   * The fetch implementation to use.
   *
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * How long the whole request, body included, may take, in milliseconds.
   *
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Aborts the request when the caller no longer wants it.
   *
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * Extra request headers.
   *
   * @default {}
   */
  headers?: Record<string, string>;
  /**
   * The clock that turns a `Retry-After` date into a delay.
   *
   * @default Date.now
   */
  now?: () => number;
  /**
   * Passed to fetch so that a request started as a page unloads still
   * completes.
   *
   * @default false
   */
  keepalive?: boolean;
}

/** A successful (2xx) answer. */
export interface HttpResponse<T> {
  /** The HTTP status code, 200 to 299. */
  status: number;
  /** The response headers. */
  headers: Headers;
  /** The body: parsed JSON when it is JSON, the text otherwise, `undefined` when empty. */
  body: T;
}

/** The deadline used when a request names none, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * POSTs a JSON body and reads the answer.
 *
 * @param url Where to send it.
 * @param body Any value `JSON.stringify` accepts.
 * @param options Deadline, signal, headers and the fetch to use.
 * @returns The status, headers and decoded body of a 2xx answer.
 * @throws {HttpError} When the server answers outside 200–299.
 * @throws {TimeoutError} When `timeoutMs` passes first.
 * @throws {AbortedError} When `options.signal` aborts.
 * @throws {NetworkError} When no HTTP answer arrives.
 *
 * @example
 * ```ts
 * import { postJson } from "@edgewire/sdk";
 *
 * const { body } = await postJson<{ ok: boolean }>("http://127.0.0.1:8787/api/v1/data", { hello: 1 }, { timeoutMs: 5000 });
 * console.log(body.ok);
 * ```
 */
export function postJson<T = unknown>(
  url: string,
  body: unknown,
  options: RequestOptions = {},
): Promise<HttpResponse<T>> {
  return request<T>(url, JSON.stringify(body), "application/json", options);
}

/**
 * POSTs a binary body and reads the answer.
 *
 * @param url Where to send it.
 * @param bytes The body.
 * @param contentType The `Content-Type` header of the body.
 * @param options Deadline, signal, headers and the fetch to use.
 * @returns The status, headers and decoded body of a 2xx answer.
 * @throws {HttpError} When the server answers outside 200–299.
 * @throws {TimeoutError} When `timeoutMs` passes first.
 * @throws {AbortedError} When `options.signal` aborts.
 * @throws {NetworkError} When no HTTP answer arrives.
 *
 * @example
 * ```ts
 * import { postBytes } from "@edgewire/sdk";
 *
 * await postBytes("http://127.0.0.1:8787/capture", new Uint8Array([1, 2]), "application/octet-stream");
 * ```
 */
export function postBytes<T = unknown>(
  url: string,
  bytes: Uint8Array,
  contentType: string,
  options: RequestOptions = {},
): Promise<HttpResponse<T>> {
  return request<T>(url, bytes, contentType, options);
}

/**
 * Reads a `Retry-After` header value as a delay in milliseconds.
 *
 * @param value The header value: delay seconds or an HTTP date.
 * @param nowMs The current time, for the HTTP date form.
 * @returns The delay (never negative), or `undefined` when the value is absent or unreadable.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "@edgewire/sdk";
 *
 * console.log(parseRetryAfter("120", Date.now())); // 120000
 * console.log(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("Wed, 21 Oct 2015 07:27:00 GMT"))); // 60000
 * ```
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // RFC 9110 dates always name a weekday or month; Date.parse alone would accept "1.5"
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Any HTTP answer, 2xx or not, from {@linkcode postRaw}. */
export interface HttpAnswer {
  /** The HTTP status code. */
  status: number;
  /** The response headers. */
  headers: Headers;
  /** The body: parsed JSON when it is JSON, the text otherwise, `undefined` when empty. */
  body: unknown;
  /** The `Retry-After` header as a delay in milliseconds, when present and readable. */
  retryAfterMs: number | undefined;
}

/**
 * POSTs a body and returns whatever HTTP answer arrives, whatever its status:
 * the building block of {@linkcode postJson}, {@linkcode postBytes} and of
 * clients that read error bodies themselves. The deadline covers the body
 * read and holds even when `fetch` ignores the abort signal.
 *
 * @param url Where to send it.
 * @param body The body, as text or bytes.
 * @param contentType The `Content-Type` header of the body.
 * @param options Deadline, signal, headers and the fetch to use.
 * @returns The status, headers, decoded body and `Retry-After` of the answer.
 * @throws {InvalidArgumentError} When `timeoutMs` is not a positive number.
 * @throws {TimeoutError} When `timeoutMs` passes first.
 * @throws {AbortedError} When `options.signal` aborts.
 * @throws {NetworkError} When no HTTP answer arrives.
 *
 * @example
 * ```ts
 * import { postRaw } from "@edgewire/sdk";
 *
 * const answer = await postRaw("http://127.0.0.1:8787/api/breadcrumb", "{}", "application/json");
 * if (answer.status >= 500) console.log("retry in", answer.retryAfterMs ?? 1000, "ms");
 * ```
 */
export async function postRaw(
  url: string,
  body: string | Uint8Array,
  contentType: string,
  options: RequestOptions = {},
): Promise<HttpAnswer> {
  const timeoutMs = positiveNumber(
    "send the request",
    "timeoutMs",
    options.timeoutMs,
    DEFAULT_TIMEOUT_MS,
  );
  const doFetch = options.fetch ?? globalThis.fetch;
  const path = describeUrl(url);
  if (options.signal?.aborted) {
    throw new AbortedError(`Cannot POST ${path} as its signal was aborted`, {
      cause: options.signal.reason,
    });
  }

  // One deadline for the request and the body read, holding even when fetch ignores its signal
  const deadline = new Deadline(timeoutMs, {
    signal: options.signal,
    onTimeout: (ms) => new TimeoutError(`Cannot finish POST ${path} within ${ms} ms`, ms),
    onAbort: (reason) =>
      new AbortedError(`POST ${path} stopped as its signal was aborted`, { cause: reason }),
  });
  const failure = (error: unknown): Error => {
    if (error instanceof TimeoutError || error instanceof AbortedError) return error;
    if (deadline.signal.aborted) return deadline.signal.reason as Error;
    return new NetworkError(`Cannot reach ${path}: ${messageOf(error)}`, { cause: error });
  };

  try {
    let response: Response;
    try {
      response = await deadline.race(doFetch(url, {
        method: "POST",
        headers: { ...options.headers, "content-type": contentType },
        body: body as BodyInit,
        signal: deadline.signal,
        keepalive: options.keepalive,
      }));
    } catch (error) {
      throw failure(error);
    }
    let decoded: unknown;
    try {
      decoded = decodeBody(
        await deadline.race(response.text()),
        response.headers.get("content-type"),
      );
    } catch (error) {
      // The body may still be streaming into a fetch that ignored the abort
      response.body?.cancel().catch(() => {});
      throw failure(error);
    }
    return {
      status: response.status,
      headers: response.headers,
      body: decoded,
      retryAfterMs: parseRetryAfter(
        response.headers.get("retry-after"),
        (options.now ?? Date.now)(),
      ),
    };
  } finally {
    deadline.end();
  }
}

async function request<T>(
  url: string,
  body: string | Uint8Array,
  contentType: string,
  options: RequestOptions,
): Promise<HttpResponse<T>> {
  const answer = await postRaw(url, body, contentType, options);
  if (answer.status < 200 || answer.status > 299) {
    const code = errorCode(answer.body);
    throw new HttpError(
      `POST ${describeUrl(url)} answered ${answer.status}${code === undefined ? "" : ` (${code})`}`,
      answer.status,
      { code, retryAfterMs: answer.retryAfterMs, body: answer.body },
    );
  }
  return { status: answer.status, headers: answer.headers, body: answer.body as T };
}

function errorCode(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { error } = body as { error?: unknown };
  return typeof error === "string" ? error : undefined;
}
