import assert from "node:assert/strict";
import {
  BackplaneError,
  createServer,
  type EdgewireServer,
  MemoryBackplane,
} from "../../src/server/mod.ts";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { EmitterClient } from "../../src/emitter/client.ts";
import { newLicense } from "../../src/emitter/security/license.ts";

function serve(server: EdgewireServer) {
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, server.fetch);
  return {
    url: `ws://127.0.0.1:${http.addr.port}/`,
    async [Symbol.asyncDispose]() {
      await server.close();
      await http.shutdown();
    },
  };
}

async function connect(url: string): Promise<EmitterClient> {
  const client = new EmitterClient({ endpoint: url, timeoutMs: 5000 });
  await client.connect();
  return client;
}

Deno.test("createServer refuses a backplane without the Backplane methods, naming the option", () => {
  assert.throws(
    () => createServer({ backplane: {} as never }),
    (error) =>
      error instanceof InvalidArgumentError && error.argument === "backplane" &&
      /Cannot create server as 'backplane' must be a Backplane/.test(error.message),
  );
});

Deno.test("a memory backplane's counters add up and start again once expired", async () => {
  let now = 1000;
  const backplane = new MemoryBackplane(() => now);
  assert.equal(await backplane.increment("k", 2, 100), 2);
  assert.equal(await backplane.increment("k", 3, 100), 5);
  now += 100;
  assert.equal(await backplane.increment("k", 1, 100), 1);
  await backplane.close();
  await assert.rejects(backplane.publish("c", new Uint8Array(1)), BackplaneError);
});

Deno.test("two servers on one memory backplane deliver across and share a group's messages once", async () => {
  const backplane = new MemoryBackplane();
  const { license, secret } = newLicense();
  await using a = serve(createServer({ backplane, emitter: { license: license.toString() } }));
  await using b = serve(createServer({ backplane, emitter: { license: license.toString() } }));
  const publisher = await connect(a.url);
  const memberA = await connect(a.url);
  const memberB = await connect(b.url);
  const plain = await connect(b.url);
  try {
    const { key } = await publisher.keygen({ key: secret, channel: "jobs/", type: "rw" });
    const share = await publisher.keygen({ key: secret, channel: "$share/#/", type: "r" });
    const lists: string[][] = [[], [], []];
    const subscriptions = [
      await memberA.subscribeWithGroup({ key: share.key, channel: "jobs/", group: "g" }),
      await memberB.subscribeWithGroup({ key: share.key, channel: "jobs/", group: "g" }),
      await plain.subscribe({ key, channel: "jobs/" }),
    ];
    subscriptions.forEach((subscription, i) => {
      void (async () => {
        for await (const message of subscription) lists[i].push(message.asString());
      })();
    });
    for (let i = 0; i < 30; i++) {
      await publisher.publish({ key, channel: "jobs/", message: `${i}` });
    }
    for (let i = 0; i < 500 && lists[2].length < 30; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(lists[2].length, 30, "the plain subscriber on B got every message");
    const shared = [...lists[0], ...lists[1]];
    assert.equal(shared.length, 30, "the group got each message once in all");
    assert.equal(new Set(shared).size, 30);
  } finally {
    for (const client of [publisher, memberA, memberB, plain]) await client.disconnect();
  }
});
