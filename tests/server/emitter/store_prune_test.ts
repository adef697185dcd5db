import assert from "node:assert/strict";
import { MemoryStore } from "../../../src/server/mod.ts";
import { errorOf, makeServer, postJson, vectors } from "../_honch_routes_fixtures.ts";

Deno.test("the server's periodic prune deletes expired Emitter messages from its store", async () => {
  const store = new MemoryStore();
  const { server, clock } = makeServer({ store });
  try {
    const message = (n: number, expiresAt: number) => ({
      id: new Uint8Array([n, ...new Uint8Array(23)]),
      ssid: [7, 8],
      channel: `c${n}/`,
      payload: new Uint8Array([n]),
      time: clock.time - 10,
      expiresAt,
    });
    await store.storeEmitterMessage(message(1, clock.time));
    await store.storeEmitterMessage(message(2, clock.time + 1));
    const base = vectors.json_ingest_fixtures[0].fixture.request.body as Record<string, unknown>;
    // Any request that stores something starts the server's maintenance, in the background.
    await errorOf(await postJson(server, { ...base, events: [{ event: "tick" }] }), 200);
    // Asked as of time 0 nothing is expired, so only what the prune deleted is missing.
    const left = async () =>
      (await store.queryEmitterMessages({
        ssid: [7],
        from: 0,
        until: clock.time,
        limit: 10,
        now: 0,
      }))
        .map((stored) => stored.channel);
    // The pass runs a few event-loop turns after the answer: wait for it, within a bound.
    for (let turn = 0; turn < 100 && (await left()).length > 1; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.deepEqual(await left(), ["c2/"]);
  } finally {
    await server.close();
  }
});
