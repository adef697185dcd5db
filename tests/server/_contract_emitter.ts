/**
 * The {@linkcode ServerStore} contract of the Emitter interface: stored
 * messages matched by channel words with `+` and `#` wildcards, a time window,
 * a limit and expiry; replacement by id; key bans; pruning; and, for a store
 * that keeps anything, that messages and bans survive a reopen.
 *
 * @module
 */

import assert from "node:assert/strict";
import { murmur32String } from "../../src/emitter/security/murmur.ts";
import type { EmitterStoredMessage } from "../../src/server/emitter/store.ts";
import { MAX_EMITTER_QUERY_LIMIT } from "../../src/server/emitter/_store_query.ts";
import type { ServerStore } from "../../src/server/mod.ts";
import type { ContractTest } from "./_contract_fixtures.ts";

const CONTRACT = 989603869;
const OTHER_CONTRACT = 42;
const PLUS = murmur32String("+");
const HASH = murmur32String("#");
const FAR = 10_000_000;

/** The words of a channel such as `a/b/`, under a contract. */
function words(channel: string, contract = CONTRACT): number[] {
  return [contract, ...channel.split("/").filter((part) => part !== "").map(murmur32String)];
}

/** A message with an id made from `n`, in the real layout's length. */
function message(
  n: number,
  channel: string,
  time: number,
  options: { expiresAt?: number; payload?: number[]; contract?: number } = {},
): EmitterStoredMessage {
  const ssid = words(channel, options.contract);
  const id = new Uint8Array(16 + ssid.length * 4);
  new DataView(id.buffer).setUint32(4, n);
  return {
    id,
    ssid,
    channel,
    payload: new Uint8Array(options.payload ?? [n & 0xff]),
    time,
    expiresAt: options.expiresAt ?? FAR,
  };
}

/** The channels of the messages a query finds, in the order returned. */
async function channels(
  store: ServerStore,
  ssid: number[],
  window: { from?: number; until?: number; limit?: number; now?: number } = {},
): Promise<string[]> {
  const found = await store.queryEmitterMessages({
    ssid,
    from: window.from ?? 0,
    until: window.until ?? FAR,
    limit: window.limit ?? 100,
    now: window.now ?? 0,
  });
  return found.map((stored) => stored.channel);
}

async function storeAll(store: ServerStore, messages: EmitterStoredMessage[]): Promise<void> {
  for (const stored of messages) await store.storeEmitterMessage(stored);
}

/**
 * Registers the contract's tests of the Emitter store interface.
 *
 * @param test Registers one contract test for the store.
 */
export function emitterContract(test: ContractTest): void {
  test("emitter usage counts a contract's unexpired messages and their bytes", async ({ store }) => {
    assert.deepEqual(await store.emitterContractUsage(CONTRACT, 0), { messages: 0, bytes: 0 });
    await storeAll(store, [
      message(1, "a/", 1, { payload: [1, 2, 3] }),
      message(2, "a/b/", 2, { payload: [4], expiresAt: 50 }),
      message(3, "x/", 3, { payload: [] }),
      message(4, "a/", 4, { payload: [9, 9], contract: OTHER_CONTRACT }),
    ]);
    // Ids are 16 bytes and 4 per word
    assert.deepEqual(await store.emitterContractUsage(CONTRACT, 10), {
      messages: 3,
      bytes: 24 + 3 + 28 + 1 + 24,
    });
    assert.deepEqual(await store.emitterContractUsage(CONTRACT, 50), {
      messages: 2,
      bytes: 24 + 3 + 24,
    });
    assert.deepEqual(await store.emitterContractUsage(OTHER_CONTRACT, 10), {
      messages: 1,
      bytes: 26,
    });
  });

  test("emitter messages match a query by the prefix of their channel words", async ({ store }) => {
    await storeAll(store, [
      message(1, "a/", 1),
      message(2, "a/b/", 2),
      message(3, "a/b/c/", 3),
      message(4, "x/", 4),
      message(5, "a/c/", 5),
      message(6, "a/b/", 6, { contract: OTHER_CONTRACT }),
    ]);
    assert.deepEqual(await channels(store, words("a/")), ["a/", "a/b/", "a/b/c/", "a/c/"]);
    assert.deepEqual(await channels(store, words("a/b/")), ["a/b/", "a/b/c/"]);
    assert.deepEqual(await channels(store, words("a/b/c/")), ["a/b/c/"]);
    assert.deepEqual(await channels(store, words("a/b/c/d/")), []);
    assert.deepEqual(await channels(store, words("b/")), []);
    assert.deepEqual(await channels(store, [CONTRACT]), ["a/", "a/b/", "a/b/c/", "x/", "a/c/"]);
    assert.deepEqual(await channels(store, words("a/b/", OTHER_CONTRACT)), ["a/b/"]);
  });

  test("emitter query word + matches any one word at its place", async ({ store }) => {
    await storeAll(store, [
      message(1, "a/b/", 1),
      message(2, "x/b/", 2),
      message(3, "a/c/", 3),
      message(4, "a/", 4),
      message(5, "y/b/z/", 5),
      message(6, "a/q/c/", 6),
    ]);
    assert.deepEqual(await channels(store, [CONTRACT, PLUS, murmur32String("b")]), [
      "a/b/",
      "x/b/",
      "y/b/z/",
    ]);
    assert.deepEqual(
      await channels(store, [CONTRACT, murmur32String("a"), PLUS, murmur32String("c")]),
      ["a/q/c/"],
    );
    assert.deepEqual(await channels(store, [CONTRACT, murmur32String("a"), PLUS]), [
      "a/b/",
      "a/c/",
      "a/q/c/",
    ]);
  });

  test("emitter query word # matches any word at its place but not a shorter channel", async ({ store }) => {
    await storeAll(store, [
      message(1, "a/", 1),
      message(2, "a/b/", 2),
      message(3, "a/b/c/", 3),
      message(4, "b/c/", 4),
    ]);
    assert.deepEqual(await channels(store, [CONTRACT, murmur32String("a"), HASH]), [
      "a/b/",
      "a/b/c/",
    ]);
    assert.deepEqual(await channels(store, [CONTRACT, HASH]), ["a/", "a/b/", "a/b/c/", "b/c/"]);
  });

  test("emitter queries keep the time window's bounds inclusive", async ({ store }) => {
    await storeAll(store, [
      message(1, "t/100/", 100),
      message(2, "t/200/", 200),
      message(3, "t/300/", 300),
    ]);
    const ssid = words("t/");
    assert.deepEqual(await channels(store, ssid, { from: 100, until: 200 }), ["t/100/", "t/200/"]);
    assert.deepEqual(await channels(store, ssid, { from: 200, until: 300 }), ["t/200/", "t/300/"]);
    assert.deepEqual(await channels(store, ssid, { from: 200, until: 200 }), ["t/200/"]);
    assert.deepEqual(await channels(store, ssid, { from: 101, until: 199 }), []);
    assert.deepEqual(await channels(store, ssid, { from: 301, until: 400 }), []);
  });

  test("an emitter query limit keeps the newest and returns them oldest first", async ({ store }) => {
    // Stored out of time order; two share a time and then keep the order they were stored in.
    await storeAll(store, [
      message(1, "n/3/", 3),
      message(2, "n/1/", 1),
      message(3, "n/5/", 5),
      message(4, "n/2/", 2),
      message(5, "n/4a/", 4),
      message(6, "n/4b/", 4),
    ]);
    const ssid = words("n/");
    assert.deepEqual(await channels(store, ssid, { limit: 3 }), ["n/4a/", "n/4b/", "n/5/"]);
    assert.deepEqual(await channels(store, ssid, { limit: 1 }), ["n/5/"]);
    assert.deepEqual(await channels(store, ssid, { limit: 100 }), [
      "n/1/",
      "n/2/",
      "n/3/",
      "n/4a/",
      "n/4b/",
      "n/5/",
    ]);
    assert.deepEqual(await channels(store, ssid, { limit: 2, until: 3 }), ["n/2/", "n/3/"]);
    assert.deepEqual(await channels(store, ssid, { limit: 0 }), []);
  });

  test("an emitter query returns at most MAX_EMITTER_QUERY_LIMIT messages", async ({ store }) => {
    const count = MAX_EMITTER_QUERY_LIMIT + 5;
    for (let n = 0; n < count; n++) await store.storeEmitterMessage(message(n, "m/", n));
    const found = await store.queryEmitterMessages({
      ssid: words("m/"),
      from: 0,
      until: FAR,
      limit: count * 2,
      now: 0,
    });
    assert.equal(found.length, MAX_EMITTER_QUERY_LIMIT);
    assert.equal(found[0].time, count - MAX_EMITTER_QUERY_LIMIT);
    assert.equal(found.at(-1)?.time, count - 1);
  });

  test("emitter messages expired at now are never returned", async ({ store }) => {
    await storeAll(store, [
      message(1, "e/1/", 1, { expiresAt: 50 }),
      message(2, "e/2/", 2, { expiresAt: 51 }),
      message(3, "e/3/", 3, { expiresAt: 49 }),
    ]);
    assert.deepEqual(await channels(store, words("e/"), { now: 50 }), ["e/2/"]);
    assert.deepEqual(await channels(store, words("e/"), { now: 51 }), []);
    assert.deepEqual(await channels(store, words("e/"), { now: 48 }), ["e/1/", "e/2/", "e/3/"]);
  });

  test("emitter messages come back as stored, and a second with the same id replaces the first", async ({ store }) => {
    const first = message(7, "r/s/", 10, { payload: [1, 2, 3], expiresAt: 900 });
    await store.storeEmitterMessage(first);
    const [found] = await store.queryEmitterMessages({
      ssid: words("r/"),
      from: 0,
      until: 100,
      limit: 10,
      now: 0,
    });
    assert.deepEqual(found, first);
    // The store keeps its own bytes: changing what was passed in or handed back changes nothing.
    first.payload[0] = 99;
    found.payload[1] = 99;
    const again = await store.queryEmitterMessages({
      ssid: words("r/"),
      from: 0,
      until: 100,
      limit: 10,
      now: 0,
    });
    assert.deepEqual([...again[0].payload], [1, 2, 3]);

    await store.storeEmitterMessage({ ...message(7, "r/s/", 20, { payload: [4] }) });
    const replaced = await store.queryEmitterMessages({
      ssid: words("r/"),
      from: 0,
      until: 100,
      limit: 10,
      now: 0,
    });
    assert.equal(replaced.length, 1);
    assert.deepEqual([...replaced[0].payload], [4]);
    assert.equal(replaced[0].time, 20);
    assert.equal(replaced[0].expiresAt, FAR);
  });

  test("emitter key bans are set, unset and listed by hash", async ({ store }) => {
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    assert.deepEqual(await store.listEmitterKeyBans(), []);
    await store.setEmitterKeyBan(a, true, 1);
    await store.setEmitterKeyBan(b, true, 2);
    await store.setEmitterKeyBan(a, true, 3);
    assert.deepEqual((await store.listEmitterKeyBans()).sort(), [a, b]);
    await store.setEmitterKeyBan(b, false, 4);
    await store.setEmitterKeyBan("c".repeat(64), false, 5);
    assert.deepEqual(await store.listEmitterKeyBans(), [a]);
  });

  test("pruneEmitter deletes the messages expired at now or before", async ({ store }) => {
    await storeAll(store, [
      message(1, "p/1/", 1, { expiresAt: 10 }),
      message(2, "p/2/", 2, { expiresAt: 20 }),
      message(3, "p/3/", 3, { expiresAt: 30 }),
    ]);
    // At most limit a call: two expired at 20, deleted one at a time.
    assert.equal(await store.pruneEmitter(20, 1), 1);
    assert.equal(await store.pruneEmitter(20, 1), 1);
    assert.equal(await store.pruneEmitter(20, 1), 0);
    // Asked as of time 0, nothing is expired: only what prune deleted is missing.
    assert.deepEqual(await channels(store, words("p/"), { now: 0 }), ["p/3/"]);
    assert.equal(await store.pruneEmitter(30, 100), 1);
    assert.deepEqual(await channels(store, words("p/"), { now: 0 }), []);
  });

  test("emitter messages and key bans survive closing and reopening the store", async (fixture) => {
    if (fixture.reopen === undefined) return;
    const kept = message(9, "k/v/", 5, { payload: [0, 255, 7], expiresAt: 1_000 });
    await fixture.store.storeEmitterMessage(kept);
    await fixture.store.setEmitterKeyBan("d".repeat(64), true, 1);
    fixture.store = await fixture.reopen();
    const found = await fixture.store.queryEmitterMessages({
      ssid: [CONTRACT, murmur32String("k"), PLUS],
      from: 0,
      until: 10,
      limit: 5,
      now: 999,
    });
    assert.deepEqual(found, [kept]);
    assert.deepEqual(await fixture.store.listEmitterKeyBans(), ["d".repeat(64)]);
  });
}
