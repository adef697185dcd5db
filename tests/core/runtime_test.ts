import assert from "node:assert/strict";
import {
  detectRuntime,
  fileExists,
  platform,
  privateFileStorage,
  processLifecycle,
  readEnv,
  unrefTimer,
} from "../../src/core/runtime/mod.ts";

/** A fake Deno whose env permission has the given state; records the calls. */
function fakeDeno(state: string, env: Record<string, string> = {}) {
  const calls: string[] = [];
  return {
    calls,
    version: { deno: "2.9.6" },
    permissions: {
      querySync(descriptor: { name: string; variable?: string }) {
        calls.push(`query:${descriptor.name}:${descriptor.variable}`);
        return { state };
      },
    },
    env: {
      get(name: string) {
        calls.push(`get:${name}`);
        return env[name];
      },
    },
  };
}

Deno.test("detectRuntime finds Deno and its version when run under Deno", () => {
  assert.deepEqual(detectRuntime(), { name: "deno", version: Deno.version.deno });
});

Deno.test("detectRuntime checks Bun before Deno and Node, since Bun also has process", () => {
  assert.deepEqual(
    detectRuntime({ Bun: { version: "1.2.0" }, process: { versions: { node: "22.0.0" } } }),
    { name: "bun", version: "1.2.0" },
  );
});

Deno.test("detectRuntime checks Deno before Node, since Deno also has process", () => {
  assert.deepEqual(
    detectRuntime({ Deno: { version: { deno: "2.1.0" } }, process: { versions: { node: "20" } } }),
    { name: "deno", version: "2.1.0" },
  );
});

Deno.test("detectRuntime recognises Cloudflare workerd by its user agent, even with node compat", () => {
  assert.deepEqual(
    detectRuntime({
      navigator: { userAgent: "Cloudflare-Workers" },
      process: { versions: { node: "22.0.0" } },
    }),
    { name: "workerd", version: "" },
  );
});

Deno.test("detectRuntime recognises Node by process.versions.node", () => {
  assert.deepEqual(detectRuntime({ process: { versions: { node: "22.11.0" } } }), {
    name: "node",
    version: "22.11.0",
  });
});

Deno.test("detectRuntime recognises browser windows and workers", () => {
  const browser = { name: "browser", version: "" };
  assert.deepEqual(detectRuntime({ window: {}, document: {} }), browser);
  assert.deepEqual(detectRuntime({ WorkerGlobalScope: class {} }), browser);
  assert.deepEqual(
    detectRuntime({ navigator: { userAgent: "Mozilla/5.0" }, document: {} }),
    browser,
  );
});

Deno.test("detectRuntime answers unknown for empty, odd or throwing globals", () => {
  const unknown = { name: "unknown", version: "" };
  assert.deepEqual(detectRuntime({}), unknown);
  assert.deepEqual(detectRuntime({ Bun: {}, Deno: { version: {} }, process: {} }), unknown);
  assert.deepEqual(detectRuntime({ Bun: { version: 1 }, window: null }), unknown);
  const throwing = {
    get Bun(): unknown {
      throw new Error("getter");
    },
  };
  assert.deepEqual(detectRuntime(throwing), unknown);
});

Deno.test("readEnv reads the real environment under Deno with permission", () => {
  assert.equal(readEnv("PATH"), Deno.env.get("PATH"));
  assert.equal(readEnv("EDGEWIRE_SURELY_UNSET_VARIABLE"), undefined);
});

Deno.test("readEnv reads Deno's env only after querying a granted permission", () => {
  const deno = fakeDeno("granted", { TOKEN_LIKE: "value" });
  assert.equal(readEnv("TOKEN_LIKE", { Deno: deno }), "value");
  assert.deepEqual(deno.calls, ["query:env:TOKEN_LIKE", "get:TOKEN_LIKE"]);
  assert.equal(readEnv("MISSING", { Deno: deno }), undefined);
});

Deno.test("readEnv never reads Deno's env, and so never prompts, unless permission is granted", () => {
  for (const state of ["prompt", "denied"]) {
    const deno = fakeDeno(state, { X: "1" });
    // process.env is present too but must not be consulted under Deno.
    assert.equal(readEnv("X", { Deno: deno, process: { env: { X: "2" } } }), undefined);
    assert.deepEqual(deno.calls, ["query:env:X"]);
  }
});

Deno.test("readEnv answers undefined when Deno lacks querySync or its calls throw", () => {
  assert.equal(readEnv("X", { Deno: { env: { get: () => "1" } } }), undefined);
  const throwingQuery = {
    permissions: {
      querySync() {
        throw new TypeError("bad descriptor");
      },
    },
  };
  assert.equal(readEnv("X", { Deno: throwingQuery }), undefined);
  const throwingGet = {
    permissions: { querySync: () => ({ state: "granted" }) },
    env: {
      get() {
        throw new Error("NotCapable");
      },
    },
  };
  assert.equal(readEnv("X", { Deno: throwingGet }), undefined);
});

Deno.test("readEnv reads process.env in Node and Bun", () => {
  const globals = { process: { env: { HOME: "/home/me", EMPTY: "" } } };
  assert.equal(readEnv("HOME", globals), "/home/me");
  assert.equal(readEnv("EMPTY", globals), "");
  assert.equal(readEnv("MISSING", globals), undefined);
  assert.equal(readEnv("NUM", { process: { env: { NUM: 1 } } }), undefined);
});

Deno.test("readEnv answers undefined where there is no environment or no usable name", () => {
  assert.equal(readEnv("HOME", {}), undefined);
  assert.equal(readEnv("HOME", { navigator: { userAgent: "Cloudflare-Workers" } }), undefined);
  assert.equal(readEnv("", { process: { env: { "": "x" } } }), undefined);
  assert.equal(readEnv(undefined as unknown as string), undefined);
  const throwing = {
    process: {
      env: new Proxy({}, {
        get() {
          throw new Error("exotic");
        },
      }),
    },
  };
  assert.equal(readEnv("HOME", throwing), undefined);
});

Deno.test("unrefTimer unrefs a real Deno timer so it does not hold the test open", () => {
  const id = setTimeout(() => {}, 60_000);
  unrefTimer(id);
  clearTimeout(id);
  // Unknown and already cleared ids are ignored.
  unrefTimer(id);
  unrefTimer(-1);
});

Deno.test("unrefTimer passes numeric ids to Deno.unrefTimer", () => {
  const ids: number[] = [];
  unrefTimer(7, { Deno: { unrefTimer: (id: number) => ids.push(id) } });
  assert.deepEqual(ids, [7]);
  unrefTimer(8, {});
  assert.deepEqual(ids, [7]);
});

Deno.test("unrefTimer calls unref on Node and Bun timer objects", () => {
  let unrefs = 0;
  const timeout = {
    unref() {
      unrefs++;
      return this;
    },
  };
  unrefTimer(timeout, {});
  assert.equal(unrefs, 1);
});

Deno.test("unrefTimer ignores anything else and never throws", () => {
  for (const id of [undefined, null, "1", {}, { unref: 1 }]) unrefTimer(id, {});
  unrefTimer({
    unref() {
      throw new Error("closed");
    },
  });
  unrefTimer(1, {
    Deno: {
      unrefTimer() {
        throw new Error("NotFound");
      },
    },
  });
});

Deno.test("platform reports Deno.build.os under Deno", () => {
  assert.equal(platform(), Deno.build.os);
  assert.equal(
    platform({ Deno: { build: { os: "darwin" } }, process: { platform: "x" } }),
    "darwin",
  );
});

Deno.test("platform maps Node's process.platform, turning win32 into windows", () => {
  assert.equal(platform({ process: { platform: "win32" } }), "windows");
  assert.equal(platform({ process: { platform: "linux" } }), "linux");
  assert.equal(platform({ process: { platform: "freebsd" } }), "freebsd");
});

Deno.test("platform maps a browser's userAgentData.platform to the same names", () => {
  const ua = (name: string) => ({ navigator: { userAgentData: { platform: name } } });
  assert.equal(platform(ua("Windows")), "windows");
  assert.equal(platform(ua("macOS")), "darwin");
  assert.equal(platform(ua("Linux")), "linux");
  assert.equal(platform(ua("Android")), "android");
  assert.equal(platform(ua("Chrome OS")), "chromeos");
  assert.equal(platform(ua("Some New OS")), "somenewos");
  assert.equal(platform(ua("constructor")), "constructor");
});

Deno.test("platform answers unknown when nothing tells it", () => {
  assert.equal(platform({}), "unknown");
  assert.equal(platform({ navigator: { userAgentData: { platform: "" } } }), "unknown");
  assert.equal(platform({ navigator: { userAgent: "Cloudflare-Workers" } }), "unknown");
  const throwing = {
    get Deno(): unknown {
      throw new Error("getter");
    },
  };
  assert.equal(platform(throwing), "unknown");
});

Deno.test("processLifecycle() hooks a Node-style process and removes what it added", async () => {
  const handlers = new Map<string, (...args: unknown[]) => void>();
  const exits: number[] = [];
  const fake = {
    process: {
      on: (event: string, handler: (...args: unknown[]) => void) => handlers.set(event, handler),
      off: (event: string) => handlers.delete(event),
      exit: (code: number) => exits.push(code),
    },
  };
  const lifecycle = processLifecycle(fake);
  const seen: string[] = [];
  const removeExit = lifecycle.onExit!(() => Promise.resolve(void seen.push("exit")));
  const removeSignal = lifecycle.onSignal!((signal) => Promise.resolve(void seen.push(signal)));
  assert.deepEqual([...handlers.keys()].sort(), ["SIGINT", "SIGTERM", "beforeExit"]);
  handlers.get("beforeExit")!();
  handlers.get("beforeExit")!();
  handlers.get("SIGTERM")!();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(seen, ["exit", "SIGTERM"], "the exit hook runs once");
  assert.deepEqual(exits, [143]);
  removeExit();
  removeSignal();
  assert.equal(handlers.size, 0);
});

Deno.test("processLifecycle() has no hooks where there is no process", () => {
  assert.deepEqual(processLifecycle({}), {});
});

Deno.test("fileExists() sees a file that exists and not one that does not, never throwing", async () => {
  const path = await Deno.makeTempFile();
  try {
    assert.equal(fileExists(path), true);
    assert.equal(fileExists(`${path}.missing`), false);
    assert.equal(fileExists(path, {}), false, "no runtime, no probe");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("privateFileStorage() keeps values in a file only the user can read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/nested/state.json`;
    const storage = privateFileStorage(path);
    assert.ok(storage);
    assert.equal(await storage.get("user_id"), undefined);
    await Promise.all([storage.set("user_id", "u-1"), storage.set("other", "x")]);
    assert.equal(
      await privateFileStorage(path)!.get("user_id"),
      "u-1",
      "a second instance reads it back",
    );
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    await storage.delete("other");
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), { user_id: "u-1" });
    assert.equal(privateFileStorage(path, {}), undefined, "no runtime, no file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hardwareConcurrency reads navigator and answers undefined for anything but a positive integer", async () => {
  const { hardwareConcurrency } = await import("../../src/core/runtime/detect.ts");
  assert.equal(hardwareConcurrency({ navigator: { hardwareConcurrency: 8 } }), 8);
  for (const value of [0, -2, 1.5, "8", undefined]) {
    assert.equal(hardwareConcurrency({ navigator: { hardwareConcurrency: value } }), undefined);
  }
  assert.equal(hardwareConcurrency({}), undefined);
  const throwing = Object.defineProperty({}, "navigator", {
    get: () => {
      throw new Error("denied");
    },
  });
  assert.equal(hardwareConcurrency(throwing), undefined);
});
