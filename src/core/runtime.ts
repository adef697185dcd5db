/**
 * The one runtime shim: which runtime this is, environment variables,
 * timers that do not keep a process alive, and the operating system. It is
 * the only module that reaches Deno, Node and Bun globals, always through
 * `globalThis` and feature detection, so every other module stays
 * standards-only. Each function takes an optional `globals` object (by
 * default `globalThis`) so tests can pass fakes, and none of them throws.
 *
 * @module
 */

import type { Storage } from "./storage.ts";

/**
 * The runtimes Edgewire tells apart.
 *
 * @example
 * ```ts
 * import { detectRuntime, type RuntimeName } from "@edgewire/sdk";
 *
 * const name: RuntimeName = detectRuntime().name;
 * ```
 */
export type RuntimeName = "deno" | "bun" | "node" | "workerd" | "browser" | "unknown";

/**
 * What {@linkcode detectRuntime} found.
 *
 * @example
 * ```ts
 * import { detectRuntime, type RuntimeInfo } from "@edgewire/sdk";
 *
 * const info: RuntimeInfo = detectRuntime();
 * console.log(`${info.name} ${info.version}`);
 * ```
 */
export interface RuntimeInfo {
  /** The runtime's name. */
  name: RuntimeName;
  /** The runtime's version, such as `"2.9.6"`; `""` when it is unknown. */
  version: string;
}

/** The globals this module may look at; every one is optional and untrusted. */
interface RuntimeGlobals {
  Bun?: { version?: unknown };
  Deno?: {
    version?: { deno?: unknown };
    env?: { get?: (name: string) => unknown };
    permissions?: {
      querySync?: (descriptor: { name: "env"; variable: string }) => { state?: unknown };
    };
    unrefTimer?: (id: number) => void;
    build?: { os?: unknown };
  };
  navigator?: { userAgent?: unknown; userAgentData?: { platform?: unknown } };
  process?: { versions?: { node?: unknown }; env?: Record<string, unknown>; platform?: unknown };
  window?: unknown;
  document?: unknown;
  WorkerGlobalScope?: unknown;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}

/**
 * Tells which runtime the code runs in, checking Bun, Deno, Cloudflare
 * workerd, Node, then browsers (windows and workers), in that order, since
 * Bun and Deno also provide Node's `process`.
 *
 * @param globals Where to look; tests pass fakes such as `{ Bun: { version: "1.2.0" } }`.
 * @returns The runtime's name, and its version when the runtime tells it.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "@edgewire/sdk";
 *
 * const { name, version } = detectRuntime();
 * console.log(name === "deno" ? `Deno ${version}` : name);
 * ```
 */
export function detectRuntime(globals: object = globalThis): RuntimeInfo {
  const g = globals as RuntimeGlobals;
  try {
    const bun = nonEmptyString(g.Bun?.version);
    if (bun !== undefined) return { name: "bun", version: bun };
    const deno = nonEmptyString(g.Deno?.version?.deno);
    if (deno !== undefined) return { name: "deno", version: deno };
    if (g.navigator?.userAgent === "Cloudflare-Workers") return { name: "workerd", version: "" };
    const node = nonEmptyString(g.process?.versions?.node);
    if (node !== undefined) return { name: "node", version: node };
    if (isObject(g.window) || isObject(g.document) || typeof g.WorkerGlobalScope === "function") {
      return { name: "browser", version: "" };
    }
  } catch {
    // A throwing getter on a global means we cannot tell, not that the caller must fail.
  }
  return { name: "unknown", version: "" };
}

/**
 * Reads an environment variable where the runtime has them. Under Deno it
 * reads only when the permission is already granted, so it never prompts;
 * browsers and Workers have no environment and get `undefined`.
 *
 * @param name The variable's name.
 * @param globals Where to look; tests pass fakes.
 * @returns The value, or `undefined` when it is unset or cannot be read.
 *
 * @example
 * ```ts
 * import { readEnv } from "@edgewire/sdk";
 *
 * const optedOut = readEnv("DO_NOT_TRACK") === "1";
 * ```
 */
export function readEnv(name: string, globals: object = globalThis): string | undefined {
  if (typeof name !== "string" || name === "") return undefined;
  const g = globals as RuntimeGlobals;
  try {
    const deno = g.Deno;
    // Deno also has `process`, whose env would prompt or throw, so Deno stops here.
    if (typeof deno === "object" && deno !== null) {
      const status = deno.permissions?.querySync?.({ name: "env", variable: name });
      if (status?.state !== "granted") return undefined;
      const value = deno.env?.get?.(name);
      return typeof value === "string" ? value : undefined;
    }
    const env = g.process?.env;
    if (typeof env === "object" && env !== null) {
      const value = env[name];
      return typeof value === "string" ? value : undefined;
    }
  } catch {
    // Denied permission or an exotic env object: treat the variable as unset.
  }
  return undefined;
}

/**
 * Lets a timer run without keeping the process alive, so a pending flush or
 * heartbeat never stops a CLI from exiting. Uses `Deno.unrefTimer` for
 * Deno's numeric ids and `unref()` for Node and Bun timer objects; a no-op
 * elsewhere.
 *
 * @param id What `setTimeout` or `setInterval` returned.
 * @param globals Where to look for `Deno`; tests pass fakes.
 *
 * @example
 * ```ts
 * import { unrefTimer } from "@edgewire/sdk";
 *
 * const timer = setInterval(() => console.log("heartbeat"), 60_000);
 * unrefTimer(timer);
 * clearInterval(timer);
 * ```
 */
export function unrefTimer(id: unknown, globals: object = globalThis): void {
  try {
    if (typeof id === "number") {
      const deno = (globals as RuntimeGlobals).Deno;
      if (typeof deno?.unrefTimer === "function") deno.unrefTimer(id);
      return;
    }
    if (isObject(id) && typeof (id as { unref?: unknown }).unref === "function") {
      (id as { unref: () => void }).unref();
    }
  } catch {
    // An unknown or already cleared timer: keeping it referenced is harmless.
  }
}

const UA_PLATFORMS = new Map<string, string>([
  ["windows", "windows"],
  ["macos", "darwin"],
  ["linux", "linux"],
  ["android", "android"],
  ["chrome os", "chromeos"],
  ["chromium os", "chromeos"],
  ["ios", "ios"],
]);

/**
 * Names the operating system: `"linux"`, `"darwin"`, `"windows"`,
 * `"android"` and so on, from `Deno.build.os`, Node's `process.platform`
 * (`"win32"` becomes `"windows"`), or a browser's
 * `navigator.userAgentData.platform`.
 *
 * @param globals Where to look; tests pass fakes.
 * @returns The operating system's name in lower case, or `"unknown"`.
 *
 * @example
 * ```ts
 * import { platform } from "@edgewire/sdk";
 *
 * const shell = platform() === "windows" ? "cmd.exe" : "/bin/sh";
 * ```
 */
export function platform(globals: object = globalThis): string {
  const g = globals as RuntimeGlobals;
  try {
    const deno = nonEmptyString(g.Deno?.build?.os);
    if (deno !== undefined) return deno;
    const node = nonEmptyString(g.process?.platform);
    if (node !== undefined) return node === "win32" ? "windows" : node;
    const browser = nonEmptyString(g.navigator?.userAgentData?.platform)?.toLowerCase();
    if (browser !== undefined) return UA_PLATFORMS.get(browser) ?? browser.replaceAll(" ", "");
  } catch {
    // A throwing getter on a global means we cannot tell.
  }
  return "unknown";
}

/**
 * Hooks into the end of a program: a normal exit, an uncaught error, and
 * SIGINT / SIGTERM. Each registration returns a function that removes it.
 */
export interface ProcessLifecycle {
  /**
   * Runs `callback` once when the program is about to end normally; the
   * runtime waits for the promise it returns.
   */
  onExit?(callback: () => Promise<unknown>): () => void;
  /**
   * Runs `callback` on an uncaught error or unhandled rejection; once it
   * settles the error is printed and the program exits with code 1.
   */
  onError?(callback: (error: unknown) => Promise<unknown>): () => void;
  /**
   * Runs `callback` on SIGINT or SIGTERM; once it settles the program exits
   * with code 130 or 143.
   */
  onSignal?(callback: (signal: string) => Promise<unknown>): () => void;
  /**
   * Calls `callback` synchronously with an uncaught error, or an unhandled
   * rejection the runtime treats as one, before the runtime acts on it, and
   * changes nothing of what follows: the error is still printed and the
   * program ends with the runtime's own exit code. Since the program may end
   * as soon as `callback` returns, nothing it starts asynchronously is
   * awaited; an error it throws is ignored.
   */
  onCrash?(callback: (error: unknown, source: CrashSource) => void): () => void;
}

/**
 * What {@linkcode ProcessLifecycle.onCrash} saw: an uncaught `"exception"`,
 * or an `"unhandled_rejection"`.
 *
 * @example
 * ```ts
 * import type { CrashSource } from "@edgewire/sdk";
 *
 * const source: CrashSource = "unhandled_rejection";
 * ```
 */
export type CrashSource = "exception" | "unhandled_rejection";

interface ProcessGlobals {
  Bun?: unknown;
  Deno?: {
    addSignalListener?: (signal: string, handler: () => void) => void;
    removeSignalListener?: (signal: string, handler: () => void) => void;
    exit?: (code: number) => never;
  };
  process?: {
    on?: (event: string, handler: (...args: unknown[]) => void) => unknown;
    off?: (event: string, handler: (...args: unknown[]) => void) => unknown;
    listenerCount?: (event: string) => number;
    exit?: (code: number) => never;
  };
  addEventListener?: (type: string, listener: (event: Event) => void) => void;
  removeEventListener?: (type: string, listener: (event: Event) => void) => void;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** Calls an `onCrash` callback; what it throws must not turn into a second crash. */
function notifyCrash(
  callback: (error: unknown, source: CrashSource) => void,
  error: unknown,
  source: CrashSource,
): void {
  try {
    callback(error, source);
  } catch {
    // The crash the runtime is about to report matters more than the observer's failure.
  }
}

/**
 * The lifecycle hooks of a Deno, Node or Bun process (an empty object
 * elsewhere: browsers and Workers have no process to end). Used by migas'
 * `track()` to send its final breadcrumb at exit, on a crash or on a signal,
 * and by Honch's `installErrorHook()` to record crashes with `onCrash`.
 *
 * @param globals Where to look; tests pass fakes.
 * @returns The hooks this runtime supports.
 *
 * @example
 * ```ts
 * import { processLifecycle } from "@edgewire/sdk";
 *
 * const lifecycle = processLifecycle();
 * const remove = lifecycle.onExit?.(async () => console.log("bye"));
 * remove?.();
 * ```
 */
export function processLifecycle(globals: object = globalThis): ProcessLifecycle {
  const g = globals as ProcessGlobals;
  const deno = isObject(g.Deno) ? g.Deno : undefined;
  const proc = deno === undefined && typeof g.process?.on === "function" ? g.process : undefined;
  const exit = (code: number) => {
    if (typeof deno?.exit === "function") deno.exit(code);
    else proc?.exit?.(code);
  };
  const report = (error: unknown) => console.error(error);
  if (deno !== undefined && typeof g.addEventListener === "function") {
    const on = g.addEventListener.bind(globals);
    const off = (g.removeEventListener ?? (() => {})).bind(globals);
    return {
      onExit(callback) {
        // beforeunload fires when the event loop empties; cancelling it lets the work
        // scheduled here run, after which it fires again and the program ends
        let fired = false;
        const listener = (event: Event) => {
          if (!fired) {
            fired = true;
            event.preventDefault();
            void callback();
          }
        };
        on("beforeunload", listener);
        return () => off("beforeunload", listener);
      },
      onError(callback) {
        const listener = (event: Event) => {
          event.preventDefault();
          const error = (event as ErrorEvent).error ?? (event as PromiseRejectionEvent).reason;
          report(error);
          void callback(error).finally(() => exit(1));
        };
        on("error", listener);
        on("unhandledrejection", listener);
        return () => {
          off("error", listener);
          off("unhandledrejection", listener);
        };
      },
      onCrash(callback) {
        // Listening without preventDefault() leaves Deno to print the error and exit with 1
        const onError = (event: Event) =>
          notifyCrash(
            callback,
            (event as ErrorEvent).error ?? (event as ErrorEvent).message,
            "exception",
          );
        const onRejection = (event: Event) =>
          notifyCrash(callback, (event as PromiseRejectionEvent).reason, "unhandled_rejection");
        on("error", onError);
        on("unhandledrejection", onRejection);
        return () => {
          off("error", onError);
          off("unhandledrejection", onRejection);
        };
      },
      onSignal(callback) {
        const removers: (() => void)[] = [];
        for (const signal of SIGNALS) {
          const handler = () => void callback(signal).finally(() => exit(SIGNAL_EXIT[signal]));
          try {
            deno.addSignalListener?.(signal, handler);
            removers.push(() => deno.removeSignalListener?.(signal, handler));
          } catch {
            // Windows has no SIGTERM listener
          }
        }
        return () => removers.forEach((remove) => remove());
      },
    };
  }
  if (proc !== undefined) {
    const on = (event: string, handler: (...args: unknown[]) => void) => proc.on?.(event, handler);
    const off = (event: string, handler: (...args: unknown[]) => void) =>
      proc.off?.(event, handler);
    return {
      onExit(callback) {
        let fired = false;
        const handler = () => {
          if (!fired) {
            fired = true;
            void callback();
          }
        };
        on("beforeExit", handler);
        return () => off("beforeExit", handler);
      },
      onError(callback) {
        const handler = (error: unknown) => {
          report(error);
          void callback(error).finally(() => exit(1));
        };
        on("uncaughtException", handler);
        on("unhandledRejection", handler);
        return () => {
          off("uncaughtException", handler);
          off("unhandledRejection", handler);
        };
      },
      onCrash(callback) {
        // The monitor sees every uncaught exception, and in Node every unhandled rejection
        // raised as one (the default mode), without handling it: the crash goes on as before.
        // An `uncaughtException` or `unhandledRejection` listener would stop it instead.
        const monitor = (error: unknown, origin: unknown) =>
          notifyCrash(
            callback,
            error,
            origin === "unhandledRejection" ? "unhandled_rejection" : "exception",
          );
        on("uncaughtExceptionMonitor", monitor);
        if (!isObject(g.Bun)) return () => off("uncaughtExceptionMonitor", monitor);
        // Bun ends the program on an unhandled rejection only when nothing listens for it, and
        // tells the monitor nothing. So a listener that is alone reports the rejection, steps
        // aside and rejects again with the same reason, which Bun prints and exits on as usual;
        // beside other listeners it does nothing, as the program then goes on.
        const onRejection = (reason: unknown) => {
          if ((proc.listenerCount?.("unhandledRejection") ?? 1) > 1) return;
          notifyCrash(callback, reason, "unhandled_rejection");
          off("unhandledRejection", onRejection);
          void Promise.reject(reason);
        };
        on("unhandledRejection", onRejection);
        return () => {
          off("uncaughtExceptionMonitor", monitor);
          off("unhandledRejection", onRejection);
        };
      },
      onSignal(callback) {
        const handlers = SIGNALS.map((signal) => {
          const handler = () => void callback(signal).finally(() => exit(SIGNAL_EXIT[signal]));
          on(signal, handler);
          return [signal, handler] as const;
        });
        return () => handlers.forEach(([signal, handler]) => off(signal, handler));
      },
    };
  }
  return {};
}

interface FileGlobals {
  Deno?: {
    permissions?: {
      querySync?: (descriptor: { name: "read" | "write"; path: string }) => { state?: unknown };
    };
    statSync?: (path: string) => unknown;
    readTextFile?: (path: string) => Promise<string>;
    writeTextFile?: (path: string, data: string, options?: { mode?: number }) => Promise<void>;
    mkdir?: (path: string, options?: { recursive?: boolean; mode?: number }) => Promise<void>;
    chmod?: (path: string, mode: number) => Promise<void>;
    readTextFileSync?: (path: string) => string;
    writeTextFileSync?: (path: string, data: string, options?: { mode?: number }) => void;
    mkdirSync?: (path: string, options?: { recursive?: boolean; mode?: number }) => void;
    renameSync?: (from: string, to: string) => void;
  };
  process?: { getBuiltinModule?: (name: string) => unknown };
}

interface NodeFs {
  existsSync(path: string): boolean;
  readFileSync(path: string, encoding: "utf8"): string;
  writeFileSync(path: string, data: string, options: { mode: number }): void;
  mkdirSync(path: string, options: { recursive: boolean; mode: number }): unknown;
  renameSync(from: string, to: string): void;
  promises: {
    readFile(path: string, encoding: "utf8"): Promise<string>;
    writeFile(path: string, data: string, options: { mode: number }): Promise<void>;
    mkdir(path: string, options: { recursive: boolean; mode: number }): Promise<unknown>;
    chmod(path: string, mode: number): Promise<void>;
  };
}

function nodeFs(globals: FileGlobals): NodeFs | undefined {
  try {
    const fs = globals.process?.getBuiltinModule?.("node:fs") as NodeFs | undefined;
    return typeof fs?.existsSync === "function" ? fs : undefined;
  } catch {
    return undefined;
  }
}

function denoMay(globals: FileGlobals, name: "read" | "write", path: string): boolean {
  try {
    return globals.Deno?.permissions?.querySync?.({ name, path })?.state === "granted";
  } catch {
    return false;
  }
}

/**
 * Tells whether a file exists, where the runtime can read files (Deno with
 * read permission, Node, Bun); `false` elsewhere. Never prompts, never throws.
 *
 * @param path The file's path.
 * @param globals Where to look; tests pass fakes.
 * @returns Whether the file exists and could be seen.
 *
 * @example
 * ```ts
 * import { fileExists } from "@edgewire/sdk";
 *
 * console.log(fileExists("/.dockerenv") ? "in docker" : "not in docker (or cannot tell)");
 * ```
 */
export function fileExists(path: string, globals: object = globalThis): boolean {
  const g = globals as FileGlobals;
  try {
    if (isObject(g.Deno)) {
      if (!denoMay(g, "read", path) || typeof g.Deno!.statSync !== "function") return false;
      g.Deno!.statSync(path);
      return true;
    }
    return nodeFs(g)?.existsSync(path) ?? false;
  } catch {
    return false;
  }
}

/** The private settings folder of the user: `$XDG_CONFIG_HOME`, `%APPDATA%`, else `~/.config`. */
export function configDirectory(globals: object = globalThis): string | undefined {
  const xdg = readEnv("XDG_CONFIG_HOME", globals);
  if (xdg) return xdg;
  const appData = readEnv("APPDATA", globals);
  if (appData) return appData;
  const home = readEnv("HOME", globals) ?? readEnv("USERPROFILE", globals);
  return home ? `${home}/.config` : undefined;
}

/**
 * A {@linkcode Storage} kept as JSON in a file only the user may read
 * (mode 0600, folder 0700), where the runtime can write files: Deno with
 * read and write permission for the path, Node, Bun. `undefined` elsewhere, so
 * a caller can fall back to memory. It has `setSync`, so a queue's last
 * words at a crash reach the file.
 *
 * @param path The file; its folder is created when missing.
 * @param globals Where to look; tests pass fakes.
 * @returns The storage, or `undefined` when this runtime cannot keep files.
 *
 * @example
 * ```ts
 * import { MemoryStorage, privateFileStorage } from "@edgewire/sdk";
 *
 * const storage = privateFileStorage("/tmp/edgewire-example/state.json") ?? new MemoryStorage();
 * ```
 */
export function privateFileStorage(
  path: string,
  globals: object = globalThis,
): Storage | undefined {
  const g = globals as FileGlobals;
  const folder = path.slice(0, Math.max(0, path.lastIndexOf("/"))) || ".";
  let read: () => Promise<string>;
  let write: (text: string) => Promise<void>;
  let readSync: (() => string) | undefined;
  let writeSync: ((text: string) => void) | undefined;
  if (isObject(g.Deno)) {
    const deno = g.Deno!;
    if (!denoMay(g, "read", path) || !denoMay(g, "write", path)) return undefined;
    if (!deno.readTextFile || !deno.writeTextFile || !deno.mkdir) return undefined;
    read = () => deno.readTextFile!(path);
    write = async (text) => {
      await deno.mkdir!(folder, { recursive: true, mode: 0o700 });
      await deno.writeTextFile!(path, text, { mode: 0o600 });
      await deno.chmod?.(path, 0o600).catch(() => {});
    };
    if (
      deno.readTextFileSync && deno.writeTextFileSync && deno.mkdirSync && deno.renameSync
    ) {
      readSync = () => deno.readTextFileSync!(path);
      writeSync = (text) => {
        deno.mkdirSync!(folder, { recursive: true, mode: 0o700 });
        try {
          deno.writeTextFileSync!(`${path}.tmp`, text, { mode: 0o600 });
          deno.renameSync!(`${path}.tmp`, path);
        } catch {
          // Write permission for the file alone: write it in place
          deno.writeTextFileSync!(path, text, { mode: 0o600 });
        }
      };
    }
  } else {
    const fs = nodeFs(g);
    if (fs === undefined) return undefined;
    read = () => fs.promises.readFile(path, "utf8");
    write = async (text) => {
      await fs.promises.mkdir(folder, { recursive: true, mode: 0o700 });
      await fs.promises.writeFile(path, text, { mode: 0o600 });
      await fs.promises.chmod(path, 0o600).catch(() => {});
    };
    if (typeof fs.writeFileSync === "function" && typeof fs.renameSync === "function") {
      readSync = () => fs.readFileSync(path, "utf8");
      writeSync = (text) => {
        fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
        fs.writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
        fs.renameSync(`${path}.tmp`, path);
      };
    }
  }
  const load = async (): Promise<Record<string, string>> => {
    try {
      const data = JSON.parse(await read());
      return typeof data === "object" && data !== null ? data : {};
    } catch {
      return {};
    }
  };
  // Writes are chained so two quick updates never interleave
  let queue: Promise<unknown> = Promise.resolve();
  const update = (change: (data: Record<string, string>) => void): Promise<void> => {
    const next = queue.then(async () => {
      const data = await load();
      change(data);
      await write(JSON.stringify(data));
    });
    queue = next.catch(() => {});
    return next;
  };
  const storage: Storage = {
    get: async (key) => {
      await queue;
      return (await load())[key];
    },
    set: (key, value) => update((data) => void (data[key] = value)),
    delete: (key) => update((data) => void delete data[key]),
  };
  if (readSync !== undefined && writeSync !== undefined) {
    const [loadNow, saveNow] = [readSync, writeSync];
    // The last write of a crashing program goes to a temporary file renamed over the old
    // one, so an asynchronous write still in flight cannot interleave with it
    storage.setSync = (key, value) => {
      let data: Record<string, string> = {};
      try {
        const parsed = JSON.parse(loadNow());
        if (typeof parsed === "object" && parsed !== null) data = parsed;
      } catch {
        // A missing or unreadable file starts afresh, as load() does
      }
      data[key] = value;
      saveNow(JSON.stringify(data));
    };
  }
  return storage;
}
