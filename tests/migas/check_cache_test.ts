import assert from "node:assert/strict";
import { createMigas } from "../../src/migas/client.ts";
import { envOf, fakeFetch, migasResponse, SpyStorage } from "./_helpers.ts";

const HOUR = 3_600_000;

function setupChecks(options: { checkIntervalMs?: number; storage?: SpyStorage } = {}) {
  let clock = 1_700_000_000_000;
  let latest = "1.1.0";
  let up = true;
  const { fetch, seen } = fakeFetch(() =>
    up
      ? migasResponse({
        data: { check_project: { success: true, flagged: false, latest, message: "" } },
      })
      : Promise.reject(new TypeError("connection refused"))
  );
  const migas = createMigas({
    fileExists: () => false,
    endpoint: "http://migas.test",
    env: envOf({}),
    fetch,
    now: () => clock,
    storage: options.storage ?? new SpyStorage(),
    checkIntervalMs: options.checkIntervalMs,
    logger: () => {},
  });
  return {
    migas,
    seen,
    advance: (ms: number) => void (clock += ms),
    release: (version: string) => void (latest = version),
    setUp: (value: boolean) => void (up = value),
  };
}

Deno.test("a second check within 24 hours is served from the cache without a request", async () => {
  const { migas, seen, advance } = setupChecks();
  const first = await migas.checkProject("owner/tool", "1.0.0");
  advance(23 * HOUR);
  const second = await migas.checkProject("owner/tool", "1.0.0");
  assert.equal(seen.length, 1);
  assert.equal("cached" in first, false);
  assert.deepEqual(second, { ...first, cached: true });
});

Deno.test("a check after 24 hours asks the server again and refreshes the cache", async () => {
  const { migas, seen, advance, release } = setupChecks();
  await migas.checkProject("owner/tool", "1.0.0");
  release("1.2.0");
  advance(24 * HOUR);
  const fresh = await migas.checkProject("owner/tool", "1.0.0");
  assert.equal(seen.length, 2);
  assert.equal("latest" in fresh && fresh.latest, "1.2.0");
  advance(HOUR);
  const cached = await migas.checkProject("owner/tool", "1.0.0");
  assert.equal(seen.length, 2);
  assert.equal("latest" in cached && cached.latest, "1.2.0");
});

Deno.test("the interval is configurable and 0 asks every time", async () => {
  const hourly = setupChecks({ checkIntervalMs: HOUR });
  await hourly.migas.checkProject("owner/tool", "1.0.0");
  hourly.advance(HOUR);
  await hourly.migas.checkProject("owner/tool", "1.0.0");
  assert.equal(hourly.seen.length, 2);
  const always = setupChecks({ checkIntervalMs: 0 });
  await always.migas.checkProject("owner/tool", "1.0.0");
  await always.migas.checkProject("owner/tool", "1.0.0");
  assert.equal(always.seen.length, 2);
});

Deno.test("the cache lives in storage, so a new client in a later process reuses it", async () => {
  const storage = new SpyStorage();
  const first = setupChecks({ storage });
  await first.migas.checkProject("owner/tool", "1.0.0");
  const second = setupChecks({ storage });
  const answer = await second.migas.checkProject("owner/tool", "1.0.0");
  assert.equal(second.seen.length, 0);
  assert.equal("cached" in answer && answer.cached, true);
});

Deno.test("a different version in use is checked again", async () => {
  const { migas, seen } = setupChecks();
  await migas.checkProject("owner/tool", "1.0.0");
  await migas.checkProject("owner/tool", "1.1.0");
  assert.equal(seen.length, 2);
});

Deno.test("an expired answer is served cached while the server cannot be reached", async () => {
  const { migas, advance, setUp } = setupChecks();
  await migas.checkProject("owner/tool", "1.0.0");
  advance(48 * HOUR);
  setUp(false);
  const answer = await migas.checkProject("owner/tool", "1.0.0");
  assert.equal(answer.success, true);
  assert.equal("cached" in answer && answer.cached, true);
});

Deno.test("concurrent checks share one request", async () => {
  const { migas, seen } = setupChecks();
  await Promise.all([
    migas.checkProject("owner/tool", "1.0.0"),
    migas.checkProject("owner/tool", "1.0.0"),
  ]);
  assert.equal(seen.length, 1);
});
