/**
 * The settings of `deno task serve` (`examples/ingest_server.ts`), read from
 * `EDGEWIRE_*` environment variables by a pure function so they can be
 * tested without a process: host, port, database, admin key, proof-of-work
 * difficulty, Honch project keys, migas projects, the Emitter license and the
 * plain MQTT port. What is missing and needed (the admin key, a Honch project
 * key, an Emitter license with its master secret key) is generated, and the startup
 * banner that hands those over to the operator is built here too.
 *
 * @module
 */

import { EdgewireError } from "../src/core/errors.ts";
import { newLicense, parseLicense } from "../src/emitter/security/license.ts";
import type { MigasProjectOptions, ServerOptions } from "../src/server/mod.ts";

/** One environment variable of `deno task serve`, for the banner and the docs. */
export interface ServeVariable {
  /** The variable's name, such as `EDGEWIRE_PORT`. */
  name: string;
  /** What happens when it is unset or empty. */
  fallback: string;
  /** What it sets. */
  meaning: string;
}

/** Every variable {@linkcode readServeConfig} reads, in the order the README lists them. */
export const SERVE_VARIABLES: readonly ServeVariable[] = [
  { name: "EDGEWIRE_HOST", fallback: "127.0.0.1", meaning: "the address to listen on" },
  { name: "EDGEWIRE_PORT", fallback: "8787", meaning: "the port; 0 picks a free one" },
  {
    name: "EDGEWIRE_DB",
    fallback: "$XDG_DATA_HOME/edgewire/edgewire.db, else ~/.local/share/edgewire/edgewire.db " +
      "(%LOCALAPPDATA%\\edgewire\\edgewire.db on Windows)",
    meaning: "the SQLite file; :memory: keeps nothing",
  },
  {
    name: "EDGEWIRE_DATABASE_URL",
    fallback: "none (SQLite, see EDGEWIRE_DB)",
    meaning: "a postgres:// URL: keep the state in PostgreSQL instead of SQLite",
  },
  {
    name: "EDGEWIRE_ADMIN_KEY",
    fallback: "generated and printed once",
    meaning: "the Bearer key of the admin routes",
  },
  {
    name: "EDGEWIRE_REDIS_URL",
    fallback: "none (one process)",
    meaning: "a redis:// URL: share live state with the other processes on that Redis",
  },
  { name: "EDGEWIRE_DIFFICULTY", fallback: "4", meaning: "proof-of-work difficulty, 1..16" },
  {
    name: "EDGEWIRE_HONCH_PROJECT_KEYS",
    fallback: "one generated and printed once",
    meaning: "accepted Honch project keys, comma-separated",
  },
  {
    name: "EDGEWIRE_MIGAS_PROJECTS",
    fallback: "none",
    meaning: "migas projects as owner/repo or owner/repo@latest, comma-separated",
  },
  {
    name: "EDGEWIRE_MIGAS_BAD_VERSIONS",
    fallback: "none",
    meaning: "flagged versions as owner/repo@version, comma-separated",
  },
  {
    name: "EMITTER_LICENSE",
    fallback: "one generated and printed once, with its master secret key",
    meaning: "the Emitter broker's license, as the real broker reads it",
  },
  {
    name: "EDGEWIRE_MQTT_PORT",
    fallback: "none (MQTT over WebSocket only)",
    meaning: "a port for plain MQTT over TCP; 0 picks a free one",
  },
  {
    name: "EDGEWIRE_BODY_TIMEOUT_MS",
    fallback: "10000",
    meaning: "how long a request body may take to arrive before 408, 100..600000 ms",
  },
];

/** The settings of `deno task serve`. */
export interface ServeConfig {
  /** The address to listen on. */
  hostname: string;
  /** The port; 0 lets the system choose. */
  port: number;
  /**
   * The SQLite file path, or `":memory:"`; with {@linkcode databaseUrl}, that
   * URL without its user and password, for the banner.
   */
  store: string;
  /** The PostgreSQL URL of `EDGEWIRE_DATABASE_URL`, used instead of SQLite when set. */
  databaseUrl: string | undefined;
  /** Whether `store` is the default path (its directory is then created). */
  storeIsDefault: boolean;
  /** The Redis URL of `EDGEWIRE_REDIS_URL`: the backplane shared with other processes. */
  redisUrl: string | undefined;
  /** That URL without its user and password, for the banner. */
  redisShown: string | undefined;
  /** The admin key, given or generated. */
  adminKey: string;
  /** The proof-of-work difficulty. */
  difficulty: number;
  /** The accepted Honch project keys, given or one generated. */
  honchProjectKeys: string[];
  /** The migas projects registered at start. */
  migasProjects: MigasProjectOptions[];
  /** The Emitter license, given or generated. */
  emitterLicense: string;
  /** The plain MQTT over TCP port, or `undefined` for none. */
  mqttPort: number | undefined;
  /** How long a request body may take to arrive, in milliseconds. */
  bodyTimeoutMs: number;
  /**
   * The keys generated because their variable was unset: to print once. The
   * Emitter secret is the master key of a generated license.
   */
  generated: {
    adminKey?: string;
    honchProjectKey?: string;
    emitterLicense?: string;
    emitterSecret?: string;
  };
}

/** Options of {@linkcode readServeConfig}. */
export interface ReadServeConfigOptions {
  /**
   * The operating system, which decides the default database path.
   *
   * @default "linux"
   */
  os?: string;
  /**
   * Fills a buffer with random bytes, for generated keys.
   *
   * @default crypto.getRandomValues
   */
  randomBytes?: (bytes: Uint8Array) => Uint8Array;
}

/**
 * One or more environment variables of `deno task serve` have values it
 * cannot use; {@linkcode ServeConfigError.problems} lists each, naming the
 * variable and what to do.
 *
 * @example
 * ```ts
 * import { ServeConfigError } from "./_serve_config.ts";
 *
 * const error = new ServeConfigError(["EDGEWIRE_PORT must be an integer in 0..65535"]);
 * console.log(error.problems.length); // 1
 * ```
 */
export class ServeConfigError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "ServeConfigError";

  /** Each problem, one sentence per variable value. */
  readonly problems: readonly string[];

  /**
   * Creates the error.
   *
   * @param problems Each problem found.
   */
  constructor(problems: readonly string[]) {
    super(problems.join("; "), { code: "invalid_environment" });
    this.problems = problems;
  }
}

const PROJECT = /^[^\s/@,]+\/[^\s/@,]+$/;
const VERSION = /^[^\s@,]+$/;

/**
 * Reads the settings of `deno task serve` from environment variables (see
 * {@linkcode SERVE_VARIABLES}). An empty value counts as unset. The admin
 * key and a Honch project key are generated when unset; every problem is
 * collected before throwing, so one run reports them all.
 *
 * @param env Reads one variable, such as `(name) => Deno.env.get(name)`.
 * @param options The operating system and the random source.
 * @returns The settings.
 * @throws {ServeConfigError} When a variable has a value the server cannot use.
 *
 * @example
 * ```ts
 * import { readServeConfig } from "./_serve_config.ts";
 *
 * const vars: Record<string, string> = { EDGEWIRE_PORT: "0", EDGEWIRE_DB: ":memory:" };
 * const config = readServeConfig((name) => vars[name]);
 * console.log(config.port, config.store); // 0 ":memory:"
 * ```
 */
export function readServeConfig(
  env: (name: string) => string | undefined,
  options: ReadServeConfigOptions = {},
): ServeConfig {
  const problems: string[] = [];
  const random = options.randomBytes ?? ((bytes: Uint8Array) => crypto.getRandomValues(bytes));
  const read = (name: string): string | undefined => {
    const value = env(name)?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number, hint: string) => {
    const text = read(name);
    if (text === undefined) return fallback;
    const value = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
    if (value >= min && value <= max) return value;
    problems.push(
      `${name} must be an integer in ${min}..${max}, ${hint}: current value is ${
        JSON.stringify(text)
      }`,
    );
    return fallback;
  };

  const hostname = read("EDGEWIRE_HOST") ?? "127.0.0.1";
  if (/[\s/]/.test(hostname)) {
    problems.push(
      `EDGEWIRE_HOST must be a host name or IP address without scheme or path, such as 127.0.0.1 ` +
        `or 0.0.0.0: current value is ${JSON.stringify(hostname)}`,
    );
  }
  const port = integer("EDGEWIRE_PORT", 8787, 0, 65535, "such as 8787, or 0 for any free port");
  const difficulty = integer("EDGEWIRE_DIFFICULTY", 4, 1, 16, "such as 4");
  const bodyTimeoutMs = integer(
    "EDGEWIRE_BODY_TIMEOUT_MS",
    10_000,
    100,
    600_000,
    "such as 10000",
  );

  const given = read("EDGEWIRE_DB");
  const databaseUrl = read("EDGEWIRE_DATABASE_URL");
  let described: string | undefined;
  if (databaseUrl !== undefined) {
    // Only the scheme, host and database are ever shown: the URL may hold a password.
    const url = URL.canParse(databaseUrl) ? new URL(databaseUrl) : undefined;
    if (url === undefined || !/^postgres(ql)?:$/.test(url.protocol)) {
      problems.push(
        "EDGEWIRE_DATABASE_URL must be a postgres:// or postgresql:// URL, such as " +
          "postgres://edgewire@127.0.0.1/edgewire: current value is not one",
      );
    } else if (given !== undefined) {
      problems.push(
        "EDGEWIRE_DB and EDGEWIRE_DATABASE_URL are both set: unset one, as the server keeps " +
          "its state in SQLite or in PostgreSQL",
      );
    } else {
      described = `${url.protocol}//${url.host}${url.pathname}`;
    }
  }
  const store = described ?? given ?? defaultStorePath(env, options.os ?? "linux");
  if (store === undefined) {
    problems.push(
      "EDGEWIRE_DB must be set as neither XDG_DATA_HOME, HOME nor LOCALAPPDATA is: " +
        "set it to a file path, or to :memory: to keep nothing",
    );
  }

  const redisUrl = read("EDGEWIRE_REDIS_URL");
  let redisShown: string | undefined;
  if (redisUrl !== undefined) {
    // Only the scheme and host are ever shown: the URL may hold a password.
    const url = URL.canParse(redisUrl) ? new URL(redisUrl) : undefined;
    if (url === undefined || !/^rediss?:$/.test(url.protocol)) {
      problems.push(
        "EDGEWIRE_REDIS_URL must be a redis:// or rediss:// URL, such as " +
          "redis://127.0.0.1:6379: current value is not one",
      );
    } else {
      redisShown = `${url.protocol}//${url.host}${url.pathname}`;
    }
  }

  const generated: ServeConfig["generated"] = {};
  let adminKey = read("EDGEWIRE_ADMIN_KEY");
  if (adminKey === undefined) {
    adminKey = generated.adminKey = base64url(random(new Uint8Array(32)));
  } else if (/\s/.test(adminKey)) {
    // Only the length is reported: a key never appears in a message.
    problems.push(
      `EDGEWIRE_ADMIN_KEY must contain no whitespace: current value has ${adminKey.length} ` +
        "characters with some whitespace; set a key without spaces, or unset it to have one generated",
    );
  }

  let honchProjectKeys = list(read("EDGEWIRE_HONCH_PROJECT_KEYS")).flatMap((key, index) => {
    if (key === "") {
      problems.push(
        `EDGEWIRE_HONCH_PROJECT_KEYS has an empty key at position ${index + 1}: ` +
          "remove the extra comma",
      );
      return [];
    }
    if (/\s/.test(key)) {
      problems.push(
        `EDGEWIRE_HONCH_PROJECT_KEYS must separate keys with commas only: the key at position ` +
          `${index + 1} (${key.length} characters) contains whitespace`,
      );
      return [];
    }
    return [key];
  });
  if (read("EDGEWIRE_HONCH_PROJECT_KEYS") === undefined) {
    generated.honchProjectKey = `phc_${hexOf(random(new Uint8Array(16)))}`;
    honchProjectKeys = [generated.honchProjectKey];
  }

  let emitterLicense = read("EMITTER_LICENSE");
  if (emitterLicense === undefined) {
    const made = newLicense((length) => random(new Uint8Array(length)));
    emitterLicense = generated.emitterLicense = made.license.toString();
    generated.emitterSecret = made.secret;
  } else {
    try {
      parseLicense(emitterLicense);
    } catch {
      // Only the length is reported: a license is a secret
      problems.push(
        `EMITTER_LICENSE must be an Emitter license, such as the one printed at a start ` +
          `without it: current value has ${emitterLicense.length} characters; ` +
          "unset it to have one generated",
      );
    }
  }
  const mqttPort = read("EDGEWIRE_MQTT_PORT") === undefined
    ? undefined
    : integer("EDGEWIRE_MQTT_PORT", 0, 0, 65535, "such as 1883, or 0 for any free port");

  const migasProjects = readMigasProjects(
    read("EDGEWIRE_MIGAS_PROJECTS"),
    read("EDGEWIRE_MIGAS_BAD_VERSIONS"),
    problems,
  );

  if (problems.length > 0) throw new ServeConfigError(problems);
  return {
    hostname,
    port,
    store: store!,
    databaseUrl: described === undefined ? undefined : databaseUrl,
    storeIsDefault: given === undefined && described === undefined,
    redisUrl: redisShown === undefined ? undefined : redisUrl,
    redisShown,
    adminKey,
    difficulty,
    honchProjectKeys: [...new Set(honchProjectKeys)],
    migasProjects,
    emitterLicense,
    mqttPort,
    bodyTimeoutMs,
    generated,
  };
}

/**
 * The directory where the examples keep state between runs:
 * `$XDG_DATA_HOME/edgewire` when that is an absolute path, else
 * `$HOME/.local/share/edgewire`; on Windows `%LOCALAPPDATA%\edgewire`. Never
 * the current directory, so running from a checkout writes nothing into it.
 *
 * @param env Reads one variable.
 * @param os The operating system, as `Deno.build.os` names it.
 * @returns The directory, or `undefined` when none of those variables is set.
 *
 * @example
 * ```ts
 * import { dataDirectory } from "./_serve_config.ts";
 *
 * console.log(dataDirectory((name) => name === "HOME" ? "/home/ada" : undefined, "linux"));
 * // "/home/ada/.local/share/edgewire"
 * ```
 */
export function dataDirectory(
  env: (name: string) => string | undefined,
  os: string,
): string | undefined {
  if (os === "windows") {
    const local = env("LOCALAPPDATA");
    return local ? `${local.replace(/\\+$/, "")}\\edgewire` : undefined;
  }
  const xdg = env("XDG_DATA_HOME");
  // The XDG spec says a relative path is invalid and must be ignored.
  if (xdg?.startsWith("/")) return `${xdg.replace(/\/+$/, "")}/edgewire`;
  const home = env("HOME");
  return home ? `${home.replace(/\/+$/, "")}/.local/share/edgewire` : undefined;
}

/**
 * The default database path: `edgewire.db` in {@linkcode dataDirectory}.
 *
 * @param env Reads one variable.
 * @param os The operating system, as `Deno.build.os` names it.
 * @returns The path, or `undefined` when there is no data directory.
 *
 * @example
 * ```ts
 * import { defaultStorePath } from "./_serve_config.ts";
 *
 * console.log(defaultStorePath((name) => name === "HOME" ? "/home/ada" : undefined, "linux"));
 * // "/home/ada/.local/share/edgewire/edgewire.db"
 * ```
 */
export function defaultStorePath(
  env: (name: string) => string | undefined,
  os: string,
): string | undefined {
  const directory = dataDirectory(env, os);
  if (directory === undefined) return undefined;
  return `${directory}${os === "windows" ? "\\" : "/"}edgewire.db`;
}

function readMigasProjects(
  projectsText: string | undefined,
  badText: string | undefined,
  problems: string[],
): MigasProjectOptions[] {
  const projects = new Map<string, MigasProjectOptions>();
  list(projectsText).forEach((entry, index) => {
    const at = entry.indexOf("@");
    const project = at === -1 ? entry : entry.slice(0, at);
    const latest = at === -1 ? undefined : entry.slice(at + 1);
    const where = `EDGEWIRE_MIGAS_PROJECTS entry ${index + 1}`;
    if (!PROJECT.test(project)) {
      problems.push(
        `${where} must be owner/repo or owner/repo@latest, such as nipreps/fmriprep@24.1.0: ` +
          `current value is ${JSON.stringify(entry)}`,
      );
    } else if (latest !== undefined && !VERSION.test(latest)) {
      problems.push(
        `${where} must name a version after @, such as ${project}@1.2.0: current value is ` +
          JSON.stringify(entry),
      );
    } else if (projects.has(project)) {
      problems.push(`${where} repeats ${project}: list each project once`);
    } else {
      projects.set(project, { project, latestVersion: latest, badVersions: [] });
    }
  });
  list(badText).forEach((entry, index) => {
    const at = entry.indexOf("@");
    const project = entry.slice(0, at);
    const version = entry.slice(at + 1);
    const where = `EDGEWIRE_MIGAS_BAD_VERSIONS entry ${index + 1}`;
    if (at === -1 || !PROJECT.test(project) || !VERSION.test(version)) {
      problems.push(
        `${where} must be owner/repo@version, such as nipreps/fmriprep@23.0.0: current value is ${
          JSON.stringify(entry)
        }`,
      );
      return;
    }
    const known = projects.get(project);
    if (known === undefined) {
      problems.push(
        `${where} names ${project}, which EDGEWIRE_MIGAS_PROJECTS does not list: add it there`,
      );
      return;
    }
    if (!known.badVersions!.includes(version)) known.badVersions!.push(version);
  });
  return [...projects.values()];
}

function list(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(",").map((item) => item.trim());
}

function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/**
 * The `createServer` options a configuration asks for, the store apart (each
 * runtime opens its own): shared by `deno task serve` and the Node example.
 *
 * @param config What {@linkcode readServeConfig} read.
 * @returns The admin key, difficulty, Honch keys, migas projects and Emitter license.
 *
 * @example
 * ```ts
 * import { readServeConfig, serverOptions } from "./_serve_config.ts";
 *
 * const config = readServeConfig(() => undefined, { os: "linux" });
 * console.log(serverOptions(config).difficulty); // 4
 * ```
 */
export function serverOptions(
  config: ServeConfig,
): Pick<
  ServerOptions,
  "adminKey" | "difficulty" | "honch" | "migas" | "emitter" | "bodyTimeoutMs"
> {
  return {
    adminKey: config.adminKey,
    difficulty: config.difficulty,
    bodyTimeoutMs: config.bodyTimeoutMs,
    honch: { projectKeys: config.honchProjectKeys },
    migas: { projects: config.migasProjects },
    emitter: { license: config.emitterLicense },
  };
}

/**
 * The line printed when the database cannot be made or opened, with what to do.
 *
 * @param what What failed, such as `open the database /data/edgewire.db`.
 * @param error Why.
 * @returns The message.
 *
 * @example
 * ```ts
 * import { databaseProblem } from "./_serve_config.ts";
 *
 * console.log(databaseProblem("open the database x.db", new Error("read-only")));
 * ```
 */
export function databaseProblem(what: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return `Cannot ${what} (${reason}): set EDGEWIRE_DB to a writable file path, or to :memory:`;
}
