/**
 * The {@linkcode ServerStore} contract of the Spot interface: blobs kept per
 * owner and key, replaced by a second write, deleted, copied on the way in
 * and out, and refused past the owner's byte and count quota.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SpotBlobWrite } from "../../src/server/spot/store.ts";
import type { ContractTest } from "./_contract_fixtures.ts";

function blob(
  owner: string,
  key: string,
  values: number[],
  quota: Partial<SpotBlobWrite> = {},
): SpotBlobWrite {
  return {
    owner,
    key,
    value: new Uint8Array(values),
    now: 1_000,
    maxOwnerBytes: 1_024,
    maxOwnerBlobs: 10,
    ...quota,
  };
}

/**
 * Registers the Spot part of the contract.
 *
 * @param test Registers one test against a fresh store.
 */
export function spotContract(test: ContractTest): void {
  test("a Spot blob is read back by its owner and key only", async ({ store }) => {
    assert.equal(await store.putSpotBlob(blob("k.a", "x", [1, 2, 3])), true);
    assert.deepEqual(await store.getSpotBlob("k.a", "x"), new Uint8Array([1, 2, 3]));
    assert.equal(await store.getSpotBlob("k.b", "x"), undefined);
    assert.equal(await store.getSpotBlob("k.a", "y"), undefined);
  });

  test("a second Spot blob of the same key replaces the first", async ({ store }) => {
    await store.putSpotBlob(blob("k.a", "x", [1]));
    await store.putSpotBlob(blob("k.a", "x", [9, 9]));
    assert.deepEqual(await store.getSpotBlob("k.a", "x"), new Uint8Array([9, 9]));
  });

  test("a deleted Spot blob is gone and a second delete reports nothing", async ({ store }) => {
    await store.putSpotBlob(blob("k.a", "x", [1]));
    await store.putSpotBlob(blob("k.b", "x", [2]));
    assert.equal(await store.deleteSpotBlob("k.a", "x"), true);
    assert.equal(await store.deleteSpotBlob("k.a", "x"), false);
    assert.equal(await store.getSpotBlob("k.a", "x"), undefined);
    assert.deepEqual(await store.getSpotBlob("k.b", "x"), new Uint8Array([2]));
  });

  test("Spot blobs are copied in and out of the store", async ({ store }) => {
    const write = blob("k.a", "x", [1, 2]);
    await store.putSpotBlob(write);
    write.value[0] = 7;
    const read = await store.getSpotBlob("k.a", "x");
    assert.deepEqual(read, new Uint8Array([1, 2]));
    read![1] = 7;
    assert.deepEqual(await store.getSpotBlob("k.a", "x"), new Uint8Array([1, 2]));
  });

  test("a Spot blob past the owner's byte quota is refused and changes nothing", async ({ store }) => {
    const quota = { maxOwnerBytes: 10 };
    assert.equal(await store.putSpotBlob(blob("k.a", "x", [1, 2, 3, 4, 5, 6], quota)), true);
    assert.equal(await store.putSpotBlob(blob("k.a", "y", [1, 2, 3, 4, 5], quota)), false);
    assert.equal(await store.getSpotBlob("k.a", "y"), undefined);
    // Replacing a blob counts only the new value, and another owner has a quota of its own.
    assert.equal(
      await store.putSpotBlob(blob("k.a", "x", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], quota)),
      true,
    );
    assert.equal(await store.putSpotBlob(blob("k.b", "y", [1, 2, 3, 4, 5], quota)), true);
    // Space freed by a delete is usable again.
    await store.deleteSpotBlob("k.a", "x");
    assert.equal(await store.putSpotBlob(blob("k.a", "y", [1, 2, 3, 4, 5], quota)), true);
  });

  test("a Spot blob past the owner's count quota is refused", async ({ store }) => {
    const quota = { maxOwnerBlobs: 2 };
    assert.equal(await store.putSpotBlob(blob("k.a", "x", [1], quota)), true);
    assert.equal(await store.putSpotBlob(blob("k.a", "y", [1], quota)), true);
    assert.equal(await store.putSpotBlob(blob("k.a", "z", [1], quota)), false);
    assert.equal(await store.putSpotBlob(blob("k.a", "y", [2], quota)), true);
    assert.deepEqual(await store.getSpotBlob("k.a", "y"), new Uint8Array([2]));
  });

  test("Spot blobs survive closing and reopening the store", async (fixture) => {
    if (fixture.reopen === undefined) return;
    await fixture.store.putSpotBlob(blob("k.a", "x", [4, 2]));
    fixture.store = await fixture.reopen();
    assert.deepEqual(await fixture.store.getSpotBlob("k.a", "x"), new Uint8Array([4, 2]));
  });
}
