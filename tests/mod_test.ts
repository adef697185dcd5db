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
  // the shared core
  for (const name of ["EdgewireError", "HttpError", "BoundedQueue", "MemoryStorage", "Backoff"]) {
    assert.equal(typeof (root as Record<string, unknown>)[name], "function", name);
  }
  assert.equal(typeof root.detectRuntime, "function");
  // Honch's clashing error names are prefixed, not lost
  assert.ok(new root.HonchStorageError("x") instanceof root.EdgewireError);
});
