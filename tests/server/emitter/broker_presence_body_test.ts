/**
 * `POST /presence` reads at most 64 KiB of a request body: a body with no
 * `Content-Length` (chunked) is cut off once it passes the limit, not
 * buffered whole before the size is checked.
 *
 * @module
 */

import assert from "node:assert/strict";
import { presenceRoutes } from "../../../src/server/emitter/presence_routes.ts";
import { makeBroker } from "./_broker_harness.ts";

Deno.test("a chunked presence body past 64 KiB is refused with 413 after reading little of it", async () => {
  const { broker } = await makeBroker();
  const app = presenceRoutes(broker);
  const chunk = new Uint8Array(16_384).fill(0x20);
  const total = 64 * 1024 * 1024;
  let pulled = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close();
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
    cancel() {
      cancelled = true;
    },
  });
  const answer = await app.request(
    new Request("http://broker/presence", { method: "POST", body, duplex: "half" } as RequestInit),
  );
  assert.equal(answer.status, 413);
  assert.ok(pulled < 1024 * 1024, `read ${pulled} bytes of a refused body`);
  assert.equal(cancelled, true);
  await broker.close();
});
