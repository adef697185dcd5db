/**
 * Which runtime the code runs in (Deno, Bun, Node, workerd, a browser), on
 * which operating system and with how many processors, told from
 * `globalThis` by feature detection.
 *
 * @module
 */

import { isObject, nonEmptyString } from "./_globals.ts";

/**
 * The runtimes Edgewire tells apart.
 *
 * @example
 * ```ts
 * import { detectRuntime, type RuntimeName } from "./detect.ts";
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
 * import { detectRuntime, type RuntimeInfo } from "./detect.ts";
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

/** The globals detection may look at; every one is optional and untrusted. */
interface DetectGlobals {
  Bun?: { version?: unknown };
  Deno?: { version?: { deno?: unknown }; build?: { os?: unknown } };
  navigator?: {
    userAgent?: unknown;
    userAgentData?: { platform?: unknown };
    hardwareConcurrency?: unknown;
  };
  process?: { versions?: { node?: unknown }; platform?: unknown };
  window?: unknown;
  document?: unknown;
  WorkerGlobalScope?: unknown;
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
 * import { detectRuntime } from "./detect.ts";
 *
 * const { name, version } = detectRuntime();
 * console.log(name === "deno" ? `Deno ${version}` : name);
 * ```
 */
export function detectRuntime(globals: object = globalThis): RuntimeInfo {
  const g = globals as DetectGlobals;
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
 * import { platform } from "./detect.ts";
 *
 * const shell = platform() === "windows" ? "cmd.exe" : "/bin/sh";
 * ```
 */
export function platform(globals: object = globalThis): string {
  const g = globals as DetectGlobals;
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
 * How many logical processors the runtime reports through
 * `navigator.hardwareConcurrency` (browsers, Deno, Bun, Node 21+).
 *
 * @param globals Where to look; tests pass fakes.
 * @returns A positive integer, or `undefined` when the runtime does not tell.
 *
 * @example
 * ```ts
 * import { hardwareConcurrency } from "./detect.ts";
 *
 * const workers = Math.min(hardwareConcurrency() ?? 2, 8);
 * console.log(workers);
 * ```
 */
export function hardwareConcurrency(globals: object = globalThis): number | undefined {
  try {
    const cores = (globals as DetectGlobals).navigator?.hardwareConcurrency;
    return typeof cores === "number" && Number.isInteger(cores) && cores > 0 ? cores : undefined;
  } catch {
    return undefined;
  }
}
