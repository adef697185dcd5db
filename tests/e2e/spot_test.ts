import assert from "node:assert/strict";
import { createServer, MemoryStore, type ServerStore } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { SpotClient } from "../../src/spot/client.ts";
import { SpotRemoteError } from "../../src/spot/errors.ts";
import type { SpotClientOptions } from "../../src/spot/options.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

interface Relay extends AsyncDisposable {
  port: number;
  url: string;
  origin: string;
}

/** The reference server with the Spot relay on 127.0.0.1 (port 0 unless told). */
function startRelay(store: ServerStore, port = 0): Relay {
  const server = createServer({ store, spot: {} });
  const http = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    (request, info) => server.fetch(request, info),
  );
  return {
    port: http.addr.port,
    url: `ws://127.0.0.1:${http.addr.port}/_websocket`,
    origin: `http://127.0.0.1:${http.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.close();
      await http.shutdown();
    },
  };
}

function client(options: SpotClientOptions): SpotClient {
  return new SpotClient({ backoff: { initialMs: 20, maxMs: 100 }, timeoutMs: 5000, ...options });
}

Deno.test("two clients exchange an encrypted query and answer, and an error, through the relay", async () => {
  await using relay = startRelay(new MemoryStore());
  const alice = client({ url: relay.url });
  // Bob finds the relay by discovery, as the real clients do
  const bob = client({ endpoint: relay.origin });
  try {
    bob.setHandler("greet", (message) => {
      assert.equal(message.encrypted, true);
      assert.equal(message.sender.split("/")[0], alice.address, "the relay names the verified key");
      return `hello ${text(message.body)}`;
    });
    bob.setHandler("fail", () => {
      throw new Error("not today");
    });
    await Promise.all([alice.waitOnline(), bob.waitOnline()]);
    assert.equal(text(await alice.query(`${bob.address}/greet`, "alice")), "hello alice");
    const error = await alice.query(`${bob.address}/fail`, "x").catch((e) => e);
    assert.ok(error instanceof SpotRemoteError);
    assert.equal(error.remoteMessage, "not today");
    assert.equal((await alice.getIDCard(bob.address)).address, bob.address);
    const time = await alice.getTime();
    assert.ok(Math.abs(time.epochMilliseconds - Date.now()) < 60_000, "the relay's clock");
    const absent = await alice.query(`k.${"A".repeat(43)}/greet`, "x").catch((e) => e);
    assert.ok(absent instanceof SpotRemoteError, "an unknown key is the relay's error");
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("a blob survives a restart of the relay on its SQLite store", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  let port: number;
  let owner: SpotClient | undefined;
  try {
    {
      await using relay = startRelay(new SqliteStore(path));
      port = relay.port;
      owner = client({ url: relay.url });
      await owner.waitOnline();
      await owner.storeBlob("settings", "kept across restarts");
      assert.equal(text(await owner.fetchBlob("settings")), "kept across restarts");
    }
    // The same client reconnects to the restarted relay on the same port
    await using _restarted = startRelay(new SqliteStore(path), port);
    await owner.waitOnline();
    let value: Uint8Array | undefined;
    for (let attempt = 0; value === undefined && attempt < 50; attempt++) {
      value = await owner.fetchBlob("settings", { timeoutMs: 1000 }).catch((error) => {
        if (error instanceof SpotRemoteError) throw error;
        return undefined;
      });
    }
    assert.equal(text(value!), "kept across restarts");
    await owner.deleteBlob("settings");
    await assert.rejects(owner.fetchBlob("settings"), SpotRemoteError);
  } finally {
    owner?.close();
    await Deno.remove(path).catch(() => {});
  }
});

Deno.test("a packet connection carries encrypted packets both ways through the relay", async () => {
  await using relay = startRelay(new MemoryStore());
  const alice = client({ url: relay.url, minConnections: 2 });
  const bob = client({ url: relay.url });
  try {
    await Promise.all([alice.waitOnline(), bob.waitOnline()]);
    const server = bob.listenPacket("echo");
    const local = alice.listenPacket("caller");
    const served = (async () => {
      const { data, from } = await server.readFrom({ timeoutMs: 5000 });
      await server.writeTo(data.slice().reverse(), from);
      return from;
    })();
    await local.writeTo(new TextEncoder().encode("abc"), server.localAddress);
    assert.equal(await served, `${alice.address}/caller`);
    const back = await local.readFrom({ timeoutMs: 5000 });
    assert.equal(text(back.data), "cba");
    assert.equal(back.from, `${bob.address}/echo`);
    server.close();
    local.close();
  } finally {
    alice.close();
    bob.close();
  }
});
