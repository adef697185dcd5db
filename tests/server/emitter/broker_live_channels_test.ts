/**
 * The Emitter broker's `liveChannels()`: the channels its connections are
 * subscribed to, counted per channel, the busiest first and then by name,
 * bounded by the limit, and following unsubscribes and closed connections.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connected, keyFor, makeBroker } from "./_broker_harness.ts";

Deno.test("live channels count each channel's subscribers, busiest first, within the limit", async () => {
  const { broker } = await makeBroker();
  assert.deepEqual(broker.liveChannels(10), { channels: 0, top: [] });
  const key = keyFor(broker, "room/#/");
  const first = connected(broker);
  first.subscribe(`${key}/room/b/`, `${key}/room/a/`);
  const second = connected(broker);
  second.subscribe(`${key}/room/b/`, `${key}/room/c/`);
  const third = connected(broker);
  third.subscribe(`${key}/room/b/`);
  for (const client of [first, second, third]) client.take();
  assert.deepEqual(broker.liveChannels(10), {
    channels: 3,
    top: [
      { channel: "room/b/", subscribers: 3 },
      { channel: "room/a/", subscribers: 1 },
      { channel: "room/c/", subscribers: 1 },
    ],
  });
  assert.deepEqual(broker.liveChannels(1).top, [{ channel: "room/b/", subscribers: 3 }]);
  assert.equal(broker.liveChannels(0).channels, 3);
  // Only read: the subscriptions the broker reports are unchanged by asking
  assert.equal(broker.stats().subscriptions, 5);
  second.unsubscribe(`${key}/room/c/`);
  // The peer goes away
  third.session.closed();
  assert.deepEqual(broker.liveChannels(10), {
    channels: 2,
    top: [{ channel: "room/b/", subscribers: 2 }, { channel: "room/a/", subscribers: 1 }],
  });
  await broker.close();
});
