/**
 * Fuzzes every HTTP route of `createServer` in process (issue 12): arbitrary
 * methods, odd paths and queries, headers and bodies (random bytes, random
 * JSON, near-valid JSON from templates), with a fixed seed and a small
 * budget. No answer may be a 5xx, and `/healthz` still answers afterwards.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { createServer } from "../../src/server/mod.ts";

/** Fixed, so a failure replays the same cases on every run and in CI. */
const SEED = 0x5eed_0012;
const RUNS = 400;
const ADMIN_KEY = "fuzz-admin-key-0123456789abcdef";

const ROUTES = [
  "/api/v1/handshake",
  "/api/v1/data",
  "/api/v1/event",
  "/api/v1/stats/plugin",
  "/api/handshake",
  "/api/data",
  "/api/event",
  "/api/stats/x",
  "/capture",
  "/capture/",
  "/e",
  "/chunks",
  "/api/honch/events",
  "/api/breadcrumb",
  "/api/usage/owner/repo",
  "/api/usage/",
  "/api/admin/register",
  "/graphql",
  "/keygen",
  "/presence",
  "/metrics",
  "/healthz",
  "/_special/rest/Spot:connect",
  "/_websocket",
  "/",
];

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"];

const oddSuffix = fc.array(
  fc.constantFrom(
    "",
    "/",
    "//",
    "%",
    "%2",
    "%ZZ",
    "%00",
    "%2F",
    "%ff",
    "..",
    "/..",
    "?",
    "&",
    "=",
    "#",
    "a",
    ";",
    "%e2%82",
  ),
  { maxLength: 4 },
).map((parts) => parts.join(""));

const query = fc.option(
  fc.dictionary(
    fc.constantFrom("start", "end", "key", "token", "limit", "after", "q", "plugin_id"),
    fc.oneof(fc.string({ maxLength: 8 }), fc.integer().map(String), fc.constant("%zz")),
    { maxKeys: 3 },
  ).map((entries) => new URLSearchParams(entries).toString()),
  { nil: undefined },
);

const headerValue = fc.stringMatching(/^[ -~]{0,40}$/);

const headers = fc.record({
  "content-type": fc.option(
    fc.oneof(
      fc.constantFrom(
        "application/json",
        "application/json; charset=utf-8",
        "application/octet-stream",
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        ";;;",
      ),
      headerValue,
    ),
    { nil: undefined },
  ),
  "authorization": fc.option(
    fc.oneof(
      fc.constant(`Bearer ${ADMIN_KEY}`),
      headerValue.map((value) => `Bearer ${value}`),
      headerValue,
    ),
    { nil: undefined },
  ),
  "x-honch-project-key": fc.option(headerValue, { nil: undefined }),
  "x-honch-stream-id": fc.option(headerValue, { nil: undefined }),
  "content-encoding": fc.option(fc.constantFrom("gzip", "deflate", "br", "identity", "x"), {
    nil: undefined,
  }),
  "idempotency-key": fc.option(headerValue, { nil: undefined }),
  "x-forwarded-for": fc.option(headerValue, { nil: undefined }),
  "upgrade": fc.option(fc.constantFrom("websocket", "h2c"), { nil: undefined }),
}, { requiredKeys: [] });

const TEMPLATES: unknown[] = [
  { plugin_id: "p", install_id: "i", version: "1" },
  { token: "t", metrics: { a: 1 } },
  { event: "e", properties: {} },
  { api_key: "k", batch: [{ event: "x", distinct_id: "d", properties: {} }] },
  { api_key: "k", event: "x", distinct_id: "d" },
  { project: "owner/repo", name: "n", count: 1 },
  { query: "{ __typename }" },
  { query: "query($a: String) { usage(project: $a) { total } }", variables: { a: "x" } },
  { name: "owner/repo", key: "k" },
  { key: "k", channel: "c/", ttl: 60, type: "rwl" },
  { key: "k", channel: "c/", status: true, changes: true },
];

/** Replaces values in a template with arbitrary JSON: near-valid bodies. */
const nearValidJson = fc.tuple(
  fc.constantFrom(...TEMPLATES),
  fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })), {
    maxLength: 3,
  }),
  fc.boolean(),
).map(([template, changes, truncate]) => {
  const value = { ...(template as Record<string, unknown>) };
  const keys = Object.keys(value);
  for (const [key, replacement] of changes) {
    const target = keys.length > 0 && key.length % 2 === 0 ? keys[key.length % keys.length] : key;
    value[target] = replacement;
  }
  const text = JSON.stringify(value);
  return truncate ? text.slice(0, Math.max(1, text.length - 3)) : text;
});

const body = fc.option(
  fc.oneof(
    fc.uint8Array({ maxLength: 256 }),
    fc.json({ maxDepth: 3 }),
    nearValidJson,
    fc.string({ maxLength: 64 }),
  ),
  { nil: undefined },
);

const request = fc.record({
  // Mostly POST: most routes read a body, and only POST gets that far
  method: fc.oneof(
    { arbitrary: fc.constant("POST"), weight: 3 },
    { arbitrary: fc.constantFrom(...METHODS), weight: 2 },
  ),
  route: fc.constantFrom(...ROUTES),
  suffix: oddSuffix,
  query,
  headers,
  body,
});

type Case = typeof request extends fc.Arbitrary<infer T> ? T : never;

function toRequest(item: Case): Request | undefined {
  const search = item.query === undefined ? "" : `?${item.query}`;
  let url: string;
  try {
    url = new URL(`http://localhost${item.route}${item.suffix}${search}`).href;
  } catch {
    return undefined;
  }
  const init: RequestInit = { method: item.method, headers: new Headers() };
  for (const [name, value] of Object.entries(item.headers)) {
    if (value !== undefined) (init.headers as Headers).set(name, value);
  }
  if (item.body !== undefined && item.method !== "GET" && item.method !== "HEAD") {
    init.body = item.body as BodyInit;
  }
  try {
    return new Request(url, init);
  } catch {
    return undefined;
  }
}

Deno.test("no request on any route gets a 5xx and the server keeps answering", async () => {
  const server = createServer({ difficulty: 1, adminKey: ADMIN_KEY });
  try {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(request, async (item) => {
        const built = toRequest(item);
        if (built === undefined) return;
        const response = await server.fetch(built);
        await response.body?.cancel();
        statuses.add(response.status);
        assert.ok(
          response.status < 500,
          `${item.method} ${built.url} answered ${response.status}`,
        );
      }),
      { seed: SEED, numRuns: RUNS },
    );
    assert.ok(statuses.size > 1, "the fuzzer reached more than one kind of answer");
    const health = await server.fetch(new Request("http://localhost/healthz"));
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { ok: true });
  } finally {
    await server.close();
  }
});
