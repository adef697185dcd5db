/**
 * How mkStats answers are read for delivery: which refusals are the
 * service's own verdict on an event (dropped and counted), which 2xx are the
 * service accepting it, and the largest count one event request may carry.
 *
 * @module
 */

import type { HttpOutcomePolicy } from "../core/delivery/http_outcome.ts";
import type { HttpAnswer } from "../core/http.ts";

/** The largest `count` one `POST /event` may carry; larger aggregated counts are split. */
export const MAX_EVENT_COUNT = 1_000_000;

// A refusal of the event itself: retrying the same body can never succeed.
// 401, 409 are handled by re-handshaking or pinging; 403 (a failed handshake),
// 404 (a wrong base URL), 415 and unknown codes keep the event.
const EVENT_REFUSALS: Record<string, number> = {
  invalid_request: 400,
  payload_too_large: 413,
};

function errorCode(answer: HttpAnswer): string | undefined {
  const body = answer.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const code = (body as { error?: unknown }).error;
  return typeof code === "string" ? code : undefined;
}

/** The policy for `POST /event`: only the service's own JSON error codes drop an event. */
export const EVENT_POLICY: HttpOutcomePolicy = {
  refusal: (answer) => {
    const code = errorCode(answer);
    return code !== undefined && EVENT_REFUSALS[code] === answer.status ? "rejected" : undefined;
  },
  // The service answers a JSON object; anything else is a portal or a proxy talking
  accepted: (answer) =>
    typeof answer.body === "object" && answer.body !== null && !Array.isArray(answer.body),
};
