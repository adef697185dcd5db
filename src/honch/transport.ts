/**
 * How the Honch client sends its bytes. A {@linkcode HonchTransport} takes
 * one request the client wants to make (one frame POSTed to `/capture`) and
 * answers what the collector said: `{ status, headers, body }`, whatever the
 * status. It throws only when no answer came. The client owns everything
 * else: the deadline (it aborts the signal and stops waiting even when a
 * transport ignores it), the mapping of the answer to sent, retry or dropped,
 * and the backoff. {@linkcode fetchTransport} is the default; pass your own
 * as the `transport` option to send through a native HTTP stack, a proxy or
 * a test double, as Sentry's `makeRequest` does.
 *
 * @example Log every upload, then send it with fetch
 * ```ts
 * import { fetchTransport, HonchClient, type HonchTransport } from "@edgewire/sdk/honch";
 *
 * const send = fetchTransport();
 * const transport: HonchTransport = async (request) => {
 *   const response = await send(request);
 *   console.log(request.body.length, "bytes answered", response.status);
 *   return response;
 * };
 * const client = new HonchClient({
 *   apiKey: "phc_example",
 *   deviceId: "dev_0001",
 *   deviceModel: "edge-worker",
 *   firmwareVersion: "1.4.0",
 *   endpoint: "https://capture.example.com",
 *   transport,
 * });
 * ```
 *
 * @module
 */

/**
 * One request the Honch client wants to make: a frame POSTed to capture.
 *
 * @example
 * ```ts
 * import type { HonchTransportRequest } from "@edgewire/sdk/honch";
 *
 * function describe(request: HonchTransportRequest): string {
 *   return `${request.method} ${request.url} (${request.body.length} bytes)`;
 * }
 * ```
 */
export interface HonchTransportRequest {
  /** The capture URL: `endpoint` with `/capture` appended. */
  url: string;
  /** The HTTP method, always `"POST"`. */
  method: "POST";
  /**
   * The request headers, names in lower case: `content-type`,
   * `x-honch-project-key` (the project key: never log it) and `x-honch-stream-id`.
   */
  headers: Record<string, string>;
  /** The body: one wire-v2 frame. */
  body: Uint8Array;
  /**
   * Whether the request must outlive the page: set for the uploads started
   * when the page is hidden or a crash is reported (fetch's `keepalive`).
   */
  keepalive: boolean;
  /** How long the client waits for the answer, body included, in milliseconds. */
  timeoutMs: number;
  /** Aborted when `timeoutMs` passes; the client stops waiting then in any case. */
  signal: AbortSignal;
}

/**
 * What the collector answered. Any status is an answer: the client, not the
 * transport, decides what a 429 or a 503 means.
 *
 * @example
 * ```ts
 * import type { HonchTransportResponse } from "@edgewire/sdk/honch";
 *
 * const busy: HonchTransportResponse = {
 *   status: 429,
 *   headers: { "retry-after": "30" },
 *   body: '{"error":"rate_limited"}',
 * };
 * ```
 */
export interface HonchTransportResponse {
  /** The HTTP status code. */
  status: number;
  /**
   * The response headers; only `Retry-After` is read (in any letter case).
   *
   * @default {}
   */
  headers?: Headers | Record<string, string>;
  /**
   * The response body, as text or already parsed JSON; only its `error`
   * code is read: a 4xx refusal drops the batch only when it carries one
   * (capture's own answer), and `message_collision` moves the batch to a
   * new message id. A 4xx without one (a proxy's page) is retried.
   *
   * @default undefined
   */
  body?: unknown;
}

/**
 * Sends one request and answers the collector's response, or throws when no
 * response came: a core `TimeoutError` when the deadline passed, a core
 * `NetworkError` when the network failed. Anything else it throws counts as a
 * network failure too. In every failure the events stay queued and are
 * retried with backoff.
 *
 * @param request What to send, with its deadline and abort signal.
 * @returns The status, headers and body the collector answered.
 * @throws {TimeoutError} When the deadline passed before an answer.
 * @throws {NetworkError} When no answer arrived.
 *
 * @example A transport that answers from memory, as in a test
 * ```ts
 * import type { HonchTransport } from "@edgewire/sdk/honch";
 *
 * const bodies: Uint8Array[] = [];
 * const transport: HonchTransport = (request) => {
 *   bodies.push(request.body);
 *   return Promise.resolve({ status: 204 });
 * };
 * ```
 */
export type HonchTransport = (request: HonchTransportRequest) => Promise<HonchTransportResponse>;

/**
 * Makes the default transport: one `fetch` call per request with the
 * request's signal and `keepalive`, answering the status, headers and body
 * text. A fetch that rejects is reported as a network failure; the client
 * turns an abort at its deadline into a timeout.
 *
 * @param fetchImpl The fetch to call; read from `globalThis` at each request when omitted.
 * @returns A transport for the `transport` option.
 * @throws {TypeError} Never itself; the transport it returns rejects with what fetch rejects with.
 *
 * @example Wrap the default transport
 * ```ts
 * import { fetchTransport, type HonchTransport } from "@edgewire/sdk/honch";
 *
 * const send = fetchTransport();
 * const counted: HonchTransport = (request) => {
 *   console.log("uploading", request.body.length, "bytes");
 *   return send(request);
 * };
 * ```
 */
export function fetchTransport(fetchImpl?: typeof fetch): HonchTransport {
  return async (request) => {
    const doFetch = fetchImpl ?? globalThis.fetch;
    const response = await doFetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body as BodyInit,
      keepalive: request.keepalive,
      signal: request.signal,
    });
    // Read inside the deadline too: a body that never ends is a timeout, not an answer.
    const body = await response.text();
    return { status: response.status, headers: response.headers, body };
  };
}
