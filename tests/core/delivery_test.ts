import assert from "node:assert/strict";
import { BackoffGate } from "../../src/core/backoff.ts";
import {
  DeliveryEngine,
  type DeliverySource,
  type SendOutcome,
} from "../../src/core/delivery/mod.ts";

interface Batch {
  id: number;
  items: string[];
}

/** A source over an array: a batch is the first `size` items, with an id fixed at forming. */
function arraySource(items: string[], size = 2) {
  let formed = 0;
  const settled: { batch: Batch; kind: string; reason?: string }[] = [];
  const source: DeliverySource<Batch> = {
    next: () => items.length === 0 ? undefined : { id: ++formed, items: items.slice(0, size) },
    settle: (batch, outcome) => {
      items.splice(0, batch.items.length);
      settled.push({
        batch,
        kind: outcome.kind,
        ...(outcome.kind === "dropped" ? { reason: outcome.reason } : {}),
      });
    },
  };
  return { source, settled, formed: () => formed };
}

function scriptedSend(script: SendOutcome[]) {
  const seen: { batch: Batch; attempt: number }[] = [];
  const send = (batch: Batch, context: { attempt: number }) => {
    seen.push({ batch: structuredClone(batch), attempt: context.attempt });
    return Promise.resolve<SendOutcome>(script.shift() ?? { kind: "sent" });
  };
  return { send, seen };
}

Deno.test("drain() sends every batch in order and settles each", async () => {
  const items = ["a", "b", "c"];
  const { source, settled } = arraySource(items);
  const { send, seen } = scriptedSend([]);
  const engine = new DeliveryEngine({ source, send });
  assert.deepEqual(await engine.drain(), { sent: 2, dropped: 0, state: "drained", waitMs: 0 });
  assert.deepEqual(seen.map((s) => s.batch.items), [["a", "b"], ["c"]]);
  assert.deepEqual(settled.map((s) => s.kind), ["sent", "sent"]);
  assert.equal(items.length, 0);
});

Deno.test("a retry keeps the formed batch, unchanged, until it is acknowledged", async () => {
  let now = 0;
  const items = ["a", "b"];
  const { source, formed } = arraySource(items, 10);
  const { send, seen } = scriptedSend([
    { kind: "retry", reason: "server_error", status: 503 },
    { kind: "retry", reason: "network" },
  ]);
  const engine = new DeliveryEngine({
    source,
    send,
    backoff: { initialMs: 1000, random: () => 0.5, now: () => now },
  });
  const first = await engine.drain();
  assert.equal(first.state, "backoff");
  assert.equal(first.waitMs, 500);
  assert.equal(first.retry?.reason, "server_error");
  items.push("c"); // arrives meanwhile: goes to the next batch
  now += 500;
  assert.equal((await engine.drain()).waitMs, 1000, "the second failure doubles the ceiling");
  now += 1000;
  assert.equal((await engine.drain()).state, "drained");
  assert.deepEqual(seen.map((s) => [s.batch.id, s.batch.items, s.attempt]), [
    [1, ["a", "b"], 1],
    [1, ["a", "b"], 2],
    [1, ["a", "b"], 3],
    [2, ["c"], 1],
  ]);
  assert.equal(formed(), 2);
});

Deno.test("nothing is sent while the gate is closed, unless the drain is forced", async () => {
  let now = 0;
  const { source } = arraySource(["a"]);
  const { send, seen } = scriptedSend([{
    kind: "retry",
    reason: "rate_limited",
    retryAfterMs: 7000,
  }]);
  const engine = new DeliveryEngine({ source, send, backoff: { random: () => 0, now: () => now } });
  assert.equal((await engine.drain()).waitMs, 7000, "Retry-After wins over a shorter backoff");
  now += 6999;
  assert.deepEqual(await engine.drain(), { sent: 0, dropped: 0, state: "backoff", waitMs: 1 });
  assert.equal(seen.length, 1);
  assert.equal((await engine.drain({ force: true })).sent, 1);
  assert.equal(engine.stats().backoffRemainingMs, 0, "a success opens the gate");
});

Deno.test("a dropped batch is settled with its reason and counted, and the drain goes on", async () => {
  const { source, settled } = arraySource(["bad", "good"], 1);
  const { send } = scriptedSend([{ kind: "dropped", reason: "rejected", status: 400 }]);
  const engine = new DeliveryEngine({ source, send });
  assert.deepEqual(await engine.drain(), { sent: 1, dropped: 1, state: "drained", waitMs: 0 });
  assert.deepEqual(settled.map((s) => [s.batch.items[0], s.kind, s.reason]), [
    ["bad", "dropped", "rejected"],
    ["good", "sent", undefined],
  ]);
  assert.deepEqual(engine.stats().droppedByReason, { rejected: 1 });
});

Deno.test("a send that throws is a retry, so a bug never loses a batch", async () => {
  const items = ["a"];
  const { source } = arraySource(items);
  const engine = new DeliveryEngine<Batch>({
    source,
    send: () => Promise.reject(new TypeError("bug")),
    backoff: { random: () => 0 },
  });
  const result = await engine.drain();
  assert.equal(result.state, "backoff");
  assert.equal(result.retry?.reason, "unexpected");
  assert.deepEqual(engine.pending?.items, ["a"]);
  assert.equal(items.length, 1);
});

Deno.test("an aborted drain keeps its batch pending and does not back off", async () => {
  const controller = new AbortController();
  const { source } = arraySource(["a"]);
  const engine = new DeliveryEngine<Batch>({
    source,
    send: () => {
      controller.abort();
      return Promise.resolve({ kind: "retry", reason: "aborted" });
    },
  });
  assert.equal((await engine.drain({ signal: controller.signal })).state, "aborted");
  assert.equal(engine.stats().backoffRemainingMs, 0);
  assert.equal(engine.stats().retries, 0);
  assert.ok(engine.pending !== undefined);
});

Deno.test("maxBatches bounds one drain, and concurrent drains share one run", async () => {
  const { source } = arraySource(["a", "b", "c"], 1);
  const { send, seen } = scriptedSend([]);
  const engine = new DeliveryEngine({ source, send });
  assert.equal((await engine.drain({ maxBatches: 1 })).state, "limit");
  const [x, y] = await Promise.all([engine.drain(), engine.drain()]);
  assert.equal(x, y);
  assert.equal(seen.length, 3);
});

Deno.test("a shared gate makes one client's paths back off together", async () => {
  let now = 0;
  const gate = new BackoffGate({ initialMs: 1000, random: () => 0.5, now: () => now });
  gate.failed(); // a direct call failed
  const { source } = arraySource(["a"]);
  const { send, seen } = scriptedSend([]);
  const engine = new DeliveryEngine({ source, send, gate });
  assert.equal((await engine.drain()).state, "backoff");
  assert.equal(seen.length, 0);
  now += 500;
  assert.equal((await engine.drain()).state, "drained");
});

Deno.test("over 10 s of 503s, a client drained every 50 ms backs off exponentially", async () => {
  let now = 0;
  const items = ["a"];
  const { source } = arraySource(items);
  let requests = 0;
  const engine = new DeliveryEngine<Batch>({
    source,
    send: () => {
      requests++;
      return Promise.resolve({ kind: "retry", reason: "server_error", status: 503 });
    },
    backoff: { initialMs: 1000, random: () => 0.999, now: () => now },
  });
  for (; now <= 10_000; now += 50) await engine.drain();
  // Ceilings 1, 2, 4 s (×0.999 jitter): 4 tries within 10 s, not 200
  assert.equal(requests, 4);
  assert.equal(items.length, 1, "the batch is kept");
});

Deno.test("an engine without a usable source or send is refused at creation", () => {
  const send = () => Promise.resolve({ kind: "sent" } as const);
  assert.throws(
    () => new DeliveryEngine({ source: undefined as unknown as DeliverySource<number>, send }),
    { name: "InvalidArgumentError", argument: "source" },
  );
  assert.throws(
    () =>
      new DeliveryEngine({
        source: { next: () => undefined } as unknown as DeliverySource<number>,
        send,
      }),
    /'source' must be an object with next\(\), settle\(\)/,
  );
  assert.throws(
    () =>
      new DeliveryEngine<number>({
        source: { next: () => undefined, settle: () => {} },
        send: undefined as unknown as typeof send,
      }),
    { name: "InvalidArgumentError", argument: "send" },
  );
});
