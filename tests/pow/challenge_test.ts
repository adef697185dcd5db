import assert from "node:assert/strict";
import fc from "fast-check";
import { base64url } from "@scure/base";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import {
  createChallenge,
  type VerifyOptions,
  type VerifyResult,
  verifySolution,
} from "../../src/pow/challenge.ts";
import { meetsDifficulty } from "../../src/pow/rule.ts";
import { solvePow } from "../../src/pow/solve.ts";
import { MemoryUsedChallengeStore, type UsedChallengeStore } from "../../src/pow/used_store.ts";

const SECRET = new Uint8Array(32).fill(7);
const OTHER_SECRET = new Uint8Array(32).fill(8);
const SUBJECT = "pill_kstati:9f86d081884c7d65";
const T0 = 1_750_000_000_000;

function fixedRandom(length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => i * 17 + 3);
}

function issue(difficulty = 2, ttlMs = 300_000) {
  return createChallenge({
    secret: SECRET,
    subject: SUBJECT,
    difficulty,
    ttlMs,
    now: () => T0,
    randomBytes: fixedRandom,
  });
}

function options(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    secret: SECRET,
    subject: SUBJECT,
    usedStore: new MemoryUsedChallengeStore({ now: () => T0 }),
    now: () => T0 + 1000,
    ...overrides,
  };
}

/** The first counter nonce that fails the difficulty, to send as a wrong answer. */
function wrongNonce(challenge: string, difficulty: number): string {
  for (let counter = 0;; counter++) {
    const nonce = counter.toString(16);
    if (!meetsDifficulty(challenge, nonce, difficulty)) return nonce;
  }
}

function failed(reason: string): VerifyResult {
  return { ok: false, reason } as VerifyResult;
}

Deno.test("a created challenge solved by solvePow verifies ok with its difficulty and expiry", async () => {
  const issued = issue();
  assert.equal(issued.difficulty, 2);
  assert.equal(issued.expiresAt, T0 + 300_000);
  const { nonce } = await solvePow(issued.challenge, issued.difficulty);
  assert.deepEqual(await verifySolution(issued.challenge, nonce, options()), {
    ok: true,
    difficulty: 2,
    expiresAt: T0 + 300_000,
  });
});

Deno.test("createChallenge defaults to difficulty 4, a 5 minute TTL and fresh random bytes", () => {
  const a = createChallenge({ secret: SECRET, subject: SUBJECT, now: () => T0 });
  const b = createChallenge({ secret: SECRET, subject: SUBJECT, now: () => T0 });
  assert.equal(a.difficulty, 4);
  assert.equal(a.expiresAt, T0 + 300_000);
  assert.notEqual(a.challenge, b.challenge);
});

Deno.test("the expiry is rounded up to a whole second", () => {
  const issued = createChallenge({
    secret: SECRET,
    subject: SUBJECT,
    ttlMs: 1,
    now: () => T0 + 1,
  });
  assert.equal(issued.expiresAt, T0 + 1000);
});

Deno.test("a challenge is at most 40 base64url characters so challenge:nonce fits one SHA-256 block", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.integer({ min: 1, max: 16 }),
      fc.integer({ min: 1, max: 10 ** 9 }),
      fc.uint8Array({ minLength: 8, maxLength: 8 }),
      (subject, difficulty, ttlMs, random) => {
        const { challenge } = createChallenge({
          secret: SECRET,
          subject,
          difficulty,
          ttlMs,
          now: () => T0,
          randomBytes: () => random,
        });
        assert.match(challenge, /^[A-Za-z0-9_-]{1,40}$/);
        assert.equal(new TextEncoder().encode(`${challenge}:${"f".repeat(14)}`).length <= 55, true);
      },
    ),
    { seed: 6, numRuns: 300 },
  );
});

Deno.test("a second verification of the same solution is refused as replayed", async () => {
  const issued = issue();
  const { nonce } = await solvePow(issued.challenge, issued.difficulty);
  const shared = options();
  assert.equal((await verifySolution(issued.challenge, nonce, shared)).ok, true);
  assert.deepEqual(await verifySolution(issued.challenge, nonce, shared), failed("replayed"));
});

Deno.test("a wrong nonce is refused as insufficient_work without using up the challenge", async () => {
  const issued = issue(3);
  const shared = options();
  const wrong = wrongNonce(issued.challenge, 3);
  assert.deepEqual(
    await verifySolution(issued.challenge, wrong, shared),
    failed("insufficient_work"),
  );
  const { nonce } = await solvePow(issued.challenge, issued.difficulty);
  assert.equal((await verifySolution(issued.challenge, nonce, shared)).ok, true);
});

Deno.test("a challenge below minDifficulty is refused as insufficient_work even when solved", async () => {
  const issued = issue(2);
  const { nonce } = await solvePow(issued.challenge, issued.difficulty);
  assert.deepEqual(
    await verifySolution(issued.challenge, nonce, options({ minDifficulty: 3 })),
    failed("insufficient_work"),
  );
});

Deno.test("a challenge with any one character changed is refused as forged or malformed", async () => {
  const issued = issue();
  const { nonce } = await solvePow(issued.challenge, issued.difficulty);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 39 }),
      fc.integer({ min: 1, max: 63 }),
      async (position, shift) => {
        const original = alphabet.indexOf(issued.challenge[position]);
        const replaced = alphabet[(original + shift) % 64];
        const tampered = issued.challenge.slice(0, position) + replaced +
          issued.challenge.slice(position + 1);
        const result = await verifySolution(tampered, nonce, options());
        assert.equal(result.ok, false);
        assert.ok(!result.ok && (result.reason === "forged" || result.reason === "malformed"));
      },
    ),
    { seed: 7, numRuns: 300 },
  );
});

Deno.test("a challenge whose random bytes are changed is refused as forged", async () => {
  const issued = issue();
  const bytes = base64url.decode(issued.challenge);
  bytes[3] ^= 1;
  assert.deepEqual(
    await verifySolution(base64url.encode(bytes), "0", options()),
    failed("forged"),
  );
});

Deno.test("a challenge whose difficulty byte is lowered is refused as forged", async () => {
  const issued = issue(4);
  const bytes = base64url.decode(issued.challenge);
  bytes[9] = 1;
  const tampered = base64url.encode(bytes);
  const { nonce } = await solvePow(tampered, 1);
  assert.deepEqual(await verifySolution(tampered, nonce, options()), failed("forged"));
});

Deno.test("a challenge verified for another subject or with another secret is refused as forged", async () => {
  const issued = issue();
  const { nonce } = await solvePow(issued.challenge, issued.difficulty);
  assert.deepEqual(
    await verifySolution(issued.challenge, nonce, options({ subject: `${SUBJECT}x` })),
    failed("forged"),
  );
  assert.deepEqual(
    await verifySolution(issued.challenge, nonce, options({ secret: OTHER_SECRET })),
    failed("forged"),
  );
});

Deno.test("subjects are length-prefixed so shifting bytes between them never verifies", async () => {
  const a = createChallenge({
    secret: SECRET,
    subject: "ab",
    now: () => T0,
    difficulty: 1,
    randomBytes: fixedRandom,
  });
  const { nonce } = await solvePow(a.challenge, 1);
  assert.deepEqual(
    await verifySolution(a.challenge, nonce, options({ subject: "ab\0" })),
    failed("forged"),
  );
  assert.equal((await verifySolution(a.challenge, nonce, options({ subject: "ab" }))).ok, true);
});

Deno.test("a challenge is refused as expired from its expiry on, and accepted just before", async () => {
  const issued = issue(1, 60_000);
  const { nonce } = await solvePow(issued.challenge, issued.difficulty);
  assert.deepEqual(
    await verifySolution(issued.challenge, nonce, options({ now: () => issued.expiresAt })),
    failed("expired"),
  );
  assert.equal(
    (await verifySolution(issued.challenge, nonce, options({ now: () => issued.expiresAt - 1 })))
      .ok,
    true,
  );
});

Deno.test("malformed challenges and nonces are refused as malformed", async () => {
  const issued = issue();
  const { nonce } = await solvePow(issued.challenge, issued.difficulty);
  const bytes = base64url.decode(issued.challenge);
  const withByte = (index: number, value: number) => {
    const copy = bytes.slice();
    copy[index] = value;
    return base64url.encode(copy);
  };
  const badChallenges: unknown[] = [
    "",
    issued.challenge.slice(0, 39),
    `${issued.challenge}A`,
    `${issued.challenge.slice(0, 39)}=`,
    `${issued.challenge.slice(0, 39)}+`,
    `${issued.challenge.slice(0, 39)}/`,
    `${issued.challenge.slice(0, 39)} `,
    "é".repeat(40),
    withByte(0, 2),
    withByte(9, 0),
    withByte(9, 17),
    undefined,
    42,
  ];
  for (const challenge of badChallenges) {
    assert.deepEqual(
      await verifySolution(challenge as string, nonce, options()),
      failed("malformed"),
      `challenge ${String(challenge)}`,
    );
  }
  const badNonces: unknown[] = ["", "ABC", "0x1", "-1", " 1", "1 ", "g", "123456789abcdef", null];
  for (const badNonce of badNonces) {
    assert.deepEqual(
      await verifySolution(issued.challenge, badNonce as string, options()),
      failed("malformed"),
      `nonce ${String(badNonce)}`,
    );
  }
});

Deno.test("the used store is consulted last, only for complete and correct answers", async () => {
  const marked: string[] = [];
  const usedStore: UsedChallengeStore = {
    markUsed: (id) => {
      marked.push(id);
      return Promise.resolve(true);
    },
  };
  const issued = issue(3);
  await verifySolution(issued.challenge, wrongNonce(issued.challenge, 3), options({ usedStore }));
  await verifySolution(issued.challenge, "0", options({ usedStore, subject: "other" }));
  await verifySolution(issued.challenge, "0", options({ usedStore, now: () => T0 + 10 ** 9 }));
  assert.deepEqual(marked, []);
  const { nonce } = await solvePow(issued.challenge, 3);
  await verifySolution(issued.challenge, nonce, options({ usedStore }));
  assert.deepEqual(marked, [issued.challenge]);
});

Deno.test("verifySolution rejects with whatever the used store rejects with", async () => {
  const failure = new Error("database down");
  const usedStore: UsedChallengeStore = { markUsed: () => Promise.reject(failure) };
  const issued = issue(1);
  const { nonce } = await solvePow(issued.challenge, 1);
  await assert.rejects(verifySolution(issued.challenge, nonce, options({ usedStore })), failure);
});

Deno.test("createChallenge throws InvalidArgumentError for bad options without echoing the secret", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ secret: new Uint8Array(15).fill(0xab) }, "secret"],
    [{ secret: "a string secret of enough length" }, "secret"],
    [{ subject: 7 }, "subject"],
    [{ difficulty: 0 }, "difficulty"],
    [{ difficulty: 17 }, "difficulty"],
    [{ difficulty: 2.5 }, "difficulty"],
    [{ ttlMs: 0 }, "ttlMs"],
    [{ ttlMs: Number.NaN }, "ttlMs"],
    [{ ttlMs: 10 ** 13 }, "ttlMs"],
    [{ randomBytes: () => new Uint8Array(7) }, "randomBytes"],
  ];
  for (const [override, argument] of cases) {
    assert.throws(
      () =>
        createChallenge(
          { secret: SECRET, subject: SUBJECT, ...override } as unknown as Parameters<
            typeof createChallenge
          >[0],
        ),
      (error) =>
        error instanceof InvalidArgumentError && error.argument === argument &&
        !error.message.includes("a string secret") && !/\b(171|ab)\b/.test(error.message),
      argument,
    );
  }
});

Deno.test("verifySolution throws InvalidArgumentError for a short secret, missing store or bad minDifficulty", () => {
  const issued = issue();
  const cases: [Partial<VerifyOptions>, string][] = [
    [{ secret: new Uint8Array(8) }, "secret"],
    [{ usedStore: undefined as unknown as UsedChallengeStore }, "usedStore"],
    [{ minDifficulty: 0 }, "minDifficulty"],
    [{ minDifficulty: 65 }, "minDifficulty"],
  ];
  for (const [override, argument] of cases) {
    assert.throws(
      () => verifySolution(issued.challenge, "0", options(override)),
      (error) => error instanceof InvalidArgumentError && error.argument === argument,
      argument,
    );
  }
});
