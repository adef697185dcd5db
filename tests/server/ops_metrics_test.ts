/**
 * Operator visibility: `GET /metrics` in the Prometheus text format behind
 * the admin key, with requests by route and status, rejections by reason
 * and live connection gauges from a real Emitter and Spot peer; and one
 * structured log entry per error or rejection, without keys, tokens or
 * bodies.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createServer, type ServerLogEntry } from "../../src/server/mod.ts";
import { channelKey, roundTrip, websocketPeer } from "./emitter/_mqtt_peer.ts";

const ADMIN = "metrics-admin-key";
const PROJECT_KEY = "phc_metrics_project_key";

function metrics(server: { fetch(r: Request): Promise<Response> }, key = ADMIN) {
  return server.fetch(
    new Request("http://x/metrics", { headers: { authorization: `Bearer ${key}` } }),
  );
}

/** The value of the sample named exactly `series`, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("metrics are refused without the admin key and 403 with none configured", async () => {
  const server = createServer({ adminKey: ADMIN });
  const missing = await server.fetch(new Request("http://x/metrics"));
  assert.equal(missing.status, 401);
  assert.equal(missing.headers.get("www-authenticate"), "Bearer");
  await missing.body?.cancel();
  const wrong = await metrics(server, "not-the-key");
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  await server.close();
  const closed = createServer();
  const disabled = await metrics(closed);
  assert.equal(disabled.status, 403);
  assert.deepEqual(await disabled.json(), { error: "admin_disabled" });
  await closed.close();
});

Deno.test("metrics count requests by route pattern and status and rejections by reason", async () => {
  const server = createServer({ adminKey: ADMIN, log: () => {} });
  for (let i = 0; i < 3; i++) await (await server.fetch(new Request("http://x/healthz"))).text();
  await (await server.fetch(new Request("http://x/nowhere"))).text();
  const bad = await server.fetch(
    new Request("http://x/api/v1/handshake", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    }),
  );
  assert.equal(bad.status, 400);
  await bad.text();
  const response = await metrics(server);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await response.text();
  assert.ok(text.includes("# TYPE edgewire_http_requests_total counter"), text);
  assert.equal(
    sample(text, 'edgewire_http_requests_total{method="GET",route="/healthz",status="200"}'),
    3,
  );
  assert.equal(
    sample(text, 'edgewire_http_requests_total{method="GET",route="unmatched",status="404"}'),
    1,
  );
  assert.equal(
    sample(
      text,
      'edgewire_http_requests_total{method="POST",route="/api/v1/handshake",status="400"}',
    ),
    1,
  );
  assert.equal(sample(text, 'edgewire_http_rejections_total{reason="not_found"}'), 1);
  assert.equal(sample(text, 'edgewire_http_rejections_total{reason="invalid_request"}'), 1);
  assert.equal(sample(text, "edgewire_emitter_connections"), 0);
  assert.equal(sample(text, "edgewire_spot_connections"), 0);
  await server.close();
});

Deno.test("metrics report the open Emitter and Spot connections and subscriptions", async () => {
  const server = createServer({ adminKey: ADMIN });
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request, info) => server.fetch(request, info),
  );
  try {
    const base = `ws://127.0.0.1:${http.addr.port}`;
    const key = await channelKey(server, "metrics/");
    const mqtt = await websocketPeer(`${base}/mqtt`, ["mqtt"]);
    await roundTrip(mqtt, key, "metrics/", "hello");
    const spot = new WebSocket(`${base}/_websocket`);
    await new Promise((resolve, reject) => {
      spot.onopen = resolve;
      spot.onerror = reject;
    });
    const spotClosed = new Promise((resolve) => spot.onclose = resolve);
    const text = await (await metrics(server)).text();
    assert.equal(sample(text, "edgewire_emitter_connections"), 1, text);
    assert.equal(sample(text, "edgewire_emitter_subscriptions"), 1, text);
    assert.equal(sample(text, "edgewire_emitter_remote_subscriptions"), 0, text);
    assert.equal(sample(text, "edgewire_spot_connections"), 1, text);
    spot.close();
    await spotClosed;
    await mqtt[Symbol.asyncDispose]();
  } finally {
    await server.close();
    await http.shutdown();
  }
});

Deno.test("each rejection is logged once with a request id and never a key or body", async () => {
  const entries: ServerLogEntry[] = [];
  const server = createServer({
    adminKey: ADMIN,
    honch: { projectKeys: [PROJECT_KEY], rateLimit: { capacity: 1, refillPerSecond: 0.001 } },
    log: (entry) => entries.push(entry),
  });
  const capture = () =>
    server.fetch(
      new Request("http://x/capture", {
        method: "POST",
        headers: { "content-type": "application/json", "x-honch-project-key": PROJECT_KEY },
        body: JSON.stringify({ secret_marker: "body-must-not-be-logged" }),
      }),
    );
  await (await capture()).text();
  const limited = await capture();
  assert.equal(limited.status, 429);
  await limited.text();
  const ok = await server.fetch(new Request("http://x/healthz"));
  assert.equal(ok.headers.get("x-request-id"), null);
  await ok.text();
  const rateLimited = entries.filter((entry) => entry.reason === "rate_limited");
  assert.equal(rateLimited.length, 1);
  const [entry] = rateLimited;
  assert.equal(limited.headers.get("x-request-id"), entry.requestId);
  assert.match(entry.requestId, /^[0-9a-f-]{36}$/);
  assert.equal(entry.level, "warn");
  assert.equal(entry.method, "POST");
  assert.equal(entry.route, "/capture");
  assert.equal(entry.status, 429);
  assert.ok(!Number.isNaN(Date.parse(entry.time)));
  assert.ok(entry.durationMs >= 0);
  const logged = JSON.stringify(entries);
  assert.ok(!logged.includes(PROJECT_KEY), logged);
  assert.ok(!logged.includes("body-must-not-be-logged"), logged);
  assert.ok(entries.every((e) => e.status >= 400), logged);
  await server.close();
});

Deno.test("the default log writes only 5xx answers to console.error as one JSON line", async () => {
  const { SqliteStore } = await import("../../src/server/sqlite/mod.ts");
  const store = new SqliteStore(":memory:");
  const server = createServer({ store, adminKey: ADMIN });
  const lines: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args);
  try {
    await (await server.fetch(new Request("http://x/nowhere"))).text();
    assert.equal(lines.length, 0);
    await (await server.fetch(new Request("http://x/healthz"))).text();
    await store.close(); // every store call now throws: a real 500
    const failed = await server.fetch(
      new Request("http://x/api/honch/events?project_key=k", {
        headers: { authorization: `Bearer ${ADMIN}` },
      }),
    );
    assert.equal(failed.status, 500);
    await failed.text();
  } finally {
    console.error = original;
  }
  assert.equal(lines.length, 1);
  assert.equal(lines[0].length, 1);
  const entry = JSON.parse(String(lines[0][0]));
  assert.equal(entry.level, "error");
  assert.equal(entry.status, 500);
  assert.equal(entry.reason, "internal");
  assert.equal(entry.route, "/api/honch/events");
  assert.equal(typeof entry.error, "string");
  assert.ok(!String(lines[0][0]).includes(ADMIN));
  await server.close();
});

Deno.test("a log option that is not a function is refused naming the field", () => {
  // @ts-expect-error: not a function
  assert.throws(() => createServer({ log: "stderr" }), /'log'/);
});

/** The rejection counts `GET /metrics` reports, by reason. */
async function rejections(server: { fetch(r: Request): Promise<Response> }) {
  const text = await (await metrics(server)).text();
  const counts = new Map<string, number>();
  for (
    const [, reason, count] of text.matchAll(
      /^edgewire_http_rejections_total\{reason="([^"]*)"\} (\d+)$/gm,
    )
  ) {
    counts.set(reason, Number(count));
  }
  return counts;
}

function graphql(server: { fetch(r: Request): Promise<Response> }, query: string) {
  return server.fetch(
    new Request("http://x/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query }),
    }),
  );
}

Deno.test("a migas GraphQL query over the alias limit is counted under its own reason, not its status", async () => {
  const entries: ServerLogEntry[] = [];
  const server = createServer({
    adminKey: ADMIN,
    migas: { graphql: { maxAliases: 2 } },
    log: (entry) => entries.push(entry),
  });
  const fields = Array.from({ length: 3 }, (_, i) => `a${i}: __typename`).join(" ");
  const refused = await graphql(server, `{ ${fields} }`);
  assert.equal(refused.status, 400);
  const body = await refused.json();
  assert.match(body.errors[0].message, /more than 2 aliased fields/);
  assert.equal(refused.headers.get("x-backend-server"), "migas@0.9");
  const counts = await rejections(server);
  assert.equal(counts.get("graphql_too_many_aliases"), 1, JSON.stringify([...counts]));
  assert.equal(counts.get("http_400"), undefined);
  assert.deepEqual(entries.map((e) => [e.route, e.status, e.reason]), [
    ["/graphql", 400, "graphql_too_many_aliases"],
  ]);
  await server.close();
});

Deno.test("a migas GraphQL error answered 200 with an errors list is not counted as a rejection", async () => {
  const server = createServer({ adminKey: ADMIN, log: () => {} });
  const answered = await graphql(server, "{ no_such_field }");
  assert.equal(answered.status, 200);
  assert.ok((await answered.json()).errors.length > 0);
  const counts = await rejections(server);
  assert.deepEqual([...counts], []);
  await server.close();
});

Deno.test("a text/plain migas breadcrumb is counted as unsupported_media_type with migas' own body", async () => {
  const server = createServer({ adminKey: ADMIN, log: () => {} });
  const refused = await server.fetch(
    new Request("http://x/api/breadcrumb", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ project: "acme/tool", project_version: "1.0.0" }),
    }),
  );
  assert.equal(refused.status, 415);
  assert.match((await refused.json()).detail, /application\/json/);
  assert.equal(refused.headers.get("x-backend-server"), "migas@0.9");
  const counts = await rejections(server);
  assert.equal(counts.get("unsupported_media_type"), 1, JSON.stringify([...counts]));
  assert.equal(counts.get("http_415"), undefined);
  await server.close();
});

Deno.test("every migas refusal carries a reason code chosen by the server", async () => {
  const server = createServer({
    adminKey: ADMIN,
    migas: { projects: [{ project: "acme/tool" }] },
    log: () => {},
  });
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    server.fetch(
      new Request(`http://x${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      }),
    );
  const cases: [() => Promise<Response>, number, string][] = [
    [() => post("/api/breadcrumb", "{"), 422, "invalid_json"],
    [
      () =>
        post("/api/breadcrumb", JSON.stringify({ project: "notaslash", project_version: "1.0.0" })),
      400,
      "invalid_project",
    ],
    [
      () =>
        post(
          "/api/breadcrumb",
          JSON.stringify({ project: "acme/other", project_version: "1.0.0" }),
        ),
      400,
      "project_not_registered",
    ],
    [() => post("/api/breadcrumb", JSON.stringify({ project: "acme/tool\0" })), 400, "nul_in_text"],
    [
      () => post("/api/breadcrumb", "{}", { "idempotency-key": "" }),
      422,
      "invalid_idempotency_key",
    ],
    [() => post("/api/admin/register", "{}"), 401, "unauthorized"],
    [
      () => server.fetch(new Request("http://x/api/usage/acme%zz/tool?start=2024-01-01")),
      400,
      "malformed_escape",
    ],
    [() => server.fetch(new Request("http://x/api/usage/acme/tool")), 422, "validation_failed"],
    [() => post("/graphql", "[]"), 400, "invalid_json"],
    [() => post("/graphql", "{}"), 400, "invalid_request"],
    [
      () =>
        post("/graphql", JSON.stringify({ query: "{ a { b { c { d { e { f { g } } } } } } }" })),
      400,
      "graphql_too_deep",
    ],
  ];
  const expected = new Map<string, number>();
  for (const [send, status, reason] of cases) {
    const response = await send();
    assert.equal(response.status, status, reason);
    assert.equal(response.headers.get("x-backend-server"), "migas@0.9", reason);
    await response.body?.cancel();
    expected.set(reason, (expected.get(reason) ?? 0) + 1);
    assert.deepEqual(await rejections(server), expected, reason);
  }
  const counts = await rejections(server);
  assert.ok(
    [...counts.keys()].every((reason) => !reason.startsWith("http_")),
    JSON.stringify([...counts]),
  );
  await server.close();
});
