/**
 * The JSON ingest body of Honch capture (`POST /capture` with
 * `application/json`): one shared context and a list of events, validated
 * field by field so one bad event is reported without refusing the others,
 * then stored as the same expanded events frames give.
 *
 * @module
 */

import { PROMOTED_CONTEXT_KEYS } from "../../honch/wire_v2.ts";
import type { ServerContext } from "../_context.ts";
import { readJsonObject, RequestRejection } from "../_validate.ts";
import { expansionBounds } from "./_bounds.ts";
import type { HonchEventRecord } from "./store.ts";

/** How many events one JSON request may carry, as the capture limits allow a message. */
const MAX_JSON_EVENTS = 500;
/** The longest string accepted in JSON context and event names, as the capture limits allow. */
const MAX_JSON_TEXT = 4096;
/** How deeply JSON property values may nest, as in the wire format. */
const MAX_JSON_DEPTH = 8;

const REQUIRED_CONTEXT = [
  "distinct_id",
  "$device_id",
  "$device_model",
  "$firmware_version",
  "$sdk_platform",
  "$sdk_version",
] as const;
/** The promoted context properties in the wire format's key id order. */
/** The promoted context properties after distinct_id, in the wire format's key id order. */
const PROMOTED_CONTEXT = PROMOTED_CONTEXT_KEYS.slice(1);
const CONTEXT_KEYS: ReadonlySet<string> = new Set(PROMOTED_CONTEXT_KEYS);
const NUMERIC_PROPERTIES: ReadonlySet<string> = new Set(["$battery_level", "$wifi_rssi"]);

/** One problem found in a JSON ingest request, as its `errors` list reports it. */
interface FieldError {
  code: string;
  field: string;
  message: string;
  index?: number;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readJsonContext(
  body: Record<string, unknown>,
  errors: FieldError[],
): Record<string, string> {
  const raw = body.context;
  const context: Record<string, string> = {};
  if (!isPlainObject(raw)) {
    errors.push({
      code: "invalid_context",
      field: "context",
      message: "'context' must be an object of the shared context keys",
    });
    return context;
  }
  for (const [key, value] of Object.entries(raw)) {
    const field = `context.${key}`;
    if (!CONTEXT_KEYS.has(key)) {
      errors.push({
        code: "unknown_context_key",
        field,
        message: `'${field}' is not a context key: send it as an event property`,
      });
    } else if (value === null || value === undefined) {
      continue;
    } else if (typeof value !== "string" || value.length === 0 || value.length > MAX_JSON_TEXT) {
      errors.push({
        code: "invalid_context_value",
        field,
        message: `'${field}' must be a string of 1..${MAX_JSON_TEXT} characters`,
      });
    } else {
      context[key] = value;
    }
  }
  for (const key of REQUIRED_CONTEXT) {
    if (raw[key] === undefined || raw[key] === null) {
      errors.push({
        code: "missing_context_key",
        field: `context.${key}`,
        message: `'context.${key}' is required`,
      });
    }
  }
  context.$environment ??= "production";
  return context;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function parseTimestamp(value: unknown, now: number): number | undefined {
  if (value === undefined || value === null) return now;
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== "string") return undefined;
  const match = RFC3339.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const millis = Number((match[7] ?? "").padEnd(3, "0").slice(0, 3));
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC rolls 31 February over into March; the calendar check catches it.
  if (new Date(date).getUTCDate() !== day) return undefined;
  let offset = 0;
  if (match[8] === undefined) {
    const hours = Number(match[10]);
    const minutes = Number(match[11]);
    if (hours > 23 || minutes > 59) return undefined;
    offset = (match[9] === "-" ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  const timestamp = date - offset;
  return Number.isSafeInteger(timestamp) && timestamp >= 0 ? timestamp : undefined;
}

function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_JSON_DEPTH) return depth;
  if (Array.isArray(value)) {
    return value.reduce(
      (most: number, item) => Math.max(most, depthOf(item, depth + 1)),
      depth + 1,
    );
  }
  if (isPlainObject(value)) {
    return Object.values(value).reduce(
      (most: number, item) => Math.max(most, depthOf(item, depth + 1)),
      depth + 1,
    );
  }
  return depth;
}

function readJsonEvent(
  raw: unknown,
  index: number,
  context: Record<string, string>,
  now: number,
): HonchEventRecord | FieldError {
  const at = `events[${index}]`;
  if (!isPlainObject(raw)) {
    return { index, code: "invalid_event", field: at, message: `'${at}' must be an object` };
  }
  const name = raw.event;
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_JSON_TEXT) {
    return {
      index,
      code: "invalid_event",
      field: `${at}.event`,
      message: `'${at}.event' must be a string of 1..${MAX_JSON_TEXT} characters`,
    };
  }
  const timestamp = parseTimestamp(raw.timestamp, now);
  if (timestamp === undefined) {
    return {
      index,
      code: "invalid_timestamp",
      field: `${at}.timestamp`,
      message: `'${at}.timestamp' must be epoch milliseconds or an RFC 3339 date`,
    };
  }
  const own = raw.properties ?? {};
  if (!isPlainObject(own)) {
    return {
      index,
      code: "invalid_properties",
      field: `${at}.properties`,
      message: `'${at}.properties' must be an object`,
    };
  }
  const properties: Record<string, unknown> = {};
  for (const key of PROMOTED_CONTEXT) {
    if (context[key] !== undefined) properties[key] = context[key];
  }
  for (const [key, value] of Object.entries(own)) {
    const field = `${at}.properties.${key}`;
    if (CONTEXT_KEYS.has(key)) {
      return {
        index,
        code: "reserved_property",
        field,
        message: `'${field}' is promoted from the context: set it there instead`,
      };
    }
    if (
      NUMERIC_PROPERTIES.has(key) && value !== null &&
      (typeof value !== "number" || !Number.isFinite(value))
    ) {
      return {
        index,
        code: "invalid_property_value",
        field,
        message: `'${field}' must be a number`,
      };
    }
    if (depthOf(value) > MAX_JSON_DEPTH) {
      return {
        index,
        code: "invalid_property_value",
        field,
        message: `'${field}' must nest at most ${MAX_JSON_DEPTH} levels deep`,
      };
    }
    properties[key] = value;
  }
  return { event: name, distinct_id: context.distinct_id, timestamp, properties };
}

/**
 * Refuses a batch whose shared context, copied into every event, would take
 * more than the expansion bounds allow: the body holds each event's own
 * properties once, so only the copies of the context grow it.
 */
function refuseExpansion(
  context: ServerContext,
  request: Request,
  shared: Record<string, string>,
  events: number,
): void {
  // Without a Content-Length the body is taken to be as large as allowed.
  const declared = Number(request.headers.get("content-length"));
  const bodyBytes = Number.isSafeInteger(declared) && declared > 0
    ? declared
    : context.honch.maxMessageBytes;
  const bounds = expansionBounds(context.honch, bodyBytes);
  const copied = new TextEncoder().encode(JSON.stringify(shared)).length;
  if (copied * events > bounds.maxBytes!) {
    throw new RequestRejection(413, {
      error: "expansion_too_large",
      message: `The context copied into ${events} events takes more than ${bounds
        .maxBytes!} bytes: send a shorter context or fewer events per request`,
    });
  }
}

/**
 * Answers a JSON ingest request: 200 with the counts when at least one event
 * was stored, 422 with every problem when none was.
 *
 * @param context The server context (clock, Honch limits, store).
 * @param request The request, its body not yet read.
 * @param projectKeyHash The authenticated project key's SHA-256, as lowercase hex.
 * @returns The answer.
 * @throws {RequestRejection} When the body is too large or not a JSON object, or 413
 * `expansion_too_large` when its context copied into every event would pass the expansion bounds.
 */
export async function captureJson(
  context: ServerContext,
  request: Request,
  projectKeyHash: string,
): Promise<Response> {
  const body = await readJsonObject(request, context.honch.maxMessageBytes);
  const errors: FieldError[] = [];
  const shared = readJsonContext(body, errors);
  const rawEvents = body.events;
  if (!Array.isArray(rawEvents)) {
    errors.push({ code: "invalid_batch", field: "events", message: "'events' must be an array" });
  } else if (rawEvents.length === 0) {
    errors.push({
      code: "empty_batch",
      field: "events",
      message: "'events' must hold at least one event",
    });
  } else if (rawEvents.length > MAX_JSON_EVENTS) {
    errors.push({
      code: "too_many_events",
      field: "events",
      message: `'events' must hold at most ${MAX_JSON_EVENTS} events: split the batch`,
    });
  }
  if (errors.length > 0 || !Array.isArray(rawEvents)) {
    return Response.json({ error: errors[0].code, errors }, { status: 422 });
  }
  const now = context.now();
  const accepted: HonchEventRecord[] = [];
  rawEvents.forEach((raw, index) => {
    const result = readJsonEvent(raw, index, shared, now);
    if ("code" in result) errors.push(result);
    else accepted.push(result);
  });
  // 2xx means at least one event was stored; 4xx means none was.
  if (accepted.length === 0) {
    return Response.json(
      { error: errors[0].code, accepted: 0, rejected: errors.length, errors },
      { status: 422 },
    );
  }
  refuseExpansion(context, request, shared, accepted.length);
  const { store } = await context.state();
  await context.maintain(store);
  await store.addHonchEvents(projectKeyHash, accepted, now);
  return Response.json({
    status: "ok",
    accepted: accepted.length,
    rejected: errors.length,
    errors,
  });
}
