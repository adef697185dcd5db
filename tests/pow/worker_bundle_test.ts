import assert from "node:assert/strict";
import { solvePow } from "../../src/pow/solve.ts";
import { PowWorkerPool } from "../../src/pow/worker_pool.ts";
import { bundle } from "../_helpers/runtimes.ts";

const VECTOR = "3f9a1c0e5b7d2468ace013579bdf2468";

Deno.test("the bundled @edgewire/sdk/pow/worker entry, passed as workerUrl, solves on workers", async () => {
  // As a page would ship it: browser platform, minified, kernels in lazy chunks
  await using built = await bundle(new URL("../../src/pow/worker.ts", import.meta.url), {
    platform: "browser",
    minify: true,
    codeSplitting: true,
  });
  const chunks = [...Deno.readDirSync(built.dir)].map(({ name }) => name).sort();
  assert.ok(chunks.some((name) => name.startsWith("_kernel_unrolled-")), chunks.join(", "));
  const workerUrl = new URL(`file://${built.file}`);

  const solution = await solvePow(VECTOR, 4, { workers: 2, workerUrl });
  assert.deepEqual([solution.nonce, solution.workers], ["1157", 2]);

  // Each kernel, including the unrolled one that only a lazy chunk holds
  using pool = new PowWorkerPool({ size: 2, workerUrl });
  for (const kernel of ["wasm-simd", "ts-unrolled", "ts-compact"] as const) {
    const { nonce, workers, kernel: ran } = await pool.solve(VECTOR, 4, { kernel });
    assert.deepEqual([nonce, workers, ran], ["1157", 2, kernel]);
  }
});
