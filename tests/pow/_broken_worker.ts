/**
 * Points a pool and `solvePow` at a worker module that cannot load and
 * prints what each did, as JSON: run in a child process by
 * `solver_test.ts`, so the runtime's own report of the worker's failure goes
 * to the child's captured stderr instead of into the test run.
 *
 * @module
 */

import { solvePow } from "../../src/pow/solve.ts";
import { PowWorkerPool } from "../../src/pow/worker_pool.ts";

const VECTOR = "3f9a1c0e5b7d2468ace013579bdf2468";
// A module path that does not exist, as the default worker URL is inside a bundle
const workerUrl = new URL("./_no_such_worker.js", import.meta.url);

const pool = new PowWorkerPool({ size: 1, workerUrl });
const poolError = await pool.solve(VECTOR, 4, { maxMs: 5000 }).then(
  () => undefined,
  (error: Error) => ({ name: error.name, message: error.message }),
);
pool.close();
const fallback = await solvePow(VECTOR, 4, { workers: 2, workerUrl, maxMs: 5000 });
console.log(JSON.stringify({ poolError, fallback: { ...fallback, ms: 0 } }));
