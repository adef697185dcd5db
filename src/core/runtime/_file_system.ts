/**
 * The file functions of Deno and of Node's `node:fs` (which Bun shares),
 * found through `globalThis`, behind one small interface for the file
 * probes and the private file storage. Internal: not exported from the
 * package.
 *
 * @module
 */

import { isObject } from "./_globals.ts";

/** The file globals this shim may look at; every one is optional and untrusted. */
export interface FileGlobals {
  Deno?: {
    permissions?: {
      querySync?: (descriptor: { name: "read" | "write"; path: string }) => { state?: unknown };
    };
    statSync?: (path: string) => unknown;
    readTextFile?: (path: string) => Promise<string>;
    writeTextFile?: (
      path: string,
      data: string,
      options?: { mode?: number; createNew?: boolean },
    ) => Promise<void>;
    mkdir?: (path: string, options?: { recursive?: boolean; mode?: number }) => Promise<void>;
    chmod?: (path: string, mode: number) => Promise<void>;
    remove?: (path: string) => Promise<void>;
    readTextFileSync?: (path: string) => string;
    writeTextFileSync?: (path: string, data: string, options?: { mode?: number }) => void;
    mkdirSync?: (path: string, options?: { recursive?: boolean; mode?: number }) => void;
    renameSync?: (from: string, to: string) => void;
    removeSync?: (path: string) => void;
  };
  process?: { getBuiltinModule?: (name: string) => unknown };
}

/** The part of `node:fs` this shim uses. */
interface NodeFs {
  existsSync(path: string): boolean;
  readFileSync(path: string, encoding: "utf8"): string;
  writeFileSync(path: string, data: string, options: { mode: number }): void;
  mkdirSync(path: string, options: { recursive: boolean; mode: number }): unknown;
  renameSync(from: string, to: string): void;
  unlinkSync?(path: string): void;
  promises: {
    readFile(path: string, encoding: "utf8"): Promise<string>;
    writeFile(path: string, data: string, options: { mode: number; flag?: string }): Promise<void>;
    mkdir(path: string, options: { recursive: boolean; mode: number }): Promise<unknown>;
    chmod(path: string, mode: number): Promise<void>;
    unlink?(path: string): Promise<void>;
  };
}

/** `node:fs` where the runtime has it (Node, Bun), else `undefined`. */
export function nodeFs(globals: FileGlobals): NodeFs | undefined {
  try {
    const fs = globals.process?.getBuiltinModule?.("node:fs") as NodeFs | undefined;
    return typeof fs?.existsSync === "function" ? fs : undefined;
  } catch {
    return undefined;
  }
}

/** Whether Deno's permission to read or write `path` is granted already; never prompts. */
export function denoMay(globals: FileGlobals, name: "read" | "write", path: string): boolean {
  try {
    return globals.Deno?.permissions?.querySync?.({ name, path })?.state === "granted";
  } catch {
    return false;
  }
}

/** Synchronous access to one file, on the main thread, so nothing can land between its steps. */
export interface SyncFileAccess {
  /** Reads the file. */
  read(): string;
  /**
   * Replaces the file with `text` through a temporary file renamed over it
   * (Deno writes in place where the folder refuses the temporary file).
   */
  save(text: string): void;
  /** Writes `text` to a new private file `temp`, next to the file, creating the folder. */
  stage(temp: string, text: string): Promise<void>;
  /** Renames a staged file over the file. */
  commit(temp: string): void;
  /** Removes a staged file if it is there; never throws. */
  discard(temp: string): void;
}

/** One file, reached through the runtime's file functions. */
export interface FileAccess {
  /** Reads the file. */
  read(): Promise<string>;
  /** Writes the file in place with mode 0600, creating its folder with mode 0700. */
  write(text: string): Promise<void>;
  /** The synchronous functions, where the runtime has them all. */
  sync?: SyncFileAccess;
}

/** Removes a file, ignoring every failure: what is discarded may never have been created. */
function quietly(remove: () => unknown): void {
  try {
    const result = remove();
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // Nothing to remove, or it cannot be removed: neither is the caller's concern
  }
}

/**
 * The file at `path` through Deno's functions (with read and write
 * permission granted) or `node:fs`, or `undefined` where the runtime keeps
 * no files.
 */
export function fileAccess(path: string, globals: FileGlobals): FileAccess | undefined {
  const folder = path.slice(0, Math.max(0, path.lastIndexOf("/"))) || ".";
  if (isObject(globals.Deno)) {
    const deno = globals.Deno!;
    if (!denoMay(globals, "read", path) || !denoMay(globals, "write", path)) return undefined;
    if (!deno.readTextFile || !deno.writeTextFile || !deno.mkdir) return undefined;
    const access: FileAccess = {
      read: () => deno.readTextFile!(path),
      write: async (text) => {
        await deno.mkdir!(folder, { recursive: true, mode: 0o700 });
        await deno.writeTextFile!(path, text, { mode: 0o600 });
        await deno.chmod?.(path, 0o600).catch(() => {});
      },
    };
    if (deno.readTextFileSync && deno.writeTextFileSync && deno.mkdirSync && deno.renameSync) {
      access.sync = {
        read: () => deno.readTextFileSync!(path),
        save: (text) => {
          deno.mkdirSync!(folder, { recursive: true, mode: 0o700 });
          try {
            deno.writeTextFileSync!(`${path}.tmp`, text, { mode: 0o600 });
            deno.renameSync!(`${path}.tmp`, path);
          } catch {
            // Write permission for the file alone: write it in place
            deno.writeTextFileSync!(path, text, { mode: 0o600 });
          }
        },
        stage: async (temp, text) => {
          await deno.mkdir!(folder, { recursive: true, mode: 0o700 });
          await deno.writeTextFile!(temp, text, { mode: 0o600, createNew: true });
        },
        commit: (temp) => deno.renameSync!(temp, path),
        discard: (temp) =>
          quietly(() => deno.removeSync ? deno.removeSync(temp) : deno.remove?.(temp)),
      };
    }
    return access;
  }
  const fs = nodeFs(globals);
  if (fs === undefined) return undefined;
  const access: FileAccess = {
    read: () => fs.promises.readFile(path, "utf8"),
    write: async (text) => {
      await fs.promises.mkdir(folder, { recursive: true, mode: 0o700 });
      await fs.promises.writeFile(path, text, { mode: 0o600 });
      await fs.promises.chmod(path, 0o600).catch(() => {});
    },
  };
  if (typeof fs.writeFileSync === "function" && typeof fs.renameSync === "function") {
    access.sync = {
      read: () => fs.readFileSync(path, "utf8"),
      save: (text) => {
        fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
        fs.writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
        fs.renameSync(`${path}.tmp`, path);
      },
      stage: async (temp, text) => {
        await fs.promises.mkdir(folder, { recursive: true, mode: 0o700 });
        await fs.promises.writeFile(temp, text, { mode: 0o600, flag: "wx" });
      },
      commit: (temp) => fs.renameSync(temp, path),
      discard: (temp) =>
        quietly(() => fs.unlinkSync ? fs.unlinkSync(temp) : fs.promises.unlink?.(temp)),
    };
  }
  return access;
}
