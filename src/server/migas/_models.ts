/**
 * How the migas routes read requests and answer them, as migas-server's
 * FastAPI models do: pydantic-style field errors collected into one 422,
 * migas' lax booleans and DateTime forms, version sanitising, the body size
 * limit that reports the size, and `{"detail": …}` answers.
 *
 * @module
 */

import { readBody, RequestRejection } from "../_validate.ts";
import type { MigasBreadcrumbRecord } from "./store.ts";

/** The alphabet of a version migas keeps; others are stored as `unknown`. */
const VERSION = /^[A-Za-z0-9._+-]+$/;
/** Past this a body is no longer counted, only refused. */
const COUNT_LIMIT = 1_048_576;
/** What migas answers a request past its rate limit. */
export const TOO_MANY = "Too many requests, wait a minute.";
/** What migas answers a project name that is not `owner/repo`. */
export const BAD_FORMAT = "Invalid project format (expected owner/repo).";
const REST_STATUS = ["R", "C", "F", "S"];
const USER_TYPES = ["general", "dev", "ci"];
const CONTAINERS = ["unknown", "docker", "apptainer"];
const TRUE_WORDS = new Set(["1", "on", "t", "true", "y", "yes"]);
const FALSE_WORDS = new Set(["0", "off", "f", "false", "n", "no"]);

/**
 * Builds a JSON answer.
 *
 * @param body The body.
 * @param status The HTTP status.
 * @returns The response.
 */
export function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/**
 * Answers with FastAPI's `{"detail": …}` body.
 *
 * @param status The HTTP status.
 * @param code The reason code `/metrics` and the log count it under, chosen here, never by the client.
 * @param message The detail.
 * @param headers Extra headers.
 * @returns Never.
 * @throws {RequestRejection} Always, carrying the answer.
 */
export function detail(
  status: number,
  code: string,
  message: unknown,
  headers?: Record<string, string>,
): never {
  throw new RequestRejection(status, { detail: message }, headers, code);
}

/** One pydantic-style validation error, as FastAPI lists them in a 422. */
export interface FieldError {
  type: string;
  loc: (string | number)[];
  msg: string;
}

export function unprocessable(errors: FieldError[], code = "validation_failed"): never {
  detail(422, code, errors);
}

/** Refuses a body that is not a JSON object, as migas' request models do. */
export function requireObjectBody(body: unknown): asserts body is Record<string, unknown> {
  if (!isObject(body)) {
    unprocessable([{
      type: "model_attributes_type",
      loc: ["body"],
      msg: "Input should be a valid dictionary or object to extract fields from",
    }]);
  }
}

/** Versions outside migas' alphabet are kept as `unknown`, never refused. */
export function sanitiseVersion(value: string): string {
  return VERSION.test(value) ? value : "unknown";
}

export function stripV(version: string): string {
  return version.replace(/^v+/, "");
}

/** Python's `str()` of a GraphQL literal, as migas' SafeStr scalar gives it. */
export function safeString(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return String(value);
  return JSON.stringify(value);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** Parses migas' DateTime forms, `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ`. */
export function parseDateTime(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = DATE_TIME.exec(value) ?? DATE.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1).map(Number);
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(time);
  // Date.UTC rolls 2024-02-31 over into March; a calendar date must survive unchanged.
  if (
    check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59
  ) {
    return undefined;
  }
  return time;
}

export function laxBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === "string") {
    const word = value.toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  return undefined;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a body under migas' size limit, counting past it to report the size as migas does. */
export async function readLimitedBody(
  request: Request,
  limit: number,
  tooLarge: (size: number, limit: number) => never,
): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await request.body?.cancel().catch(() => {});
    tooLarge(declared, limit);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBody(request, COUNT_LIMIT);
  } catch (error) {
    if (error instanceof RequestRejection && error.status === 413) tooLarge(COUNT_LIMIT, limit);
    throw error;
  }
  if (bytes.byteLength > limit) tooLarge(bytes.byteLength, limit);
  return bytes;
}

export function sizeMessage(size: number, limit: number): string {
  return `Request body (${size}) exceeds maximum size (${limit})`;
}

export type JsonResult = { ok: true; value: unknown } | { ok: false };

// One decoder for every request: making one costs more than decoding a breadcrumb
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

export function parseJson(bytes: Uint8Array): JsonResult {
  try {
    return { ok: true, value: JSON.parse(STRICT_UTF8.decode(bytes)) };
  } catch {
    return { ok: false };
  }
}

/** Reads fields like a pydantic model, collecting every error rather than stopping at one. */
export class FieldReader {
  constructor(
    readonly source: Record<string, unknown>,
    readonly loc: string[],
    readonly errors: FieldError[] = [],
  ) {}

  #fail(field: string, type: string, msg: string): undefined {
    this.errors.push({ type, loc: [...this.loc, field], msg });
    return undefined;
  }

  string(field: string, fallback?: string): string | undefined {
    const value = this.source[field];
    if (value === undefined) {
      return fallback ?? this.#fail(field, "missing", "Field required");
    }
    if (typeof value !== "string") {
      return this.#fail(field, "string_type", "Input should be a valid string");
    }
    return value;
  }

  optionalString(field: string): string | undefined {
    const value = this.source[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") {
      return this.#fail(field, "string_type", "Input should be a valid string");
    }
    return value;
  }

  choice(field: string, choices: string[], fallback: string): string {
    const value = this.source[field];
    if (value === undefined) return fallback;
    if (typeof value === "string" && choices.includes(value)) return value;
    const quoted = choices.map((choice) => `'${choice}'`);
    const list = `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
    this.#fail(field, "enum", `Input should be ${list}`);
    return fallback;
  }

  boolean(field: string, fallback: boolean): boolean {
    const value = this.source[field];
    if (value === undefined) return fallback;
    const parsed = laxBoolean(value);
    if (parsed === undefined) this.#fail(field, "bool_type", "Input should be a valid boolean");
    return parsed ?? fallback;
  }

  object(field: string, model: string): FieldReader {
    const value = this.source[field];
    const loc = [...this.loc, field];
    if (value === undefined) return new FieldReader({}, loc, this.errors);
    if (!isObject(value)) {
      this.#fail(field, "model_type", `Input should be a valid dictionary or instance of ${model}`);
      return new FieldReader({}, loc, this.errors);
    }
    return new FieldReader(value, loc, this.errors);
  }
}

/** Validates a REST breadcrumb as migas' `BreadcrumbRequest` model does. */
export function readBreadcrumb(body: unknown, now: number): MigasBreadcrumbRecord {
  requireObjectBody(body);
  const root = new FieldReader(body, ["body"]);
  const project = root.string("project");
  const projectVersion = root.string("project_version");
  const language = root.string("language", "python");
  const languageVersion = root.string("language_version", "0.0.0");
  const ctx = root.object("ctx", "ContextPayload");
  const proc = root.object("proc", "ProcessPayload");
  const record = {
    userId: ctx.optionalString("user_id"),
    sessionId: ctx.optionalString("session_id"),
    userType: ctx.choice("user_type", USER_TYPES, "general"),
    platform: ctx.string("platform", "unknown"),
    container: ctx.choice("container", CONTAINERS, "unknown"),
    isCi: ctx.boolean("is_ci", false),
    status: proc.choice("status", REST_STATUS, "R"),
    statusDesc: proc.optionalString("status_desc"),
    errorType: proc.optionalString("error_type"),
    errorDesc: proc.optionalString("error_desc"),
  };
  if (root.errors.length > 0) unprocessable(root.errors);
  return {
    project: project!,
    projectVersion: sanitiseVersion(projectVersion!),
    language: language!,
    languageVersion: sanitiseVersion(languageVersion!),
    timestamp: now,
    ...record,
    platform: record.platform!,
  };
}
