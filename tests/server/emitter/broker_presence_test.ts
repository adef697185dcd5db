/**
 * The Emitter broker's presence: the `emitter/presence/` request (status,
 * and `changes` turning subscribe and unsubscribe events on and off), the
 * events' shape including those raised when a connection closes, the
 * presence permission, and `POST /presence` through its Hono sub-app.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { EMITTER_STATUS } from "../../../src/emitter/security/errors.ts";
import { presenceRoutes } from "../../../src/server/emitter/presence_routes.ts";
import { connected, keyFor, makeBroker } from "./_broker_harness.ts";

async function setup() {
  const made = await makeBroker();
  const key = keyFor(made.broker, "room/#/", "rp");
  return { ...made, key };
}

function meOf(client: ReturnType<typeof connected>): string {
  client.request("me", "");
  return client.answers("emitter/me/")[0].id as string;
}

Deno.test("a presence request answers who is subscribed, with user names", async () => {
  const { broker, key, time } = await setup();
  const ann = connected(broker, { username: "ann" });
  ann.subscribe(`${key}/room/`);
  const annId = meOf(ann);
  const anon = connected(broker);
  anon.subscribe(`${key}/room/a/`);
  const asker = connected(broker);
  const req = asker.request("presence", { key, channel: "room" });
  const [answer] = asker.answers("emitter/presence/");
  assert.deepEqual(answer, {
    req,
    status: 200,
    time: Math.floor(time.now / 1000),
    event: "status",
    channel: "room/",
    who: [{ id: annId, username: "ann" }],
  });
  await broker.close();
});

Deno.test("changes:true sends subscribe and unsubscribe events, close included, until changes:false", async () => {
  const { broker, key, time } = await setup();
  const watcher = connected(broker);
  watcher.request("presence", { key, channel: "room/", status: false, changes: true });
  assert.deepEqual(watcher.answers("emitter/presence/"), [{
    req: 1,
    status: 200,
    time: 0,
    event: "",
    channel: "",
    who: null,
  }]);
  const bob = connected(broker, { username: "bob" });
  const bobId = meOf(bob);
  bob.subscribe(`${key}/room/b/`);
  const at = Math.floor(time.now / 1000);
  assert.deepEqual(watcher.answers("emitter/presence/"), [{
    time: at,
    event: "subscribe",
    channel: "room/b/",
    who: { id: bobId, username: "bob" },
  }]);
  bob.unsubscribe(`${key}/room/b/`);
  bob.subscribe(`${key}/room/`);
  bob.session.closed();
  assert.deepEqual(watcher.answers("emitter/presence/").map((e) => [e.event, e.channel]), [
    ["unsubscribe", "room/b/"],
    ["subscribe", "room/"],
    ["unsubscribe", "room/"],
  ]);
  watcher.request("presence", { key, channel: "room/", status: false, changes: false });
  watcher.take();
  connected(broker).subscribe(`${key}/room/`);
  assert.deepEqual(watcher.answers("emitter/presence/"), []);
  await broker.close();
});

Deno.test("presence events carry no username for a connection that sent none", async () => {
  const { broker, key } = await setup();
  const watcher = connected(broker);
  watcher.request("presence", { key, channel: "room/", status: false, changes: true });
  watcher.take();
  const anon = connected(broker);
  anon.subscribe(`${key}/room/`);
  const [event] = watcher.answers("emitter/presence/");
  assert.deepEqual(Object.keys(event.who as object), ["id"]);
  await broker.close();
});

Deno.test("presence needs the presence permission and a key without extend", async () => {
  const { broker } = await setup();
  const noPresence = keyFor(broker, "room/#/", "r");
  const extend = keyFor(broker, "room/", "rpe");
  const client = connected(broker);
  const one = client.request("presence", { key: noPresence, channel: "room/" });
  const two = client.request("presence", { key: extend, channel: "room/" });
  const three = client.request("presence", { key: noPresence, channel: "room/", status: "yes" });
  assert.deepEqual(client.answers("emitter/presence/"), [
    { req: one, ...EMITTER_STATUS.unauthorized },
    { req: two, ...EMITTER_STATUS.unauthorized },
    { req: three, ...EMITTER_STATUS.badRequest },
  ]);
  await broker.close();
});

Deno.test("POST /presence answers who is subscribed, 401 for a refused key and 400 for a bad body", async () => {
  const { broker, key } = await setup();
  const ann = connected(broker, { username: "ann" });
  ann.subscribe(`${key}/room/`);
  const app = new Hono().route("/", presenceRoutes(broker));
  const post = (body: string) => app.request("/presence", { method: "POST", body });
  const ok = await post(JSON.stringify({ key, channel: "room" }));
  assert.equal(ok.status, 200);
  const body = await ok.json();
  assert.equal(body.event, "status");
  assert.equal(body.channel, "room/");
  assert.deepEqual(body.who.map((w: { username: string }) => w.username), ["ann"]);
  const refused = await post(
    JSON.stringify({ key: keyFor(broker, "room/#/", "r"), channel: "room/" }),
  );
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  const bad = await post("{");
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
  const get = await app.request("/presence");
  assert.equal(get.status, 404);
  await get.body?.cancel();
  await broker.close();
});

Deno.test("presenceOf refuses a malformed channel with 400", async () => {
  const { broker, key } = await setup();
  assert.deepEqual(broker.presenceOf(key, "bad channel/"), EMITTER_STATUS.badRequest);
  const answer = broker.presenceOf(key, "room/");
  assert.ok("who" in answer);
  assert.deepEqual(answer.who, []);
  await broker.close();
});
