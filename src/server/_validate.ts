/**
 * Request checks shared by the server's routes: a JSON body read under a byte
 * limit, field readers that name the field at fault, and the rejection that
 * carries a 4xx answer up to the app's error handler.
 *
 * @module
 */

import { concatBytes } from "../core/bytes.ts";
import { EdgewireError, TimeoutError } from "../core/errors.ts";
import { openChunkReader, readBeforeDeadline, readWholeBeforeDeadline } from "./_body_deadline.ts";
import { StoreUnavailableError } from "./store_unavailable_error.ts";

/** Headers sent with every JSON answer. */
const JSON_HEADERS = { "content-type": "application/json; charset=UTF-8" } as const;

/**
 * A request the server refuses with a 4xx (or 503) JSON answer. Routes throw
 * it anywhere; the app's error handler turns it into the response, so a bad
 * input can never become a 500.
 *
 * @example
 * ```ts ignore
 * throw new RequestRejection(401, { error: "unauthorized" });
 * ```
 */
export class RequestRejection extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "RequestRejection";

  /** The HTTP status to answer with. */
  readonly status: number;
  /** The JSON body to answer with. */
  readonly body: Record<string, unknown>;
  /** Extra headers, such as `Retry-After`. */
  readonly headers: Record<string, string>;

  /**
   * Creates a rejection.
   *
   * @param status The HTTP status to answer with.
   * @param body The JSON body; its `error` field becomes the code unless `code` is given.
   * @param headers Extra headers.
   * @param code The reason code, for bodies without an `error` field (migas' `detail` and
   * GraphQL `errors` shapes); `/metrics` and the log count the rejection under it.
   */
  constructor(
    status: number,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
    code: string | undefined = typeof body.error === "string" ? body.error : undefined,
  ) {
    super(`Request rejected with ${status}`, { code });
    this.status = status;
    this.body = body;
    this.headers = headers;
  }

  /**
   * Builds the answer.
   *
   * @returns A JSON response with the status, body and headers.
   */
  toResponse(): Response {
    return new Response(JSON.stringify(this.body), {
      status: this.status,
      headers: { ...JSON_HEADERS, ...this.headers },
    });
  }
}

/**
 * What to answer for an error a route threw: a rejection as it says; 503
 * `store_unavailable` with `Retry-After: 1` when the store cannot be used
 * for now, which clients retry; else 500 `internal`, without detail, as a
 * bug's message could carry a token.
 *
 * @param error What the route threw.
 * @returns The rejection to answer with.
 */
export function rejectionOf(error: unknown): RequestRejection {
  if (error instanceof RequestRejection) return error;
  if (error instanceof StoreUnavailableError) {
    return new RequestRejection(503, { error: "store_unavailable" }, { "retry-after": "1" });
  }
  return new RequestRejection(500, { error: "internal" });
}

/**
 * Rejects with 400 `invalid_request`, naming the field.
 *
 * @param field The field at fault, or `body` for the body as a whole.
 * @param message What is wrong with it.
 * @returns Never; it always throws.
 * @throws {RequestRejection} Always.
 */
export function invalid(field: string, message: string): never {
  throw new RequestRejection(400, { error: "invalid_request", field, message });
}

/**
 * Reads the media type of a `Content-Type` header, without parameters.
 *
 * @param value The header's value, or `null` when absent.
 * @returns The type in lowercase, such as `application/json`; `""` when absent.
 */
export function mediaType(value: string | null): string {
  if (value === null) return "";
  const semicolon = value.indexOf(";");
  return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
}

function isJsonMediaType(value: string | null): boolean {
  return mediaType(value) === "application/json";
}

const TIMED_OUT = () =>
  new RequestRejection(408, { error: "request_timeout" }, { connection: "close" });

const TOO_LARGE = () => new RequestRejection(413, { error: "payload_too_large" });

/** Stateless between whole-buffer calls, so one serves every request. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads the body of a JSON request as an object. The size is checked against
 * `Content-Length` first and then while streaming, so a huge or lying body is
 * cut off after `limitBytes` instead of being buffered whole.
 *
 * @param request The request.
 * @param limitBytes The largest body accepted, in bytes.
 * @returns The decoded JSON object.
 * @throws {RequestRejection} 415 for another content type, 413 past the
 * limit, 400 for a body that is not a JSON object.
 */
export function readJsonObject(
  request: Request,
  limitBytes: number,
): Promise<Record<string, unknown>> {
  if (!isJsonMediaType(request.headers.get("content-type"))) {
    return discard(request.body).then(refuseMediaType);
  }
  // A chain rather than nested async functions: each layer cost a promise and a turn per request
  return readBody(request, limitBytes).then(parseJsonObject);
}

function refuseMediaType(): never {
  throw new RequestRejection(415, { error: "unsupported_media_type" });
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    invalid("body", "The body must be UTF-8 encoded JSON");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    invalid("body", "The body must be valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    invalid("body", "The body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/**
 * Reads a request body as bytes under a byte limit. The size is checked
 * against `Content-Length` first and then while streaming, so a huge or lying
 * body is cut off after `limitBytes` instead of being buffered whole.
 *
 * @param request The request.
 * @param limitBytes The largest body accepted, in bytes.
 * @returns The body; empty when there is none.
 * @throws {RequestRejection} 413 past the limit, 400 when the body breaks off,
 * 408 when it is still incomplete at the request's body deadline.
 */
export function readBody(request: Request, limitBytes: number): Promise<Uint8Array> {
  const headers = request.headers;
  const declared = headers.get("content-length");
  const length = declared === null ? NaN : Number(declared);
  if (length > limitBytes) return discard(request.body).then(refuseTooLarge);
  // A small body of a declared length is read whole: the runtime holds it to that length, and
  // a read per chunk cost more than the rest of an mkStats event together.
  if (length <= WHOLE_BODY_BYTES && !headers.has("transfer-encoding")) {
    return readWholeBeforeDeadline(request).then((bytes) => {
      // The framing already held it to the declared length; checked anyway, as it costs nothing
      if (bytes.byteLength > limitBytes) throw TOO_LARGE();
      return bytes;
    }, wholeReadFailed);
  }
  return readLimited(request, limitBytes);
}

function refuseTooLarge(): never {
  throw TOO_LARGE();
}

/** The largest declared body read in one piece: an mkStats or migas request is well below. */
const WHOLE_BODY_BYTES = 4096;

function wholeReadFailed(error: unknown): never {
  if (error instanceof TimeoutError) throw TIMED_OUT();
  invalid("body", "The body could not be read to its end");
}

/**
 * Lets go of a request body that will not be read, so the connection can be
 * reused.
 *
 * @param body The body, or `null`.
 * @returns Once cancelled.
 */
export async function discard(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (body === null) return;
  try {
    await body.cancel();
  } catch {
    // The client may already have gone; nothing to clean up then.
  }
}

async function readLimited(request: Request, limitBytes: number): Promise<Uint8Array> {
  const body = request.body;
  if (body === null) return new Uint8Array(0);
  const reader = openChunkReader(body);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await readBeforeDeadline(request, reader);
      if (done) break;
      total += value.byteLength;
      if (total > limitBytes) {
        reader.cancel().catch(() => {});
        throw TOO_LARGE();
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof RequestRejection) throw error;
    if (error instanceof TimeoutError) throw TIMED_OUT();
    invalid("body", "The body could not be read to its end");
  } finally {
    reader.releaseLock();
  }
  return chunks.length === 1 ? chunks[0] : concatBytes(...chunks);
}

/** How a string field is checked. */
export interface StringRule {
  /** The shortest accepted length. */
  min: number;
  /** The longest accepted length. */
  max: number;
  /** A pattern the whole value must match. */
  pattern?: RegExp;
  /** The pattern in words, for the message. */
  describe?: string;
}

/**
 * Reads a required string field.
 *
 * @param body The request body.
 * @param field The field's name.
 * @param rule Length bounds and an optional pattern.
 * @returns The value.
 * @throws {RequestRejection} 400 naming the field when it is missing or invalid.
 */
export function requireString(
  body: Record<string, unknown>,
  field: string,
  rule: StringRule,
): string {
  const value = body[field];
  if (value === undefined || value === null) invalid(field, `'${field}' is required`);
  return checkString(value, field, rule);
}

/**
 * Reads an optional string field; `null` counts as absent.
 *
 * @param body The request body.
 * @param field The field's name.
 * @param rule Length bounds and an optional pattern.
 * @returns The value, or `undefined` when absent.
 * @throws {RequestRejection} 400 naming the field when it is invalid.
 */
export function optionalString(
  body: Record<string, unknown>,
  field: string,
  rule: StringRule,
): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  return checkString(value, field, rule);
}

function checkString(value: unknown, field: string, rule: StringRule): string {
  // Values are never echoed back: a field may hold a token.
  if (typeof value !== "string") invalid(field, `'${field}' must be a string`);
  if (value.length < rule.min || value.length > rule.max) {
    invalid(field, `'${field}' must be ${rule.min}..${rule.max} characters long`);
  }
  if (rule.pattern !== undefined && !rule.pattern.test(value)) {
    invalid(field, `'${field}' must be ${rule.describe ?? `match ${rule.pattern.source}`}`);
  }
  return value;
}

/**
 * Reads an integer field.
 *
 * @param body The request body.
 * @param field The field's name.
 * @param min The smallest accepted value.
 * @param max The largest accepted value.
 * @param fallback The value when the field is absent or `null`; when
 * `undefined`, the field is required.
 * @returns The value.
 * @throws {RequestRejection} 400 naming the field when it is missing or invalid.
 */
export function readInteger(
  body: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
  fallback?: number,
): number {
  const value = body[field];
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    invalid(field, `'${field}' is required`);
  }
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    invalid(field, `'${field}' must be an integer in ${min}..${max}`);
  }
  return value;
}
