/**
 * How the migas routes refuse a bad, busy or reused `Idempotency-Key`, in
 * migas' own shapes (FastAPI's `detail` over REST, GraphQL's `errors`), and
 * what a breadcrumb's fingerprint covers: every recorded field but the
 * server's timestamp, and the route it came by, so one key cannot record a
 * breadcrumb over REST and again over GraphQL.
 *
 * @module
 */

import { fingerprintOfJson, type IdempotencyRefusals } from "../_idempotency.ts";
import { RequestRejection } from "../_validate.ts";
import { detail, unprocessable } from "./_models.ts";
import type { MigasBreadcrumbRecord } from "./store.ts";

const LOC = ["header", "idempotency-key"];
const INVALID = "Idempotency-Key must be 1 to 255 visible ASCII characters";
const IN_FLIGHT = "A request with this Idempotency-Key is still being processed: retry shortly";
const REUSED = "This Idempotency-Key was already used with another request: use a new key";

/** The REST refusals: FastAPI's 422 list, and a 409 `detail` with `Retry-After`. */
export const REST_REFUSALS: IdempotencyRefusals = {
  invalid: () =>
    unprocessable([{ type: "value_error", loc: LOC, msg: INVALID }], "invalid_idempotency_key"),
  inFlight: () => detail(409, "idempotency_key_in_use", IN_FLIGHT, { "retry-after": "1" }),
  reused: () =>
    unprocessable(
      [{ type: "idempotency_key_reused", loc: LOC, msg: REUSED }],
      "idempotency_key_reused",
    ),
};

function graphqlRefusal(status: number, code: string, message: string): never {
  throw new RequestRejection(
    status,
    { data: null, errors: [{ message, extensions: { code } }] },
    status === 409 ? { "retry-after": "1" } : {},
    code,
  );
}

/** The GraphQL refusals: the whole request answers with the status and an `errors` list. */
export const GRAPHQL_REFUSALS: IdempotencyRefusals = {
  invalid: () => graphqlRefusal(400, "invalid_idempotency_key", INVALID),
  inFlight: () => graphqlRefusal(409, "idempotency_key_in_use", IN_FLIGHT),
  reused: () => graphqlRefusal(422, "idempotency_key_reused", REUSED),
};

/**
 * The fingerprint of a breadcrumb: what it records, and how it came.
 *
 * @param route `rest`, `add_breadcrumb` or `add_project`.
 * @param crumb The breadcrumb as it would be stored.
 * @returns The digest.
 */
export function crumbFingerprint(route: string, crumb: MigasBreadcrumbRecord): string {
  // The JSON of `[route, ...entries sorted by key]`, written out: building, sorting and
  // serialising the entries took as long as the SHA-256 of the text.
  const fields = crumb as unknown as Record<string, unknown>;
  let text = "[" + JSON.stringify(route);
  for (let i = 0; i < RECORDED.length; i++) {
    // An entry is written only for a key the record has, as `Object.entries` would.
    if (!(RECORDED[i] in fields)) continue;
    // In an array, what JSON cannot hold (undefined) is written null.
    text += ENTRY_HEADS[i] + (JSON.stringify(fields[RECORDED[i]]) ?? "null") + "]";
  }
  return fingerprintOfJson(text + "]");
}

/**
 * Every field a breadcrumb records: all of the record's but the server's
 * timestamp, which a retry has anew. Typed so that a field added to the
 * record must be added here.
 */
const RECORDED_FIELDS: Record<Exclude<keyof MigasBreadcrumbRecord, "timestamp">, true> = {
  project: true,
  projectVersion: true,
  language: true,
  languageVersion: true,
  sessionId: true,
  userId: true,
  userType: true,
  platform: true,
  container: true,
  isCi: true,
  status: true,
  statusDesc: true,
  errorType: true,
  errorDesc: true,
};

/** The recorded fields sorted by name, and the JSON each entry starts with. */
const RECORDED = Object.keys(RECORDED_FIELDS).sort((a, b) => a < b ? -1 : 1);
const ENTRY_HEADS = RECORDED.map((key) => `,[${JSON.stringify(key)},`);
