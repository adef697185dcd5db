import assert from "node:assert/strict";
import { EdgewireError, InvalidArgumentError, StorageError } from "../../src/core/errors.ts";
import { BoundedQueue } from "../../src/core/queue.ts";
import {
  getOrCreate,
  keyed,
  MemoryStorage,
  resilientStorage,
  type Storage,
} from "../../src/core/storage.ts";

/** A storage whose every method rejects, as a broken disk or a revoked permission would. */
function rejecting(calls: string[] = []): Storage {
  const fail = (operation: string, key: string) => {
    calls.push(`${operation} ${key}`);
    return Promise.reject(new Error("disk gone"));
  };
  return {
    get: (key) => fail("get", key),
    set: (key) => fail("set", key),
    delete: (key) => fail("delete", key),
  };
}

/** Runs `body`, then fails if any promise rejection went unhandled meanwhile. */
async function withoutUnhandledRejections(body: () => Promise<void>): Promise<void> {
  const unhandled: unknown[] = [];
  const listener = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    unhandled.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", listener);
  try {
    await body();
    // Unhandled rejections are reported after the microtask queue drains
    await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    globalThis.removeEventListener("unhandledrejection", listener);
  }
  assert.deepEqual(unhandled, [], "no rejection went unhandled");
}

Deno.test("keyed puts the prefix before every key and nests", async () => {
  const shared = new MemoryStorage();
  const honch = keyed(shared, "honch:");
  await honch.set("distinct_id", "u1");
  await keyed(honch, "inner:").set("k", "v");
  assert.equal(await shared.get("honch:distinct_id"), "u1");
  assert.equal(await shared.get("honch:inner:k"), "v");
  assert.equal(await honch.get("distinct_id"), "u1");
  await honch.delete("distinct_id");
  assert.equal(await shared.get("honch:distinct_id"), undefined);
  assert.equal(shared.size, 1);
});

Deno.test("keyed has setSync exactly when the storage underneath has it", () => {
  assert.equal(keyed(new MemoryStorage(), "a:").setSync, undefined);
  const written: string[] = [];
  const syncing: Storage = { ...rejecting(), setSync: (key) => void written.push(key) };
  keyed(syncing, "a:").setSync!("queue", "[]");
  assert.deepEqual(written, ["a:queue"]);
});

Deno.test("keyed rejects an empty or missing prefix with InvalidArgumentError", () => {
  for (const prefix of ["", undefined, 3]) {
    assert.throws(
      () => keyed(new MemoryStorage(), prefix as string),
      (error) =>
        error instanceof InvalidArgumentError && error.argument === "prefix" &&
        /^Cannot make a keyed storage as 'prefix' must be a non-empty string: current value is /
          .test(error.message),
    );
  }
});

Deno.test("getOrCreate makes a value once and returns the stored one afterwards", async () => {
  const storage = new MemoryStorage();
  let made = 0;
  const make = () => `id-${++made}`;
  assert.equal(await getOrCreate(storage, "device", make), "id-1");
  assert.equal(await getOrCreate(storage, "device", make), "id-1");
  assert.equal(await storage.get("device"), "id-1");
  assert.equal(made, 1);
});

Deno.test("concurrent getOrCreate calls for one key share one new value", async () => {
  const storage = new MemoryStorage();
  let made = 0;
  const ids = await Promise.all(
    Array.from({ length: 5 }, () => getOrCreate(storage, "user", () => `u-${++made}`)),
  );
  assert.deepEqual(new Set(ids), new Set(["u-1"]));
  assert.equal(made, 1);
});

Deno.test("getOrCreate replaces an empty or unaccepted stored value", async () => {
  const storage = new MemoryStorage();
  await storage.set("empty", "");
  await storage.set("hex", "not hex");
  assert.equal(await getOrCreate(storage, "empty", () => "fresh"), "fresh");
  const hex = await getOrCreate(storage, "hex", () => "ab12", {
    accept: (value) => /^[0-9a-f]+$/.test(value),
  });
  assert.equal(hex, "ab12");
  assert.equal(await storage.get("hex"), "ab12");
});

Deno.test("getOrCreate rejects with a StorageError naming the key when the store fails", async () => {
  await assert.rejects(
    getOrCreate(rejecting(), "device", () => "x"),
    (error) =>
      error instanceof StorageError && error.key === "device" && error.operation === "get" &&
      error.cause instanceof Error && !error.message.includes("x"),
  );
});

Deno.test("resilientStorage over a store whose every method rejects never rejects and counts each failure once", async () => {
  await withoutUnhandledRejections(async () => {
    const calls: string[] = [];
    const errors: StorageError[] = [];
    const storage = resilientStorage(rejecting(calls), { onError: (error) => errors.push(error) });
    assert.equal(await storage.get("a"), undefined);
    assert.equal(storage.degraded, true);
    await storage.set("a", "1");
    assert.equal(await storage.get("a"), "1");
    await storage.delete("a");
    assert.equal(await storage.get("a"), undefined);
    // After the first failure the broken store is left alone
    assert.deepEqual(calls, ["get a"]);
    assert.equal(storage.errors, 1);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof StorageError && errors[0] instanceof EdgewireError);
    assert.equal(errors[0].operation, "get");
    assert.equal(storage.lastError, errors[0]);
  });
});

Deno.test("resilientStorage keeps what the store last held when it starts failing", async () => {
  const inner = new MemoryStorage();
  await inner.set("token", "t-1");
  let broken = false;
  const flaky: Storage = {
    get: (key) => broken ? Promise.reject(new Error("gone")) : inner.get(key),
    set: (key, value) => broken ? Promise.reject(new Error("gone")) : inner.set(key, value),
    delete: (key) => broken ? Promise.reject(new Error("gone")) : inner.delete(key),
  };
  const storage = resilientStorage(flaky);
  assert.equal(await storage.get("token"), "t-1");
  await storage.set("device", "d-1");
  broken = true;
  await storage.set("queue", "[1]");
  assert.equal(storage.degraded, true);
  assert.equal(await storage.get("token"), "t-1");
  assert.equal(await storage.get("device"), "d-1");
  assert.equal(await storage.get("queue"), "[1]");
  assert.equal(storage.lastError?.operation, "set");
});

Deno.test("resilientStorage turns synchronous throws and a throwing onError into counted failures", async () => {
  const throwing = {
    get: () => {
      throw new TypeError("no store");
    },
    set: () => {
      throw new TypeError("no store");
    },
    delete: () => {
      throw new TypeError("no store");
    },
  } as unknown as Storage;
  const storage = resilientStorage(throwing, {
    onError: () => {
      throw new Error("listener bug");
    },
  });
  await storage.set("k", "v");
  assert.equal(await storage.get("k"), "v");
  assert.equal(storage.errors, 1);
  assert.equal(storage.lastError?.code, "storage");
});

Deno.test("resilientStorage passes setSync through and throws a StorageError when it fails", () => {
  assert.equal(resilientStorage(new MemoryStorage()).setSync, undefined);
  const failing: Storage = {
    ...rejecting(),
    setSync: () => {
      throw Object.assign(new Error("no space"), { code: "ENOSPC" });
    },
  };
  const storage = resilientStorage(failing);
  assert.throws(
    () => storage.setSync!("queue", "[]"),
    (error) => error instanceof StorageError && error.code === "storage_quota",
  );
  assert.equal(storage.errors, 1);
});

Deno.test("resilientStorage validates its arguments", () => {
  assert.throws(() => resilientStorage(undefined as unknown as Storage), InvalidArgumentError);
  assert.throws(
    () => resilientStorage({ get: () => Promise.resolve(undefined) } as unknown as Storage),
    /'storage' must be an object with get\(\), set\(\), delete\(\): current value is an object/,
  );
  assert.throws(
    () => resilientStorage(new MemoryStorage(), { onError: "log" as unknown as () => void }),
    /'onError' must be a function: current value is a string of 3 characters/,
  );
});

Deno.test("a queue and getOrCreate over a rejecting store behind resilientStorage work from memory", async () => {
  await withoutUnhandledRejections(async () => {
    const storage = resilientStorage(keyed(rejecting(), "client:"));
    const queue = new BoundedQueue<number>({ storage });
    await queue.restore();
    queue.push(1);
    queue.push(2);
    await queue.persisted();
    const id = await getOrCreate(storage, "device", () => "d-1");
    assert.equal(id, await getOrCreate(storage, "device", () => "d-2"));
    assert.deepEqual(queue.peek(), [1, 2]);
    assert.equal(queue.stats().persistErrors, 0, "the queue never saw the failure");
    assert.equal(storage.errors, 1, "the wrapper counted it");
  });
});
