import assert from "node:assert/strict";
import { BackplaneError } from "../../../src/server/mod.ts";
import { RedisBackplane } from "../../../src/server/redis/mod.ts";
import { SpotClient } from "../../../src/spot/client.ts";
import { EmitterError } from "../../../src/emitter/security/errors.ts";
import type { EmitterPresenceEvent } from "../../../src/emitter/options.ts";
import type { EmitterClient } from "../../../src/emitter/client.ts";
import { REDIS_IGNORED, startRedis, type TestRedis } from "../../_helpers/redis.ts";
import { startTcpRelay } from "../../_helpers/tcp_relay.ts";
import { emitterClient, nextMessage, startCluster, until } from "./_cluster.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A relay in front of Redis that a test can cut, as an outage would, and its URL. */
function cuttableProxy(redis: TestRedis) {
  const relay = startTcpRelay(redis);
  return Object.assign(relay, { url: `redis://127.0.0.1:${relay.port}` });
}

async function disconnectAll(...clients: EmitterClient[]) {
  for (const client of clients) await client.disconnect();
}

Deno.test({
  name: "servers sharing a Redis backplane act as one server",
  ignore: REDIS_IGNORED,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await using redis = await startRedis();

  await t.step(
    "an Emitter subscriber on server B receives a message published on server A",
    async () => {
      await using cluster = await startCluster(redis.url, `${redis.prefix}deliver:`, 2);
      const [a, b] = cluster.nodes;
      const publisher = await emitterClient(a);
      const subscriber = await emitterClient(b);
      try {
        const { key } = await publisher.keygen({
          key: cluster.secret,
          channel: "news/",
          type: "rw",
        });
        const subscription = await subscriber.subscribe({ key, channel: "news/" });
        // B tells A over Redis; a message A publishes before it has heard reaches no one.
        await until(() => a.server.emitter.stats().remoteSubscriptions === 1, "A hears of it");
        await publisher.publish({ key, channel: "news/", message: "from A" });
        const message = await nextMessage(subscription);
        assert.equal(message?.asString(), "from A");
        assert.equal(a.server.emitter.stats().subscriptions, 0, "B's subscription is not A's own");
      } finally {
        await disconnectAll(publisher, subscriber);
      }
    },
  );

  await t.step(
    "presence on server A lists a subscriber of B and hears it join and leave",
    async () => {
      await using cluster = await startCluster(redis.url, `${redis.prefix}presence:`, 2);
      const [a, b] = cluster.nodes;
      const watcher = await emitterClient(a, "watcher");
      const member = await emitterClient(b, "member");
      try {
        const { key } = await watcher.keygen({ key: cluster.secret, channel: "room/", type: "rp" });
        const events: EmitterPresenceEvent[] = [];
        watcher.on("presence", (event) => events.push(event));
        await watcher.presence({ key, channel: "room/", changes: true });
        // The join is sent from B to the watchers B knows of: B hears of this one first
        await until(() => b.server.emitter.stats().remoteSubscriptions === 1, "B hears of it");
        await member.subscribe({ key, channel: "room/" });
        const status = await watcher.presence({ key, channel: "room/" });
        assert.deepEqual(status.who?.map((who) => who.username), ["member"]);
        await until(() => events.some((e) => e.event === "subscribe"), "the join is heard on A");
        assert.equal(events[0].who.username, "member");
        await member.unsubscribe({ key, channel: "room/" });
        await until(() => events.some((e) => e.event === "unsubscribe"), "the leave is heard on A");
        const after = await watcher.presence({ key, channel: "room/" });
        assert.deepEqual(after.who ?? [], []);
      } finally {
        await disconnectAll(watcher, member);
      }
    },
  );

  await t.step(
    "a share group with members on A and B gets each of 40 messages once in total",
    async () => {
      await using cluster = await startCluster(redis.url, `${redis.prefix}share:`, 2);
      const [a, b] = cluster.nodes;
      const publisher = await emitterClient(a);
      const onA = await emitterClient(a);
      const onB = await emitterClient(b);
      const plain = await emitterClient(b);
      try {
        const { key } = await publisher.keygen({
          key: cluster.secret,
          channel: "jobs/",
          type: "rw",
        });
        // A group's topic is `$share/<group>/jobs/`: its key is for `$share/#/`, as on the real broker
        const share = await publisher.keygen({
          key: cluster.secret,
          channel: "$share/#/",
          type: "r",
        });
        const received: string[] = [];
        const everything: string[] = [];
        const drain = async (client: EmitterClient, into: string[], group?: string) => {
          const subscription = group === undefined
            ? await client.subscribe({ key, channel: "jobs/" })
            : await client.subscribeWithGroup({ key: share.key, channel: "jobs/", group });
          void (async () => {
            for await (const message of subscription) into.push(message.asString());
          })();
        };
        const fromA: string[] = [];
        const fromB: string[] = [];
        await drain(onA, fromA, "workers");
        await drain(onB, fromB, "workers");
        await drain(plain, everything);
        // Both of B's subscriptions, heard on A, where the jobs are published.
        await until(() => a.server.emitter.stats().remoteSubscriptions === 2, "A hears of B's");
        const count = 40;
        for (let i = 0; i < count; i++) {
          await publisher.publish({ key, channel: "jobs/", message: `job ${i}` });
        }
        await until(() => everything.length === count, "the plain subscriber has every job");
        await until(() => fromA.length + fromB.length >= count, "the group has every job");
        // Late duplicates would come right after
        await new Promise((resolve) => setTimeout(resolve, 100));
        received.push(...fromA, ...fromB);
        assert.equal(received.length, count, "no job twice");
        assert.deepEqual(new Set(received).size, count);
        assert.ok(
          fromA.length > 0 && fromB.length > 0,
          `both members worked (${fromA.length}, ${fromB.length})`,
        );
      } finally {
        await disconnectAll(publisher, onA, onB, plain);
      }
    },
  );

  await t.step("a Spot peer on B answers a query sent by a peer on A", async () => {
    await using cluster = await startCluster(redis.url, `${redis.prefix}spot:`, 2);
    const [a, b] = cluster.nodes;
    const options = { timeoutMs: 5000, backoff: { initialMs: 20, maxMs: 100 } };
    const alice = new SpotClient({ url: a.spotUrl, ...options });
    const bob = new SpotClient({ url: b.spotUrl, ...options });
    try {
      bob.setHandler("greet", (message) => {
        assert.equal(
          message.sender.split("/")[0],
          alice.address,
          "the relay names the verified key",
        );
        return `hello ${text(message.body)}`;
      });
      await Promise.all([alice.waitOnline(), bob.waitOnline()]);
      // Bob's card reaches A once B has told it
      await until(
        () => alice.getIDCard(bob.address).then(() => true, () => false),
        "A knows Bob's card",
      );
      assert.equal(text(await alice.query(`${bob.address}/greet`, "alice")), "hello alice");
    } finally {
      alice.close();
      bob.close();
    }
  });

  await t.step("a rate limit of 5 per window holds in total across A and B", async () => {
    await using cluster = await startCluster(redis.url, `${redis.prefix}limit:`, 2, {
      // A window of 5000 s: the test never straddles two
      rateLimit: { address: { capacity: 5, refillPerSecond: 0.001 } },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const node = cluster.nodes[i % 2];
      const response = await fetch(`${node.origin}/metrics`);
      await response.body?.cancel();
      statuses.push(response.status);
    }
    assert.equal(statuses.filter((status) => status !== 429).length, 5, statuses.join(" "));
    assert.deepEqual(statuses.slice(5), [429, 429, 429, 429, 429]);
  });

  await t.step(
    "the Emitter storage quota of 5 messages holds in total across A and B",
    async () => {
      await using cluster = await startCluster(redis.url, `${redis.prefix}quota:`, 2, {
        emitter: { maxStoredMessagesPerContract: 5 },
      });
      const [a, b] = cluster.nodes;
      const onA = await emitterClient(a);
      const onB = await emitterClient(b);
      try {
        const { key } = await onA.keygen({ key: cluster.secret, channel: "log/", type: "rwsl" });
        const answers: string[] = [];
        for (let i = 0; i < 10; i++) {
          const client = i % 2 === 0 ? onA : onB;
          const published = client.publish({
            key,
            channel: "log/",
            message: `${i}`,
            ttl: 3600,
            qos: 1,
          });
          answers.push(
            await published.then(
              () => "stored",
              (error) => error instanceof EmitterError ? `${error.status}` : String(error),
            ),
          );
        }
        assert.deepEqual(answers, [...Array(5).fill("stored"), ...Array(5).fill("429")]);
        const stored = await onB.history({ key, channel: "log/", last: 100 });
        assert.equal(stored.length, 5, stored.map((m) => m.asString()).join(" "));
        const refused = a.server.emitter.stats().storeRefused +
          b.server.emitter.stats().storeRefused;
        assert.equal(refused, 5);
      } finally {
        await disconnectAll(onA, onB);
      }
    },
  );

  await t.step("a Redis outage is a typed error and closes the Emitter connections", async () => {
    const proxy = cuttableProxy(redis);
    try {
      await using cluster = await startCluster(proxy.url, `${redis.prefix}outage:`, 1);
      const [a] = cluster.nodes;
      const client = await emitterClient(a);
      client.on("error", () => {});
      const lost = new Promise<void>((resolve) => client.on("disconnect", () => resolve()));
      proxy.cut();
      await lost;
      const started = Date.now();
      const error = await a.backplane.publish("any", new Uint8Array([1])).catch((e) => e);
      assert.ok(error instanceof BackplaneError, String(error));
      assert.equal(error.code, "backplane_unavailable");
      assert.doesNotMatch(error.message, /password|secret/);
      assert.ok(Date.now() - started < 2500, "answered, not hung");
      // The rate limiters fall back to the process's own counts: requests are still answered
      const health = await fetch(`${a.origin}/metrics`);
      await health.body?.cancel();
      assert.notEqual(health.status, 429);
      await client.disconnect();
      // Back: the backplane reconnects and the broker accepts connections again
      proxy.restore();
      let again: EmitterClient | undefined;
      await until(
        async () => {
          again = await emitterClient(a).catch(() => undefined);
          return again !== undefined;
        },
        "the broker accepts connections again",
        10_000,
      );
      await again!.disconnect();
    } finally {
      await proxy.close();
    }
  });

  await t.step(
    "connecting to a Redis that is not there fails with a typed error in time",
    async () => {
      const started = Date.now();
      const error = await RedisBackplane.connect({
        url: "redis://:hunter2@127.0.0.1:1",
        connectTimeoutMs: 1000,
      }).catch((e) => e);
      assert.ok(error instanceof BackplaneError);
      assert.equal(error.code, "backplane_unavailable");
      assert.doesNotMatch(error.message, /hunter2/);
      assert.ok(Date.now() - started < 3000);
    },
  );
});
