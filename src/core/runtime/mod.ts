/**
 * The one runtime shim: which runtime this is, environment variables,
 * timers that do not keep a process alive, the operating system, the end of
 * the process, the web page (its origin, being hidden, global errors), and
 * private files. It is the only folder that reaches Deno, Node and Bun
 * globals and detects a browser, always through `globalThis` and feature
 * detection, so every other module stays standards-only. Each function takes an
 * optional `globals` object (by default `globalThis`) so tests can pass
 * fakes, and none of them throws. Internal: the root export re-exports only
 * `privateFileStorage`; the rest serves the clients and may change.
 *
 * @example
 * ```ts
 * import { detectRuntime, readEnv } from "./mod.ts";
 *
 * const { name } = detectRuntime();
 * const optedOut = readEnv("DO_NOT_TRACK") === "1";
 * console.log(name, optedOut);
 * ```
 *
 * @module
 */

export {
  detectRuntime,
  hardwareConcurrency,
  platform,
  type RuntimeInfo,
  type RuntimeName,
} from "./detect.ts";
export { readEnv } from "./env.ts";
export { afterIo, unrefTimer } from "./timers.ts";
export { type CrashSource, type ProcessLifecycle, processLifecycle } from "./lifecycle.ts";
export { onGlobalErrors, onPageHidden, pageOrigin } from "./page.ts";
export { configDirectory, fileExists } from "./files.ts";
export { privateFileStorage } from "./private_file_storage.ts";
