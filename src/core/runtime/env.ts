/**
 * Environment variables where the runtime has them, read without ever
 * prompting for a permission.
 *
 * @module
 */

/** The globals reading the environment may look at; every one is optional and untrusted. */
interface EnvGlobals {
  Deno?: {
    env?: { get?: (name: string) => unknown };
    permissions?: {
      querySync?: (descriptor: { name: "env"; variable: string }) => { state?: unknown };
    };
  };
  process?: { env?: Record<string, unknown> };
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
 * import { readEnv } from "./env.ts";
 *
 * const optedOut = readEnv("DO_NOT_TRACK") === "1";
 * ```
 */
export function readEnv(name: string, globals: object = globalThis): string | undefined {
  if (typeof name !== "string" || name === "") return undefined;
  const g = globals as EnvGlobals;
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
