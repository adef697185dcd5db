/**
 * The Emitter broker's share groups (`KEY/$share/<group>/<channel>/`): each
 * message goes to one member of each group, on top of the plain subscribers,
 * with Emitter's prefix matching inside the group, `me=0` honoured, and no
 * connection getting a message twice. Keys for a group are made for
 * `$share/...` as with the real broker.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connected, keyFor, makeBroker } from "./_broker_harness.ts";

Deno.test("each message reaches exactly one member of a group and every plain subscriber", async () => {
  const { broker } = await makeBroker();
  const shareKey = keyFor(broker, "$share/#/", "r");
  const key = keyFor(broker, "jobs/#/");
  const a = connected(broker);
  const b = connected(broker);
  const plain = connected(broker);
  a.subscribe(`${shareKey}/$share/workers/jobs/`);
  b.subscribe(`${shareKey}/$share/workers/jobs/`);
  plain.subscribe(`${key}/jobs/`);
  for (const c of [a, b, plain]) c.take();
  const pub = connected(broker);
  for (let i = 0; i < 40; i++) pub.publish(`${key}/jobs/`, String(i));
  const gotA = a.messages();
  const gotB = b.messages();
  assert.equal(gotA.length + gotB.length, 40);
  assert.ok(gotA.length > 0 && gotB.length > 0, "the picks spread over both members");
  assert.deepEqual(
    [...gotA, ...gotB].map((m) => Number(m.text)).sort((x, y) => x - y),
    Array.from({ length: 40 }, (_, i) => i),
  );
  assert.equal(gotA[0].topic, "jobs/", "the delivered topic is the published channel");
  assert.equal(plain.messages().length, 40);
  await broker.close();
});

Deno.test("two groups each get one copy of every message", async () => {
  const { broker } = await makeBroker();
  const shareKey = keyFor(broker, "$share/#/", "r");
  const key = keyFor(broker, "t/#/");
  const g1 = [connected(broker), connected(broker)];
  const g2 = [connected(broker)];
  for (const c of g1) c.subscribe(`${shareKey}/$share/one/t/`);
  for (const c of g2) c.subscribe(`${shareKey}/$share/two/t/`);
  for (const c of [...g1, ...g2]) c.take();
  const pub = connected(broker);
  for (let i = 0; i < 10; i++) pub.publish(`${key}/t/x/`, String(i));
  assert.equal(g1.reduce((n, c) => n + c.messages().length, 0), 10);
  assert.equal(g2[0].messages().length, 10);
  await broker.close();
});

Deno.test("a group member that also subscribes plainly gets each message once", async () => {
  const { broker } = await makeBroker();
  const shareKey = keyFor(broker, "$share/#/", "r");
  const key = keyFor(broker, "s/#/");
  const both = connected(broker);
  both.subscribe(`${shareKey}/$share/g/s/`, `${key}/s/`);
  both.take();
  const pub = connected(broker);
  for (let i = 0; i < 5; i++) pub.publish(`${key}/s/`, String(i));
  assert.deepEqual(both.messages().map((m) => m.text), ["0", "1", "2", "3", "4"]);
  await broker.close();
});

Deno.test("me=0 keeps the sender out of the group pick", async () => {
  const { broker } = await makeBroker();
  const shareKey = keyFor(broker, "$share/#/", "r");
  const key = keyFor(broker, "m/#/");
  const sender = connected(broker);
  const other = connected(broker);
  sender.subscribe(`${shareKey}/$share/g/m/`);
  other.subscribe(`${shareKey}/$share/g/m/`);
  sender.take();
  other.take();
  for (let i = 0; i < 10; i++) sender.publish(`${key}/m/?me=0`, String(i));
  assert.equal(sender.messages().length, 0);
  assert.equal(other.messages().length, 10);
  await broker.close();
});

Deno.test("a group subscribed at a/ gets a/b/ messages, and a + segment matches inside the group", async () => {
  const { broker } = await makeBroker();
  const shareKey = keyFor(broker, "$share/#/", "r");
  const key = keyFor(broker, "a/#/");
  const top = connected(broker);
  const wild = connected(broker);
  top.subscribe(`${shareKey}/$share/top/a/`);
  wild.subscribe(`${shareKey}/$share/wild/a/+/c/`);
  top.take();
  wild.take();
  const pub = connected(broker);
  pub.publish(`${key}/a/b/c/`, "abc");
  pub.publish(`${key}/a/b/d/`, "abd");
  assert.deepEqual(top.messages().map((m) => m.text), ["abc", "abd"]);
  assert.deepEqual(wild.messages().map((m) => m.text), ["abc"]);
  await broker.close();
});

Deno.test("a group member that leaves stops getting picks", async () => {
  const { broker } = await makeBroker();
  const shareKey = keyFor(broker, "$share/#/", "r");
  const key = keyFor(broker, "l/#/");
  const stays = connected(broker);
  const leaves = connected(broker);
  stays.subscribe(`${shareKey}/$share/g/l/`);
  leaves.subscribe(`${shareKey}/$share/g/l/`);
  leaves.session.closed();
  stays.take();
  const pub = connected(broker);
  for (let i = 0; i < 5; i++) pub.publish(`${key}/l/`, String(i));
  assert.equal(stays.messages().length, 5);
  await broker.close();
});
