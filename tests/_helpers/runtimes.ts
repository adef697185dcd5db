/**
 * What the tests that run code outside this Deno process share: finding a
 * runtime binary by its `--version`, ignoring a test whose runtime is
 * missing (unless EDGEWIRE_REQUIRE_RUNTIMES=1), bundling an entry with
 * `deno bundle` into a temporary folder, and running a child process that
 * is killed when it takes too long.
 *
 * @module
 */

import assert from "node:assert/strict";

/** The repository's root folder, ending in `/`, found from this file. */
export const REPOSITORY_ROOT: string = decodeURIComponent(
  new URL("../../", import.meta.url).pathname,
);

/** Whether EDGEWIRE_REQUIRE_RUNTIMES=1: then a missing runtime fails its test instead of ignoring it. */
export const REQUIRE_RUNTIMES: boolean = Deno.env.get("EDGEWIRE_REQUIRE_RUNTIMES") === "1";

const BUNDLE_MS = 120_000;

/**
 * A port of 127.0.0.1 that was free a moment ago: bound on port 0 and
 * released, for a daemon that must be told its port (PostgreSQL, Redis,
 * mosquitto). Another process may take it first; callers retry on another.
 *
 * @returns The port.
 * @example
 * ```ts
 * import { freePort } from "./runtimes.ts";
 *
 * console.log(freePort() > 0); // true
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Asks a binary for its version.
 *
 * @param binary A path or a command name looked up on the PATH.
 * @returns What `binary --version` printed, trimmed and without a leading `v`, or `undefined`
 * when it does not run or fails.
 * @throws {Error} Never: a binary that cannot start gives `undefined`.
 *
 * @example
 * ```ts
 * import { probeVersion } from "./runtimes.ts";
 *
 * console.log(probeVersion(Deno.execPath())); // "deno 2.… (stable, release, …)…"
 * ```
 */
export function probeVersion(binary: string): string | undefined {
  try {
    const { success, stdout } = new Deno.Command(binary, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return success ? new TextDecoder().decode(stdout).trim().replace(/^v/, "") : undefined;
  } catch {
    return undefined;
  }
}

/** A runtime binary found on this machine, or why it was not. */
export interface LocatedRuntime {
  /** How tests name it, such as `Node 22`. */
  title: string;
  /** The binary that runs, when one was found. */
  binary?: string;
  /** What it printed for `--version`, without a leading `v`. */
  version?: string;
  /** Why none was found, naming what each candidate is; set exactly when `binary` is not. */
  missing?: string;
}

/** What {@linkcode locateRuntime} looks for. */
export interface LocateOptions {
  /** How tests name the runtime, such as `Node 22`. */
  title: string;
  /** Paths or command names to try, in order. */
  candidates: string[];
  /** The major version the binary must have (any when omitted). */
  major?: number;
  /** Further check of the version (such as a minimum minor); any version passes when omitted. */
  accepts?: (version: string) => boolean;
}

/**
 * Finds the first candidate that runs and has the wanted version.
 *
 * @param options The runtime's title, the candidates and the wanted version.
 * @returns The binary and its version, or `missing` saying what was found instead.
 * @throws {Error} Never.
 *
 * @example
 * ```ts
 * import { locateRuntime } from "./runtimes.ts";
 *
 * const node = locateRuntime({ title: "Node 20", candidates: ["/usr/bin/node", "node"], major: 20 });
 * console.log(node.binary ?? node.missing);
 * ```
 */
export function locateRuntime(options: LocateOptions): LocatedRuntime {
  const { title, candidates, major, accepts } = options;
  const seen: string[] = [];
  for (const binary of candidates) {
    const version = probeVersion(binary);
    if (version === undefined) {
      seen.push(`${binary} does not run`);
    } else if (
      (major === undefined || Number(version.split(".")[0]) === major) &&
      (accepts === undefined || accepts(version))
    ) {
      return { title, binary, version };
    } else {
      seen.push(`${binary} is ${version}`);
    }
  }
  return { title, missing: `No ${title} found (${seen.join(", ")}); .ci/run installs it` };
}

/**
 * Where the tests look for each runtime they run code under, for
 * {@linkcode locateRuntime}: the ones .ci/run installs under `.tools/` come
 * first, then the machine's.
 */
export const RUNTIMES = {
  /** The machine's Node 20. */
  node20: { title: "Node 20", candidates: ["/usr/bin/node", "node"], major: 20 },
  /** The Node 22 that .ci/run installs. */
  node22: {
    title: "Node 22",
    candidates: [`${REPOSITORY_ROOT}.tools/node22/node_modules/.bin/node`],
    major: 22,
  },
  /** The first Node with `node:sqlite` (22.5+), which the Node example's SQLite store needs. */
  nodeSqlite: {
    title: "Node 22.5+",
    candidates: [`${REPOSITORY_ROOT}.tools/node22/node_modules/.bin/node`, "node"],
    accepts(version: string): boolean {
      const [major, minor] = version.split(".").map(Number);
      return major > 22 || (major === 22 && minor >= 5);
    },
  },
  /** Bun. */
  bun: { title: "Bun", candidates: [`${REPOSITORY_ROOT}.tools/node_modules/.bin/bun`, "bun"] },
} satisfies Record<string, LocateOptions>;

/**
 * Whether a folder exists, such as a package under an example's `node_modules`.
 *
 * @param path The folder's path.
 * @returns `true` when `path` is a folder, `false` when it is missing or is something else.
 * @throws {Deno.errors.NotCapable} Without permission to read `path`.
 *
 * @example
 * ```ts
 * import { installed, REPOSITORY_ROOT } from "./runtimes.ts";
 *
 * console.log(installed(`${REPOSITORY_ROOT}examples/node/node_modules/ws`));
 * ```
 */
export function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    return false;
  }
}

/**
 * Names a runtime with its version, for test names and assertion messages.
 *
 * @param runtime A runtime from {@linkcode locateRuntime}.
 * @returns Such as `Node 22 (22.12.0)`, or the bare title when it is missing.
 * @throws {Error} Never.
 *
 * @example
 * ```ts
 * import { describeRuntime } from "./runtimes.ts";
 *
 * console.log(describeRuntime({ title: "Bun", version: "1.4.5", binary: "bun" })); // "Bun (1.4.5)"
 * ```
 */
export function describeRuntime(runtime: LocatedRuntime): string {
  return runtime.version ? `${runtime.title} (${runtime.version})` : runtime.title;
}

/**
 * Whether a test needing `runtimes` is ignored: when one is missing, unless
 * {@linkcode REQUIRE_RUNTIMES} is set, in which case it runs and fails.
 *
 * @param runtimes The runtimes the test needs.
 * @returns The value for `Deno.test`'s `ignore`.
 * @throws {Error} Never.
 *
 * @example
 * ```ts
 * import { ignoredUnlessRequired, locateRuntime } from "./runtimes.ts";
 *
 * const bun = locateRuntime({ title: "Bun", candidates: ["bun"] });
 * Deno.test({ name: "runs under Bun", ignore: ignoredUnlessRequired(bun), fn() {} });
 * ```
 */
export function ignoredUnlessRequired(...runtimes: LocatedRuntime[]): boolean {
  return !REQUIRE_RUNTIMES && runtimes.some((runtime) => runtime.binary === undefined);
}

/**
 * The runtime's binary, for a test that cannot go on without it.
 *
 * @param runtime A runtime from {@linkcode locateRuntime}.
 * @returns Its binary.
 * @throws {AssertionError} When it is missing, with {@linkcode LocatedRuntime.missing}.
 *
 * @example
 * ```ts
 * import { locateRuntime, requireBinary } from "./runtimes.ts";
 *
 * const deno = locateRuntime({ title: "Deno", candidates: [Deno.execPath()] });
 * console.log(requireBinary(deno));
 * ```
 */
export function requireBinary(runtime: LocatedRuntime): string {
  assert.ok(runtime.binary, runtime.missing ?? `${runtime.title} is missing`);
  return runtime.binary;
}

/**
 * The environment for a child that should not see this one's: HOME, TMPDIR
 * and PATH of this process, and `extra`. Pass it with `clearEnv: true`.
 *
 * @param extra Variables to add.
 * @returns The variables.
 * @throws {Deno.errors.NotCapable} Without permission to read the environment.
 *
 * @example
 * ```ts
 * import { basicEnv, runChild } from "./runtimes.ts";
 *
 * const env = basicEnv({ NO_COLOR: "1" });
 * await runChild(Deno.execPath(), ["--version"], { env, clearEnv: true, timeoutMs: 10_000 });
 * ```
 */
export function basicEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["HOME", "TMPDIR", "PATH"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** How a child process runs, for {@linkcode runChild}. */
export interface ChildOptions {
  /** Variables added to the child's environment. */
  env?: Record<string, string>;
  /** Give the child `env` alone, none of this process's environment (false). */
  clearEnv?: boolean;
  /** The child is killed with SIGKILL after this long. */
  timeoutMs: number;
  /** Its working folder (this process's when omitted). */
  cwd?: string;
}

/** How a child process ended and what it printed, from {@linkcode runChild}. */
export interface ChildResult {
  /** Its exit code (128 + the signal's number when a signal ended it). */
  code: number;
  /** The signal that ended it, or `null`. */
  signal: Deno.Signal | null;
  /** Whether it exited with code 0. */
  success: boolean;
  /** Whether it was killed for running past `timeoutMs`. */
  timedOut: boolean;
  /** Its standard output, decoded as UTF-8. */
  stdout: string;
  /** Its standard error, decoded as UTF-8. */
  stderr: string;
}

/** Spawns `command` with piped output, as `options` say. */
function spawn(
  command: string,
  args: string[],
  options: ChildOptions,
  stdin: "piped" | "null",
): Deno.ChildProcess {
  const { cwd, env, clearEnv = false } = options;
  return new Deno.Command(command, {
    args,
    cwd,
    env,
    clearEnv,
    stdin,
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
}

/**
 * Runs a command to its end with no standard input, collecting its output,
 * and kills it if it outlives `timeoutMs`.
 *
 * @param command The binary to run.
 * @param args Its arguments.
 * @param options Its environment, time limit and working folder.
 * @returns How it ended and what it printed.
 * @throws {Deno.errors.NotFound} When `command` does not exist.
 *
 * @example
 * ```ts
 * import { runChild } from "./runtimes.ts";
 *
 * const { success, stdout } = await runChild(Deno.execPath(), ["--version"], { timeoutMs: 10_000 });
 * console.log(success, stdout);
 * ```
 */
export async function runChild(
  command: string,
  args: string[],
  options: ChildOptions,
): Promise<ChildResult> {
  const child = spawn(command, args, options, "null");
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs);
  const output = await child.output().finally(() => clearTimeout(timer));
  const text = new TextDecoder();
  return {
    code: output.code,
    signal: output.signal,
    success: output.success,
    timedOut,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/** How {@linkcode bundle} builds. */
export interface BundleOptions {
  /** The platform `deno bundle` targets. */
  platform: "browser" | "deno" | "node";
  /** Minify the output (false). */
  minify?: boolean;
  /** Split lazy imports into chunks of their own, written with `--outdir` (false). */
  codeSplitting?: boolean;
  /** The module format (`deno bundle`'s default, ESM, when omitted). */
  format?: "esm" | "cjs" | "iife";
  /**
   * Without code splitting, where the single file goes inside the folder, such as
   * `dist/edgewire.mjs` (the entry's name with `.mjs` when omitted).
   */
  output?: string;
}

/** A bundle in a temporary folder, removed with the folder when disposed. */
export interface Bundle extends AsyncDisposable {
  /** The temporary folder holding every file of the bundle. */
  dir: string;
  /** The entry's file: `<dir>/<name>.js` with code splitting, else `<dir>/<output>`. */
  file: string;
}

/**
 * Bundles an entry module with `deno bundle`, run from the repository root
 * so it uses the project's deno.json, into a fresh temporary folder.
 *
 * @param entry The entry module's path or URL.
 * @param options The platform and the other `deno bundle` flags.
 * @returns The bundle; dispose of it (`await using`) to remove its folder.
 * @throws {AssertionError} When `deno bundle` fails or times out, with its error output;
 * the folder is removed first.
 *
 * @example
 * ```ts
 * import { bundle } from "./runtimes.ts";
 *
 * await using built = await bundle(new URL("../../src/pow/worker.ts", import.meta.url), {
 *   platform: "browser",
 *   minify: true,
 *   codeSplitting: true,
 * });
 * console.log(built.file);
 * ```
 */
export async function bundle(entry: string | URL, options: BundleOptions): Promise<Bundle> {
  const path = entry instanceof URL ? decodeURIComponent(entry.pathname) : entry;
  const name = path.slice(path.lastIndexOf("/") + 1).replace(/\.[cm]?[jt]sx?$/, "");
  const dir = await Deno.makeTempDir({ prefix: `edgewire-bundle-${name}-` });
  const remove = () => Deno.remove(dir, { recursive: true });
  const args = ["bundle", "--quiet", "--platform", options.platform];
  if (options.minify) args.push("--minify");
  if (options.format) args.push("--format", options.format);
  let file: string;
  if (options.codeSplitting) {
    args.push("--code-splitting", "--outdir", dir);
    file = `${dir}/${name}.js`;
  } else {
    file = `${dir}/${options.output ?? `${name}.mjs`}`;
    args.push("-o", file);
  }
  try {
    const result = await runChild(Deno.execPath(), [...args, path], {
      cwd: REPOSITORY_ROOT,
      timeoutMs: BUNDLE_MS,
    });
    const failed = result.timedOut ? `timed out after ${BUNDLE_MS} ms` : "failed";
    assert.ok(result.success, `deno bundle ${path} ${failed}: ${result.stderr}`);
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, file, [Symbol.asyncDispose]: remove };
}

/** How {@linkcode startChild} starts a process. */
export interface StartOptions extends ChildOptions {
  /** What its standard output prints once it is ready; the child is killed when it is not ready within `timeoutMs`. */
  ready: RegExp;
  /** Give it a standard input, which it may take the closing of as its cue to stop (`"null"`). */
  stdin?: "piped" | "null";
}

/** A process started by {@linkcode startChild}, ready. */
export interface StartedChild {
  /** The process, to signal it or close its standard input. */
  child: Deno.ChildProcess;
  /** What `ready` matched. */
  ready: RegExpMatchArray;
  /** Everything it printed up to and including what `ready` matched. */
  banner: string;
  /** Settles once it ends, with how it ended and all its output. */
  ended: Promise<Omit<ChildResult, "timedOut">>;
}

/**
 * Starts a long-running command and waits until its standard output prints
 * what `ready` matches; reading goes on in the background, so it never
 * blocks on a full pipe.
 *
 * @param command The binary to run.
 * @param args Its arguments.
 * @param options Its environment, readiness pattern and the time it has to get ready.
 * @returns The ready process; make it end (a signal, or closing its input) and await `ended`.
 * @throws {AssertionError} When it ends, or is killed for time, before it is ready, with
 * its output.
 *
 * @example
 * ```ts
 * import { startChild } from "./runtimes.ts";
 *
 * const code = "console.log('ready'); setTimeout(() => {}, 60_000);";
 * const started = await startChild(Deno.execPath(), ["eval", code], {
 *   ready: /^ready$/m,
 *   timeoutMs: 10_000,
 * });
 * started.child.kill("SIGTERM");
 * console.log((await started.ended).signal); // "SIGTERM"
 * ```
 */
export async function startChild(
  command: string,
  args: string[],
  options: StartOptions,
): Promise<StartedChild> {
  const child = spawn(command, args, options, options.stdin ?? "null");
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  let ready: RegExpMatchArray | null = null;
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
  try {
    while (ready === null) {
      const { value, done } = await reader.read();
      if (done) {
        if (options.stdin === "piped") await child.stdin.close().catch(() => {});
        const { code, signal } = await child.status;
        assert.fail(
          `${command} ended (${signal ?? code}) before it printed ${options.ready}: ` +
            `${stdout}${await stderr}`,
        );
      }
      stdout += value;
      ready = stdout.match(options.ready);
    }
  } finally {
    clearTimeout(timer);
  }
  const banner = stdout;
  const ended = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) stdout += r.value;
    const { code, signal, success } = await child.status;
    return { code, signal, success, stdout, stderr: await stderr };
  })();
  return { child, ready, banner, ended };
}
