/**
 * A {@linkcode Storage} kept as JSON in a file only the user may read, with
 * a synchronous `setSync` for a crashing program's last words. Every write
 * is atomic: the text goes to a new private file next to the target, is
 * flushed to disk, and is renamed over the target, so a process killed at
 * any moment leaves the old file or the new one, never a truncated one.
 * Asynchronous writes are renamed on the main thread, and one that loaded the
 * file before a `setSync` is never committed over it, so the crash write
 * cannot be lost to an older write still in flight. Staged files left by a
 * killed process are removed at the next open, once a minute old.
 *
 * @module
 */

import type { Storage } from "../storage.ts";
import { fileAccess, type FileGlobals, stagedName, type SyncFileAccess } from "./_file_system.ts";

type Data = Record<string, string>;

/** Staged files older than this belong to a process that died before renaming them. */
const STALE_STAGED_MS = 60_000;

/** Synchronous writes to one file: how many in all, and how many wrote each key. */
interface SyncWrites {
  total: number;
  keys: Map<string, number>;
  /** The staged files of asynchronous updates in flight, which a setSync makes stale. */
  staged: Set<string>;
}

// Kept per path rather than per storage, so two storages over one file see each other's writes
const SYNC_WRITES = new Map<string, SyncWrites>();

function syncWritesOf(path: string): SyncWrites {
  let writes = SYNC_WRITES.get(path);
  if (writes === undefined) {
    writes = { total: 0, keys: new Map(), staged: new Set() };
    SYNC_WRITES.set(path, writes);
  }
  return writes;
}

function parse(text: string): Data {
  const data = JSON.parse(text);
  return typeof data === "object" && data !== null ? data : {};
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
  const file = fileAccess(path, globals as FileGlobals);
  if (file === undefined) return undefined;
  // A process killed between staging and renaming leaves its staged file behind
  file.removeStale(STALE_STAGED_MS);
  const sync = file.sync;
  const load = async (): Promise<Data> => {
    try {
      return parse(await file.read());
    } catch {
      return {};
    }
  };
  // Writes are chained so two quick updates never interleave
  let queue: Promise<unknown> = Promise.resolve();
  const update = (key: string, change: (data: Data) => void): Promise<void> => {
    const next = queue.then(async () => {
      if (sync === undefined) {
        // No synchronous writes here, so no setSync a write could race with
        const data = await load();
        change(data);
        await file.replace(JSON.stringify(data));
        return;
      }
      await stagedUpdate(path, file.write, load, sync, key, change);
    });
    queue = next.catch(() => {});
    return next;
  };
  const storage: Storage = {
    get: async (key) => {
      await queue;
      return (await load())[key];
    },
    set: (key, value) => update(key, (data) => void (data[key] = value)),
    delete: (key) => update(key, (data) => void delete data[key]),
  };
  if (sync !== undefined) {
    const writes = syncWritesOf(path);
    // The last write of a crashing program goes to a temporary file renamed over the old
    // one on this thread; counting it tells asynchronous updates in flight that they are stale
    storage.setSync = (key, value) => {
      changeNow(sync, (data) => void (data[key] = value));
      writes.total++;
      writes.keys.set(key, (writes.keys.get(key) ?? 0) + 1);
      // A crashing program may end before a stale update discards its staged file
      for (const temp of writes.staged) sync.discard(temp);
    };
  }
  return storage;
}

/** Applies `change` to the file synchronously: load, change, save, with nothing in between. */
function changeNow(sync: SyncFileAccess, change: (data: Data) => void): void {
  let data: Data = {};
  try {
    data = parse(sync.read());
  } catch {
    // A missing or unreadable file starts afresh, as load() does
  }
  change(data);
  sync.save(JSON.stringify(data));
}

/**
 * One asynchronous update where `setSync` exists: load, change, stage the
 * text in a private file, then rename it over the file on the main thread.
 * When a synchronous write came after the load began, the text is stale and
 * never reaches the file (checked before staging and again just before the
 * rename): the change is applied again, synchronously, to the fresh file,
 * unless that write was to the same key, which an older update must not
 * revert.
 */
async function stagedUpdate(
  path: string,
  writeInPlace: (text: string) => Promise<void>,
  load: () => Promise<Data>,
  sync: SyncFileAccess,
  key: string,
  change: (data: Data) => void,
): Promise<void> {
  const writes = syncWritesOf(path);
  // Counted before the read starts: a read still in flight at a setSync may return older data
  const [total, ofKey] = [writes.total, writes.keys.get(key) ?? 0];
  const data = await load();
  change(data);
  const text = JSON.stringify(data);
  // Whether a synchronous write made this text stale; if so, re-applies the change when needed
  const settle = (): boolean => {
    if (writes.total === total) return false;
    if ((writes.keys.get(key) ?? 0) === ofKey) {
      changeNow(sync, change);
      // Another storage over this file with an update in flight must now re-apply its own
      writes.total++;
    }
    return true;
  };
  // A program that crashed during the load may end at any moment: stage nothing then
  if (settle()) return;
  const temp = stagedName(path);
  writes.staged.add(temp);
  try {
    await sync.stage(temp, text);
  } catch {
    writes.staged.delete(temp);
    sync.discard(temp);
    // A folder that refuses new files takes no rename either (setSync writes in place there
    // too), so the file is written in place as it always was
    if (!settle()) await writeInPlace(text);
    return;
  }
  writes.staged.delete(temp);
  try {
    if (settle()) sync.discard(temp);
    else sync.commit(temp);
  } catch (error) {
    sync.discard(temp);
    throw error;
  }
}
