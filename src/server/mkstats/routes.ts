/**
 * The server side of the mkStats plugin analytics API: the proof-of-work
 * handshake that issues install tokens, daily-active pings, counted events,
 * and an admin-only stats read. The app mounts these routes under both
 * `/api/v1` and `/api`, as the real clients use either base.
 *
 * A solution that fails verification (expired, replayed, forged, too little
 * work) is answered 403 `{"error":"invalid_pow","reason":…}` rather than with
 * a fresh challenge, so a client can tell a broken solver from a slow one;
 * posting the handshake again without a solution fetches a new challenge.
 *
 * @module
 */

import { Hono } from "hono";
import { base64urlnopad } from "@scure/base";
import { createChallenge, verifySolution } from "../../pow/challenge.ts";
import type { UsedChallengeStore } from "../../pow/used_store.ts";
import { enforceRateLimit, requireAdmin, type ServerContext, sha256Hex } from "../_context.ts";
import {
  answerResponse,
  fingerprint,
  type IdempotencyRefusals,
  readIdempotencyKey,
  recordOnce,
} from "../_idempotency.ts";
import {
  invalid,
  optionalString,
  readInteger,
  readJsonObject,
  RequestRejection,
  requireString,
  type StringRule,
} from "../_validate.ts";
import type { IdempotentAnswer } from "../common/idempotency_store.ts";
import type { InstallTokenRecord } from "./store.ts";
import type { ExposeRoute, RouteHandler } from "../_direct.ts";

const PLUGIN_ID: StringRule = {
  min: 1,
  max: 128,
  pattern: /^[A-Za-z0-9_.-]+$/,
  describe: "made of A-Z, a-z, 0-9, '_', '.' and '-'",
};
const SHORT_TEXT: StringRule = { min: 1, max: 64 };
const HASH: StringRule = {
  min: 64,
  max: 64,
  pattern: /^[0-9a-f]{64}$/,
  describe: "64 lowercase hex characters",
};
const TOKEN: StringRule = { min: 1, max: 256 };
const CHALLENGE: StringRule = { min: 1, max: 1024 };
const NONCE: StringRule = { min: 1, max: 64 };
const EVENT: StringRule = {
  min: 1,
  max: 100,
  pattern: /^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/,
  describe: "a letter or '_' then up to 99 of A-Z, a-z, 0-9, '_', '.', ':' and '-'",
};
const MAX_COUNT = 1_000_000;
const DAY_MS = 86_400_000;

interface CommonFields {
  pluginId: string;
  version: string;
  clientName: string;
  clientVersion: string;
  userHash: string;
  deviceFingerprint: string;
}

function readCommon(body: Record<string, unknown>): CommonFields {
  return {
    pluginId: requireString(body, "plugin_id", PLUGIN_ID),
    version: requireString(body, "version", SHORT_TEXT),
    clientName: requireString(body, "client_name", SHORT_TEXT),
    clientVersion: requireString(body, "client_version", SHORT_TEXT),
    userHash: requireString(body, "user_hash", HASH),
    deviceFingerprint: requireString(body, "device_fingerprint", HASH),
  };
}

function readTimestamp(body: Record<string, unknown>): number {
  return readInteger(body, "timestamp", 0, Number.MAX_SAFE_INTEGER);
}

// The day of the last request: formatting a date for every event cost more than counting it
let lastDay = { start: NaN, text: "" };

function utcDay(now: number): string {
  const start = Math.floor(now / DAY_MS) * DAY_MS;
  if (start !== lastDay.start) {
    lastDay = { start, text: new Date(start).toISOString().slice(0, 10) };
  }
  return lastDay.text;
}

function newInstallToken(): string {
  // 256 random bits: unguessable, and only its hash is ever stored.
  return base64urlnopad.encode(crypto.getRandomValues(new Uint8Array(32)));
}

const NOT_INITIALIZED_BODY = JSON.stringify({ error: "metric_not_initialized" });
const NOT_INITIALIZED = () => answerResponse({ status: 409, body: NOT_INITIALIZED_BODY }, false);

const INVALID_TOKEN = () => new RequestRejection(401, { error: "invalid_install_token" });

const IDEMPOTENCY_REFUSALS: IdempotencyRefusals = {
  invalid: () =>
    invalid("Idempotency-Key", "'Idempotency-Key' must be 1 to 255 visible ASCII characters"),
  inFlight: () => {
    throw new RequestRejection(409, {
      error: "idempotency_key_in_use",
      message: "A request with this Idempotency-Key is still being processed: retry shortly",
    }, { "retry-after": "1" });
  },
  reused: () => {
    throw new RequestRejection(422, {
      error: "idempotency_key_reused",
      message: "This Idempotency-Key was already used with another request: use a new key",
    });
  },
};

const OK: IdempotentAnswer = { status: 200, body: JSON.stringify({ ok: true }) };

/** Whether a stored token authenticates a request of this plugin and user now. */
function tokenHolds(
  record: InstallTokenRecord | undefined,
  common: CommonFields,
  now: number,
): record is InstallTokenRecord {
  return record !== undefined && record.expiresAt > now &&
    record.pluginId === common.pluginId && record.userHash === common.userHash;
}

/**
 * Builds the mkStats routes: `POST /handshake`, `POST /data`, `POST /event`
 * and `GET /stats/:plugin_id`, relative to where the app mounts them.
 * {@linkcode createServer} mounts them under `/api/v1` and `/api`.
 *
 * @param context The server-wide clock, limits, limiters and store.
 * @param expose Given `/data` and `/event` with their handlers, for the
 *   server to serve them without Hono's dispatch too (see `_direct.ts`).
 * @returns A Hono app holding the routes.
 *
 * @example The routes as the server exposes them
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 *
 * const server = createServer();
 * const response = await server.fetch(new Request("http://localhost/api/v1/handshake", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({
 *     plugin_id: "demo",
 *     version: "1.0.0",
 *     client_name: "exteraGram",
 *     client_version: "12.3.1",
 *     user_hash: "a".repeat(64),
 *     device_fingerprint: "b".repeat(64),
 *   }),
 * }));
 * console.log(await response.json()); // { pow_required: true, pow_challenge: "…", pow_difficulty: 4 }
 * await server.close();
 * ```
 */
export function mkstatsRoutes(context: ServerContext, expose?: ExposeRoute): Hono {
  const routes = new Hono();

  routes.post("/handshake", async (c) => {
    const address = context.clientAddress(c.req.raw, c.env);
    await enforceRateLimit(context.addressLimiter, address);
    const body = await readJsonObject(c.req.raw, context.bodyLimitBytes);
    const common = readCommon(body);
    const challenge = optionalString(body, "pow_challenge", CHALLENGE);
    const nonce = optionalString(body, "pow_nonce", NONCE);
    if (challenge !== undefined && nonce === undefined) {
      invalid("pow_nonce", "'pow_nonce' is required with 'pow_challenge'");
    }
    if (challenge === undefined && nonce !== undefined) {
      invalid("pow_challenge", "'pow_challenge' is required with 'pow_nonce'");
    }
    const subject = `${common.pluginId}\n${common.userHash}`;
    // Per address and plugin: the user hash is the client's choice, so a fresh one per
    // request would pass a limit keyed on it.
    await enforceRateLimit(context.installLimiter, `handshake\n${address}\n${common.pluginId}`);
    const { store, secret } = await context.state();
    if (challenge === undefined || nonce === undefined) {
      const issued = createChallenge({
        secret,
        subject,
        difficulty: context.difficulty,
        ttlMs: context.challengeTtlMs,
        now: context.now,
      });
      return c.json({
        pow_required: true,
        pow_challenge: issued.challenge,
        pow_difficulty: issued.difficulty,
      });
    }
    await context.maintain(store);
    const usedStore: UsedChallengeStore = {
      markUsed: (id, expiresAt) => store.markChallengeUsed(id, expiresAt),
    };
    const result = await verifySolution(challenge, nonce, {
      secret,
      subject,
      now: context.now,
      usedStore,
      minDifficulty: context.difficulty,
    });
    if (!result.ok) return c.json({ error: "invalid_pow", reason: result.reason }, 403);
    const token = newInstallToken();
    const now = context.now();
    await store.recordInstall({
      ...common,
      tokenHash: sha256Hex(token),
      tokenExpiresAt: now + context.installTokenTtlMs,
      now,
    });
    return c.json({ install_token: token });
  });

  // /data and /event share this prologue: address limit, body, identity, token, install limit.
  // Event fields are validated before the token is looked up, so a malformed
  // request costs no store read. A limiter that answers at once is not awaited:
  // each await is a turn of the queue per request.
  async function readInstallRequest(
    request: Request,
    env: unknown,
    readExtra?: (body: Record<string, unknown>) => void,
  ) {
    const limited = enforceRateLimit(context.addressLimiter, context.clientAddress(request, env));
    if (limited !== undefined) await limited;
    const key = readIdempotencyKey(request, IDEMPOTENCY_REFUSALS.invalid);
    const body = await readJsonObject(request, context.bodyLimitBytes);
    const common = readCommon(body);
    const token = requireString(body, "install_token", TOKEN);
    readExtra?.(body);
    readTimestamp(body);
    const { store } = await context.state();
    const tokenHash = sha256Hex(token);
    const record = await store.findInstallToken(tokenHash);
    if (!tokenHolds(record, common, context.now())) throw INVALID_TOKEN();
    const charged = enforceRateLimit(context.installLimiter, tokenHash);
    if (charged !== undefined) await charged;
    // Keys belong to the install the token authenticated, whatever token a retry carries
    const scope = `mkstats\n${common.pluginId}\n${common.userHash}`;
    return { common, store, key, scope, hasPinged: record.hasPinged };
  }

  const ping: RouteHandler = async (raw, env) => {
    const { common, store, key, scope } = await readInstallRequest(raw, env);
    const request = {
      key,
      scope,
      fingerprint: () => fingerprint(["data", common.version]),
    };
    const { answer, replayed } = await recordOnce(
      context,
      store,
      request,
      IDEMPOTENCY_REFUSALS,
      async (settleWith) => {
        const now = context.now();
        await store.recordPing({
          pluginId: common.pluginId,
          userHash: common.userHash,
          version: common.version,
          day: utcDay(now),
          now,
        }, settleWith(OK));
        return OK;
      },
    );
    return answerResponse(answer, replayed);
  };

  const countEvent: RouteHandler = async (raw, env) => {
    let event = "";
    let count = 1;
    const { common, store, hasPinged, key, scope } = await readInstallRequest(
      raw,
      env,
      (body) => {
        event = requireString(body, "event", EVENT);
        count = readInteger(body, "count", 1, MAX_COUNT, 1);
      },
    );
    if (!hasPinged) return NOT_INITIALIZED();
    // What the event records; the timestamp and token a retry refreshes are not part of it
    const request = {
      key,
      scope,
      fingerprint: () => fingerprint(["event", common.version, event, count]),
    };
    const { answer, replayed } = await recordOnce(
      context,
      store,
      request,
      IDEMPOTENCY_REFUSALS,
      async (settleWith) => {
        await store.addEventCount({
          pluginId: common.pluginId,
          version: common.version,
          event,
          day: utcDay(context.now()),
          count,
        }, settleWith(OK));
        return OK;
      },
    );
    return answerResponse(answer, replayed);
  };

  routes.post("/data", (c) => ping(c.req.raw, c.env));
  routes.post("/event", (c) => countEvent(c.req.raw, c.env));
  expose?.("/data", ping);
  expose?.("/event", countEvent);

  routes.get("/stats/:plugin_id", async (c) => {
    await enforceRateLimit(context.addressLimiter, context.clientAddress(c.req.raw, c.env));
    requireAdmin(context, c.req.raw);
    const pluginId = c.req.param("plugin_id");
    requireString({ plugin_id: pluginId }, "plugin_id", PLUGIN_ID);
    const { store } = await context.state();
    return c.json(await store.getStats(pluginId));
  });

  return routes;
}
