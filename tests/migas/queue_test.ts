import assert from "node:assert/strict";
import { MemoryStorage } from "../../src/core/storage.ts";
import { createMigas } from "../../src/migas/client.ts";
import { type MigasOptions, QUEUED_MESSAGE } from "../../src/migas/options.ts";
import { envOf, fakeFetch, migasResponse, type SeenRequest, SpyStorage } from "./_helpers.ts";

const PROJECT = "owner/tool";

function client(
  answer: (request: SeenRequest) => Response | Promise<Response>,
  options: MigasOptions = {},
) {
  const { fetch, seen } = fakeFetch(answer);
  const migas = createMigas({
    fileExists: () => false,
    endpoint: "http://migas.test",
    env: envOf({}),
    environment: { language_version: "2.0.0", platform: "linux", runtime: "deno" },
    userId: "user-1",
    sessionId: "session-1",
    logger: () => {},
    random: () => 0.5,
    fetch,
    // Never the user's own settings folder
    storage: new MemoryStorage(),
    ...options,
  });
  return { migas, seen };
}

const taken = () => migasResponse({ success: true, message: "" }, 202);
const down = () => new Response("<html>502 Bad Gateway</html>", { status: 502 });
const statusOf = (request: SeenRequest) => JSON.parse(request.body).proc.status;

Deno.test("a breadcrumb that cannot be delivered is kept in storage and sent on the next run", async () => {
  const storage = new MemoryStorage();
  const first = client(down, { storage });
  const failed = await first.migas.addBreadcrumb(PROJECT, "1.0.0", { status: "F" });
  assert.equal(failed.success, false);
  assert.equal(first.migas.queueStats().queued, 1);
  const stored = JSON.parse((await storage.get("migas:queue")) ?? "{}");
  assert.equal(JSON.parse(stored.items[0].body).proc.status, "F", "the queue is in storage");

  const next = client(taken, { storage });
  const answer = await next.migas.addBreadcrumb(PROJECT, "1.0.0", { status: "R" });
  assert.deepEqual(answer, { success: true, message: "" });
  assert.deepEqual(next.seen.map(statusOf), ["R", "F"]);
  assert.equal(
    next.seen[1].headers.get("idempotency-key"),
    first.seen[0].headers.get("idempotency-key"),
    "the retry reuses the key",
  );
  assert.equal(next.migas.queueStats().queued, 0);
  assert.equal(next.migas.queueStats().sent, 2);
});

Deno.test("every breadcrumb carries its own Idempotency-Key", async () => {
  const { migas, seen } = client(taken);
  await migas.addBreadcrumb(PROJECT, "1.0.0");
  await migas.addBreadcrumb(PROJECT, "1.0.0");
  const keys = seen.map((request) => request.headers.get("idempotency-key"));
  assert.ok(keys.every((key) => key !== null && key.length === 36));
  assert.notEqual(keys[0], keys[1]);
});

Deno.test("after a failure the client backs off: breadcrumbs are queued without a request", async () => {
  let now = 0;
  let up = false;
  const { migas, seen } = client(() => up ? taken() : down(), { now: () => now });
  await migas.addBreadcrumb(PROJECT, "1.0.0", { status: "R" });
  assert.equal(migas.queueStats().backoffRemainingMs, 500);
  const queued = await migas.addBreadcrumb(PROJECT, "1.0.0", { status: "C" });
  assert.deepEqual(queued, {
    success: false,
    message: QUEUED_MESSAGE,
    errors: [{ message: QUEUED_MESSAGE }],
  });
  assert.equal(seen.length, 1, "nothing is sent while backing off");
  now += 500;
  up = true;
  await migas.addBreadcrumb(PROJECT, "1.0.0", { status: "S" });
  assert.deepEqual(seen.map(statusOf), ["R", "S", "R", "C"]);
  assert.equal(migas.queueStats().queued, 0);
});

for (
  const [name, answer] of [
    ["a proxy's HTML 404", () => new Response("<html>Not Found</html>", { status: 404 })],
    [
      "a 400 detail without X-Backend-Server",
      () => new Response(JSON.stringify({ detail: "Bad" }), { status: 400 }),
    ],
    ["a timeout", () => new Promise<Response>(() => {})],
    ["a 429", () => migasResponse({ detail: "Too many requests, wait a minute." }, 429)],
  ] as const
) {
  Deno.test(`${name} keeps the breadcrumb queued`, async () => {
    const { migas } = client(answer, { timeoutMs: 20, storage: new MemoryStorage() });
    const result = await migas.addBreadcrumb(PROJECT, "1.0.0");
    assert.equal(result.success, false);
    assert.equal(migas.queueStats().queued, 1);
    assert.equal(migas.queueStats().dropped, 0);
  });
}

Deno.test("migas' own refusals drop the breadcrumb, counted, and queue nothing", async () => {
  const rest = client(() => migasResponse({ detail: "Project is not registered." }, 400), {
    storage: new MemoryStorage(),
  });
  assert.equal(
    JSON.stringify(await rest.migas.addBreadcrumb(PROJECT, "1.0.0")),
    JSON.stringify({ success: false, message: "Project is not registered." }),
  );
  assert.equal(rest.migas.queueStats().queued, 0);
  assert.deepEqual(rest.migas.queueStats().droppedByReason, { rejected: 1 });

  const graphql = client(
    () =>
      migasResponse({
        data: { add_breadcrumb: { success: false, message: "Project is not yet registered." } },
      }),
    { protocol: "graphql", storage: new MemoryStorage() },
  );
  await graphql.migas.addBreadcrumb(PROJECT, "1.0.0");
  assert.equal(graphql.migas.queueStats().queued, 0);
  assert.equal(graphql.migas.queueStats().dropped, 1);
});

Deno.test("with telemetry opted out, queued breadcrumbs are neither sent nor touched", async () => {
  const storage = new SpyStorage();
  await client(down, { storage }).migas.addBreadcrumb(PROJECT, "1.0.0");
  const accesses = storage.accesses;
  const kept = storage.map.get("migas:queue");
  const { migas, seen } = client(taken, { storage, env: envOf({ MIGAS_OPTOUT: "1" }) });
  await migas.addBreadcrumb(PROJECT, "1.0.0");
  await migas.flush();
  assert.equal(seen.length, 0);
  assert.equal(storage.accesses, accesses);
  assert.equal(storage.map.get("migas:queue"), kept);
});

Deno.test("flush() sends what earlier runs queued and never rejects", async () => {
  const storage = new MemoryStorage();
  await client(down, { storage }).migas.addBreadcrumb(PROJECT, "1.0.0", { status: "C" });
  const broken = client(() => Promise.reject(new TypeError("offline")), { storage });
  assert.equal((await broken.migas.flush()).queued, 1);
  const later = client(taken, { storage });
  const stats = await later.migas.flush();
  assert.equal(stats.queued, 0);
  assert.equal(stats.sent, 1);
  assert.deepEqual(later.seen.map(statusOf), ["C"]);
});

Deno.test("a storage that fails never makes a breadcrumb call reject", async () => {
  const failing = {
    get: () => Promise.reject(new Error("disk gone")),
    set: () => Promise.reject(new Error("disk gone")),
    delete: () => Promise.reject(new Error("disk gone")),
  };
  const { migas } = client(down, { storage: failing, userId: undefined });
  const answer = await migas.addBreadcrumb(PROJECT, "1.0.0");
  assert.equal(answer.success, false);
  assert.ok(migas.queueStats().persistErrors >= 1);
});

Deno.test("the backoff option sets the first delay, its cap and its jitter", async () => {
  let now = 0;
  const { migas } = client(down, {
    now: () => now,
    random: () => 0.5,
    backoff: { initialMs: 40, maxMs: 100, jitter: 0 },
  });
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    await migas.addBreadcrumb(PROJECT, "1.0.0");
    waits.push(migas.queueStats().backoffRemainingMs);
    now += waits[i];
  }
  assert.deepEqual(waits, [40, 80, 100, 100], "no jitter: the ceilings themselves, capped");
});

Deno.test("maxQueuedEvents bounds the stored breadcrumbs, dropping the oldest counted", async () => {
  let now = 0;
  const { migas } = client(down, { now: () => now, maxQueuedEvents: 2 });
  for (const status of ["R", "C", "F"] as const) {
    await migas.addBreadcrumb(PROJECT, "1.0.0", { status });
    now += 1_000_000;
  }
  const stats = migas.queueStats();
  assert.equal(stats.queued, 2);
  assert.equal(stats.droppedByReason.overflow, 1);
});
