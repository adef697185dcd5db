/**
 * File probes and the folder for a user's private settings, where the
 * runtime can see files (Deno with permission, Node, Bun).
 *
 * @module
 */

import { isObject } from "./_globals.ts";
import { denoMay, type FileGlobals, nodeFs } from "./_file_system.ts";
import { readEnv } from "./env.ts";

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
 * import { fileExists } from "./files.ts";
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

/**
 * The private settings folder of the user: `$XDG_CONFIG_HOME`, `%APPDATA%`,
 * else `~/.config` (from `$HOME` or `%USERPROFILE%`). Reads only variables
 * the runtime lets it read without prompting.
 *
 * @param globals Where to look; tests pass fakes.
 * @returns The folder's path, or `undefined` when no variable tells it.
 *
 * @example
 * ```ts
 * import { configDirectory } from "./files.ts";
 *
 * const folder = configDirectory();
 * console.log(folder === undefined ? "no settings folder" : `${folder}/example/state.json`);
 * ```
 */
export function configDirectory(globals: object = globalThis): string | undefined {
  const xdg = readEnv("XDG_CONFIG_HOME", globals);
  if (xdg) return xdg;
  const appData = readEnv("APPDATA", globals);
  if (appData) return appData;
  const home = readEnv("HOME", globals) ?? readEnv("USERPROFILE", globals);
  return home ? `${home}/.config` : undefined;
}
