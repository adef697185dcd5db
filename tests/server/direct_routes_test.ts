/**
 * The ingest routes the server serves without Hono's dispatch (mkStats
 * `/data` and `/event` under both bases, migas `/api/breadcrumb`, Honch
 * `/capture`, `/e` and `/chunks`) answer
 * exactly as through the Hono app (`server.app.fetch`), with what the app's
 * middleware adds: CORS headers, the error answer, the request id, the count
 * and log of `/metrics`, and the body deadline.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MemoryStore, type ServerLogEntry, StoreUnavailableError } from "../../src/server/mod.ts";
import { COMMON, handshake, makeServer, ping } from "./_mkstats_routes_fixtures.ts";
import { KEY, makeServer as makeHonchServer, vectors } from "./_honch_routes_fixtures.ts";

const ADMIN = "direct-admin-key";
const ORIGIN = "https://app.example";

/** A request made twice, once per path through the server. */
function twice(path: string, body: string, headers: Record<string, string>): [Request, Request] {
  const make = () =>
    new Request(`http://x${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN, ...headers },
      body,
    });
  return [make(), make()];
}

/** Status, body and headers, the random request id aside (its presence is kept). */
async function shape(response: Response): Promise<unknown> {
  const headers = [...response.headers].map(([name, value]) =>
    name === "x-request-id" ? [name, value.length > 0] : [name, value]
  );
  return { status: response.status, body: await response.text(), headers };
}

Deno.test("an mkStats event or ping answers as through the Hono app, with its CORS headers", async () => {
  const { server } = makeServer({ cors: { origins: [ORIGIN] }, log: () => {} });
  const token = await handshake(server);
  const fields = { ...COMMON, install_token: token, timestamp: 1736942400 };
  const cases: [path: string, body: string, headers: Record<string, string>][] = [
    ["/api/v1/event", JSON.stringify({ ...fields, event: "opened" }), {}],
    ["/api/v1/data", JSON.stringify(fields), {}],
    ["/api/event", JSON.stringify({ ...fields, event: "opened" }), {}],
    ["/api/v1/event", "{not json", {}],
    ["/api/v1/event", JSON.stringify({ ...fields, event: "opened", install_token: "wrong" }), {}],
    ["/api/v1/data", JSON.stringify(fields), { "content-type": "text/plain" }],
    ["/api/v1/event", JSON.stringify({ ...fields, event: "x" }), { "idempotency-key": "\u00e9" }],
  ];
  const seen = new Set<number>();
  for (const [path, body, headers] of cases) {
    const [direct, viaHono] = twice(path, body, headers);
    const first = await shape(await server.fetch(direct));
    const second = await shape(await server.app.fetch(viaHono));
    assert.deepEqual(first, second, `${path} ${body}`);
    seen.add((first as { status: number }).status);
    // Refusals too carry the CORS headers, so a page can read why
    assert.ok(JSON.stringify(first).includes(`["access-control-allow-origin","${ORIGIN}"]`));
  }
  // The cases cover the answers: refused before any ping, pinged, and refused inputs
  assert.deepEqual([...seen].sort(), [200, 400, 401, 409, 415]);
  await server.close();
});

Deno.test("a migas breadcrumb answers as through the Hono app, query string and backend header included", async () => {
  const { server } = makeServer({
    migas: { projects: [{ project: "acme/tool", latestVersion: "1.2.0" }] },
    log: () => {},
  });
  const crumb = { project: "acme/tool", project_version: "1.1.0" };
  for (
    const [path, body] of [
      ["/api/breadcrumb?wait=true", JSON.stringify(crumb)],
      ["/api/breadcrumb", JSON.stringify(crumb)],
      ["/api/breadcrumb", JSON.stringify({ ...crumb, project: "acme/unknown" })],
      ["/api/breadcrumb", "[1"],
    ] as const
  ) {
    const [direct, viaHono] = twice(path, body, {});
    const first = await shape(await server.fetch(direct));
    const second = await shape(await server.app.fetch(viaHono));
    assert.deepEqual(first, second, `${path} ${body}`);
    assert.ok(JSON.stringify(first).includes("x-backend-server"), JSON.stringify(first));
  }
  await server.close();
});

Deno.test("a direct answer to a request without an Origin carries no CORS header", async () => {
  const { server } = makeServer({ log: () => {} });
  const token = await handshake(server);
  const fields = { ...COMMON, install_token: token, timestamp: 1736942400 };
  const send = (body: string, headers: Record<string, string> = {}) =>
    server.fetch(
      new Request("http://x/api/v1/data", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      }),
    );
  // A client of the services sends no Origin: the answer has only its content type
  const plain = await send(JSON.stringify(fields));
  assert.equal(plain.status, 200);
  assert.deepEqual([...plain.headers], [["content-type", "application/json"]]);
  await plain.body?.cancel();
  const refused = await send("{not json");
  assert.equal(refused.status, 400);
  assert.equal(refused.headers.get("access-control-allow-origin"), null);
  await refused.body?.cancel();
  // A browser's request, even from any origin, gets them
  const page = await send(JSON.stringify(fields), { origin: ORIGIN });
  assert.equal(page.headers.get("access-control-allow-origin"), "*");
  assert.equal(page.headers.get("access-control-expose-headers"), "retry-after");
  await page.body?.cancel();
  await server.close();
});

Deno.test("a Honch capture answers as through the Hono app, refusals included", async () => {
  const { server } = makeHonchServer();
  const batch = JSON.stringify(vectors.json_ingest_fixtures[0].fixture.request.body);
  const statuses: number[] = [];
  for (
    const [path, body, headers] of [
      ["/capture", batch, { "x-honch-project-key": KEY }],
      ["/e", batch, { "x-honch-project-key": "phc_wrong" }],
      ["/chunks", "{}", { "x-honch-project-key": KEY, "content-encoding": "gzip" }],
    ] as const
  ) {
    const [direct, viaHono] = twice(path, body, headers);
    const first = await shape(await server.fetch(direct));
    const second = await shape(await server.app.fetch(viaHono));
    assert.deepEqual(first, second, `${path} ${body}`);
    statuses.push((first as { status: number }).status);
  }
  assert.deepEqual(statuses, [200, 401, 415]);
  await server.close();
});

Deno.test("a directly served route that fails answers 500 without detail, logged and counted", async () => {
  const store = new MemoryStore();
  const entries: ServerLogEntry[] = [];
  const { server } = makeServer({ store, adminKey: ADMIN, log: (entry) => entries.push(entry) });
  const token = await handshake(server);
  store.findInstallToken = () => Promise.reject(new TypeError(`lookup failed for ${token}`));
  const response = await ping(server, token);
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), { error: "internal" });
  const id = response.headers.get("x-request-id");
  assert.ok(id !== null && id.length > 0);
  assert.equal(entries.length, 1);
  const entry = entries[0];
  assert.equal(entry.requestId, id);
  assert.equal(entry.route, "/api/v1/data");
  assert.equal(entry.status, 500);
  assert.equal(entry.reason, "internal");
  assert.equal(entry.error, "TypeError");
  // Never the token the failing store put in its message
  assert.ok(!JSON.stringify(entry).includes(token));
  const metrics = await server.fetch(
    new Request("http://x/metrics", { headers: { authorization: `Bearer ${ADMIN}` } }),
  );
  const text = await metrics.text();
  assert.ok(
    text.includes(
      'edgewire_http_requests_total{method="POST",route="/api/v1/data",status="500"} 1',
    ),
    text,
  );
  assert.ok(text.includes('edgewire_http_rejections_total{reason="internal"} 1'), text);
  await server.close();
});

Deno.test("a store that cannot be used for now answers 503 store_unavailable with Retry-After, both ways", async () => {
  const store = new MemoryStore();
  const entries: ServerLogEntry[] = [];
  const { server } = makeServer({ store, adminKey: ADMIN, log: (entry) => entries.push(entry) });
  const token = await handshake(server);
  store.findInstallToken = () =>
    Promise.reject(new StoreUnavailableError("PostgreSQL ended the connection: retry"));
  const body = JSON.stringify({ ...COMMON, install_token: token, timestamp: 1736942400 });
  const [direct, viaHono] = twice("/api/v1/data", body, {});
  for (const response of [await server.fetch(direct), await server.app.fetch(viaHono)]) {
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "1");
    assert.deepEqual(await response.json(), { error: "store_unavailable" });
  }
  assert.deepEqual(
    entries.map(({ level, status, reason, error }) => ({ level, status, reason, error })),
    Array(2).fill({
      level: "error",
      status: 503,
      reason: "store_unavailable",
      error: "StoreUnavailableError",
    }),
  );
  const metrics = await server.fetch(
    new Request("http://x/metrics", { headers: { authorization: `Bearer ${ADMIN}` } }),
  );
  const text = await metrics.text();
  assert.ok(text.includes('edgewire_http_rejections_total{reason="store_unavailable"} 2'), text);
  assert.ok(!text.includes('reason="internal"'), text);
  await server.close();
});

Deno.test("a directly served route still gets its body deadline", async () => {
  // The deadline runs on real time, as a stalled socket would
  const { server } = makeServer({ bodyTimeoutMs: 50, log: () => {} });
  let pull = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      // One byte, then nothing
      if (pull++ === 0) controller.enqueue(new TextEncoder().encode("{"));
      else return new Promise(() => {});
    },
  });
  const pending = server.fetch(
    new Request("http://x/api/v1/event", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "9999" },
      body,
      duplex: "half",
    } as RequestInit),
  );
  const response = await pending;
  assert.equal(response.status, 408);
  await response.body?.cancel();
  await server.close();
});
