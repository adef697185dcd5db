/**
 * One migas request with migas-py's outcome mapping: a timeout becomes a
 * `408` with `Connection to server timed out.`, an unreachable server a
 * `503` with `Could not connect to server.`, and any answer, whatever its
 * status, a parsed body for the response filter. It never throws, and it
 * never outlives its deadline, even when the fetch ignores the abort (the
 * core request's deadline holds).
 *
 * @module
 */

import { IDEMPOTENCY_KEY_HEADER } from "../core/delivery/idempotency.ts";
import { TimeoutError } from "../core/errors.ts";
import { postRaw } from "../core/http.ts";
import { MIGAS_CLIENT_VERSION } from "./options.ts";
import type { MigasSettings } from "./_settings.ts";

/** What came back, real or synthesised. */
export interface MigasResponse {
  status: number;
  body: unknown;
  /** `undefined` when no HTTP answer arrived. */
  headers: Headers | undefined;
  /** The `Retry-After` of a real answer, in milliseconds. */
  retryAfterMs?: number;
  /** Why no answer arrived, for a synthesised one. */
  failure?: "timeout" | "network";
}

/** The message migas-py gives a request that outlived its timeout. */
export const TIMED_OUT = "Connection to server timed out.";
/** The message migas-py gives a request that reached no server. */
export const UNREACHABLE = "Could not connect to server.";

const failure = (status: number, message: string): MigasResponse => ({
  status,
  body: { data: null, errors: [{ message }] },
  headers: undefined,
  failure: status === 408 ? "timeout" : "network",
});

/** The message of an answer migas-py cannot read. */
export const GENERIC_ERROR = "[migas] An error occurred.";

/** POSTs `body` to `url` with `headers` within `timeoutMs`, through the core request. */
export async function send(
  doFetch: typeof fetch,
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<MigasResponse> {
  const { "Content-Type": contentType = "application/json", ...rest } = headers;
  try {
    const answer = await postRaw(url, body, contentType, {
      fetch: doFetch,
      headers: rest,
      timeoutMs,
    });
    return {
      status: answer.status,
      body: typeof answer.body === "string" || answer.body === undefined
        ? parse(answer.body ?? "")
        : answer.body,
      headers: answer.headers,
      retryAfterMs: answer.retryAfterMs,
    };
  } catch (error) {
    return error instanceof TimeoutError ? failure(408, TIMED_OUT) : failure(503, UNREACHABLE);
  }
}

/**
 * POSTs a JSON body to migas as migas-py does (its `User-Agent`, `Accept`
 * and content type), within the client's deadline (or `timeoutMs`, when
 * shorter), with the idempotency key of a breadcrumb; warns when the answer
 * does not come from a migas server.
 */
export async function postMigas(
  settings: MigasSettings,
  url: string,
  body: string,
  key?: string,
  timeoutMs = settings.timeoutMs,
): Promise<MigasResponse> {
  settings.log("DEBUG", `POST ${url} ${body}`);
  const headers: Record<string, string> = {
    "User-Agent": `migas-client/${MIGAS_CLIENT_VERSION}`,
    "Accept": "*/*",
    "Content-Type": "application/json; charset=utf-8",
  };
  if (key !== undefined) headers[IDEMPOTENCY_KEY_HEADER] = key;
  const response = await send(
    settings.fetch ?? globalThis.fetch,
    url,
    body,
    headers,
    Math.min(settings.timeoutMs, timeoutMs),
  );
  if (response.headers !== undefined && !response.headers.has("x-backend-server")) {
    settings.log("WARNING", `The answer from ${url} has no X-Backend-Server header: is it migas?`);
  }
  return response;
}

/** Sends one GraphQL query to `<endpoint>/graphql` and answers the body, whatever the status. */
export async function postGraphql(settings: MigasSettings, query: string): Promise<unknown> {
  const url = `${settings.endpoint}/graphql`;
  return (await postMigas(settings, url, JSON.stringify({ query }))).body;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // A proxy's HTML error page: keep it where the filter looks for a reason
    return { detail: text.slice(0, 200) };
  }
}

/**
 * migas-py's `_filter_response`: a body with `success` is the answer; else
 * `data[operation]`; else the fallback, whose message becomes the first
 * GraphQL error's or FastAPI's `detail`. The errors are kept on the
 * fallback, so a timeout still reads `{ success: false, errors: [...] }`.
 */
export function filterResponse<T extends { success: boolean; message?: string }>(
  body: unknown,
  operation: string,
  fallback: T,
): T & { errors?: { message: string }[] } {
  if (isRecord(body)) {
    if (typeof body.success === "boolean") return body as T;
    const data = body.data;
    if (isRecord(data) && isRecord(data[operation])) return data[operation] as T;
    const errors = body.errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const list = errors.map((error) => ({
        message: isRecord(error) ? String(error.message) : String(error),
      }));
      return { ...fallback, message: list[0].message, errors: list };
    }
    if (body.detail !== undefined) {
      const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
      return { ...fallback, message: detail };
    }
  }
  return fallback;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
