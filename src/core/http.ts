/**
 * One HTTP request with a deadline, an optional caller signal, and every
 * outcome mapped to a typed error: {@linkcode TimeoutError},
 * {@linkcode AbortedError}, {@linkcode NetworkError} or {@linkcode HttpError}
 * (with `status`, the JSON `error` code and `Retry-After` in milliseconds).
 *
 * @module
 */

import {
  AbortedError,
  HttpError,
  InvalidArgumentError,
  NetworkError,
  TimeoutError,
} from "./errors.ts";

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
  return request<T>(url, bytes as BodyInit, contentType, options);
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

async function request<T>(
  url: string,
  body: BodyInit,
  contentType: string,
  options: RequestOptions,
): Promise<HttpResponse<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new InvalidArgumentError(
      "timeoutMs",
      `Cannot send the request as 'timeoutMs' must be a positive number: current value is ${timeoutMs}`,
    );
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  const path = describe(url);
  if (options.signal?.aborted) {
    throw new AbortedError(`Cannot POST ${path} as its signal was aborted`, {
      cause: options.signal.reason,
    });
  }

  // One controller for both causes, so the body read below is bounded too
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  const failure = (error: unknown): Error => {
    if (timedOut) {
      return new TimeoutError(`Cannot finish POST ${path} within ${timeoutMs} ms`, timeoutMs, {
        cause: error,
      });
    }
    if (options.signal?.aborted) {
      return new AbortedError(`POST ${path} stopped as its signal was aborted`, {
        cause: options.signal.reason,
      });
    }
    if (error instanceof HttpError) return error;
    return new NetworkError(`Cannot reach ${path}: ${messageOf(error)}`, { cause: error });
  };

  try {
    let response: Response;
    try {
      response = await doFetch(url, {
        method: "POST",
        headers: { ...options.headers, "content-type": contentType },
        body,
        signal: controller.signal,
        keepalive: options.keepalive,
      });
    } catch (error) {
      throw failure(error);
    }
    let decoded: unknown;
    try {
      decoded = decode(await response.text(), response.headers.get("content-type"));
    } catch (error) {
      throw failure(error);
    }
    if (response.status < 200 || response.status > 299) {
      const code = errorCode(decoded);
      const retryAfterMs = parseRetryAfter(
        response.headers.get("retry-after"),
        (options.now ?? Date.now)(),
      );
      throw new HttpError(
        `POST ${path} answered ${response.status}${code === undefined ? "" : ` (${code})`}`,
        response.status,
        { code, retryAfterMs, body: decoded },
      );
    }
    return { status: response.status, headers: response.headers, body: decoded as T };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

function decode(text: string, contentType: string | null): unknown {
  if (text === "") return undefined;
  if (contentType?.includes("json") || /^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function errorCode(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { error } = body as { error?: unknown };
  return typeof error === "string" ? error : undefined;
}

// Messages name the origin and path only: query strings may carry keys
function describe(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.origin + parsed.pathname;
  } catch {
    return "the given URL";
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
