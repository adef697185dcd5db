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
    rename?: (from: string, to: string) => Promise<void>;
    open?: (path: string, options: DenoOpenOptions) => Promise<DenoFile>;
    openSync?: (path: string, options: DenoOpenOptions) => DenoFileSync;
    readDirSync?: (path: string) => Iterable<{ name: string; isFile?: boolean }>;
  };
  process?: { getBuiltinModule?: (name: string) => unknown };
}

/** The options of `Deno.open` this shim passes. */
interface DenoOpenOptions {
  write: true;
  createNew: true;
  mode: number;
}

/** The part of an asynchronous `Deno.FsFile` this shim uses. */
interface DenoFile {
  write(bytes: Uint8Array): Promise<number>;
  sync?(): Promise<void>;
  syncData?(): Promise<void>;
  close(): void;
}

/** The part of a synchronous `Deno.FsFile` this shim uses. */
interface DenoFileSync {
  writeSync(bytes: Uint8Array): number;
  syncSync?(): void;
  syncDataSync?(): void;
  close(): void;
}

/** The part of `node:fs`'s `FileHandle` this shim uses. */
interface NodeFileHandle {
  writeFile(data: string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The part of `node:fs` this shim uses. */
interface NodeFs {
  existsSync(path: string): boolean;
  readFileSync(path: string, encoding: "utf8"): string;
  writeFileSync(
    path: string | number,
    data: string,
    options?: { mode: number; flag?: string },
  ): void;
  mkdirSync(path: string, options: { recursive: boolean; mode: number }): unknown;
  renameSync(from: string, to: string): void;
  unlinkSync?(path: string): void;
  openSync?(path: string, flags: string, mode: number): number;
  fsyncSync?(fd: number): void;
  closeSync?(fd: number): void;
  readdirSync?(path: string): string[];
  statSync?(path: string): { mtimeMs?: number; isFile?(): boolean };
  promises: {
    readFile(path: string, encoding: "utf8"): Promise<string>;
    writeFile(path: string, data: string, options: { mode: number; flag?: string }): Promise<void>;
    mkdir(path: string, options: { recursive: boolean; mode: number }): Promise<unknown>;
    chmod(path: string, mode: number): Promise<void>;
    unlink?(path: string): Promise<void>;
    open?(path: string, flags: string, mode: number): Promise<NodeFileHandle>;
    rename?(from: string, to: string): Promise<void>;
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
   * Replaces the file with `text`: a new private file, flushed to disk, then
   * renamed over it (Deno writes in place where the folder refuses new files).
   */
  save(text: string): void;
  /** Writes `text` to a new private file `temp` next to the file, flushed to disk. */
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
  /**
   * Replaces the file atomically without blocking: a new private file,
   * flushed, then renamed over it; in place where the folder refuses new files.
   */
  replace(text: string): Promise<void>;
  /** Removes staged files of this file older than `maxAgeMs`, left by a killed process; never throws. */
  removeStale(maxAgeMs: number): void;
  /** The synchronous functions, where the runtime has them all. */
  sync?: SyncFileAccess;
}

/** A unique name for a staged file next to `path`: `<path>.<16 hex digits>.tmp`. */
export function stagedName(path: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `${path}.${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}.tmp`;
}

/** Whether `name` (in the file's folder) is a staged file of `base`, the file's own name. */
function isStagedOf(name: string, base: string): boolean {
  if (!name.startsWith(`${base}.`) || !name.endsWith(".tmp")) return false;
  const middle = name.slice(base.length + 1, -4);
  // Staged files are named by stagedName(); `<base>.tmp` is what older versions left
  return middle === "" || /^[0-9a-f]{16}$/.test(middle);
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

const encoder = new TextEncoder();

/** Writes all of `bytes`, however many calls the file takes. */
async function writeAll(file: DenoFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}

/**
 * The file at `path` through Deno's functions (with read and write
 * permission granted) or `node:fs`, or `undefined` where the runtime keeps
 * no files.
 */
export function fileAccess(path: string, globals: FileGlobals): FileAccess | undefined {
  const cut = path.lastIndexOf("/");
  const folder = path.slice(0, Math.max(0, cut)) || ".";
  const base = path.slice(cut + 1);
  if (isObject(globals.Deno)) {
    const deno = globals.Deno!;
    if (!denoMay(globals, "read", path) || !denoMay(globals, "write", path)) return undefined;
    if (!deno.readTextFile || !deno.writeTextFile || !deno.mkdir) return undefined;
    const write = async (text: string) => {
      await deno.mkdir!(folder, { recursive: true, mode: 0o700 });
      await deno.writeTextFile!(path, text, { mode: 0o600 });
      await deno.chmod?.(path, 0o600).catch(() => {});
    };
    const stage = async (temp: string, text: string) => {
      await deno.mkdir!(folder, { recursive: true, mode: 0o700 });
      if (deno.open === undefined) {
        await deno.writeTextFile!(temp, text, { mode: 0o600, createNew: true });
        return;
      }
      const file = await deno.open(temp, { write: true, createNew: true, mode: 0o600 });
      try {
        await writeAll(file, encoder.encode(text));
        // Flushed before the rename, so the name never points at data still in the page cache
        await (file.syncData ?? file.sync)?.call(file);
      } finally {
        file.close();
      }
    };
    const saveStaged = (temp: string, text: string) => {
      if (deno.openSync === undefined) {
        deno.writeTextFileSync!(temp, text, { mode: 0o600 });
      } else {
        const file = deno.openSync(temp, { write: true, createNew: true, mode: 0o600 });
        try {
          const bytes = encoder.encode(text);
          for (let done = 0; done < bytes.length;) {
            done += file.writeSync(bytes.subarray(done));
          }
          (file.syncDataSync ?? file.syncSync)?.call(file);
        } finally {
          file.close();
        }
      }
      deno.renameSync!(temp, path);
    };
    const discard = (temp: string) =>
      quietly(() => deno.removeSync ? deno.removeSync(temp) : deno.remove?.(temp));
    const access: FileAccess = {
      read: () => deno.readTextFile!(path),
      write,
      replace: async (text) => {
        // A Deno without any rename (only fakes lack it) can only write in place
        if (!deno.rename && !deno.renameSync) return write(text);
        const temp = stagedName(path);
        try {
          await stage(temp, text);
        } catch {
          discard(temp);
          // Write permission for the file alone: write it in place
          return write(text);
        }
        try {
          await (deno.rename ? deno.rename(temp, path) : deno.renameSync!(temp, path));
        } catch (error) {
          discard(temp);
          throw error;
        }
      },
      removeStale: (maxAgeMs) => {
        if (!deno.readDirSync || !deno.statSync) return;
        const cutoff = Date.now() - maxAgeMs;
        try {
          for (const entry of deno.readDirSync(folder)) {
            if (entry.isFile === false || !isStagedOf(entry.name, base)) continue;
            const temp = `${folder}/${entry.name}`;
            const mtime = (deno.statSync(temp) as { mtime?: Date | null }).mtime;
            if (mtime instanceof Date && mtime.getTime() < cutoff) discard(temp);
          }
        } catch {
          // No folder yet, or no permission to list it: nothing this storage can clean
        }
      },
    };
    if (deno.readTextFileSync && deno.writeTextFileSync && deno.mkdirSync && deno.renameSync) {
      access.sync = {
        read: () => deno.readTextFileSync!(path),
        save: (text) => {
          deno.mkdirSync!(folder, { recursive: true, mode: 0o700 });
          const temp = stagedName(path);
          try {
            saveStaged(temp, text);
          } catch {
            discard(temp);
            // Write permission for the file alone: write it in place
            deno.writeTextFileSync!(path, text, { mode: 0o600 });
          }
        },
        stage,
        commit: (temp) => deno.renameSync!(temp, path),
        discard,
      };
    }
    return access;
  }
  const fs = nodeFs(globals);
  if (fs === undefined) return undefined;
  const discard = (temp: string) =>
    quietly(() => fs.unlinkSync ? fs.unlinkSync(temp) : fs.promises.unlink?.(temp));
  const stage = async (temp: string, text: string) => {
    await fs.promises.mkdir(folder, { recursive: true, mode: 0o700 });
    if (fs.promises.open === undefined) {
      await fs.promises.writeFile(temp, text, { mode: 0o600, flag: "wx" });
      return;
    }
    const handle = await fs.promises.open(temp, "wx", 0o600);
    try {
      await handle.writeFile(text);
      // Flushed before the rename, so the name never points at data still in the page cache
      await handle.sync();
    } finally {
      await handle.close();
    }
  };
  const access: FileAccess = {
    read: () => fs.promises.readFile(path, "utf8"),
    write: async (text) => {
      await fs.promises.mkdir(folder, { recursive: true, mode: 0o700 });
      await fs.promises.writeFile(path, text, { mode: 0o600 });
      await fs.promises.chmod(path, 0o600).catch(() => {});
    },
    replace: async (text) => {
      const temp = stagedName(path);
      try {
        await stage(temp, text);
        await (fs.promises.rename ? fs.promises.rename(temp, path) : fs.renameSync(temp, path));
      } catch (error) {
        discard(temp);
        throw error;
      }
    },
    removeStale: (maxAgeMs) => {
      if (!fs.readdirSync || !fs.statSync) return;
      const cutoff = Date.now() - maxAgeMs;
      try {
        for (const name of fs.readdirSync(folder)) {
          if (!isStagedOf(name, base)) continue;
          const temp = `${folder}/${name}`;
          const mtimeMs = fs.statSync(temp).mtimeMs;
          if (typeof mtimeMs === "number" && mtimeMs < cutoff) discard(temp);
        }
      } catch {
        // No folder yet, or no permission to list it: nothing this storage can clean
      }
    },
  };
  if (typeof fs.writeFileSync === "function" && typeof fs.renameSync === "function") {
    access.sync = {
      read: () => fs.readFileSync(path, "utf8"),
      save: (text) => {
        fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
        const temp = stagedName(path);
        try {
          if (fs.openSync && fs.fsyncSync && fs.closeSync) {
            const fd = fs.openSync(temp, "wx", 0o600);
            try {
              fs.writeFileSync(fd, text);
              fs.fsyncSync(fd);
            } finally {
              fs.closeSync(fd);
            }
          } else {
            fs.writeFileSync(temp, text, { mode: 0o600, flag: "wx" });
          }
          fs.renameSync(temp, path);
        } catch (error) {
          discard(temp);
          throw error;
        }
      },
      stage,
      commit: (temp) => fs.renameSync(temp, path),
      discard,
    };
  }
  return access;
}
