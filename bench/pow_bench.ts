/**
 * Proof-of-work solve speed against the plain approach, in one run so the
 * figure is a ratio: `deno bench bench/pow_bench.ts`. Every case solves the
 * same mkStats challenges to the same first nonce, so each does equal work.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import {
  createChallenge,
  MemoryUsedChallengeStore,
  solvePow,
  verifySolution,
} from "../src/pow/mod.ts";

const encoder = new TextEncoder();
// 4 challenges of 32 hex characters, difficulty 4: a few hundred thousand hashes in all
const CHALLENGES = Array.from(
  { length: 16 },
  (_, i) => (0x3f9a1c0e + i).toString(16).padStart(8, "0").repeat(4),
);

function leadingHexZeros(digest: Uint8Array, difficulty: number): boolean {
  for (let i = 0; i < difficulty; i++) {
    const byte = digest[i >> 1];
    if ((i & 1 ? byte & 0x0f : byte >> 4) !== 0) return false;
  }
  return true;
}

function nobleSolve(challenge: string, difficulty: number): string {
  for (let n = 0;; n++) {
    const nonce = n.toString(16);
    if (leadingHexZeros(sha256(encoder.encode(`${challenge}:${nonce}`)), difficulty)) return nonce;
  }
}

Deno.bench({
  name: "@noble/hashes sha256 per candidate",
  group: "solve 4 challenges, difficulty 4",
  baseline: true,
  fn() {
    for (const challenge of CHALLENGES) nobleSolve(challenge, 4);
  },
});

Deno.bench({
  name: "solvePow (TypeScript kernel)",
  group: "solve 4 challenges, difficulty 4",
  async fn() {
    for (const challenge of CHALLENGES) await solvePow(challenge, 4, { sliceMs: 1000 });
  },
});

const secret = crypto.getRandomValues(new Uint8Array(32));
const solved = await Promise.all(
  Array.from({ length: 1024 }, async () => {
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
