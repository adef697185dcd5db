/**
 * Honch JSON ingest on the reference server: every JSON ingest fixture, the
 * default timestamp, bad shapes, and random bodies never getting a 5xx.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  errorOf,
  KEY,
  makeServer,
  postJson,
  storedEvents,
  vectors,
} from "./_honch_routes_fixtures.ts";

for (const entry of vectors.json_ingest_fixtures) {
  Deno.test(`JSON ingest fixture '${entry.name}' answers ${entry.fixture.expected_ingest_status} and stores its events`, async () => {
    const { server } = makeServer();
    const response = await postJson(server, entry.fixture.request.body);
    const body = await response.json();
    const expectedStatus = entry.fixture.expected_ingest_status;
    assert.equal(response.status, expectedStatus, JSON.stringify(body));
    const events = entry.fixture.expected_expanded_events ?? [];
    if (expectedStatus === 200) {
      assert.equal(body.status, "ok");
      assert.equal(body.accepted, entry.fixture.expected_accepted ?? events.length);
      assert.equal(body.rejected, entry.fixture.expected_rejected ?? 0);
    }
    const codes = (body.errors as { code: string }[]).map((error) => error.code);
    assert.deepEqual(codes, entry.fixture.expected_error_codes ?? []);
    if (expectedStatus !== 200) assert.equal(body.error, codes[0]);
    assert.deepEqual(await storedEvents(server), events);
    await server.close();
  });
}

Deno.test("JSON ingest defaults a missing timestamp to the server clock and rejects bad shapes", async () => {
  const { server, clock } = makeServer();
  const base = vectors.json_ingest_fixtures[0].fixture.request.body as {
    context: Record<string, string>;
  };
  const ok = await errorOf(await postJson(server, { ...base, events: [{ event: "tick" }] }), 200);
  assert.equal(ok.accepted, 1);
  const [stored] = await storedEvents(server) as { timestamp: number }[];
  assert.equal(stored.timestamp, clock.time);
  const notArray = await errorOf(await postJson(server, { ...base, events: {} }), 422);
  assert.equal(notArray.error, "invalid_batch");
  const noContext = await errorOf(await postJson(server, { events: [{ event: "x" }] }), 422);
  assert.equal(noContext.error, "invalid_context");
  const deep = { a: [[[[[[[[[1]]]]]]]]] };
  const tooDeep = await errorOf(
    await postJson(server, { ...base, events: [{ event: "x", properties: deep }] }),
    422,
  );
  assert.equal(tooDeep.error, "invalid_property_value");
  const notJson = await server.fetch(
    new Request("http://x/capture", {
      method: "POST",
      headers: { "content-type": "application/json", "x-honch-project-key": KEY },
      body: "{",
    }),
  );
  assert.equal((await errorOf(notJson, 400)).error, "invalid_request");
  await server.close();
});

Deno.test("random JSON bodies posted for ingest never get a 5xx", async () => {
  const { server } = makeServer();
  const base = vectors.json_ingest_fixtures[0].fixture.request.body as Record<string, unknown>;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.jsonValue(),
        fc.record({ context: fc.jsonValue(), events: fc.jsonValue() }),
        fc.array(fc.jsonValue(), { maxLength: 4 }).map((events) => ({ ...base, events })),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }).map((properties) => ({
          ...base,
          events: [{ event: "fuzz", properties }],
        })),
      ),
      async (body) => {
        const response = await postJson(server, body);
        await response.body?.cancel();
        assert.ok(response.status < 500, `status ${response.status} for ${JSON.stringify(body)}`);
      },
    ),
    { seed: 20250116, numRuns: 300 },
  );
  await server.close();
});
