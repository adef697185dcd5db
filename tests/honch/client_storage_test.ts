/**
 * Unit tests of the storage of a {@linkcode HonchClient}: the durable queue
 * survives a restart and a failing storage does not stop the client.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MemoryStorage, StorageError } from "../../src/core/storage.ts";
import { harness } from "./_client_harness.ts";

Deno.test("the durable queue survives a restart when the first client is offline", async () => {
  const storage = new MemoryStorage();
  const first = harness({ storage });
  first.client.disconnected();
  first.client.track("kept");
  await first.client.shutdown();
  const second = harness({ storage });
  await second.client.flush();
  assert.deepEqual(second.names(), [
    "$device_boot",
    "$connectivity_change",
    "kept",
    "$device_shutdown",
    "$device_boot",
  ]);
});

Deno.test("a storage that fails at start rejects ready() with the core StorageError and the client goes on", async () => {
  const storage = new MemoryStorage();
  storage.get = () => Promise.reject(new Error("disk gone"));
  const { client, names } = harness({ storage });
  client.track("kept");
  await assert.rejects(client.ready(), (error: unknown) => {
    assert.ok(error instanceof StorageError);
    assert.equal(error.key, "honch:distinct_id");
    assert.equal(error.operation, "get");
    return true;
  });
  await client.flush();
  assert.deepEqual(names(), ["$device_boot", "kept"]);
});
