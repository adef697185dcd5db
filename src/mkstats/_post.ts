/**
 * One JSON POST to the mkStats API, within the client's deadline, with the
 * `Idempotency-Key` of a recording request when it has one.
 *
 * @module
 */

import { IDEMPOTENCY_KEY_HEADER } from "../core/delivery/idempotency.ts";
import { type HttpResponse, postJson } from "../core/http.ts";
import type { MkStatsResponse } from "./options.ts";
import type { MkStatsSettings } from "./_settings.ts";

/**
 * POSTs `body` to `path` under the endpoint.
 *
 * @param settings The client's settings: endpoint, fetch, deadline, clock.
 * @param path Such as `/handshake`.
 * @param body The JSON body.
 * @param signal Aborts the request.
 * @param key The idempotency key a retry reuses.
 * @returns The decoded answer.
 * @throws {HttpError} On a non-2xx answer; {TimeoutError}, {NetworkError}, {AbortedError} otherwise.
 */
export function postMkStats(
  settings: MkStatsSettings,
  path: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
  key?: string,
): Promise<HttpResponse<MkStatsResponse>> {
  return postJson<MkStatsResponse>(settings.endpoint + path, body, {
    fetch: settings.fetch,
    timeoutMs: settings.timeoutMs,
    now: settings.now,
    signal,
    headers: key === undefined ? undefined : { [IDEMPOTENCY_KEY_HEADER]: key },
  });
}
