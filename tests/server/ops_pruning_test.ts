/**
 * Pruning runs off the request path: in chunks of at most 500 rows with
 * the event loop free between them, started by a timer every
 * `pruneIntervalMs` (and by traffic when due), one pass at a time, stopped
 * by `close()`, its failures logged and never answered to a request.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import {
  createServer,
  MemoryStore,
  type ServerLogEntry,
  type ServerStore,
} from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { errorOf, KEY, makeServer, postJson, vectors } from "./_honch_routes_fixtures.ts";
import { REPOSITORY_ROOT, runChild } from "../_helpers/runtimes.ts";

/** The prune methods, in the order a pass calls them. */
const TASKS = [
  "pruneChallenges",
  "pruneInstallTokens",
  "pruneHonch",
  "pruneIdempotencyKeys",
  "pruneEmitter",
] as const;

type Task = typeof TASKS[number];

/** One prune call as the server made it. */
interface Call {
  task: Task;
  limit: number;
  removed: number;
}

/** A store whose prune calls are recorded, can be held open, or made to fail. */
class RecordingStore {
  readonly store: ServerStore;
  readonly calls: Call[] = [];
  /** What happened, in order: each prune call as `task:removed`, and what the test adds. */
  readonly events: string[] = [];
  /** Prune methods that reject. */
  readonly failing = new Set<Task>();
  /** While set, `pruneChallenges` waits for `release()` before it runs. */
  hold = false;
  #release: (() => void)[] = [];
  #waiters: { when: (call: Call | undefined, task: Task) => boolean; resolve: () => void }[] = [];

  constructor(inner: ServerStore) {
    const store: ServerStore = { ...inner };
    for (const task of TASKS) {
      const prune = inner[task].bind(inner) as (now: number, limit: number) => Promise<number>;
      store[task] = async (now: number, limit: number): Promise<number> => {
        this.#notify(undefined, task);
        if (task === "pruneChallenges" && this.hold) {
          await new Promise<void>((resolve) => this.#release.push(resolve));
        }
        if (this.failing.has(task)) throw new Error("store down");
        const removed = await prune(now, limit);
        const call = { task, limit, removed };
        this.calls.push(call);
        this.events.push(`${task}:${removed}`);
        this.#notify(call, task);
        return removed;
      };
    }
    this.store = store;
  }

  /** Resolves when `task` is first called from now on. */
  called(task: Task): Promise<void> {
    return this.#wait((call, at) => call === undefined && at === task);
  }

  /** Resolves when `task` finishes its last chunk: fewer rows than its limit (or no limit, as before). */
  finished(task: Task): Promise<void> {
    return this.#wait((call) => call?.task === task && !(call.removed >= call.limit));
  }

  /** Lets held prunes go on. */
  release(): void {
    this.hold = false;
    for (const resolve of this.#release.splice(0)) resolve();
  }

  #wait(when: (call: Call | undefined, task: Task) => boolean): Promise<void> {
    return new Promise((resolve) => this.#waiters.push({ when, resolve }));
  }

  #notify(call: Call | undefined, task: Task): void {
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.when(call, task)) return true;
      waiter.resolve();
      return false;
    });
  }
}

const BASE = vectors.json_ingest_fixtures[0].fixture.request.body as Record<string, unknown>;

/** A Honch capture: a request that opens the store and starts maintenance when it is due. */
async function capture(server: ReturnType<typeof makeServer>["server"]): Promise<void> {
  await errorOf(await postJson(server, { ...BASE, events: [{ event: "tick" }] }), 200);
}

function removed(calls: readonly Call[], task: Task): number[] {
  return calls.filter((call) => call.task === task).map((call) => call.removed);
}

Deno.test("expired rows are removed in chunks of at most 500 rows, live ones kept", async () => {
  const recording = new RecordingStore(new MemoryStore());
  const { store } = recording;
  const { server, clock } = makeServer({ store });
  try {
    for (let i = 0; i < 1200; i++) await store.markChallengeUsed(`old${i}`, clock.time - 1);
    await store.markChallengeUsed("live", clock.time + 60_000);
    const done = recording.finished("pruneEmitter");
    await capture(server);
    await done;
    assert.deepEqual(removed(recording.calls, "pruneChallenges"), [500, 500, 200]);
    assert.ok(recording.calls.every((call) => call.limit === 500));
    // Every task ran once the challenges were done, each ending below its limit.
    assert.deepEqual(
      TASKS.map((task) => recording.calls.some((call) => call.task === task)),
      [true, true, true, true, true],
    );
    assert.equal(await store.markChallengeUsed("old0", clock.time + 1), true);
    assert.equal(await store.markChallengeUsed("live", clock.time + 1), false);
  } finally {
    await server.close();
  }
});

Deno.test("/healthz is answered while a prune of 200,000 expired SQLite rows is still running", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  try {
    await new SqliteStore(path).close();
    const time = Date.UTC(2025, 0, 15, 12);
    // Written directly, in one statement: 200,000 spent challenges, all expired.
    const raw = new DatabaseSync(path);
    raw.exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
       INSERT INTO used_challenges (id, expires_at) SELECT 'c' || i, ${time - 1} FROM n`,
    );
    raw.close();
    const recording = new RecordingStore(new SqliteStore(path));
    const { server } = makeServer({ store: recording.store });
    try {
      const started = recording.called("pruneChallenges");
      const done = recording.finished("pruneChallenges");
      const triggered = capture(server);
      await started;
      const health = await server.fetch(new Request("http://x/healthz"));
      assert.deepEqual(await health.json(), { ok: true });
      recording.events.push("healthz");
      await done;
      await triggered;
      const chunks = removed(recording.calls, "pruneChallenges");
      // The answer came before the pass ended, with most of the rows still to go.
      const answered = recording.events.indexOf("healthz");
      const last = recording.events.lastIndexOf(`pruneChallenges:${chunks.at(-1)}`);
      assert.ok(
        answered < last,
        `healthz answered after the prune: ${recording.events.slice(0, 3)}`,
      );
      assert.ok(answered <= 2, `healthz waited for ${answered} chunks`);
      assert.equal(chunks.reduce((sum, n) => sum + n, 0), 200_000);
      assert.ok(chunks.every((n) => n <= 500), `a chunk removed more than 500 rows`);
    } finally {
      await server.close();
    }
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.remove(`${path}${suffix}`).catch(() => {});
    }
  }
});

Deno.test("the timer prunes on its own, with no request after the store opened", async () => {
  const recording = new RecordingStore(new MemoryStore());
  const { store } = recording;
  const { server, clock } = makeServer({ store, pruneIntervalMs: 20 });
  try {
    // The first request opens the store (starting the timer) and runs the first pass.
    const first = recording.finished("pruneEmitter");
    await capture(server);
    await first;
    await store.markChallengeUsed("spent", clock.time + 5);
    const calls = recording.calls.length;
    // Due on the server's clock; from here on only the timer can start a pass.
    clock.time += 20;
    // The server's timer is unref'd on purpose: this referenced one keeps the test alive, and bounds it.
    let guard: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timed out">((resolve) => {
      guard = setTimeout(() => resolve("timed out"), 5000);
    });
    const outcome = await Promise.race([recording.finished("pruneEmitter"), timedOut]);
    clearTimeout(guard);
    assert.notEqual(outcome, "timed out");
    assert.deepEqual(removed(recording.calls.slice(calls), "pruneChallenges"), [1]);
    assert.equal(await store.markChallengeUsed("spent", clock.time + 5), true);
  } finally {
    await server.close();
  }
});

Deno.test("close() stops the timer and waits for a running pass, which stops after its chunk", async () => {
  const recording = new RecordingStore(new MemoryStore());
  const { server, clock } = makeServer({ store: recording.store, pruneIntervalMs: 10 });
  recording.hold = true;
  const held = recording.called("pruneChallenges");
  await capture(server);
  await held;
  let closed = false;
  const closing = server.close().then(() => closed = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(closed, false);
  recording.release();
  await closing;
  // The held chunk ran; no later task did, and no timer fires after close().
  assert.deepEqual(recording.calls.map((call) => call.task), ["pruneChallenges"]);
  clock.time += 1000;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(recording.calls.length, 1);
});

Deno.test("a failing prune is logged, the other stores are still pruned, and no request sees it", async () => {
  const recording = new RecordingStore(new MemoryStore());
  recording.failing.add("pruneHonch");
  const entries: ServerLogEntry[] = [];
  const { server } = makeServer({ store: recording.store, log: (entry) => entries.push(entry) });
  try {
    const done = recording.finished("pruneEmitter");
    await capture(server);
    await done;
    assert.deepEqual(recording.calls.map((call) => call.task), [
      "pruneChallenges",
      "pruneInstallTokens",
      "pruneIdempotencyKeys",
      "pruneEmitter",
    ]);
    assert.equal(entries.length, 1);
    const { time: _time, requestId, durationMs, ...entry } = entries[0];
    assert.match(requestId, /^[0-9a-f-]{36}$/);
    assert.ok(durationMs >= 0);
    assert.deepEqual(entry, {
      level: "error",
      method: "TASK",
      route: "prune/honch",
      status: 500,
      reason: "prune_failed",
      error: "Error",
      task: "prune",
    });
  } finally {
    await server.close();
  }
});

Deno.test("a Worker's waitUntil gets the pass its request started, so it ends after the answer", async () => {
  const recording = new RecordingStore(new MemoryStore());
  const { server } = makeServer({ store: recording.store });
  try {
    const waited: Promise<unknown>[] = [];
    const ctx = { waitUntil: (promise: Promise<unknown>) => void waited.push(promise) };
    const body = JSON.stringify({ ...BASE, events: [{ event: "tick" }] });
    const response = await server.fetch(
      new Request("http://x/capture", {
        method: "POST",
        headers: { "content-type": "application/json", "x-honch-project-key": KEY },
        body,
      }),
      undefined,
      ctx,
    );
    await errorOf(response, 200);
    assert.equal(waited.length, 1);
    // Answered before any chunk ran; the promise handed over ends with the pass.
    assert.equal(recording.calls.length, 0);
    await waited[0];
    assert.deepEqual(recording.calls.map((call) => call.task), TASKS);
    // No pass runs now: a request hands nothing over.
    await (await server.fetch(new Request("http://x/healthz"), undefined, ctx)).body?.cancel();
    assert.equal(waited.length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("pruneIntervalMs must be a whole number of milliseconds from 1 to 2^31 - 1", () => {
  for (const value of [0, -1, 1.5, 2 ** 31, "60000", Number.NaN]) {
    assert.throws(
      () => createServer({ pruneIntervalMs: value as number }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError);
        assert.match(error.message, /pruneIntervalMs/);
        return true;
      },
    );
  }
});

Deno.test("a server left open does not keep a Deno process alive: the pruning timer is unref'd", async () => {
  const fixtures = new URL("./_honch_routes_fixtures.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { errorOf, makeServer, postJson, vectors } from ${JSON.stringify(fixtures)};
       const { server } = makeServer({ pruneIntervalMs: 60_000 });
       const base = vectors.json_ingest_fixtures[0].fixture.request.body;
       await errorOf(await postJson(server, { ...base, events: [{ event: "tick" }] }), 200);
       console.log("answered");
       // Never closed: the store is open and its pruning timer set.`,
    );
    const config = `${REPOSITORY_ROOT}deno.json`;
    const result = await runChild(
      Deno.execPath(),
      ["run", "-A", "--no-check", "--config", config, script],
      { cwd: REPOSITORY_ROOT, timeoutMs: 15_000 },
    );
    assert.equal(result.timedOut, false, "the process stayed alive");
    assert.equal(result.success, true, result.stderr);
    assert.equal(result.stdout.trim(), "answered");
  } finally {
    await Deno.remove(script);
  }
});
