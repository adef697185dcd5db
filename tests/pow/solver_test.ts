import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256 } from "@noble/hashes/sha2.js";
import { AbortedError, InvalidArgumentError } from "../../src/core/errors.ts";
import { calibrate } from "../../src/pow/_select.ts";
import { leadingZeroBits, meetsDifficulty, meetsZeroBits } from "../../src/pow/rule.ts";
import { solvePow, solveZeroBits } from "../../src/pow/solve.ts";
import { PowTimeoutError, PowWorkerError } from "../../src/pow/errors.ts";
import { PowWorkerPool } from "../../src/pow/worker_pool.ts";

const VECTOR = "3f9a1c0e5b7d2468ace013579bdf2468";
const encoder = new TextEncoder();
const KERNELS = ["wasm-simd", "ts-unrolled", "ts-compact"] as const;

function oracleZeroBits(challenge: string, zeroBits: number, radix: number): number {
  for (let n = 0;; n++) {
    if (leadingZeroBits(sha256(encoder.encode(`${challenge}:${n.toString(radix)}`))) >= zeroBits) {
      return n;
    }
  }
}

for (const kernel of KERNELS) {
  Deno.test(`solvePow with the ${kernel} kernel finds nonce 1157 after 4440 hashes`, async () => {
    const solution = await solvePow(VECTOR, 4, { kernel });
    assert.deepEqual(
      { ...solution, ms: 0 },
      { nonce: "1157", hashes: 4440, ms: 0, kernel, workers: 0 },
    );
  });
}

Deno.test("calibration measures WebAssembly and the compact kernel here and keeps the fastest", async () => {
  const { kernel, rates } = await calibrate();
  // The unrolled kernel is only loaded where WebAssembly is refused (pow_fallback_test.ts)
  assert.deepEqual(Object.keys(rates).sort(), ["ts-compact", "wasm-simd"]);
  assert.equal(rates[kernel.name], Math.max(...Object.values(rates)));
  assert.equal((await solvePow(VECTOR, 4)).kernel, kernel.name);
});

Deno.test("solveZeroBits finds the first decimal or hex nonce with enough zero bits", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.string({ maxLength: 80 }),
      fc.integer({ min: 1, max: 10 }),
      fc.constantFrom("decimal" as const, "hex" as const),
      async (challenge, zeroBits, encoding) => {
        const expected = oracleZeroBits(challenge, zeroBits, encoding === "hex" ? 16 : 10);
        const solution = await solveZeroBits(challenge, zeroBits, { encoding });
        assert.equal(solution.nonce, expected.toString(encoding === "hex" ? 16 : 10));
        assert.equal(solution.hashes, expected + 1);
        assert.ok(meetsZeroBits(challenge, solution.nonce, zeroBits));
      },
    ),
    { numRuns: 60, seed: 20261122 },
  );
});

Deno.test("solveZeroBits refuses zero bits outside 1..256 and an unknown encoding", () => {
  assert.throws(
    () => solveZeroBits("c", 0),
    (e) => e instanceof InvalidArgumentError && e.argument === "zeroBits",
  );
  assert.throws(() => solveZeroBits("c", 257), /'zeroBits' must be an integer from 1 to 256/);
  assert.throws(
    () => solveZeroBits("c", 8, { encoding: "base64" as "hex" }),
    (e) => e instanceof InvalidArgumentError && e.argument === "encoding",
  );
  assert.throws(() => solvePow("c", 4, { sliceMs: 51 }), /'sliceMs' must be at most 50/);
  assert.throws(
    () => solvePow("c", 4, { kernel: "gpu" as "ts-compact" }),
    /'kernel' must be one of/,
  );
});

Deno.test("onProgress is called at least every 250 ms on the calling thread", async () => {
  let time = 0;
  const seen: number[] = [];
  await assert.rejects(
    solvePow(VECTOR, 64, {
      maxMs: 2000,
      now: () => (time += 10),
      onProgress: ({ hashes, ms }) => {
        assert.ok(hashes > 0);
        seen.push(ms);
      },
    }),
    PowTimeoutError,
  );
  assert.ok(seen.length >= 5, `${seen.length} progress reports`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] - seen[i - 1] <= 260);
});

Deno.test("two workers find the same first nonce as the calling thread", async () => {
  using pool = new PowWorkerPool({ size: 2 });
  for (const challenge of ["alpha", "bravo", "charlie", VECTOR]) {
    const here = await solvePow(challenge, 5);
    const there = await pool.solve(challenge, 5);
    assert.equal(there.nonce, here.nonce, challenge);
    assert.equal(there.workers, 2);
    assert.equal(here.workers, 0);
    assert.ok(there.hashes >= here.hashes, "workers hash at least as many nonces");
    assert.ok(meetsDifficulty(challenge, there.nonce, 5));
  }
});

Deno.test("solvePow with workers solves and leaves no worker running", async () => {
  const solution = await solvePow(VECTOR, 4, { workers: 2 });
  assert.equal(solution.nonce, "1157");
  assert.equal(solution.workers, 2);
});

Deno.test("a pool solves zero-bits challenges with decimal nonces", async () => {
  using pool = new PowWorkerPool({ size: 2 });
  const solution = await pool.solveZeroBits("bits", 12);
  assert.equal(solution.nonce, oracleZeroBits("bits", 12, 10).toString());
});

Deno.test("aborting stops every worker at once", async () => {
  using pool = new PowWorkerPool({ size: 2 });
  const controller = new AbortController();
  const solving = pool.solve(VECTOR, 64, { maxMs: 60_000, signal: controller.signal });
  setTimeout(() => controller.abort(new Error("user left")), 50);
  const started = performance.now();
  const error = await solving.catch((e) => e);
  assert.ok(error instanceof AbortedError);
  assert.equal((error.cause as Error).message, "user left");
  assert.ok(performance.now() - started < 1000);
  // The pool starts fresh workers for the next solve
  assert.equal((await pool.solve(VECTOR, 4)).nonce, "1157");
});

Deno.test("workers give up with PowTimeoutError at maxMs and report progress meanwhile", async () => {
  using pool = new PowWorkerPool({ size: 2 });
  const progress: number[] = [];
  const error = await pool.solve(VECTOR, 64, {
    maxMs: 600,
    onProgress: ({ hashes }) => progress.push(hashes),
  })
    .catch((e) => e);
  assert.ok(error instanceof PowTimeoutError);
  assert.ok(error.hashes > 0);
  assert.ok(progress.length >= 2, `${progress.length} progress reports`);
});

Deno.test("a closed pool refuses to solve", () => {
  const pool = new PowWorkerPool({ size: 1 });
  pool.close();
  assert.throws(() => pool.solve(VECTOR, 4), /closed PowWorkerPool/);
});

Deno.test("a pool whose worker module cannot load rejects with PowWorkerError and solvePow reports 0 workers", async () => {
  // In a child process: Deno prints a worker's load failure itself, whatever the pool does with it
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", new URL("./_broken_worker.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, stderr);
  const { poolError, fallback } = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(poolError.name, PowWorkerError.name);
  assert.match(poolError.message, /^A proof-of-work worker failed: .*_no_such_worker\.js/);
  assert.match(stderr, /_no_such_worker\.js/, "the module really failed to load");
  assert.equal(fallback.nonce, "1157");
  assert.equal(fallback.workers, 0);
});

Deno.test("a worker that cannot run the job makes the pool reject with its message", async () => {
  const source = `onmessage = ({ data }) => { if ("id" in data) postMessage(` +
    `{ id: data.id, offset: -1, kernel: "", error: "Error: no kernel here" }); };`;
  const workerUrl = `data:text/javascript,${encodeURIComponent(source)}`;
  using pool = new PowWorkerPool({ size: 1, workerUrl });
  await assert.rejects(
    pool.solve(VECTOR, 4, { maxMs: 5000 }),
    (e) => e instanceof PowWorkerError && /no kernel here/.test(e.message),
  );
});

Deno.test("workerUrl must be a URL or a non-empty string, on the pool and on solvePow", () => {
  for (const workerUrl of ["", 42, null]) {
    assert.throws(
      () => new PowWorkerPool({ workerUrl: workerUrl as string }),
      (e) => e instanceof InvalidArgumentError && e.argument === "workerUrl",
    );
    assert.throws(
      () => solvePow(VECTOR, 4, { workers: 1, workerUrl: workerUrl as string }),
      (e) => e instanceof InvalidArgumentError && e.argument === "workerUrl",
    );
  }
});

Deno.test("PowWorkerPool refuses a size outside 1..64", () => {
  assert.throws(
    () => new PowWorkerPool({ size: 0 }),
    (e) => e instanceof InvalidArgumentError && e.argument === "size",
  );
});
