/**
 * The Honch admin events route and the validation of the Honch server
 * options.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { createServer, type ServerOptions } from "../../src/server/mod.ts";
import {
  ADMIN,
  errorOf,
  KEY,
  makeServer,
  postJson,
  status,
  vectors,
} from "./_honch_routes_fixtures.ts";

Deno.test("the admin events route needs the admin key, a project key and a sane limit", async () => {
  const { server } = makeServer();
  const body = vectors.json_ingest_fixtures[0].fixture.request.body as {
    context: Record<string, string>;
  };
  const events = Array.from({ length: 5 }, (_, i) => ({ event: `e${i}`, timestamp: 1000 + i }));
  assert.equal(await status(await postJson(server, { ...body, events })), 200);
  const get = (query: string, authorization = `Bearer ${ADMIN}`) =>
    server.fetch(new Request(`http://x/api/honch/events${query}`, { headers: { authorization } }));
  const unauthorized = await get(`?project_key=${KEY}`, "Bearer nope");
  assert.equal(unauthorized.status, 401);
  assert.equal(unauthorized.headers.get("www-authenticate"), "Bearer");
  await unauthorized.body?.cancel();
  assert.equal((await errorOf(await get(""), 400)).field, "project_key");
  assert.equal((await errorOf(await get(`?project_key=${KEY}&limit=1001`), 400)).field, "limit");
  assert.equal((await errorOf(await get(`?project_key=${KEY}&limit=0`), 400)).field, "limit");
  const last = await errorOf(await get(`?project_key=${KEY}&limit=2`), 200);
  assert.deepEqual((last.events as { event: string }[]).map((event) => event.event), ["e3", "e4"]);
  const all = await errorOf(await get(`?project_key=${KEY}`), 200);
  assert.equal((all.events as unknown[]).length, 5);
  const other = await errorOf(await get("?project_key=phc_other"), 200);
  assert.deepEqual(other.events, []);
  await server.close();

  const noAdmin = createServer({ honch: { projectKeys: [KEY] } });
  const disabled = await noAdmin.fetch(new Request(`http://x/api/honch/events?project_key=${KEY}`));
  assert.deepEqual(await errorOf(disabled, 403), { error: "admin_disabled" });
  await noAdmin.close();
});

Deno.test("Honch options are validated once and never echo a project key", () => {
  const bad: ServerOptions[] = [
    { honch: { maxFrameBytes: 100 } },
    { honch: { maxMessageBytes: 1.5 } },
    { honch: { partialTtlMs: 0 } },
    { honch: { projectKeys: ["secret key"] } },
    { honch: { projectKeys: [""] } },
    { honch: "x" as unknown as ServerOptions["honch"] },
  ];
  for (const options of bad) {
    assert.throws(() => createServer(options), (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.ok(!error.message.includes("secret key"));
      assert.ok(error.argument.startsWith("honch"));
      return true;
    });
  }
});
