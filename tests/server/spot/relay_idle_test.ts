/**
 * The Spot relay's idle deadline: a connection with no packet either way for
 * `idleTimeoutMs` is closed with 1001 `idle timeout`, while one that keeps
 * talking stays open past it. Real peers on a real `Deno.serve`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encodePacket } from "../../../src/spot/proto/mod.ts";
import { RawPeer, startRelay } from "./_peer.ts";

const IDLE_MS = 300;

Deno.test("a connection silent for the idle timeout is closed with 1001", async () => {
  const relay = startRelay({ idleTimeoutMs: IDLE_MS });
  try {
    const peer = await RawPeer.connect(relay.url);
    const quietSince = performance.now();
    assert.deepEqual(await peer.closedSoon(), { code: 1001, reason: "idle timeout" });
    const quietMs = performance.now() - quietSince;
    assert.ok(quietMs >= IDLE_MS - 50, `closed after ${quietMs} ms of silence`);
  } finally {
    await relay.close();
  }
});

Deno.test("a connection that keeps sending stays open past the idle timeout", async () => {
  const relay = startRelay({ idleTimeoutMs: IDLE_MS });
  const peer = await RawPeer.connect(relay.url);
  try {
    const until = performance.now() + IDLE_MS * 3;
    let round = 0;
    while (performance.now() < until) {
      peer.socket.send(encodePacket({ type: "ping", payload: new Uint8Array([round]) }));
      assert.deepEqual(await peer.nextRaw(), new Uint8Array([0x00, round]));
      round = (round + 1) % 256;
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS / 3));
    }
    assert.equal(peer.socket.readyState, WebSocket.OPEN);
    assert.deepEqual(await peer.closedSoon(), { code: 1001, reason: "idle timeout" });
  } finally {
    await relay.close();
  }
});
