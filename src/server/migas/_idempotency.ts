/**
 * How the migas routes refuse a bad, busy or reused `Idempotency-Key`, in
 * migas' own shapes (FastAPI's `detail` over REST, GraphQL's `errors`), and
 * what a breadcrumb's fingerprint covers: every recorded field but the
 * server's timestamp, and the route it came by, so one key cannot record a
 * breadcrumb over REST and again over GraphQL.
 *
 * @module
 */

import { sha256Hex } from "../_context.ts";
import type { IdempotencyRefusals } from "../_idempotency.ts";
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
  // The text `fingerprint([route, ...entries sorted by key])` digests, written out: building
  // and sorting the entries of each breadcrumb cost 4.2 µs, this 3.3 µs (most of both is SHA-256)
  const fields = crumb as unknown as Record<string, unknown>;
  const { sorted, quoted } = shapeOf(fields);
  let json = "[" + JSON.stringify(route);
  for (let i = 0; i < sorted.length; i++) {
    // In an array, what JSON cannot hold (undefined) is written null
    json += ",[" + quoted[i] + "," + (JSON.stringify(fields[sorted[i]]) ?? "null") + "]";
  }
  return sha256Hex(json + "]");
}

/** A record's keys as they come, the recorded ones sorted, and those as JSON. */
interface Shape {
  keys: string[];
  sorted: string[];
  quoted: string[];
}

/** The shape last met: every REST breadcrumb has the same. */
let lastShape: Shape | undefined;

function shapeOf(fields: Record<string, unknown>): Shape {
  const keys = Object.keys(fields);
  const known = lastShape;
  if (known !== undefined && known.keys.length === keys.length) {
    let same = true;
    for (let i = 0; i < keys.length && same; i++) same = keys[i] === known.keys[i];
    if (same) return known;
  }
  // The timestamp is the server's, so a retry has another: it is not what the request records
  const sorted = keys.filter((key) => key !== "timestamp").sort((a, b) => a < b ? -1 : 1);
  return lastShape = { keys, sorted, quoted: sorted.map((key) => JSON.stringify(key)) };
}
