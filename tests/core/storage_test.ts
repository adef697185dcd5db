import assert from "node:assert/strict";
import { EdgewireError } from "../../src/core/errors.ts";
import { defaultStorage, MemoryStorage, StorageError, WebStorage } from "../../src/core/storage.ts";

interface FakeWebStorage extends globalThis.Storage {
  readonly entries: Map<string, string>;
}

/** A Web Storage lookalike; `fail` makes the named methods throw `error`. */
function fakeWebStorage(
  fail: { methods?: string[]; error?: unknown } = {},
): FakeWebStorage {
  const entries = new Map<string, string>();
  const guard = (method: string) => {
    if (fail.methods?.includes(method)) throw fail.error;
  };
  const storage = {
    entries,
    get length() {
      return entries.size;
    },
    key: (index: number) => [...entries.keys()][index] ?? null,
    getItem(key: string) {
      guard("getItem");
      return entries.get(key) ?? null;
    },
    setItem(key: string, value: string) {
      guard("setItem");
      entries.set(key, value);
    },
    removeItem(key: string) {
      guard("removeItem");
      entries.delete(key);
    },
    clear() {
      entries.clear();
    },
  };
  return storage as FakeWebStorage;
}

Deno.test("MemoryStorage stores, overwrites and deletes values and reports its size", async () => {
  const storage = new MemoryStorage();
  assert.equal(storage.size, 0);
  assert.equal(await storage.get("a"), undefined);
  await storage.set("a", "1");
  await storage.set("a", "2");
  await storage.set("b", "3");
  assert.equal(await storage.get("a"), "2");
  assert.equal(storage.size, 2);
  await storage.delete("a");
  await storage.delete("missing");
  assert.equal(await storage.get("a"), undefined);
  assert.equal(storage.size, 1);
});

Deno.test("WebStorage writes under the default edgewire: prefix", async () => {
  const backing = fakeWebStorage();
  const storage = new WebStorage({ storage: backing });
  await storage.set("queue", "[1]");
  assert.deepEqual([...backing.entries], [["edgewire:queue", "[1]"]]);
  assert.equal(await storage.get("queue"), "[1]");
  assert.equal(await storage.get("absent"), undefined);
  await storage.delete("queue");
  assert.equal(backing.entries.size, 0);
});

Deno.test("WebStorage uses a custom prefix, including an empty one", async () => {
  const backing = fakeWebStorage();
  await new WebStorage({ storage: backing, prefix: "app:" }).set("k", "v");
  await new WebStorage({ storage: backing, prefix: "" }).set("k", "w");
  assert.equal(backing.entries.get("app:k"), "v");
  assert.equal(backing.entries.get("k"), "w");
});

Deno.test("WebStorage turns a QuotaExceededError into a rejected StorageError with code storage_quota", async () => {
  const quota = new DOMException("The quota has been exceeded", "QuotaExceededError");
  const storage = new WebStorage({
    storage: fakeWebStorage({ methods: ["setItem"], error: quota }),
  });
  const secretValue = "value-that-must-not-leak";
  // The call itself must not throw: only the promise rejects.
  const pending = storage.set("queue", secretValue);
  await assert.rejects(pending, (error: unknown) => {
    assert.ok(error instanceof StorageError);
    assert.ok(error instanceof EdgewireError);
    assert.equal(error.code, "storage_quota");
    assert.equal(error.key, "queue");
    assert.equal(error.operation, "set");
    assert.equal(error.cause, quota);
    assert.equal(error.name, "StorageError");
    assert.ok(!error.message.includes(secretValue));
    assert.match(error.message, /^Cannot set key 'queue' in Web Storage as the store is full/);
    return true;
  });
});

Deno.test("WebStorage recognises Firefox's legacy quota error name", async () => {
  const legacy = new DOMException("full", "NS_ERROR_DOM_QUOTA_REACHED");
  const storage = new WebStorage({
    storage: fakeWebStorage({ methods: ["setItem"], error: legacy }),
  });
  await assert.rejects(storage.set("k", "v"), { code: "storage_quota" });
});

Deno.test("WebStorage turns other failures of each operation into StorageError with code storage", async () => {
  const denied = new DOMException("Access is denied", "SecurityError");
  const storage = new WebStorage({
    storage: fakeWebStorage({ methods: ["getItem", "setItem", "removeItem"], error: denied }),
  });
  for (
    const [operation, run] of [
      ["get", () => storage.get("k")],
      ["set", () => storage.set("k", "v")],
      ["delete", () => storage.delete("k")],
    ] as const
  ) {
    await assert.rejects(run(), (error: unknown) => {
      assert.ok(error instanceof StorageError);
      assert.equal(error.code, "storage");
      assert.equal(error.operation, operation);
      assert.equal(error.key, "k");
      assert.equal(error.cause, denied);
      assert.match(error.message, /SecurityError was raised/);
      return true;
    });
  }
});

Deno.test("WebStorage rejects rather than throws when a non-Error value is thrown", async () => {
  const storage = new WebStorage({
    storage: fakeWebStorage({ methods: ["getItem"], error: "boom" }),
  });
  await assert.rejects(storage.get("k"), { name: "StorageError", code: "storage" });
});

Deno.test("StorageError defaults its code to storage and keeps the key and operation", () => {
  const error = new StorageError("Cannot get key 'k'", { key: "k", operation: "get" });
  assert.equal(error.code, "storage");
  assert.equal(error.key, "k");
  assert.equal(error.operation, "get");
  assert.equal(error.cause, undefined);
});

Deno.test("defaultStorage returns a MemoryStorage when there is no localStorage", async () => {
  const storage = defaultStorage({});
  assert.ok(storage instanceof MemoryStorage);
  await storage.set("k", "v");
  assert.equal(await storage.get("k"), "v");
});

Deno.test("defaultStorage returns a WebStorage over a usable localStorage and leaves no probe behind", async () => {
  const backing = fakeWebStorage();
  const storage = defaultStorage({ localStorage: backing });
  assert.ok(storage instanceof WebStorage);
  assert.equal(backing.entries.size, 0);
  await storage.set("k", "v");
  assert.equal(backing.entries.get("edgewire:k"), "v");
});

Deno.test("defaultStorage falls back to memory when localStorage rejects writes", () => {
  const quota = new DOMException("full", "QuotaExceededError");
  const storage = defaultStorage({
    localStorage: fakeWebStorage({ methods: ["setItem"], error: quota }),
  });
  assert.ok(storage instanceof MemoryStorage);
});

Deno.test("defaultStorage falls back to memory when reading localStorage throws", () => {
  const globals = {
    get localStorage(): globalThis.Storage {
      throw new DOMException("disabled", "SecurityError");
    },
  };
  assert.ok(defaultStorage(globals) instanceof MemoryStorage);
});

Deno.test("defaultStorage falls back to memory when localStorage lacks the Web Storage methods", () => {
  assert.ok(defaultStorage({ localStorage: {} }) instanceof MemoryStorage);
  assert.ok(defaultStorage({ localStorage: null }) instanceof MemoryStorage);
});
