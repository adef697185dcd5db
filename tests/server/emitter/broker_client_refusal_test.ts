/**
 * The broker's refusals of publishes reach the SDK's EmitterClient: the
 * broker answers a refused PUBLISH on `emitter/error/` (then, for QoS 1, its
 * PUBACK, as the real broker does), so a refused QoS 1 publish rejects with
 * the broker's status and a refused QoS 0 one arrives on the `error` event,
 * neither in silence and neither with the key in its message.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { EdgewireError } from "../../../src/core/errors.ts";
import { EmitterClient } from "../../../src/emitter/client.ts";
import { EmitterError } from "../../../src/emitter/security/errors.ts";
import { createServer } from "../../../src/server/mod.ts";

async function served() {
  const server = createServer();
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, server.fetch);
  const client = new EmitterClient({ endpoint: `ws://127.0.0.1:${http.addr.port}/` });
  await client.connect();
  // A read-only key: the broker refuses to publish with it
  const response = await server.fetch(
    new Request("http://localhost/keygen", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: server.emitter.secret, channel: "news/", type: "r", ttl: 0 }),
    }),
  );
  const key: string = (await response.json()).key;
  return {
    client,
    key,
    async [Symbol.asyncDispose]() {
      await client.disconnect();
      await server.close();
      await http.shutdown();
    },
  };
}

Deno.test("a QoS 1 publish the broker refuses rejects with its status, not the key", async () => {
  await using running = await served();
  const { client, key } = running;
  const error = await client.publish({ key, channel: "news/", message: "hi", qos: 1 }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof EmitterError, `expected a refusal, got ${error}`);
  assert.equal(error.status, 401);
  assert.ok(!error.message.includes(key));
});

Deno.test("a QoS 0 publish the broker refuses arrives on the error event", async () => {
  await using running = await served();
  const { client, key } = running;
  const refused = new Promise<EdgewireError>((resolve) => client.on("error", resolve));
  await client.publish({ key, channel: "news/", message: "hi" });
  const error = await refused;
  assert.ok(error instanceof EmitterError);
  assert.equal(error.status, 401);
  assert.ok(!error.message.includes(key));
});
