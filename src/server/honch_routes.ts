/**
 * The Honch capture side of the reference server: `POST /capture` (and its
 * aliases `/e` and `/chunks`) taking wire-v2 chunk frames
 * (`application/vnd.honch.chunk`) or the JSON ingest body
 * (`application/json`), and an admin-only read of the stored events at
 * `GET /api/honch/events`.
 *
 * Frames of a multi-frame upload are kept in the store until the final frame
 * passes its CRC, so an upload survives a restart; a retried message that is
 * already stored is answered 204 again and stored once. Every answer follows
 * the wire-v2 response code table: 202 stored a non-final frame, 204 took a
 * complete message, 400 malformed, 401 wrong project key, 409 retry from
 * offset 0, 413 too large, 415 wrong content type, 422 semantically invalid.
 *
 * @module
 */

import { Hono } from "hono";
import { crc16, decodeFrame, type Frame } from "../honch/frames.ts";
import { CAPTURE_LIMITS, decodeMessage, PROMOTED_CONTEXT_KEYS } from "../honch/wire_v2.ts";
import { expandBatch } from "../honch/expand.ts";
import { InvalidArgumentError as HonchArgumentError, WireFormatError } from "../honch/errors.ts";
import {
  digestsEqual,
  enforceRateLimit,
  requireAdmin,
  type ServerContext,
  sha256Bytes,
  sha256Hex,
} from "./_context.ts";
import {
  discard,
  invalid,
  mediaType,
  readBody,
  readJsonObject,
  RequestRejection,
} from "./_validate.ts";
import type { HonchEventRecord, HonchUploadKey, ServerStore } from "./store/types.ts";
import { hex } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";

const CHUNK_TYPE = "application/vnd.honch.chunk";
const SOURCE_EVENTS = 0;
const SOURCE_COREDUMP = 1;
const STREAM_ID = /^[\x21-\x7e]{1,128}$/;
const DEFAULT_EVENT_LIMIT = 100;
const MAX_EVENT_LIMIT = 1000;

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

function reject(status: number, error: string, extra: Record<string, unknown> = {}): never {
  throw new RequestRejection(status, { error, ...extra });
}

/** Checks `X-Honch-Project-Key` against every configured key, never stopping early. */
function authenticate(context: ServerContext, request: Request): string {
  const header = request.headers.get("x-honch-project-key");
  if (header === null || header.length === 0) reject(401, "invalid_project_key");
  const digest = sha256Bytes(header);
  let accepted = false;
  for (const known of context.honch.projectKeyHashes) {
    // Every key is compared, so the time taken does not tell which one matched.
    accepted = digestsEqual(digest, known) || accepted;
  }
  if (!accepted) reject(401, "invalid_project_key");
  return hex.encode(digest);
}

function readStreamId(request: Request): string {
  const value = request.headers.get("x-honch-stream-id");
  if (value === null || value === "") return "";
  if (!STREAM_ID.test(value)) {
    reject(400, "invalid_stream_id", {
      message: "The 'X-Honch-Stream-Id' header must be 1..128 visible ASCII characters",
    });
  }
  return value;
}

function parseFrame(bytes: Uint8Array): Frame {
  let frame: Frame;
  try {
    frame = decodeFrame(bytes);
  } catch (error) {
    if (error instanceof WireFormatError && error.problem === "oversize") {
      reject(413, "frame_too_large");
    }
    reject(400, "malformed_frame", { message: describe(error) });
  }
  if (frame.sourceType !== SOURCE_EVENTS && frame.sourceType !== SOURCE_COREDUMP) {
    reject(400, "unsupported_source_type", {
      message: `Source type ${frame.sourceType} is reserved: send 0 (events) or 1 (coredump)`,
    });
  }
  if (frame.more && frame.payload.length === 0) {
    // An empty non-final frame makes no progress and would shadow the next one's offset.
    reject(400, "malformed_frame", { message: "A non-final frame must carry payload bytes" });
  }
  if (!frame.more && frame.crc === undefined) {
    reject(400, "malformed_frame", { message: "The final frame carries no CRC" });
  }
  return frame;
}

function describe(error: unknown): string {
  // Codec messages name byte positions and rules, never a project key.
  return error instanceof Error ? error.message : "The bytes could not be decoded";
}

/** Decodes and expands an event message; throws the 400/413/422 answer for bad bytes. */
function expandMessage(message: Uint8Array, maxMessageBytes: number): HonchEventRecord[] {
  try {
    // Binary properties stay off: the spec keeps them for projects that enable them.
    const batch = decodeMessage(message, {
      limits: { ...CAPTURE_LIMITS, maxMessageBytes },
      allowBytes: false,
    });
    return expandBatch(batch).map((event) => ({
      event: event.event,
      distinct_id: event.distinct_id,
      timestamp: event.timestamp,
      properties: event.properties,
    }));
  } catch (error) {
    throw decodeRejection(error);
  }
}

function decodeRejection(error: unknown): RequestRejection {
  const message = describe(error);
  if (error instanceof WireFormatError) {
    if (error.problem === "invalid") {
      return new RequestRejection(422, { error: "invalid_message", message });
    }
    if (error.problem === "oversize") {
      return new RequestRejection(413, { error: "message_too_large", message });
    }
  } else if (error instanceof HonchArgumentError) {
    return new RequestRejection(422, { error: "invalid_message", message });
  }
  // Anything else the decoder throws (a RangeError from a truncated float, …)
  // is still a byte sequence it could not read: the client's fault, not ours.
  return new RequestRejection(400, { error: "malformed_message", message });
}

async function captureFrame(
  context: ServerContext,
  request: Request,
  projectKeyHash: string,
): Promise<Response> {
  const settings = context.honch;
  const bytes = await readBody(request, settings.maxFrameBytes);
  const frame = parseFrame(bytes);
  const streamId = readStreamId(request);
  const multi = frame.continuation || frame.more;
  if (multi && streamId === "") {
    reject(400, "missing_stream_id", {
      message: "Send 'X-Honch-Stream-Id' with every frame of a multi-frame upload",
    });
  }
  const key: HonchUploadKey = {
    projectKeyHash,
    streamId,
    sourceType: frame.sourceType,
    messageId: frame.messageId,
  };
  const { store } = await context.state();
  await context.maintain(store);
  const now = context.now();
  if (!multi) {
    if (frame.payload.length > settings.maxMessageBytes) reject(413, "message_too_large");
    return await complete(context, store, key, frame.payload, frame.crc, false);
  }
  let totalLength: number | undefined;
  if (!frame.continuation) {
    totalLength = frame.totalLength;
    if (totalLength === undefined) {
      reject(400, "malformed_frame", { message: "The init frame carries no total length" });
    }
    if (totalLength > settings.maxMessageBytes) reject(413, "message_too_large");
  }
  const offset = frame.continuation ? frame.offset : 0;
  if (offset + frame.payload.length > settings.maxMessageBytes) reject(413, "message_too_large");
  const result = await store.appendHonchFrame(key, {
    offset,
    payload: frame.payload,
    totalLength,
    final: !frame.more,
    now,
    expiresAt: now + settings.partialTtlMs,
  });
  switch (result.status) {
    case "stored":
    case "duplicate":
      return Response.json({ status: "chunk_stored", received: result.received }, { status: 202 });
    case "assembled":
      return await complete(context, store, key, result.message, frame.crc, true);
    case "unknown":
      return reject(409, "unknown_upload", {
        message: "No partial upload is open for this message: retry from offset 0",
      });
    case "conflict":
      return reject(409, "frame_conflict", {
        message: "Other bytes are already stored at this offset: retry from offset 0",
      });
    case "gap":
      return reject(409, "offset_gap", {
        expected_offset: result.expected,
        message: `The frame must start at offset ${result.expected}: retry from offset 0`,
      });
    case "overflow":
      // The sender drops a 400 message, so its frames go too.
      await store.discardHonchPartial(key);
      return reject(400, "length_mismatch", {
        message: "The frames do not add up to the init frame's total length",
      });
  }
}

async function complete(
  context: ServerContext,
  store: ServerStore,
  key: HonchUploadKey,
  message: Uint8Array,
  crc: number | undefined,
  partial: boolean,
): Promise<Response> {
  try {
    // The CRC is checked before a single byte of the message is decoded.
    if (crc16(message) !== crc) reject(400, "bad_crc");
    const events = key.sourceType === SOURCE_EVENTS
      ? expandMessage(message, context.honch.maxMessageBytes)
      : [];
    const now = context.now();
    const outcome = await store.completeHonchMessage(key, {
      digest: hex.encode(sha256(message)),
      events,
      blob: key.sourceType === SOURCE_EVENTS ? undefined : message,
      now,
      expiresAt: now + context.honch.partialTtlMs,
    });
    if (outcome === "collision") {
      reject(409, "message_collision", {
        message: "Another message was already stored under this message id",
      });
    }
    return new Response(null, { status: 204 });
  } catch (error) {
    // A message that cannot be taken is dropped by the sender; its frames go too.
    if (partial && error instanceof RequestRejection && error.status !== 409) {
      await store.discardHonchPartial(key);
    }
    throw error;
  }
}

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

async function captureJson(
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

function readLimit(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_EVENT_LIMIT;
  const limit = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= MAX_EVENT_LIMIT)) {
    invalid("limit", `'limit' must be an integer in 1..${MAX_EVENT_LIMIT}`);
  }
  return limit;
}

/**
 * Builds the Honch capture routes: `POST /capture` with its aliases `/e` and
 * `/chunks`, and the admin-only `GET /api/honch/events`, relative to where
 * the app mounts them. {@linkcode createServer} mounts them at the root and
 * configures them through `ServerOptions.honch`.
 *
 * @param context The server-wide clock, Honch settings, admin key and store.
 * @returns A Hono app holding the routes.
 *
 * @example Capture one JSON event, then read it back as the admin
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 *
 * const server = createServer({ adminKey: "admin-key", honch: { projectKeys: ["phc_demo"] } });
 * const capture = await server.fetch(new Request("http://localhost/capture", {
 *   method: "POST",
 *   headers: { "content-type": "application/json", "x-honch-project-key": "phc_demo" },
 *   body: JSON.stringify({
 *     context: {
 *       distinct_id: "user-1",
 *       $device_id: "device-1",
 *       $device_model: "model-x",
 *       $firmware_version: "1.0.0",
 *       $sdk_platform: "posix",
 *       $sdk_version: "0.3.1",
 *     },
 *     events: [{ event: "boot", timestamp: 1700000000000 }],
 *   }),
 * }));
 * console.log(capture.status); // 200
 * const read = await server.fetch(new Request(
 *   "http://localhost/api/honch/events?project_key=phc_demo",
 *   { headers: { authorization: "Bearer admin-key" } },
 * ));
 * console.log((await read.json()).events.length); // 1
 * await server.close();
 * ```
 */
export function honchRoutes(context: ServerContext): Hono {
  const routes = new Hono();

  const capture = async (request: Request): Promise<Response> => {
    let projectKeyHash: string;
    try {
      // The key is checked before the body is read, stored or decoded.
      projectKeyHash = authenticate(context, request);
      const encoding = request.headers.get("content-encoding");
      if (encoding !== null && encoding.trim().toLowerCase() !== "identity") {
        reject(415, "unsupported_content_encoding", {
          message: "Send frames without 'Content-Encoding'",
        });
      }
    } catch (error) {
      await discard(request.body);
      throw error;
    }
    const type = mediaType(request.headers.get("content-type"));
    if (type === "application/json") return await captureJson(context, request, projectKeyHash);
    if (type !== CHUNK_TYPE) {
      await discard(request.body);
      reject(415, "unsupported_media_type", {
        message: `Send '${CHUNK_TYPE}' frames or 'application/json' batches`,
      });
    }
    return await captureFrame(context, request, projectKeyHash);
  };

  for (const path of ["/capture", "/e", "/chunks"]) {
    routes.post(path, (c) => capture(c.req.raw));
  }

  routes.get("/api/honch/events", async (c) => {
    enforceRateLimit(context.addressLimiter, context.clientAddress(c.req.raw, c.env));
    requireAdmin(context, c.req.raw);
    const projectKey = c.req.query("project_key");
    if (projectKey === undefined || projectKey.length === 0) {
      invalid("project_key", "'project_key' is required");
    }
    const limit = readLimit(c.req.query("limit"));
    const { store } = await context.state();
    const events = await store.listHonchEvents(sha256Hex(projectKey), limit);
    return c.json({ events });
  });

  return routes;
}
