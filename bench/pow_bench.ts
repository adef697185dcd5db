/**
 * Proof-of-work speed against its peers, in one run so every figure is a
 * ratio: `deno bench -A bench/pow_bench.ts`. Within a group every case does
 * the same work (the same challenges to the same first nonces, or for
 * altcha-lib a secret number equal to our hash count), so the time ratio is
 * the speed ratio.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { solveChallenge as altchaSolve } from "altcha-lib/v1";
import {
  createChallenge,
  MemoryUsedChallengeStore,
  PowWorkerPool,
  solvePow,
  verifySolution,
} from "../src/pow/mod.ts";

const encoder = new TextEncoder();
const challenges = (count: number, seed: number) =>
  Array.from(
    { length: count },
    (_, i) => (seed + i * 0x9e3779b1 >>> 0).toString(16).padStart(8, "0").repeat(4),
  );

function hexZeros(digest: Uint8Array, difficulty: number): boolean {
  for (let i = 0; i < difficulty; i++) {
    const byte = digest[i >> 1];
    if ((i & 1 ? byte & 0x0f : byte >> 4) !== 0) return false;
  }
  return true;
}

// --- Single thread: each kernel against @noble/hashes per candidate -----------------------------

/** Challenges whose first solution at `difficulty` needs between `min` and `max` hashes, found once. */
async function challengesNeeding(
  count: number,
  difficulty: number,
  min: number,
  max: number,
  seed: number,
) {
  const found: { challenge: string; hashes: number }[] = [];
  for (const challenge of challenges(4096, seed)) {
    const { hashes } = await solvePow(challenge, difficulty);
    if (hashes >= min && hashes <= max) found.push({ challenge, hashes });
    if (found.length === count) return found;
  }
  throw new Error("no such challenges");
}

// Four challenges of about three times the expected work each, so the figure is the kernels'
// steady speed rather than their set-up
const SINGLE = await challengesNeeding(4, 4, 150_000, 250_000, 0x3f9a1c0e);
const singleHashes = SINGLE.reduce((sum, { hashes }) => sum + hashes, 0);
const single = `single thread: ${singleHashes} hashes (4 challenges of 32 hex, difficulty 4)`;

Deno.bench({
  name: "@noble/hashes sha256 per candidate",
  group: single,
  baseline: true,
  // Its allocation-heavy loop makes single iterations swing with garbage collection
  n: 10,
  warmup: 2,
  fn() {
    for (const { challenge } of SINGLE) {
      for (let n = 0;; n++) {
        if (hexZeros(sha256(encoder.encode(`${challenge}:${n.toString(16)}`)), 4)) break;
      }
    }
  },
});

for (const kernel of ["ts-compact", "ts-unrolled", "wasm-simd"] as const) {
  Deno.bench({
    name: `solvePow, ${kernel} kernel`,
    group: single,
    // Steady speed: the first solves run while the JIT is still optimising the kernel
    warmup: 3,
    n: 10,
    async fn() {
      for (const { challenge } of SINGLE) await solvePow(challenge, 4, { kernel });
    },
  });
}

// --- The solver against what browser PoW widgets do -------------------------------------------

// One challenge of about the expected work at difficulty 4 (65 536 hashes)
const [{ challenge: PEER, hashes: peerHashes }] = await challengesNeeding(
  1,
  4,
  50_000,
  80_000,
  0x1234567,
);
const web = `vs web solvers: ${peerHashes} hashes`;

async function subtleSolve(challenge: string, difficulty: number): Promise<string> {
  for (let n = 0;; n++) {
    const nonce = n.toString(16);
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", encoder.encode(`${challenge}:${nonce}`)),
    );
    if (hexZeros(digest, difficulty)) return nonce;
  }
}

Deno.bench({
  name: "crypto.subtle.digest per candidate, awaited",
  group: web,
  baseline: true,
  n: 3,
  warmup: 1,
  async fn() {
    await subtleSolve(PEER, 4);
  },
});

// altcha-lib's web solver looks for the number whose SHA-256 of salt + number is the
// challenge; a secret number of peerHashes - 1 costs it exactly peerHashes hashes
const SALT = "0123456789abcdef?expires=0&";
const ALTCHA = bytesToHex(sha256(encoder.encode(SALT + (peerHashes - 1))));

Deno.bench({
  name: "altcha-lib solveChallenge (web path)",
  group: web,
  n: 3,
  warmup: 1,
  async fn() {
    const solution = await altchaSolve(ALTCHA, SALT, "SHA-256", 10_000_000).promise;
    if (solution?.number !== peerHashes - 1) throw new Error("altcha-lib did not find the number");
  },
});

Deno.bench({
  name: "solvePow",
  group: web,
  async fn() {
    await solvePow(PEER, 4);
  },
});

// --- Workers: one against two, pools kept warm between iterations ------------------------------

const PARALLEL = challenges(4, 0x51ed270b);
const parallel = "workers: 4 challenges of 32 hex, difficulty 5";
// Workers stop after 2 s idle, so the run ends by itself once the benches are done
const one = new PowWorkerPool({ size: 1, idleMs: 2000 });
const two = new PowWorkerPool({ size: 2, idleMs: 2000 });
for (const pool of [one, two]) await pool.solve(PARALLEL[0], 2);

Deno.bench({
  name: "one worker",
  group: parallel,
  baseline: true,
  async fn() {
    for (const challenge of PARALLEL) await one.solve(challenge, 5);
  },
});

Deno.bench({
  name: "two workers",
  group: parallel,
  async fn() {
    for (const challenge of PARALLEL) await two.solve(challenge, 5);
  },
});

Deno.bench({
  name: "calling thread",
  group: parallel,
  async fn() {
    for (const challenge of PARALLEL) await solvePow(challenge, 5);
  },
});

// --- Server-side verification ------------------------------------------------------------------

const secret = crypto.getRandomValues(new Uint8Array(32));
const solved = await Promise.all(
  Array.from({ length: 4096 }, async () => {
    const { challenge, difficulty } = createChallenge({ secret, subject: "bench", difficulty: 1 });
    return { challenge, nonce: (await solvePow(challenge, difficulty)).nonce };
  }),
);
let next = 0;
let usedStore = new MemoryUsedChallengeStore();

Deno.bench({
  name: "verifySolution (one hash, one HMAC, single-use mark)",
  group: "verify",
  async fn() {
    if (next === solved.length) {
      next = 0;
      usedStore = new MemoryUsedChallengeStore();
    }
    const { challenge, nonce } = solved[next++];
    const result = await verifySolution(challenge, nonce, { secret, subject: "bench", usedStore });
    if (!result.ok) throw new Error(`verification failed: ${result.reason}`);
  },
});
