/**
 * The pieces that record a crash without changing it: the runtime shim's
 * `onCrash` over fake Deno, Node and Bun globals, a queue's synchronous
 * last write, and the synchronous write of the private file storage.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type CrashSource,
  privateFileStorage,
  processLifecycle,
} from "../../src/core/runtime/mod.ts";
import { BoundedQueue } from "../../src/core/queue.ts";
import { MemoryStorage } from "../../src/core/storage.ts";

type Handler = (...args: unknown[]) => void;

/** A Node-style `process` whose listeners the test can see and call. */
function fakeProcess() {
  const listeners = new Map<string, Handler[]>();
  const exits: number[] = [];
  return {
    listeners,
    exits,
    process: {
      on: (event: string, handler: Handler) =>
        listeners.set(event, [...(listeners.get(event) ?? []), handler]),
      off: (event: string, handler: Handler) =>
        listeners.set(event, (listeners.get(event) ?? []).filter((h) => h !== handler)),
      listenerCount: (event: string) => listeners.get(event)?.length ?? 0,
      exit: (code: number) => void exits.push(code),
    },
    emit(event: string, ...args: unknown[]) {
      for (const handler of listeners.get(event) ?? []) handler(...args);
    },
    events(): string[] {
      return [...listeners].filter(([, list]) => list.length > 0).map(([event]) => event).sort();
    },
  };
}

Deno.test("onCrash() under Node only monitors, so the runtime still prints and exits", () => {
  const fake = fakeProcess();
  const seen: [unknown, CrashSource][] = [];
  const remove = processLifecycle({ process: fake.process }).onCrash!((error, source) =>
    seen.push([error, source])
  );
  assert.deepEqual(fake.events(), ["uncaughtExceptionMonitor"], "no handling listener");
  const thrown = new TypeError("boom");
  fake.emit("uncaughtExceptionMonitor", thrown, "uncaughtException");
  fake.emit("uncaughtExceptionMonitor", "reason", "unhandledRejection");
  assert.deepEqual(seen, [[thrown, "exception"], ["reason", "unhandled_rejection"]]);
  assert.deepEqual(fake.exits, [], "the hook never exits by itself");
  remove();
  assert.deepEqual(fake.events(), []);
});

Deno.test("onCrash() ignores an observer that throws", () => {
  const fake = fakeProcess();
  processLifecycle({ process: fake.process }).onCrash!(() => {
    throw new Error("observer failed");
  });
  assert.doesNotThrow(() =>
    fake.emit("uncaughtExceptionMonitor", new Error("x"), "uncaughtException")
  );
});

Deno.test("onCrash() under Bun hands an unhandled rejection back when it listens alone", async () => {
  const fake = fakeProcess();
  const seen: [unknown, CrashSource][] = [];
  const remove = processLifecycle({ Bun: { version: "1.2.0" }, process: fake.process }).onCrash!(
    (error, source) => seen.push([error, source]),
  );
  assert.deepEqual(fake.events(), ["uncaughtExceptionMonitor", "unhandledRejection"]);
  const reason = new RangeError("too deep");
  const reRaised = new Promise<unknown>((resolve) => {
    const listener = (event: PromiseRejectionEvent) => {
      event.preventDefault();
      removeEventListener("unhandledrejection", listener);
      resolve(event.reason);
    };
    addEventListener("unhandledrejection", listener);
  });
  fake.emit("unhandledRejection", reason, Promise.resolve());
  assert.deepEqual(seen, [[reason, "unhandled_rejection"]]);
  assert.deepEqual(fake.events(), ["uncaughtExceptionMonitor"], "it stepped aside");
  assert.equal(await reRaised, reason, "the same reason is rejected again, unhandled");
  remove();
  assert.deepEqual(fake.events(), []);
});

Deno.test("onCrash() under Bun leaves a rejection another listener handles alone", () => {
  const fake = fakeProcess();
  const seen: unknown[] = [];
  processLifecycle({ Bun: { version: "1.2.0" }, process: fake.process }).onCrash!((error) =>
    seen.push(error)
  );
  fake.process.on("unhandledRejection", () => {});
  fake.emit("unhandledRejection", new Error("handled elsewhere"), Promise.resolve());
  assert.deepEqual(seen, [], "the program goes on, so it is no crash");
  assert.equal(fake.process.listenerCount("unhandledRejection"), 2);
});

Deno.test("onCrash() under Deno listens without cancelling the events", () => {
  const target = new EventTarget();
  const fake = {
    Deno: {},
    addEventListener: target.addEventListener.bind(target),
    removeEventListener: target.removeEventListener.bind(target),
  };
  const seen: [unknown, CrashSource][] = [];
  const remove = processLifecycle(fake).onCrash!((error, source) => seen.push([error, source]));
  const thrown = new TypeError("boom");
  const error = new ErrorEvent("error", { error: thrown, cancelable: true });
  target.dispatchEvent(error);
  const rejection = new Event("unhandledrejection", { cancelable: true });
  Object.defineProperty(rejection, "reason", { value: "plain reason" });
  target.dispatchEvent(rejection);
  assert.equal(error.defaultPrevented, false);
  assert.equal(rejection.defaultPrevented, false);
  assert.deepEqual(seen, [[thrown, "exception"], ["plain reason", "unhandled_rejection"]]);
  remove();
  target.dispatchEvent(new ErrorEvent("error", { error: new Error("later") }));
  assert.equal(seen.length, 2);
});

/** A MemoryStorage that can also write synchronously, keeping what it wrote. */
class SyncStorage extends MemoryStorage {
  readonly written: [string, string][] = [];
  fail = false;
  setSync(key: string, value: string): void {
    if (this.fail) throw new Error("disk full");
    this.written.push([key, value]);
  }
}

Deno.test("persistNow() writes the queue synchronously once the restore is done", async () => {
  const storage = new SyncStorage();
  await storage.set("q", JSON.stringify({ version: 1, items: ["old"], droppedByReason: {} }));
  const queue = new BoundedQueue<string>({ storage, storageKey: "q" });
  queue.push("early");
  assert.equal(queue.persistNow(), false, "before restore() it would lose the stored items");
  const restoring = queue.restore();
  assert.equal(queue.persistNow(), false, "nor while restoring");
  await restoring;
  queue.push("crash");
  assert.equal(queue.persistNow(), true);
  const [key, value] = storage.written.at(-1)!;
  assert.equal(key, "q");
  assert.deepEqual(JSON.parse(value).items, ["old", "early", "crash"]);
  storage.fail = true;
  assert.equal(queue.persistNow(), false);
  assert.equal(queue.stats().persistErrors, 1);
  const plain = new BoundedQueue<string>({ storage: new MemoryStorage() });
  await plain.restore();
  assert.equal(plain.persistNow(), false, "a storage without setSync cannot");
});

Deno.test("privateFileStorage().setSync keeps the other keys and a private file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgewire-setsync-" });
  try {
    const path = `${dir}/nested/state.json`;
    const storage = privateFileStorage(path)!;
    assert.equal(typeof storage.setSync, "function");
    await storage.set("kept", "1");
    storage.setSync!("crash", "2");
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), { kept: "1", crash: "2" });
    assert.equal(await storage.get("crash"), "2");
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(`${dir}/nested`)).mode! & 0o777, 0o700);
    }
    const fresh = `${dir}/fresh/state.json`;
    privateFileStorage(fresh)!.setSync!("only", "3");
    assert.deepEqual(JSON.parse(await Deno.readTextFile(fresh)), { only: "3" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
