/**
 * Reads {@linkcode MigasOptions} once, at construction, through the core
 * validation helpers, with migas-py's environment variables as defaults
 * (`MIGAS_ENDPOINT`, `MIGAS_TIMEOUT`, `MIGAS_LOG_LEVEL`), and answers the
 * opt-out question (`MIGAS_OPTOUT`, `DO_NOT_TRACK`) at every call.
 * Nothing here touches storage or the network.
 *
 * @module
 */

import { resolveBackoffOption } from "../core/_backoff_option.ts";
import type { Jitter } from "../core/backoff.ts";
import { configDirectory, privateFileStorage, readEnv } from "../core/runtime/mod.ts";
import { MemoryStorage, type Storage } from "../core/storage.ts";
import {
  httpUrl,
  integer,
  invalidArgument,
  nonNegativeNumber,
  oneOf,
  optionalFunction,
  optionalObject,
  positiveNumber,
} from "../core/validate.ts";
import {
  DEFAULT_CHECK_INTERVAL_MS,
  DEFAULT_MIGAS_ENDPOINT,
  DEFAULT_MIGAS_TIMEOUT_MS,
  type MigasLogLevel,
  type MigasOptions,
  type MigasProtocol,
} from "./options.ts";

/** The checked options of one client, and its environment reader and logger. */
export interface MigasSettings {
  /** The server's base URL, without a trailing `/` or `/graphql`. */
  endpoint: string;
  protocol: MigasProtocol;
  timeoutMs: number;
  checkIntervalMs: number;
  maxQueuedEvents: number;
  /** The breadcrumb backoff's bounds and jitter. */
  backoff: { initialMs: number; maxMs: number; jitter: Jitter | undefined };
  storage: Storage;
  now: () => number;
  randomUUID: () => string;
  fetch: typeof fetch | undefined;
  /** Reads an environment variable; a reader that throws reads as unset. */
  env: (name: string) => string | undefined;
  /** Logs at or above the configured level; a logger that throws is ignored. */
  log: (level: MigasLogLevel, message: string) => void;
  /** The options as given, for the fields read later (ids, lifecycle, environment). */
  options: MigasOptions;
}

const ACTION = "set up migas";
const LEVELS: readonly MigasLogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

function defaultLogger(level: MigasLogLevel, message: string): void {
  const line = `[migas] ${message}`;
  if (level === "DEBUG") console.debug(line);
  else if (level === "INFO") console.info(line);
  else if (level === "WARNING") console.warn(line);
  else console.error(line);
}

// A user's typo in MIGAS_TIMEOUT must not stop their tool: the default applies
function envTimeout(env: (name: string) => string | undefined): number | undefined {
  const text = env("MIGAS_TIMEOUT");
  if (text === undefined || text.trim() === "") return undefined;
  const ms = Number(text) * 1000;
  return ms > 0 && Number.isFinite(ms) ? ms : undefined;
}

function logger(
  options: MigasOptions,
  env: (name: string) => string | undefined,
): MigasSettings["log"] {
  const level = (options.logLevel ?? env("MIGAS_LOG_LEVEL") ?? "WARNING").toUpperCase();
  // Python also accepts WARN; an unknown level keeps the default rather than failing the tool
  const index = LEVELS.indexOf((level === "WARN" ? "WARNING" : level) as MigasLogLevel);
  const lowest = index === -1 ? 2 : index;
  const write = optionalFunction<NonNullable<MigasOptions["logger"]>>(
    ACTION,
    "logger",
    options.logger,
  ) ?? defaultLogger;
  return (at, message) => {
    if (LEVELS.indexOf(at) < lowest) return;
    try {
      write(at, message);
    } catch {
      // A broken logger must not break the tool
    }
  };
}

/**
 * Checks every option and applies the defaults.
 *
 * @param options What the caller gave.
 * @returns The settings.
 * @throws {InvalidArgumentError} When an option has a value the client cannot use.
 */
export function resolveSettings(options: MigasOptions): MigasSettings {
  if (typeof options !== "object" || options === null) {
    throw invalidArgument(ACTION, "options", "an object", options);
  }
  const read = optionalFunction<NonNullable<MigasOptions["env"]>>(ACTION, "env", options.env) ??
    readEnv;
  const env = (name: string) => {
    try {
      return read(name);
    } catch {
      return undefined;
    }
  };
  const endpoint = httpUrl(
    ACTION,
    "endpoint",
    options.endpoint ?? env("MIGAS_ENDPOINT"),
    DEFAULT_MIGAS_ENDPOINT,
  );
  // migas-py keeps the user id in a private file; so do we where the runtime has files
  const folder = configDirectory();
  const storage = optionalObject<Storage>(ACTION, "storage", options.storage, [
    "get",
    "set",
    "delete",
  ]) ??
    (folder === undefined ? undefined : privateFileStorage(`${folder}/migas/edgewire.json`)) ??
    new MemoryStorage();
  return {
    endpoint: endpoint.replace(/\/+$/, "").replace(/\/graphql$/, ""),
    protocol: oneOf(ACTION, "protocol", options.protocol, "rest", ["rest", "graphql"]),
    timeoutMs: positiveNumber(
      ACTION,
      "timeoutMs",
      options.timeoutMs,
      envTimeout(env) ?? DEFAULT_MIGAS_TIMEOUT_MS,
    ),
    checkIntervalMs: nonNegativeNumber(
      ACTION,
      "checkIntervalMs",
      options.checkIntervalMs,
      DEFAULT_CHECK_INTERVAL_MS,
    ),
    maxQueuedEvents: integer(ACTION, "maxQueuedEvents", options.maxQueuedEvents, 100),
    backoff: resolveBackoffOption(ACTION, options.backoff),
    storage,
    now: optionalFunction<() => number>(ACTION, "now", options.now) ?? Date.now,
    randomUUID: optionalFunction<() => string>(ACTION, "randomUUID", options.randomUUID) ??
      (() => crypto.randomUUID()),
    fetch: optionalFunction<typeof fetch>(ACTION, "fetch", options.fetch),
    env,
    log: logger(options, env),
    options,
  };
}

/**
 * Whether telemetry is disabled by `MIGAS_OPTOUT` (any non-empty value) or
 * `DO_NOT_TRACK` (any value but `""`, `"0"` and `"false"`).
 *
 * @param env The environment reader.
 * @returns `true` when nothing may be sent or written.
 */
export function optedOut(env: (name: string) => string | undefined): boolean {
  if ((env("MIGAS_OPTOUT") ?? "") !== "") return true;
  const dnt = (env("DO_NOT_TRACK") ?? "").trim().toLowerCase();
  return dnt !== "" && dnt !== "0" && dnt !== "false";
}
