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
 * offset 0, 413 too large (`expansion_too_large` when its events would take
 * more JSON than the expansion bounds allow), 415 wrong content type, 422
 * semantically invalid, 429 `partial_quota_exceeded` with `Retry-After` when
 * the project, stream or client address holds too many partial uploads.
 *
 * @module
 */

import { Hono } from "hono";
import type { ExposeRoute } from "../_direct.ts";
import { crc16, decodeFrame, type Frame } from "../../honch/frames.ts";
import { CAPTURE_LIMITS, decodeMessage } from "../../honch/wire_v2.ts";
import { expandBatch } from "../../honch/expand.ts";
import { InvalidArgumentError as HonchArgumentError } from "../../core/errors.ts";
import { WireFormatError } from "../../honch/errors.ts";
import {
  digestsEqual,
  enforceRateLimit,
  type HonchSettings,
  requireAdmin,
  type ServerContext,
  sha256Bytes,
  sha256Hex,
} from "../_context.ts";
import { discard, invalid, mediaType, readBody, RequestRejection } from "../_validate.ts";
import type { HonchEventRecord, HonchStore, HonchUploadKey } from "./store.ts";
import { captureJson } from "./_json_ingest.ts";
import { takeFrame } from "./_reassemble.ts";
import { enforcePartialQuotas, expansionBounds, SerialGate } from "./_bounds.ts";
import { hex } from "@scure/base";

const CHUNK_TYPE = "application/vnd.honch.chunk";
const SOURCE_EVENTS = 0;
const SOURCE_COREDUMP = 1;
const STREAM_ID = /^[\x21-\x7e]{1,128}$/;
const DEFAULT_EVENT_LIMIT = 100;
const MAX_EVENT_LIMIT = 1000;

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
function expandMessage(message: Uint8Array, settings: HonchSettings): HonchEventRecord[] {
  let batch;
  try {
    // Binary properties stay off: the spec keeps them for projects that enable them.
    batch = decodeMessage(message, {
      limits: { ...CAPTURE_LIMITS, maxMessageBytes: settings.maxMessageBytes },
      allowBytes: false,
    });
  } catch (error) {
    throw decodeRejection(error);
  }
  try {
    // Measured from the compact values before a single event is built.
    // Expanded events have the stored record's four fields already: no copy.
    return expandBatch(batch, expansionBounds(settings, message.length));
  } catch (error) {
    if (error instanceof WireFormatError && error.problem === "oversize") {
      throw new RequestRejection(413, { error: "expansion_too_large", message: describe(error) });
    }
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
  env: unknown,
  projectKeyHash: string,
  quotaGate: SerialGate,
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
  if (!frame.continuation) {
    if (frame.totalLength === undefined) {
      reject(400, "malformed_frame", { message: "The init frame carries no total length" });
    }
    if (frame.totalLength > settings.maxMessageBytes) reject(413, "message_too_large");
  }
  const offset = frame.continuation ? frame.offset : 0;
  if (offset + frame.payload.length > settings.maxMessageBytes) reject(413, "message_too_large");
  const address = context.clientAddress(request, env);
  const expiresAt = now + settings.partialTtlMs;
  // Only an init frame opens a partial, and its declared length is what the quotas count.
  const result = frame.continuation
    ? await takeFrame(store, key, frame, now, expiresAt, address)
    : await quotaGate.run(async () => {
      if ((await store.findHonchPartial(key, now)) === undefined) {
        const scope = { projectKeyHash, streamId, address };
        await enforcePartialQuotas(store, settings, scope, now, frame.totalLength ?? 0);
      }
      return await takeFrame(store, key, frame, now, expiresAt, address);
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
  store: HonchStore,
  key: HonchUploadKey,
  message: Uint8Array,
  crc: number | undefined,
  partial: boolean,
): Promise<Response> {
  try {
    // The CRC is checked before a single byte of the message is decoded.
    if (crc16(message) !== crc) reject(400, "bad_crc");
    const events = key.sourceType === SOURCE_EVENTS ? expandMessage(message, context.honch) : [];
    const now = context.now();
    const outcome = await store.completeHonchMessage(key, {
      // WebCrypto's native digest: the pure-JS one took a tenth of the request's time.
      digest: hex.encode(
        new Uint8Array(await crypto.subtle.digest("SHA-256", message as Uint8Array<ArrayBuffer>)),
      ),
      events,
      blob: key.sourceType === SOURCE_EVENTS ? undefined : message,
      now,
      expiresAt: now + context.honch.duplicateWindowMs,
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
 * @param expose Given `/capture`, `/e` and `/chunks` with their handler, for
 *   the server to serve them without Hono's dispatch too (see `_direct.ts`).
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
export function honchRoutes(context: ServerContext, expose?: ExposeRoute): Hono {
  const routes = new Hono();

  // Quota checks and the opens they allow run one at a time, so concurrent init frames cannot
  // all pass the same check.
  const quotaGate = new SerialGate();
  const capture = async (request: Request, env: unknown): Promise<Response> => {
    let projectKeyHash: string;
    try {
      // The key is checked before the body is read, stored or decoded.
      projectKeyHash = authenticate(context, request);
      await enforceRateLimit(context.projectLimiter, projectKeyHash);
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
    return await captureFrame(context, request, env, projectKeyHash, quotaGate);
  };

  for (const path of ["/capture", "/e", "/chunks"]) {
    routes.post(path, (c) => capture(c.req.raw, c.env));
    expose?.(path, capture);
  }

  routes.get("/api/honch/events", async (c) => {
    await enforceRateLimit(context.addressLimiter, context.clientAddress(c.req.raw, c.env));
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
