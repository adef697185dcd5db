/**
 * The {@linkcode ServerStore} contract of the Honch interface: partial
 * uploads, frames, completed messages, coredumps, events and pruning.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { HonchUploadKey } from "../../src/server/mod.ts";
import { bytes, type ContractTest, EVENT, PROJECT_HASH, upload } from "./_contract_fixtures.ts";

/**
 * Registers the contract's tests of the Honch store interface: partial
 * uploads, frames, messages, coredumps, events and pruning.
 *
 * @param test Registers one contract test for the store.
 */
export function honchContract(test: ContractTest): void {
  test("a partial upload opens once, is found while live, and is replaced once expired", async ({ store }) => {
    const key = upload(1);
    assert.equal(await store.findHonchPartial(key, 0), undefined);
    const opening = { totalLength: 6, payload: bytes(1, 2), now: 0, expiresAt: 100 };
    const opened = await Promise.all([
      store.openHonchPartial(key, opening),
      store.openHonchPartial(key, opening),
    ]);
    assert.deepEqual(opened.sort(), [false, true]);
    assert.deepEqual(await store.findHonchPartial(key, 99), {
      totalLength: 6,
      received: 2,
      expiresAt: 100,
    });
    assert.equal(await store.findHonchPartial(key, 100), undefined);
    assert.equal(
      await store.openHonchPartial(key, {
        totalLength: 9,
        payload: bytes(7),
        now: 100,
        expiresAt: 300,
      }),
      true,
    );
    assert.deepEqual(await store.findHonchPartial(key, 150), {
      totalLength: 9,
      received: 1,
      expiresAt: 300,
    });
    assert.deepEqual(await store.readHonchPartialBytes(key), bytes(7));
    // Another stream, source type or message id is another upload.
    assert.equal(await store.findHonchPartial(upload(1, "other"), 150), undefined);
    assert.equal(await store.findHonchPartial({ ...key, sourceType: 1 }, 150), undefined);
  });

  test("appendHonchFrame holds a frame only where the held bytes stop, once", async ({ store }) => {
    const key = upload(2);
    assert.equal(
      await store.appendHonchFrame(key, { offset: 0, payload: bytes(1), now: 0 }),
      false,
    );
    assert.deepEqual(await store.readHonchPartialBytes(key), bytes());
    await store.openHonchPartial(key, {
      totalLength: 8,
      payload: bytes(1, 2),
      now: 0,
      expiresAt: 100,
    });
    assert.equal(
      await store.appendHonchFrame(key, { offset: 3, payload: bytes(9), now: 1 }),
      false,
    );
    const frame = { offset: 2, payload: bytes(3, 4), now: 1 };
    const appended = await Promise.all([1, 2, 3].map(() => store.appendHonchFrame(key, frame)));
    assert.deepEqual(appended.sort(), [false, false, true]);
    assert.equal(await store.appendHonchFrame(key, { offset: 4, payload: bytes(5), now: 2 }), true);
    assert.equal((await store.findHonchPartial(key, 2))?.received, 5);
    assert.deepEqual(await store.readHonchPartialBytes(key), bytes(1, 2, 3, 4, 5));
    // An expired partial takes nothing more.
    assert.equal(
      await store.appendHonchFrame(key, { offset: 5, payload: bytes(6), now: 100 }),
      false,
    );
    await store.discardHonchPartial(key);
    assert.equal(await store.findHonchPartial(key, 2), undefined);
    assert.deepEqual(await store.readHonchPartialBytes(key), bytes());
  });

  test("completeHonchMessage stores once, tells duplicates from collisions, drops the partial", async ({ store }) => {
    const key = upload(3);
    await store.openHonchPartial(key, {
      totalLength: 4,
      payload: bytes(1),
      now: 0,
      expiresAt: 100,
    });
    const done = { digest: "d1", events: [EVENT], now: 10, expiresAt: 100 };
    assert.equal(await store.completeHonchMessage(key, done), "stored");
    assert.equal(await store.findHonchPartial(key, 10), undefined);
    assert.equal(await store.completeHonchMessage(key, { ...done, now: 20 }), "duplicate");
    assert.equal(await store.completeHonchMessage(key, { ...done, digest: "d2" }), "collision");
    assert.equal((await store.listHonchEvents(PROJECT_HASH, 10)).length, 1);
    // Once the marker expired, the id may carry a new message.
    assert.equal(
      await store.completeHonchMessage(key, { ...done, digest: "d2", now: 100 }),
      "stored",
    );
    assert.equal((await store.listHonchEvents(PROJECT_HASH, 10)).length, 2);
  });

  test("a coredump is kept as a blob under its upload key", async ({ store }) => {
    const key = { ...upload(4), sourceType: 1 };
    assert.equal(
      await store.completeHonchMessage(key, {
        digest: "d",
        events: [],
        blob: bytes(9, 8, 7),
        now: 5,
        expiresAt: 50,
      }),
      "stored",
    );
    assert.deepEqual(await store.listHonchBlobs(PROJECT_HASH, 10), [
      { key, bytes: bytes(9, 8, 7), receivedAt: 5 },
    ]);
    assert.deepEqual(await store.listHonchBlobs("0".repeat(64), 10), []);
    assert.deepEqual(await store.listHonchEvents(PROJECT_HASH, 10), []);
  });

  test("events are listed newest last, up to the limit, per project, big integers as text", async ({ store }) => {
    const events = [1, 2, 3].map((n) => ({ ...EVENT, event: `e${n}`, timestamp: n }));
    await store.addHonchEvents(PROJECT_HASH, events, 7);
    await store.addHonchEvents("0".repeat(64), [EVENT], 7);
    await store.addHonchEvents(PROJECT_HASH, [{
      ...EVENT,
      event: "big",
      properties: { id: 2n ** 64n - 1n, nested: { list: [1, "a", null, true] } },
    }], 8);
    const listed = await store.listHonchEvents(PROJECT_HASH, 2);
    assert.deepEqual(listed, [
      { ...EVENT, event: "e3", timestamp: 3 },
      {
        ...EVENT,
        event: "big",
        properties: { id: "18446744073709551615", nested: { list: [1, "a", null, true] } },
      },
    ]);
    assert.equal((await store.listHonchEvents(PROJECT_HASH, 100)).length, 4);
  });

  test("pruneHonch drops expired partials and markers and keeps live ones", async ({ store }) => {
    await store.openHonchPartial(upload(5), {
      totalLength: 4,
      payload: bytes(1),
      now: 0,
      expiresAt: 10,
    });
    await store.openHonchPartial(upload(6), {
      totalLength: 4,
      payload: bytes(2),
      now: 0,
      expiresAt: 99,
    });
    await store.completeHonchMessage(upload(7), { digest: "a", events: [], now: 0, expiresAt: 10 });
    await store.completeHonchMessage(upload(8), { digest: "b", events: [], now: 0, expiresAt: 99 });
    // One expired partial and one expired marker, under one limit.
    assert.equal(await store.pruneHonch(11, 1), 1);
    assert.equal(await store.pruneHonch(11, 10), 1);
    assert.equal(await store.pruneHonch(11, 10), 0);
    assert.deepEqual(await store.readHonchPartialBytes(upload(5)), bytes());
    assert.deepEqual(await store.readHonchPartialBytes(upload(6)), bytes(2));
    assert.equal(
      await store.completeHonchMessage(upload(8), {
        digest: "c",
        events: [],
        now: 11,
        expiresAt: 99,
      }),
      "collision",
    );
  });

  test("honchPartialUsage counts live partials and their declared bytes per project, stream and address", async ({ store }) => {
    const scope = { projectKeyHash: PROJECT_HASH, streamId: "a", address: "198.51.100.1" };
    const none = { count: 0, bytes: 0 };
    assert.deepEqual(await store.honchPartialUsage(scope, 0), {
      project: none,
      stream: none,
      address: none,
    });
    const open = (key: HonchUploadKey, totalLength: number, address: string, expiresAt = 100) =>
      store.openHonchPartial(key, { totalLength, payload: bytes(1), now: 0, expiresAt, address });
    await open(upload(1, "a"), 10, "198.51.100.1");
    await open(upload(2, "a"), 20, "198.51.100.2");
    await open(upload(3, "b"), 40, "198.51.100.1");
    await open({ ...upload(4, "a"), projectKeyHash: "e".repeat(64) }, 80, "198.51.100.1");
    await open(upload(5, "a"), 160, "198.51.100.1", 50);
    // Appended bytes change nothing: the declared length was counted when the partial opened.
    await store.appendHonchFrame(upload(1, "a"), { offset: 1, payload: bytes(2, 3), now: 1 });
    assert.deepEqual(await store.honchPartialUsage(scope, 10), {
      project: { count: 4, bytes: 230 },
      stream: { count: 3, bytes: 190 },
      address: { count: 4, bytes: 290 },
    });
    // Expired partials are not counted, pruned or not; discarded and completed ones neither.
    await store.discardHonchPartial(upload(3, "b"));
    await store.completeHonchMessage(upload(2, "a"), {
      digest: "d",
      events: [],
      now: 60,
      expiresAt: 200,
    });
    assert.deepEqual(await store.honchPartialUsage(scope, 60), {
      project: { count: 1, bytes: 10 },
      stream: { count: 1, bytes: 10 },
      address: { count: 2, bytes: 90 },
    });
  });
}
