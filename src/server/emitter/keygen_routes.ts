/**
 * The broker's `/keygen` page, as the real broker serves it: `GET` answers a
 * form, `POST` takes a secret (master) key, a channel, rights and a time to
 * live, and answers the new channel key. A `POST` takes JSON
 * (`{key, channel, type, ttl}`, as `emitter/keygen/` does) or a form
 * (`application/x-www-form-urlencoded`, with `type` or the real page's
 * checkboxes `sub`, `pub`, `store`, `load`, `presence`, `extend`), and
 * answers JSON `{status, key, channel}` or `{status, message}` with the same
 * HTTP status; a browser's form post (one that accepts HTML) gets the page
 * again with the outcome. The secret key is never written back.
 *
 * @module
 */

import { Hono } from "hono";
import type { KeyCipher } from "../../emitter/security/cipher.ts";
import type { ContractProvider } from "../../emitter/security/contract.ts";
import { EMITTER_STATUS, type EmitterStatus } from "../../emitter/security/errors.ts";
import {
  keygen,
  type KeygenRequest,
  type KeygenResult,
  readKeygenRequest,
} from "../../emitter/security/keygen.ts";
import { mediaType, readBody, RequestRejection } from "../_validate.ts";
import { KEYGEN_PAGE_POLICY, KEYGEN_RIGHTS, keygenPage } from "./_keygen_page.ts";

/** The largest `POST /keygen` body accepted, in bytes; larger ones get 413. */
export const KEYGEN_BODY_LIMIT_BYTES = 4096;

/** What the `/keygen` routes need from the broker. */
export interface KeygenRoutesContext {
  /** The license's key cipher. */
  readonly cipher: KeyCipher;
  /** The contracts a secret key may belong to. */
  readonly contracts: ContractProvider;
  /** The current time in milliseconds, for key expiry. */
  readonly now: () => number;
}

const COMMON_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
} as const;

const HTML_HEADERS = {
  ...COMMON_HEADERS,
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": KEYGEN_PAGE_POLICY,
  "x-frame-options": "DENY",
} as const;

const JSON_HEADERS = {
  ...COMMON_HEADERS,
  "content-type": "application/json; charset=utf-8",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
} as const;

// The real page's own words for a form it cannot read or that lacks a field.
const INVALID_ARGUMENTS: EmitterStatus = { status: 400, message: "invalid arguments" };
const MISSING_KEY: EmitterStatus = { status: 400, message: "Missing SecretKey" };
const MISSING_CHANNEL: EmitterStatus = { status: 400, message: "Missing Channel" };
const WRONG_MEDIA_TYPE: EmitterStatus = {
  status: 415,
  message: "the body must be JSON or application/x-www-form-urlencoded",
};
const TOO_LARGE: EmitterStatus = {
  status: 413,
  message: `the body must be at most ${KEYGEN_BODY_LIMIT_BYTES} bytes`,
};

const INT32 = /^[+-]?\d{1,10}$/;

/** A `POST` body read as far as it could be: the request, or why not, and what to show again. */
interface ReadForm {
  readonly request: KeygenRequest | EmitterStatus;
  readonly shown: { channel: string; ttl: string; type: string };
}

function readJson(bytes: Uint8Array): ReadForm {
  const request = readKeygenRequest(bytes);
  if (request === undefined) {
    return { request: EMITTER_STATUS.badRequest, shown: { channel: "", ttl: "", type: "" } };
  }
  return {
    request,
    shown: { channel: request.channel, ttl: String(request.ttl), type: request.type },
  };
}

function readForm(bytes: Uint8Array): ReadForm {
  const fields = new URLSearchParams(new TextDecoder().decode(bytes));
  const text = (name: string) => fields.get(name) ?? "";
  let valid = true;
  let type = text("type");
  if (type === "") {
    for (const [name, letter] of KEYGEN_RIGHTS) {
      const value = text(name);
      if (value === "on") type += letter;
      else if (value !== "" && value !== "off") valid = false;
    }
  }
  const ttlText = text("ttl").trim();
  let ttl = 0;
  if (ttlText !== "") {
    ttl = INT32.test(ttlText) ? Number(ttlText) : NaN;
    if (!(ttl >= -(2 ** 31) && ttl <= 2 ** 31 - 1)) valid = false;
  }
  const shown = { channel: text("channel"), ttl: ttlText, type };
  if (!valid) return { request: INVALID_ARGUMENTS, shown };
  return { request: { key: text("key"), channel: text("channel"), type, ttl }, shown };
}

function generate(context: KeygenRoutesContext, request: KeygenRequest): KeygenResult {
  if (request.key === "") return { ok: false, error: MISSING_KEY };
  if (request.channel === "") return { ok: false, error: MISSING_CHANNEL };
  // The page makes keys from a secret key only; extending a key needs a connection.
  const parent = context.cipher.decryptKey(request.key);
  if (parent === undefined || !parent.isMaster) {
    return { ok: false, error: EMITTER_STATUS.unauthorized };
  }
  return keygen(
    { cipher: context.cipher, contracts: context.contracts, now: context.now, connectionId: "" },
    request,
  );
}

function wantsHtml(request: Request): boolean {
  return (request.headers.get("accept") ?? "").toLowerCase().includes("text/html");
}

function json(status: number, body: Record<string, unknown>): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

function statusAnswer(error: EmitterStatus): Response {
  return json(error.status, { status: error.status, message: error.message });
}

async function answerPost(context: KeygenRoutesContext, request: Request): Promise<Response> {
  const type = mediaType(request.headers.get("content-type"));
  const isForm = type === "application/x-www-form-urlencoded";
  const html = isForm && wantsHtml(request);
  const refuse = (error: EmitterStatus, shown = { channel: "", ttl: "", type: "" }) =>
    html
      ? new Response(keygenPage({ ...shown, outcome: { ok: false, message: error.message } }), {
        status: error.status,
        headers: HTML_HEADERS,
      })
      : statusAnswer(error);
  if (!isForm && type !== "application/json") {
    await request.body?.cancel().catch(() => {});
    return refuse(WRONG_MEDIA_TYPE);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBody(request, KEYGEN_BODY_LIMIT_BYTES);
  } catch (error) {
    if (!(error instanceof RequestRejection)) throw error;
    return refuse(error.status === 413 ? TOO_LARGE : EMITTER_STATUS.badRequest);
  }
  const read = isForm ? readForm(bytes) : readJson(bytes);
  if (!("key" in read.request)) return refuse(read.request, read.shown);
  const result = generate(context, read.request);
  if (!result.ok) return refuse(result.error, read.shown);
  if (html) {
    return new Response(
      keygenPage({ ...read.shown, channel: result.channel, outcome: result }),
      { status: 200, headers: HTML_HEADERS },
    );
  }
  return json(200, { status: 200, key: result.key, channel: result.channel });
}

/**
 * Builds the `/keygen` routes, to mount where the broker is served.
 *
 * @param context The license's cipher, its contracts and the clock.
 * @returns A Hono app answering `GET`, `HEAD` and `POST /keygen`, and 405
 * with `Allow` for any other method there.
 * @throws Never; a bad request is answered, not thrown.
 * @example Make a channel key from a new license's secret key
 * ```ts
 * import { newLicense, singleContractProvider } from "../../emitter/security/mod.ts";
 * import { keygenRoutes } from "./keygen_routes.ts";
 *
 * const { license, secret } = newLicense();
 * const app = keygenRoutes({
 *   cipher: license.cipher(),
 *   contracts: singleContractProvider(license),
 *   now: Date.now,
 * });
 * const answer = await app.request("/keygen", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ key: secret, channel: "chat/", type: "rw", ttl: 0 }),
 * });
 * console.log(answer.status, (await answer.json()).channel); // 200 "chat/"
 * ```
 */
export function keygenRoutes(context: KeygenRoutesContext): Hono {
  const app = new Hono();
  app.get(
    "/keygen",
    () =>
      new Response(keygenPage({ channel: "", ttl: "0", type: "r" }), {
        status: 200,
        headers: HTML_HEADERS,
      }),
  );
  app.post("/keygen", (c) => answerPost(context, c.req.raw));
  app.all(
    "/keygen",
    () =>
      new Response("feature not supported\n", {
        status: 405,
        headers: {
          ...COMMON_HEADERS,
          "content-type": "text/plain; charset=utf-8",
          allow: "GET, HEAD, POST",
        },
      }),
  );
  return app;
}
