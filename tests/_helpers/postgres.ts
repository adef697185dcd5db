/**
 * A real PostgreSQL for the tests that need one: `EDGEWIRE_POSTGRES_URL`
 * when set, else a throwaway cluster of the machine's PostgreSQL
 * (`/usr/lib/postgresql/<version>/bin`, as Debian's `postgresql` package
 * installs it), made with `initdb` in a temporary folder and started on a
 * free port of 127.0.0.1. One server per test file; each test takes a fresh
 * schema or database on it. Missing binaries ignore the tests, unless
 * EDGEWIRE_REQUIRE_RUNTIMES=1 (see `runtimes.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import postgresClient from "postgres";
import { PostgresStore } from "../../src/server/postgres/mod.ts";
import {
  describeRuntime,
  freePort,
  ignoredUnlessRequired,
  type LocatedRuntime,
  probeVersion,
  requireBinary,
} from "./runtimes.ts";

/** The variable naming an existing server to use instead of starting one. */
export const POSTGRES_URL_VARIABLE = "EDGEWIRE_POSTGRES_URL";

/** How long the server has to accept connections, and to stop, in milliseconds. */
const START_MS = 30_000;
const STOP_MS = 15_000;

/** The `bin` folders of the installed PostgreSQL versions, newest first. */
function binFolders(): string[] {
  const folders: { version: number; bin: string }[] = [];
  try {
    for (const entry of Deno.readDirSync("/usr/lib/postgresql")) {
      const version = Number(entry.name);
      if (entry.isDirectory && Number.isFinite(version)) {
        folders.push({ version, bin: `/usr/lib/postgresql/${entry.name}/bin` });
      }
    }
  } catch {
    // No PostgreSQL installed this way.
  }
  return folders.sort((a, b) => b.version - a.version).map((folder) => folder.bin);
}

/**
 * Finds PostgreSQL: the server at `EDGEWIRE_POSTGRES_URL` when set (its
 * `binary` is then the URL's variable name), else the newest
 * `/usr/lib/postgresql/<version>/bin/postgres` that runs.
 *
 * @returns The server binary and its version, or `missing` saying what was looked for.
 * @throws {Deno.errors.NotCapable} Without permission to read the environment.
 *
 * @example
 * ```ts
 * import { locatePostgres } from "./postgres.ts";
 *
 * const postgres = locatePostgres();
 * console.log(postgres.binary ?? postgres.missing);
 * ```
 */
export function locatePostgres(): LocatedRuntime {
  const title = "PostgreSQL";
  if (Deno.env.get(POSTGRES_URL_VARIABLE)) {
    return { title, binary: POSTGRES_URL_VARIABLE, version: "external" };
  }
  const seen: string[] = [];
  for (const bin of binFolders()) {
    const printed = probeVersion(`${bin}/postgres`);
    const version = printed === undefined ? undefined : /(\d+(?:\.\d+)*)/.exec(printed)?.[1];
    if (version !== undefined && probeVersion(`${bin}/initdb`) !== undefined) {
      // initdb refuses root: as root it runs as the postgres user, through runuser
      if (Deno.uid() === 0 && (runuser() === undefined || postgresUser() === undefined)) {
        seen.push("running as root needs runuser and Debian's postgres user");
        break;
      }
      return { title, binary: `${bin}/postgres`, version };
    }
    seen.push(`${bin}/postgres does not run`);
  }
  if (seen.length === 0) seen.push("nothing under /usr/lib/postgresql");
  return {
    title,
    missing: `No PostgreSQL found (${
      seen.join(", ")
    }) and ${POSTGRES_URL_VARIABLE} is unset; .ci/run installs it`,
  };
}

/** A running PostgreSQL, stopped (and its folder removed) when disposed. */
export interface PostgresServer extends AsyncDisposable {
  /** A superuser's URL of the server's `postgres` database. */
  readonly url: string;
  /**
   * A URL of the same server on another database.
   *
   * @param database The database's name.
   * @returns The URL.
   */
  urlOf(database: string): string;
  /**
   * Stops the server: a fast shutdown, then removes its folder. Does nothing
   * for a server from `EDGEWIRE_POSTGRES_URL`, or a second time.
   *
   * @returns How the server process ended: `0` after a clean shutdown.
   */
  stop(): Promise<number>;
}

/** The command prefix that runs a PostgreSQL binary as `postgres` when this process is root. */
function asPostgres(): { user: { uid: number; gid: number } | undefined; prefix: string[] } {
  if (Deno.uid() !== 0) return { user: undefined, prefix: [] };
  const user = postgresUser();
  const program = runuser();
  assert.ok(user, "Running as root needs the postgres user that Debian's package creates");
  assert.ok(program, "Running as root needs runuser (util-linux) to start PostgreSQL");
  return { user, prefix: [program, "-u", "postgres", "--"] };
}

/** The `postgres` user's ids, from `/etc/passwd`. */
function postgresUser(): { uid: number; gid: number } | undefined {
  let passwd = "";
  try {
    passwd = Deno.readTextFileSync("/etc/passwd");
  } catch {
    return undefined;
  }
  const line = passwd.split("\n").find((entry) => entry.startsWith("postgres:"));
  if (line === undefined) return undefined;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** Where `runuser` is: by path, as a user's PATH may leave out the sbin folders. */
function runuser(): string | undefined {
  for (const path of ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

function command(prefix: string[], binary: string, args: string[]): Deno.Command {
  const [program, ...rest] = prefix.length > 0 ? [...prefix, binary, ...args] : [binary, ...args];
  return new Deno.Command(program, {
    args: rest,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C.UTF-8" },
  });
}

/** Waits until `port` accepts a connection, the child ends, or the time is up. */
async function accepting(port: number, child: Deno.ChildProcess): Promise<boolean> {
  let ended = false;
  child.status.then(() => (ended = true));
  for (const stop = Date.now() + START_MS; Date.now() < stop && !ended;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return false;
}

/**
 * Starts PostgreSQL for one test file, or connects to `EDGEWIRE_POSTGRES_URL`.
 * Run it at the module's top level (not inside a test, whose resource check
 * would count the server process) and stop it in the file's last test; a
 * server not stopped by then (that test filtered out, say) is shut down
 * immediately when the test process exits.
 *
 * @param postgres What {@linkcode locatePostgres} found.
 * @returns The running server.
 * @throws {AssertionError} When PostgreSQL is missing, or `initdb` or the server fails,
 * with its output.
 *
 * @example
 * ```ts ignore
 * import { locatePostgres, startPostgres } from "./postgres.ts";
 *
 * await using server = await startPostgres(locatePostgres());
 * console.log(server.url);
 * ```
 */
export async function startPostgres(postgres: LocatedRuntime): Promise<PostgresServer> {
  const binary = requireBinary(postgres);
  const external = Deno.env.get(POSTGRES_URL_VARIABLE);
  if (binary === POSTGRES_URL_VARIABLE && external) {
    const urlOf = (database: string) => {
      const url = new URL(external);
      url.pathname = `/${database}`;
      return url.href;
    };
    return {
      url: external,
      urlOf,
      stop: () => Promise.resolve(0),
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  }
  const bin = binary.slice(0, binary.lastIndexOf("/"));
  const { user, prefix } = asPostgres();
  const dir = await Deno.makeTempDir({ prefix: "edgewire-postgres-" });
  const remove = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  try {
    if (user !== undefined) await Deno.chown(dir, user.uid, user.gid);
    const data = `${dir}/data`;
    const init = await command(prefix, `${bin}/initdb`, [
      "-D",
      data,
      "-U",
      "postgres",
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
      "--no-sync",
    ]).output();
    assert.ok(init.success, `initdb failed: ${new TextDecoder().decode(init.stderr)}`);
    const failures: string[] = [];
    // The port may be taken between its release and the server's bind: try a second one.
    for (let attempt = 0; attempt < 2; attempt++) {
      const port = freePort();
      const child = command(prefix, binary, [
        "-D",
        data,
        "-k",
        dir,
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        // A throwaway cluster: durability against a power loss is not what the tests check.
        "-c",
        "fsync=off",
        "-c",
        "max_connections=200",
      ]).spawn();
      const log = Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ])
        .then((texts) => texts.join(""));
      if (await accepting(port, child)) {
        let stopped: Promise<number> | undefined;
        const pid = Number(Deno.readTextFileSync(`${data}/postmaster.pid`).split("\n")[0]);
        // When the file's last test did not run (a --filter, a failure before it): an immediate
        // shutdown as the test process exits, so no server outlives it.
        const onUnload = () => {
          if (stopped !== undefined) return;
          try {
            Deno.kill(pid, "SIGQUIT");
          } catch {
            // It already ended.
          }
          try {
            Deno.removeSync(dir, { recursive: true });
          } catch {
            // Removed already, or the server still holds it: the system's temporary folder.
          }
        };
        globalThis.addEventListener("unload", onUnload);
        const stop = (): Promise<number> =>
          stopped ??= (async () => {
            globalThis.removeEventListener("unload", onUnload);
            // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, not waited for.
            Deno.kill(pid, "SIGINT");
            const timer = setTimeout(() => Deno.kill(pid, "SIGKILL"), STOP_MS);
            const status = await child.status.finally(() => clearTimeout(timer));
            await log;
            await remove();
            return status.code;
          })();
        return {
          url: `postgres://postgres@127.0.0.1:${port}/postgres`,
          urlOf: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
          stop,
          [Symbol.asyncDispose]: async () => void await stop(),
        };
      }
      try {
        child.kill("SIGKILL");
      } catch {
        // It already ended.
      }
      await child.status;
      failures.push(await log);
    }
    assert.fail(`PostgreSQL did not accept connections: ${failures.join("\n")}`);
  } catch (error) {
    await remove();
    throw error;
  }
}

/**
 * Runs `body` on a short-lived connection of its own to `url`, ended after.
 *
 * @param url The database's URL.
 * @param body What to do with the connection.
 * @returns What `body` returns.
 * @throws Whatever the connection or `body` throws.
 *
 * @example
 * ```ts ignore
 * await onPostgres(server.url, (sql) => sql.unsafe("CREATE DATABASE scratch"));
 * ```
 */
export async function onPostgres<T>(
  url: string,
  body: (sql: postgresClient.Sql) => Promise<T>,
): Promise<T> {
  const sql = postgresClient(url, { max: 1, onnotice: () => {} });
  try {
    return await body(sql);
  } finally {
    await sql.end();
  }
}

/**
 * Opens a `PostgresStore` on a fresh schema of `url`, runs `body`, then
 * closes the store and drops the schema.
 *
 * @param url The database's URL.
 * @param options The start of the schema's name, and the store's `max` connections.
 * @param body What to do with the store and its schema's name.
 * @returns Once the schema is dropped.
 * @throws Whatever opening the store or `body` throws.
 *
 * @example
 * ```ts ignore
 * await onFreshStore(url, { prefix: "grouped", max: 4 }, async (store) => {
 *   await store.addEventCount(event);
 * });
 * ```
 */
export async function onFreshStore(
  url: string,
  options: { prefix: string; max: number },
  body: (store: PostgresStore, schema: string) => Promise<void>,
): Promise<void> {
  const schema = `${options.prefix}_${Date.now().toString(36)}_${Math.floor(performance.now())}`;
  const store = await PostgresStore.open({ url, schema, max: options.max });
  try {
    await body(store, schema);
  } finally {
    await store.close();
    await onPostgres(url, (sql) => sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  }
}

/** A test file's PostgreSQL, from {@linkcode postgresForFile}. */
export interface PostgresForFile {
  /** Whether the file's tests are ignored (no PostgreSQL, and not required). */
  readonly ignore: boolean;
  /** The server, `undefined` when ignored or missing. */
  readonly server: PostgresServer | undefined;
  /** The start of each test's name: `PostgresStore on PostgreSQL (<version>)`. */
  readonly title: string;
  /** What was found, for a test's name: `PostgreSQL (<version>)`. */
  readonly runtime: string;
  /**
   * The server's URL, failing the test when PostgreSQL is missing
   * (EDGEWIRE_REQUIRE_RUNTIMES=1).
   */
  url(): string;
  /**
   * The server's URL on another database, failing the test as {@linkcode url} does.
   *
   * @param database The database's name.
   * @returns The URL.
   */
  urlOf(database: string): string;
  /** Registers the test that stops the server: call it after the file's other tests. */
  stopAfterTests(): void;
}

/**
 * Starts the one PostgreSQL of a test file. Call it at the file's top
 * level, outside any test, so no test's resource check counts the server
 * process; end the file with {@linkcode PostgresForFile.stopAfterTests}.
 *
 * @returns The server, its URL and the tests' title.
 * @throws Whatever {@linkcode startPostgres} throws.
 *
 * @example
 * ```ts ignore
 * const { ignore, title, url } = await postgresForFile();
 * Deno.test({ name: `${title}: opens`, ignore, fn: () => onPostgres(url(), (sql) => sql`SELECT 1`) });
 * ```
 */
export async function postgresForFile(): Promise<PostgresForFile> {
  const postgres = locatePostgres();
  const ignore = ignoredUnlessRequired(postgres);
  const server = ignore || postgres.binary === undefined
    ? undefined
    : await startPostgres(postgres);
  const runtime = describeRuntime(postgres);
  const started = (): PostgresServer => {
    assert.ok(server, postgres.missing ?? "PostgreSQL did not start");
    return server;
  };
  return {
    ignore,
    server,
    title: `PostgresStore on ${runtime}`,
    runtime,
    url: () => started().url,
    urlOf: (database) => started().urlOf(database),
    stopAfterTests() {
      Deno.test({
        name:
          `PostgresStore on ${runtime}: the server stops cleanly once every test of the file ran`,
        ignore,
        async fn() {
          assert.ok(server, postgres.missing ?? "PostgreSQL did not start");
          assert.equal(await server.stop(), 0);
        },
      });
    },
  };
}
