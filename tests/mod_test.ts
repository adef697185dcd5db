import assert from "node:assert/strict";
import * as root from "../mod.ts";

Deno.test("the root export holds every client module and the shared core the README lists", () => {
  // mkStats and the proof-of-work solver
  assert.equal(typeof root.MkStatsClient, "function");
  assert.equal(typeof root.solvePow, "function");
  assert.equal(typeof root.createChallenge, "function");
  // Honch: the client and its wire codec
  assert.equal(typeof root.HonchClient, "function");
  assert.equal(typeof root.encodeMessage, "function");
  assert.equal(typeof root.FrameAssembler, "function");
  // migas, under its namespace as migas-py reads
  assert.equal(typeof root.migas.setup, "function");
  assert.equal(typeof root.migas.track, "function");
  assert.equal(typeof root.migas.createMigas, "function");
  // Emitter: the client, its messages and its errors
  assert.equal(typeof root.EmitterClient, "function");
  assert.equal(typeof root.EmitterMessage, "function");
  assert.equal(typeof root.EmitterHistoryMessage, "function");
  assert.equal(typeof root.EmitterSubscription, "function");
  assert.ok(new root.EmitterError(root.EMITTER_STATUS.notFound) instanceof root.EdgewireError);
  // the shared core
  for (const name of ["EdgewireError", "HttpError", "BoundedQueue", "MemoryStorage", "Backoff"]) {
    assert.equal(typeof (root as Record<string, unknown>)[name], "function", name);
  }
  for (const name of ["keyed", "getOrCreate", "resilientStorage", "privateFileStorage"]) {
    assert.equal(typeof (root as Record<string, unknown>)[name], "function", name);
  }
});

Deno.test("the root export keeps the runtime shim's internals and the validation helpers private", () => {
  const exported = new Set(Object.keys(root));
  for (
    const name of [
      "detectRuntime",
      "platform",
      "readEnv",
      "unrefTimer",
      "processLifecycle",
      "fileExists",
      "configDirectory",
      "utf8ByteLength",
      "integer",
      "invalidArgument",
    ]
  ) {
    assert.ok(!exported.has(name), `${name} is not exported`);
  }
});

Deno.test("the root export has one InvalidArgumentError and one StorageError", () => {
  const names = Object.keys(root).filter((name) => /(InvalidArgument|Storage)Error$/.test(name));
  assert.deepEqual(names.sort(), ["InvalidArgumentError", "StorageError"]);
  assert.ok(
    new root.StorageError("x", { key: "k", operation: "get" }) instanceof root.EdgewireError,
  );
});
