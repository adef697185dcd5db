import assert from "node:assert/strict";
import { runChild } from "../_helpers/runtimes.ts";

const SCRIPT = new URL("./_pow_smoke.ts", import.meta.url).pathname;
const RUN_MS = 120_000;

async function run(
  v8Flags: string[],
): Promise<{ nonce: string; hashes: number; kernel: string; rates: object }> {
  const args = ["run", "-A", "--quiet", ...v8Flags.map((flag) => `--v8-flags=${flag}`), SCRIPT];
  const output = await runChild(Deno.execPath(), args, { timeoutMs: RUN_MS });
  assert.ok(output.success, output.stderr);
  return JSON.parse(output.stdout.trim().split("\n").at(-1)!);
}

Deno.test("without WebAssembly (as under a CSP that forbids it) the solver still solves with a TypeScript kernel", async () => {
  // --jitless removes the WebAssembly global, as a page whose CSP has no wasm-unsafe-eval loses it
  const result = await run(["--jitless"]);
  assert.equal(result.nonce, "1157");
  assert.equal(result.hashes, 4440);
  assert.match(result.kernel, /^ts-/);
  assert.deepEqual(Object.keys(result.rates).sort(), ["ts-compact", "ts-unrolled"]);
});

Deno.test("with WebAssembly SIMD available the calibration measures it and the compact kernel only", async () => {
  const result = await run([]);
  assert.equal(result.nonce, "1157");
  // The unrolled kernel is loaded only where WebAssembly is refused
  assert.deepEqual(Object.keys(result.rates).sort(), ["ts-compact", "wasm-simd"]);
});
