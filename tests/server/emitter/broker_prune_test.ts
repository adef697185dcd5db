/**
 * The Emitter broker deletes expired stored messages on its own, so a server
 * carrying only Emitter traffic (no HTTP request to run its maintenance)
 * still prunes: at most once a minute on the broker's clock while
 * connections are open, never on a publish's path, one prune at a time, and
 * a failing prune is counted rather than thrown.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { EmitterBroker } from "../../../src/server/emitter/broker.ts";
import {
  connected,
  type FakeTime,
  keyFor,
  makeBroker,
  settle,
  type TestClient,
} from "./_broker_harness.ts";
import { TestEmitterStore } from "./_memory_emitter_store.ts";

/** The test store, with every prune's time recorded and a switch to hold prunes open. */
class PruneRecordingStore extends TestEmitterStore {
  /** The `now` of every prune the broker started. */
  readonly prunes: number[] = [];
  /** While set, a prune waits for `release()`. */
  hold = false;
  #release: (() => void)[] = [];

  override async pruneEmitter(now: number, limit: number): Promise<number> {
    this.prunes.push(now);
    if (this.hold) await new Promise<void>((resolve) => this.#release.push(resolve));
    return await super.pruneEmitter(now, limit);
  }

  /** Lets the held prunes go on. */
  release(): void {
    for (const resolve of this.#release.splice(0)) resolve();
  }
}

/** Moves the clock by `ms` in one-second steps, pinging so `client` stays connected. */
function advance(time: FakeTime, client: TestClient, ms: number): void {
  for (let moved = 0; moved < ms; moved += 1000) {
    client.write({ type: "pingreq" });
    time.advance(Math.min(1000, ms - moved));
  }
  client.take();
}

async function setup(): Promise<{
  broker: EmitterBroker;
  time: FakeTime;
  store: PruneRecordingStore;
  key: string;
}> {
  const store = new PruneRecordingStore();
  const made = await makeBroker({ store });
  return { ...made, store, key: keyFor(made.broker, "news/", "rwsl") };
}

Deno.test("the broker deletes expired stored messages once a minute with only MQTT traffic", async () => {
  const { broker, time, store, key } = await setup();
  const start = time.now;
  const client = connected(broker);
  client.publish(`${key}/news/?ttl=30`, "short-lived");
  await settle();
  const [stored] = store.stored;
  assert.equal(stored.expiresAt, start + 30_000);

  advance(time, client, 59_000);
  await settle();
  assert.deepEqual(store.prunes, []);
  const early = {
    ssid: stored.ssid,
    from: 0,
    until: Number.MAX_SAFE_INTEGER,
    limit: 10,
    now: stored.time,
  };
  assert.equal((await store.memory.queryEmitterMessages(early)).length, 1);

  advance(time, client, 1000);
  await settle();
  assert.deepEqual(store.prunes, [start + 60_000]);
  // Gone from the store, not only hidden by the query's clock
  assert.equal((await store.memory.queryEmitterMessages(early)).length, 0);
  assert.equal(broker.stats().prunes, 1);

  advance(time, client, 59_000);
  await settle();
  assert.equal(store.prunes.length, 1);
  advance(time, client, 1000);
  await settle();
  assert.deepEqual(store.prunes, [start + 60_000, start + 120_000]);
  assert.equal(broker.stats().prunes, 2);
  await broker.close();
  await store[Symbol.asyncDispose]();
});

Deno.test("a publish never waits on a prune, and a slow prune is not started twice", async () => {
  const { broker, time, store, key } = await setup();
  const sub = connected(broker);
  sub.subscribe(`${key}/news/`);
  await settle();
  sub.take();
  store.hold = true;
  advance(time, sub, 60_000);
  assert.equal(store.prunes.length, 1);

  // The prune is still running: a message goes straight through
  const pub = connected(broker);
  pub.publish(`${key}/news/`, "live");
  assert.deepEqual(sub.messages(), [{ topic: "news/", text: "live" }]);

  advance(time, sub, 60_000);
  assert.equal(store.prunes.length, 1);
  store.hold = false;
  store.release();
  await settle();
  assert.equal(broker.stats().prunes, 1);
  advance(time, sub, 1000);
  await settle();
  assert.equal(store.prunes.length, 2);
  await broker.close();
  await store[Symbol.asyncDispose]();
});

Deno.test("a failing prune is counted in storeFailures and the broker goes on", async () => {
  const { broker, time, store, key } = await setup();
  const sub = connected(broker);
  sub.subscribe(`${key}/news/`);
  await settle();
  sub.take();
  store.fail = true;
  advance(time, sub, 60_000);
  await settle();
  assert.equal(store.prunes.length, 1);
  assert.equal(broker.stats().storeFailures, 1);
  assert.equal(broker.stats().prunes, 0);

  store.fail = false;
  const pub = connected(broker);
  pub.publish(`${key}/news/`, "still here");
  assert.deepEqual(sub.messages(), [{ topic: "news/", text: "still here" }]);
  advance(time, sub, 60_000);
  await settle();
  assert.equal(store.prunes.length, 2);
  assert.equal(broker.stats().prunes, 1);
  assert.equal(broker.stats().storeFailures, 1);
  await broker.close();
  await store[Symbol.asyncDispose]();
});
