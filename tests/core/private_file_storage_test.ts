/**
 * The private file storage under injected fake file globals, Deno's and
 * Node's (which Bun shares): an asynchronous write held open across a
 * synchronous crash write must not replace the newer data, a change to
 * another key must survive such a race, and the fallbacks (a folder that
 * refuses new files, a runtime without synchronous functions, a failed
 * rename) behave as before and leave no staged file behind.
 *
 * @module
 */

import assert from "node:assert/strict";
import { privateFileStorage } from "../../src/core/runtime/mod.ts";

const FOLDER = "/home/user/.config/app";
const PATH = `${FOLDER}/state.json`;
const STAGED = /^\/home\/user\/\.config\/app\/state\.json\.[0-9a-f]{16}\.tmp$/;

type Operation = "read" | "write";

/** A promise with its resolver. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => resolve = done);
  return { promise, resolve };
}

/** An error shaped like the runtimes' file errors. */
function fileError(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

/**
 * An in-memory file system that can hold an asynchronous read or write open.
 * Like a runtime's thread pool, a held read returns what the file held when
 * it was called, and a held write lands when it is released.
 */
class FakeFiles {
  readonly files = new Map<string, { text: string; mode: number }>();
  readonly log: string[] = [];
  /** When false, creating a file other than the target fails, as in a read-only folder. */
  folderWritable = true;
  failRename = false;
  #holds: { operation: Operation; reached: () => void; released: Promise<void> }[] = [];

  /** Holds the next `operation` on the target or a staged file until `release()`. */
  hold(operation: Operation): { reached: Promise<void>; release: () => void } {
    const reached = deferred();
    const released = deferred();
    this.#holds.push({ operation, reached: reached.resolve, released: released.promise });
    return { reached: reached.promise, release: released.resolve };
  }

  json(): Record<string, string> {
    return JSON.parse(this.files.get(PATH)!.text);
  }

  /** The files next to the target, such as staged files left behind. */
  others(): string[] {
    return [...this.files.keys()].filter((path) => path !== PATH);
  }

  async #held(operation: Operation): Promise<void> {
    const index = this.#holds.findIndex((hold) => hold.operation === operation);
    if (index === -1) return;
    const [hold] = this.#holds.splice(index, 1);
    hold.reached();
    await hold.released;
  }

  readSync(path: string): string {
    this.log.push(`readSync ${path}`);
    const file = this.files.get(path);
    if (file === undefined) throw fileError("ENOENT", path);
    return file.text;
  }

  writeSync(path: string, text: string, mode = 0o666, createNew = false): void {
    this.log.push(`write ${path}`);
    const existing = this.files.get(path);
    if (existing === undefined && !this.folderWritable && path !== PATH) {
      throw fileError("EACCES", path);
    }
    if (existing !== undefined && createNew) throw fileError("EEXIST", path);
    this.files.set(path, { text, mode: existing?.mode ?? mode });
  }

  async read(path: string): Promise<string> {
    const text = this.files.get(path)?.text;
    await this.#held("read");
    this.log.push(`read ${path}`);
    if (text === undefined) throw fileError("ENOENT", path);
    return text;
  }

  async write(path: string, text: string, mode?: number, createNew?: boolean): Promise<void> {
    await this.#held("write");
    this.writeSync(path, text, mode, createNew);
  }

  renameSync(from: string, to: string): void {
    this.log.push(`rename ${from}`);
    const file = this.files.get(from);
    if (file === undefined) throw fileError("ENOENT", from);
    if (this.failRename) throw fileError("EXDEV", from);
    this.files.delete(from);
    this.files.set(to, file);
  }

  removeSync(path: string): void {
    this.log.push(`remove ${path}`);
    if (!this.files.delete(path)) throw fileError("ENOENT", path);
  }

  chmod(path: string, mode: number): Promise<void> {
    const file = this.files.get(path);
    if (file !== undefined) file.mode = mode;
    return Promise.resolve();
  }

  /** Globals shaped like Deno's, with or without the synchronous functions. */
  deno(sync = true): object {
    const Deno: Record<string, unknown> = {
      permissions: { querySync: () => ({ state: "granted" }) },
      readTextFile: (path: string) => this.read(path),
      writeTextFile: (
        path: string,
        text: string,
        options?: { mode?: number; createNew?: boolean },
      ) => this.write(path, text, options?.mode, options?.createNew),
      mkdir: () => Promise.resolve(),
      chmod: (path: string, mode: number) => this.chmod(path, mode),
      remove: (path: string) => Promise.resolve().then(() => this.removeSync(path)),
    };
    if (sync) {
      Object.assign(Deno, {
        readTextFileSync: (path: string) => this.readSync(path),
        writeTextFileSync: (path: string, text: string, options?: { mode?: number }) =>
          this.writeSync(path, text, options?.mode),
        mkdirSync: () => {},
        renameSync: (from: string, to: string) => this.renameSync(from, to),
        removeSync: (path: string) => this.removeSync(path),
      });
    }
    return { Deno };
  }

  /** Globals shaped like Node's and Bun's, reaching `node:fs` through `getBuiltinModule`. */
  node(): object {
    const fs = {
      existsSync: (path: string) => this.files.has(path),
      readFileSync: (path: string) => this.readSync(path),
      writeFileSync: (path: string, text: string, options?: { mode?: number; flag?: string }) =>
        this.writeSync(path, text, options?.mode, options?.flag === "wx"),
      mkdirSync: () => undefined,
      renameSync: (from: string, to: string) => this.renameSync(from, to),
      unlinkSync: (path: string) => this.removeSync(path),
      promises: {
        readFile: (path: string) => this.read(path),
        writeFile: (path: string, text: string, options?: { mode?: number; flag?: string }) =>
          this.write(path, text, options?.mode, options?.flag === "wx"),
        mkdir: () => Promise.resolve(undefined),
        chmod: (path: string, mode: number) => this.chmod(path, mode),
        unlink: (path: string) => Promise.resolve().then(() => this.removeSync(path)),
      },
    };
    return { process: { getBuiltinModule: (name: string) => name === "node:fs" ? fs : undefined } };
  }
}

const FLAVOURS = [
  ["Deno", (files: FakeFiles) => files.deno()],
  ["Node and Bun", (files: FakeFiles) => files.node()],
] as const;

for (const [flavour, globalsOf] of FLAVOURS) {
  for (const held of ["write", "read"] as const) {
    Deno.test(`under ${flavour} an asynchronous set whose ${held} is held across setSync of the same key keeps the setSync value`, async () => {
      const files = new FakeFiles();
      files.files.set(PATH, { text: JSON.stringify({ queue: "boot", other: "x" }), mode: 0o600 });
      const storage = privateFileStorage(PATH, globalsOf(files))!;
      const hold = files.hold(held);
      const pending = storage.set("queue", "boot+event");
      await hold.reached;
      storage.setSync!("queue", "boot+event+crash");
      assert.deepEqual(files.json(), { queue: "boot+event+crash", other: "x" });
      hold.release();
      await pending;
      assert.deepEqual(
        files.json(),
        { queue: "boot+event+crash", other: "x" },
        "the older asynchronous write did not replace the crash write",
      );
      assert.deepEqual(files.others(), [], "no staged file is left behind");
      assert.equal(await storage.get("queue"), "boot+event+crash");
    });
  }

  Deno.test(`under ${flavour} an asynchronous set held across setSync of another key is applied on top of it`, async () => {
    const files = new FakeFiles();
    files.files.set(PATH, { text: JSON.stringify({ queue: "boot" }), mode: 0o600 });
    const storage = privateFileStorage(PATH, globalsOf(files))!;
    const hold = files.hold("write");
    const pending = storage.set("user_id", "u-1");
    await hold.reached;
    storage.setSync!("queue", "boot+crash");
    hold.release();
    await pending;
    assert.deepEqual(files.json(), { queue: "boot+crash", user_id: "u-1" }, "neither is lost");
    assert.deepEqual(files.others(), []);
    const deleting = files.hold("read");
    const deleted = storage.delete("user_id");
    await deleting.reached;
    storage.setSync!("queue", "boot+crash+again");
    deleting.release();
    await deleted;
    assert.deepEqual(files.json(), { queue: "boot+crash+again" }, "a delete is re-applied too");
  });

  Deno.test(`under ${flavour} an asynchronous set stages a private file and renames it over the target`, async () => {
    const files = new FakeFiles();
    const storage = privateFileStorage(PATH, globalsOf(files))!;
    await storage.set("user_id", "u-1");
    assert.deepEqual(files.json(), { user_id: "u-1" });
    assert.equal(files.files.get(PATH)!.mode, 0o600);
    const renamed = files.log.filter((line) => line.startsWith("rename "));
    assert.equal(renamed.length, 1);
    assert.match(renamed[0].slice("rename ".length), STAGED);
    assert.deepEqual(files.others(), []);
  });

  Deno.test(`under ${flavour} a folder that refuses new files is written in place`, async () => {
    const files = new FakeFiles();
    files.files.set(PATH, { text: JSON.stringify({ kept: "1" }), mode: 0o644 });
    files.folderWritable = false;
    const storage = privateFileStorage(PATH, globalsOf(files))!;
    await storage.set("user_id", "u-1");
    assert.deepEqual(files.json(), { kept: "1", user_id: "u-1" });
    assert.equal(files.files.get(PATH)!.mode, 0o600, "the file is made private");
    assert.deepEqual(files.others(), []);
    assert.ok(files.log.includes(`write ${PATH}`));
  });

  Deno.test(`under ${flavour} a failed rename rejects the set and removes the staged file`, async () => {
    const files = new FakeFiles();
    files.files.set(PATH, { text: JSON.stringify({ kept: "1" }), mode: 0o600 });
    files.failRename = true;
    const storage = privateFileStorage(PATH, globalsOf(files))!;
    await assert.rejects(storage.set("user_id", "u-1"), /EXDEV/);
    assert.deepEqual(files.json(), { kept: "1" });
    assert.deepEqual(files.others(), [], "the staged file is removed");
    files.failRename = false;
    await storage.set("user_id", "u-2");
    assert.deepEqual(files.json(), { kept: "1", user_id: "u-2" }, "later writes still work");
  });
}

Deno.test("under a Deno without synchronous file functions there is no setSync and sets write in place", async () => {
  const files = new FakeFiles();
  const storage = privateFileStorage(PATH, files.deno(false))!;
  assert.equal(storage.setSync, undefined);
  await Promise.all([storage.set("a", "1"), storage.set("b", "2")]);
  await storage.delete("a");
  assert.deepEqual(files.json(), { b: "2" });
  assert.equal(files.log.filter((line) => line.startsWith("rename ")).length, 0);
  assert.deepEqual(files.others(), []);
});
