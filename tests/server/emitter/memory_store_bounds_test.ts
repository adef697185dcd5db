import assert from "node:assert/strict";
import { MemoryStore } from "../../../src/server/mod.ts";
import {
  MEMORY_EMITTER_MAX_BYTES,
  MEMORY_EMITTER_MAX_MESSAGES,
} from "../../../src/server/memory/_emitter.ts";

function message(n: number, payload: Uint8Array = new Uint8Array([1])) {
  const id = new Uint8Array(24);
  new DataView(id.buffer).setUint32(0, n);
  return { id, ssid: [5, 6], channel: "b/", payload, time: n, expiresAt: Number.MAX_SAFE_INTEGER };
}

async function times(store: MemoryStore, from: number, until: number): Promise<number[]> {
  const found = await store.queryEmitterMessages({ ssid: [5], from, until, limit: 10, now: 0 });
  return found.map((stored) => stored.time);
}

Deno.test("a MemoryStore past its message count drops the oldest stored Emitter messages", async () => {
  const store = new MemoryStore();
  for (let n = 0; n < MEMORY_EMITTER_MAX_MESSAGES + 2; n++) {
    await store.storeEmitterMessage(message(n));
  }
  assert.deepEqual(await times(store, 0, 3), [2, 3]);
  assert.deepEqual(
    await times(store, MEMORY_EMITTER_MAX_MESSAGES, Infinity),
    [MEMORY_EMITTER_MAX_MESSAGES, MEMORY_EMITTER_MAX_MESSAGES + 1],
  );
  await store.close();
});

Deno.test("a MemoryStore past its byte budget drops the oldest stored Emitter messages", async () => {
  const store = new MemoryStore();
  const quarter = new Uint8Array(Math.floor(MEMORY_EMITTER_MAX_BYTES / 4));
  for (let n = 0; n < 4; n++) await store.storeEmitterMessage(message(n, quarter));
  // Four quarters and their ids are just over the budget: the first one goes.
  assert.deepEqual(await times(store, 0, 10), [1, 2, 3]);
  await store.close();
});
