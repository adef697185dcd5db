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
