/**
 * Validates the options of {@linkcode createServer} once, synchronously, into
 * the settings the routes use. Every error names the field, what it must be
 * and what it was, never the value of a secret.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { parseLicense } from "../emitter/security/license.ts";
import { type EmitterBrokerOptions, resolveBrokerOptions } from "./emitter/options.ts";
import { resolveSpotRelayOptions, type SpotRelayOptions } from "./spot/options.ts";
import type { HonchPartialQuota, HonchSettings, IdempotencySettings } from "./_context.ts";
import { type CorsSettings, corsSettings } from "./_cors.ts";
import { sha256Bytes } from "./_context.ts";
import type { TrustProxySettings } from "./_client_address.ts";
import { defaultLog } from "./_observe.ts";
import { MemoryStore } from "./memory/memory_store.ts";
import { migasSettings } from "./migas/_options.ts";
import { ACTION, fail, integerOption, limiterOptions } from "./_option_rules.ts";
import type { MigasSettings } from "./migas/routes.ts";
import type {
  HonchPartialQuotaOptions,
  HonchServerOptions,
  RateLimitOptions,
  ServerLogEntry,
  ServerOptions,
  TrustProxyOptions,
} from "./options.ts";
import { missingStoreMethods } from "./store.ts";
import { type Backplane, missingBackplaneMethods } from "./backplane.ts";
import type { ServerStore } from "./store.ts";

const DEFAULT_TOKEN_TTL_MS = 90 * 86_400_000;

const HONCH_MIN_BYTES = 4096;

function honchSettings(value: HonchServerOptions | undefined): HonchSettings {
  if (value === undefined) value = {};
  if (typeof value !== "object" || value === null) fail("honch", "an object", value);
  const keys = value.projectKeys ?? [];
  if (!Array.isArray(keys)) fail("honch.projectKeys", "an array of strings", keys);
  const projectKeyHashes = keys.map((key, index) => {
    const field = `honch.projectKeys[${index}]`;
    if (typeof key !== "string") fail(field, "a string", key);
    // Only the length is reported: the key itself never appears in a message.
    if (key.length === 0 || /\s/.test(key)) {
      fail(field, "a non-empty string without whitespace", key);
    }
    return sha256Bytes(key);
  });
  const max = integerOption(
    "honch.maxMessageBytes",
    value.maxMessageBytes,
    1_048_576,
    HONCH_MIN_BYTES,
    2 ** 31 - 1,
  );
  return {
    projectKeyHashes,
    maxMessageBytes: max,
    maxFrameBytes: integerOption(
      "honch.maxFrameBytes",
      value.maxFrameBytes,
      65_536,
      HONCH_MIN_BYTES,
      2 ** 31 - 1,
    ),
    partialTtlMs: integerOption(
      "honch.partialTtlMs",
      value.partialTtlMs,
      600_000,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    duplicateWindowMs: integerOption(
      "honch.duplicateWindowMs",
      value.duplicateWindowMs,
      86_400_000,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    ...honchExpansion(value),
    rateLimit: limiterOptions("honch.rateLimit", value.rateLimit, 2000, 200),
    partialQuotas: {
      project: partialQuota("honch.partialsPerProject", value.partialsPerProject, 1000, 28, max),
      stream: partialQuota("honch.partialsPerStream", value.partialsPerStream, 4, 22, max),
      address: partialQuota("honch.partialsPerAddress", value.partialsPerAddress, 64, 25, max),
    },
  };
}

function honchExpansion(
  value: HonchServerOptions,
): Pick<HonchSettings, "maxExpansionRatio" | "maxExpandedBytes" | "maxExpandedEventBytes"> {
  const maxExpandedBytes = integerOption(
    "honch.maxExpandedBytes",
    value.maxExpandedBytes,
    8_388_608,
    HONCH_MIN_BYTES,
    Number.MAX_SAFE_INTEGER,
  );
  return {
    maxExpansionRatio: integerOption(
      "honch.maxExpansionRatio",
      value.maxExpansionRatio,
      64,
      1,
      1_000_000,
    ),
    maxExpandedBytes,
    maxExpandedEventBytes: integerOption(
      "honch.maxExpandedEventBytes",
      value.maxExpandedEventBytes,
      Math.min(1_048_576, maxExpandedBytes),
      HONCH_MIN_BYTES,
      maxExpandedBytes,
    ),
  };
}

function partialQuota(
  field: string,
  value: HonchPartialQuotaOptions | undefined,
  count: number,
  bytesLog2: number,
  maxMessageBytes: number,
): HonchPartialQuota {
  const bytes = 2 ** bytesLog2;
  if (value === undefined) value = {};
  if (typeof value !== "object" || value === null) fail(field, "an object", value);
  return {
    count: integerOption(`${field}.count`, value.count, count, 1, Number.MAX_SAFE_INTEGER),
    // Below the largest message, an upload could never open and its client would retry forever.
    bytes: integerOption(
      `${field}.bytes`,
      value.bytes,
      Math.max(bytes, maxMessageBytes),
      maxMessageBytes,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

function emitterOptions(value: EmitterBrokerOptions | undefined): EmitterBrokerOptions {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null) fail("emitter", "an object", value);
  try {
    resolveBrokerOptions(value);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    // The broker's own wording, with the field named as the server's caller wrote it
    const field = `emitter.${error.argument}`;
    throw new InvalidArgumentError(
      field,
      error.message.replace(/^Cannot [^']*'[^']*'/, `Cannot ${ACTION} as '${field}'`),
    );
  }
  if (value.license !== undefined) {
    try {
      parseLicense(value.license);
    } catch {
      // Only the length is reported: a license is a secret
      fail(
        "emitter.license",
        "an Emitter license (the EMITTER_LICENSE text), or unset to generate one",
        value.license,
      );
    }
  }
  return { ...value };
}

function spotOptions(value: SpotRelayOptions | undefined): SpotRelayOptions {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null) fail("spot", "an object", value);
  try {
    resolveSpotRelayOptions(value);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    const field = `spot.${error.argument}`;
    throw new InvalidArgumentError(
      field,
      error.message.replace(/^Cannot [^']*'[^']*'/, `Cannot ${ACTION} as '${field}'`),
    );
  }
  return { ...value };
}

function trustProxySettings(value: TrustProxyOptions | undefined): TrustProxySettings | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null) fail("trustProxy", "an object", value);
  const header = value.header ?? "x-forwarded-for";
  if (header !== "x-forwarded-for" && header !== "forwarded") {
    fail("trustProxy.header", "'x-forwarded-for' or 'forwarded'", header);
  }
  return { hops: integerOption("trustProxy.hops", value.hops, 1, 1, 16), header };
}

function defaultClientAddress(_request: Request, env: unknown): string | undefined {
  if (typeof env !== "object" || env === null) return undefined;
  const remote = (env as { remoteAddr?: unknown }).remoteAddr;
  if (typeof remote !== "object" || remote === null) return undefined;
  const hostname = (remote as { hostname?: unknown }).hostname;
  return typeof hostname === "string" ? hostname : undefined;
}

/** The options of {@linkcode createServer}, checked and with their defaults filled in. */
export interface ResolvedOptions {
  /** The store, given or a new memory store. */
  store: ServerStore;
  /** The backplane shared with other processes, when given. */
  backplane: Backplane | undefined;
  /** The challenge secret, when given. */
  secret: string | undefined;
  /** The admin key's SHA-256, when an admin key is given. */
  adminKeyHash: Uint8Array | undefined;
  /** The proof-of-work difficulty. */
  difficulty: number;
  /** How long a challenge stays valid, in milliseconds. */
  challengeTtlMs: number;
  /** How long an install token stays valid, in milliseconds. */
  installTokenTtlMs: number;
  /** The largest request body accepted, in bytes. */
  bodyLimitBytes: number;
  /** How long a request body may take to arrive, in milliseconds. */
  bodyTimeoutMs: number;
  /** How often expired rows are pruned, in milliseconds. */
  pruneIntervalMs: number;
  /** The Honch capture settings. */
  honch: HonchSettings;
  /** The migas settings. */
  migas: MigasSettings;
  /** How `Idempotency-Key`s are remembered. */
  idempotency: IdempotencySettings;
  /** The CORS settings. */
  cors: CorsSettings;
  /** The per-install limiter's burst and rate. */
  installLimits: Required<RateLimitOptions>;
  /** The per-address limiter's burst and rate. */
  addressLimits: Required<RateLimitOptions>;
  /** The Emitter broker's options, checked. */
  emitter: EmitterBrokerOptions;
  /** The Spot relay's options, checked. */
  spot: SpotRelayOptions;
  /** The clock. */
  now: () => number;
  /** Finds the caller's address. */
  clientAddress: (request: Request, env: unknown) => string | undefined;
  /** The reverse proxies trusted for the client's address, when any. */
  trustProxy: TrustProxySettings | undefined;
  /** Where log entries go. */
  log: (entry: ServerLogEntry) => void;
}

function backplaneOption(value: unknown): Backplane | undefined {
  if (value === undefined) return undefined;
  const missing = missingBackplaneMethods(value);
  if (missing.length > 0) {
    fail(
      "backplane",
      "a Backplane (for Redis, `await RedisBackplane.connect(url)` from '@edgewire/sdk/server/redis')",
      typeof value === "object" && value !== null ? "an object without publish" : value,
    );
  }
  return value as Backplane;
}

function storeOption(value: unknown): ServerStore {
  if (value === undefined) return new MemoryStore();
  if (typeof value === "string") {
    // Only the kind is reported: a path may name a user's home folder.
    fail(
      "store",
      "a ServerStore (for a SQLite file, `new SqliteStore(path)` from '@edgewire/sdk/server/sqlite')",
      value,
    );
  }
  const missing = missingStoreMethods(value);
  if (missing.length > 0) {
    fail(
      "store",
      `a ServerStore, with every method of its interfaces (missing ${
        missing.slice(0, 3).join(", ")
      }${missing.length > 3 ? ", …" : ""})`,
      value,
    );
  }
  return value as ServerStore;
}

/**
 * Checks every option of {@linkcode createServer} and fills in defaults.
 *
 * @param options The options as given.
 * @returns The settings; `store` is a new memory store when none was given.
 * @throws {InvalidArgumentError} When an option is out of range or of the wrong type.
 */
export function resolveOptions(options: ServerOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    fail("options", "an object", options);
  }
  const secret = options.secret;
  if (secret !== undefined) {
    if (typeof secret !== "string") fail("secret", "a string", secret);
    // Only the length is reported: the secret itself never appears in a message.
    if (secret.length < 32) fail("secret", "at least 32 characters", secret);
  }
  const adminKey = options.adminKey;
  if (adminKey !== undefined) {
    if (typeof adminKey !== "string") fail("adminKey", "a string", adminKey);
    if (adminKey.length === 0 || /\s/.test(adminKey)) {
      fail("adminKey", "a non-empty string without whitespace", adminKey);
    }
  }
  const difficulty = integerOption("difficulty", options.difficulty, 4, 1, 16);
  const challengeTtlMs = integerOption(
    "challengeTtlMs",
    options.challengeTtlMs,
    300_000,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const installTokenTtlMs = integerOption(
    "installTokenTtlMs",
    options.installTokenTtlMs,
    DEFAULT_TOKEN_TTL_MS,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const bodyLimitBytes = integerOption(
    "bodyLimitBytes",
    options.bodyLimitBytes,
    16_384,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const bodyTimeoutMs = integerOption(
    "bodyTimeoutMs",
    options.bodyTimeoutMs,
    10_000,
    1,
    2 ** 31 - 1,
  );
  // At most what setInterval takes: a longer delay fires at once, in a loop.
  const pruneIntervalMs = integerOption(
    "pruneIntervalMs",
    options.pruneIntervalMs,
    60_000,
    1,
    2 ** 31 - 1,
  );
  if (options.now !== undefined && typeof options.now !== "function") {
    fail("now", "a function returning milliseconds", options.now);
  }
  if (options.clientAddress !== undefined && typeof options.clientAddress !== "function") {
    fail("clientAddress", "a function", options.clientAddress);
  }
  if (options.log !== undefined && typeof options.log !== "function") {
    fail("log", "a function", options.log);
  }
  const trustProxy = trustProxySettings(options.trustProxy);
  const rateLimit = options.rateLimit ?? {};
  if (typeof rateLimit !== "object" || rateLimit === null) {
    fail("rateLimit", "an object", rateLimit);
  }
  const idempotency: IdempotencySettings = {
    windowMs: integerOption(
      "idempotencyWindowMs",
      options.idempotencyWindowMs,
      86_400_000,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxKeysPerScope: integerOption(
      "idempotencyMaxKeysPerScope",
      options.idempotencyMaxKeysPerScope,
      1000,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxKeys: integerOption(
      "idempotencyMaxKeys",
      options.idempotencyMaxKeys,
      100_000,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
  };
  const honch = honchSettings(options.honch);
  const migas = migasSettings(options.migas);
  const cors = corsSettings(options.cors);
  const emitter = emitterOptions(options.emitter);
  const spot = spotOptions(options.spot);
  const installLimits = limiterOptions("rateLimit.install", rateLimit.install, 30, 0.5);
  const addressLimits = limiterOptions("rateLimit.address", rateLimit.address, 120, 2);
  const userNow = options.now;
  const backplane = backplaneOption(options.backplane);
  // Checked last: a memory store is only created once every other option is valid.
  const store = storeOption(options.store);
  return {
    store,
    backplane,
    secret,
    adminKeyHash: adminKey === undefined ? undefined : sha256Bytes(adminKey),
    difficulty,
    challengeTtlMs,
    installTokenTtlMs,
    bodyLimitBytes,
    bodyTimeoutMs,
    pruneIntervalMs,
    honch,
    migas,
    idempotency,
    cors,
    emitter,
    spot,
    installLimits,
    addressLimits,
    now: userNow === undefined ? () => Date.now() : () => userNow(),
    clientAddress: options.clientAddress ?? defaultClientAddress,
    trustProxy,
    log: options.log ?? defaultLog,
  };
}
