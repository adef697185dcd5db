/**
 * Solves the known mkStats vector and prints which kernel ran and what the
 * calibration measured, so a test can run it where WebAssembly is missing
 * or under another runtime.
 *
 * @module
 */

import { calibrate } from "../../src/pow/_select.ts";
import { solvePow } from "../../src/pow/solve.ts";

const solution = await solvePow("3f9a1c0e5b7d2468ace013579bdf2468", 4);
const { rates } = await calibrate();
console.log(
  JSON.stringify({
    nonce: solution.nonce,
    hashes: solution.hashes,
    kernel: solution.kernel,
    rates,
  }),
);
