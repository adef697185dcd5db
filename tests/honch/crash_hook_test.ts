/**
 * `installErrorHook()` where the runtime has a process (Node, Bun) instead of
 * a global `error` event: it hooks the process's crash monitor, queues the
 * `$crash`, writes it to a synchronous storage at once, and unhooks.
 *
 * @module
 */

import assert from "node:assert/strict";
import { HonchClient } from "../../src/honch/client.ts";
import { MemoryStorage } from "../../src/core/storage.ts";

type Handler = (...args: unknown[]) => void;

/** A MemoryStorage that can also write synchronously, keeping what it wrote. */
class SyncStorage extends MemoryStorage {
  readonly written = new Map<string, string>();
  setSync(key: string, value: string): void {
    this.written.set(key, value);
  }
}

function nodeGlobals() {
  const listeners = new Map<string, Handler[]>();
  const process = {
    versions: { node: "20.20.2" },
    on: (event: string, handler: Handler) =>
      listeners.set(event, [...(listeners.get(event) ?? []), handler]),
    off: (event: string, handler: Handler) =>
      listeners.set(event, (listeners.get(event) ?? []).filter((h) => h !== handler)),
    listenerCount: (event: string) => listeners.get(event)?.length ?? 0,
  };
  const active = () => [...listeners].filter(([, list]) => list.length > 0).map(([name]) => name);
  const emit = (event: string, ...args: unknown[]) =>
    (listeners.get(event) ?? []).forEach((handler) => handler(...args));
  return { globals: { process }, active, emit };
}

function client(storage: SyncStorage, globals: object): HonchClient {
  return new HonchClient({
    apiKey: "test-key",
    endpoint: "http://127.0.0.1:9",
    deviceId: "dev_fixture",
    deviceModel: "FixtureBoard",
    firmwareVersion: "1.2.3",
    storage,
    // Offline: the hook must not depend on an upload to keep the crash
    connectivity: () => false,
    // A Node-style process instead of Deno's own globals
    globals,
  });
}

function storedCrashes(storage: SyncStorage): Record<string, unknown>[] {
  const state = JSON.parse(storage.written.get("honch:queue") ?? '{"items":[]}');
  return (state.items as { name: string; properties: Record<string, unknown> }[])
    .filter((item) => item.name === "$crash")
    .map((item) => item.properties);
}

Deno.test("installErrorHook() on a Node-style process records crashes and writes them at once", async () => {
  const storage = new SyncStorage();
  const node = nodeGlobals();
  const honch = client(storage, node.globals);
  await honch.ready();
  assert.equal(honch.installErrorHook(), true);
  assert.equal(honch.installErrorHook(), true);
  assert.deepEqual(node.active(), ["uncaughtExceptionMonitor"], "one monitor, no handler");
  node.emit("uncaughtExceptionMonitor", new TypeError("disk full"), "uncaughtException");
  // Written before the listener returned: a crashing process ends right after it
  assert.deepEqual(storedCrashes(storage).map((crash) => [crash.name, crash.source]), [
    ["TypeError", "exception"],
  ]);
  node.emit("uncaughtExceptionMonitor", new RangeError("too deep"), "unhandledRejection");
  assert.deepEqual(
    storedCrashes(storage).map((crash) => [crash.name, crash.message, crash.source]),
    [
      ["TypeError", "disk full", "exception"],
      ["RangeError", "too deep", "unhandled_rejection"],
    ],
  );
  honch.uninstallErrorHook();
  assert.deepEqual(node.active(), []);
  node.emit("uncaughtExceptionMonitor", new Error("later"), "uncaughtException");
  assert.equal(storedCrashes(storage).length, 2);
  await honch.shutdown();
});

Deno.test("shutdown() removes the process hook", async () => {
  const node = nodeGlobals();
  const honch = client(new SyncStorage(), node.globals);
  assert.equal(honch.installErrorHook(), true);
  await honch.shutdown();
  assert.deepEqual(node.active(), []);
  assert.equal(honch.installErrorHook(), false);
});
