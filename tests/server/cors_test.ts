import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { createServer, type EdgewireServer, type ServerOptions } from "../../src/server/mod.ts";

const PAGE = "https://page.example";
const ADMIN_KEY = "admin-key-for-cors-tests";

/** Every public route, with the method and headers its client sends. */
const PUBLIC: [path: string, method: string, headers: string][] = [
  ["/healthz", "GET", ""],
  ["/api/v1/handshake", "POST", "content-type"],
  ["/api/v1/data", "POST", "content-type"],
  ["/api/v1/event", "POST", "content-type"],
  ["/api/handshake", "POST", "content-type"],
  ["/api/data", "POST", "content-type"],
  ["/api/event", "POST", "content-type"],
  ["/capture", "POST", "content-type,x-honch-project-key,x-honch-stream-id"],
  ["/e", "POST", "content-type,x-honch-project-key,x-honch-stream-id,idempotency-key"],
  ["/chunks", "POST", "content-type,x-honch-project-key,x-honch-stream-id"],
  ["/api/breadcrumb", "POST", "content-type,user-agent"],
  ["/api/usage/acme/tool", "GET", "user-agent"],
  ["/graphql", "POST", "content-type,user-agent"],
];

/** Every admin route, with its method. */
const ADMIN: [path: string, method: string][] = [
  ["/api/v1/stats/demo", "GET"],
  ["/api/stats/demo", "GET"],
  ["/api/honch/events?project_key=phc_demo", "GET"],
  ["/api/admin/register", "POST"],
];

function preflight(
  server: EdgewireServer,
  path: string,
  method: string,
  headers: string,
  origin = PAGE,
): Promise<Response> {
  const request = new Headers({ origin, "access-control-request-method": method });
  if (headers !== "") request.set("access-control-request-headers", headers);
  return server.fetch(new Request(`http://x${path}`, { method: "OPTIONS", headers: request }));
}

function post(server: EdgewireServer, path: string, body: string, headers = {}) {
  return server.fetch(
    new Request(`http://x${path}`, {
      method: "POST",
      headers: { origin: PAGE, "content-type": "application/json", ...headers },
      body,
    }),
  );
}

function corsHeaders(response: Response): string[] {
  return [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));
}

async function withServer(
  options: ServerOptions,
  fn: (server: EdgewireServer) => Promise<void>,
): Promise<void> {
  const server = createServer({ adminKey: ADMIN_KEY, ...options });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

Deno.test("a preflight to every ingest route is allowed from any origin by default", async () => {
  await withServer({}, async (server) => {
    for (const [path, method, headers] of PUBLIC) {
      const response = await preflight(server, path, method, headers);
      assert.equal(response.status, 204, path);
      assert.equal(await response.text(), "");
      assert.equal(response.headers.get("access-control-allow-origin"), "*", path);
      assert.equal(response.headers.get("access-control-allow-methods"), method, path);
      const allowed = response.headers.get("access-control-allow-headers")!.split(/,\s*/);
      for (const header of headers.split(",").filter((h) => h !== "")) {
        assert.ok(allowed.includes(header), `${path} does not allow ${header}`);
      }
      assert.ok(!allowed.includes("authorization"), path);
      assert.equal(response.headers.get("access-control-max-age"), "7200");
      assert.equal(response.headers.get("access-control-allow-credentials"), null);
      assert.equal(response.headers.get("vary"), null);
    }
  });
});

Deno.test("a preflight for a method the route does not answer is refused", async () => {
  await withServer({}, async (server) => {
    const response = await preflight(server, "/capture", "DELETE", "content-type");
    assert.equal(response.status, 403);
    assert.deepEqual(await response.json(), { error: "cors_forbidden" });
    assert.deepEqual(corsHeaders(response), []);
  });
});

Deno.test("answers of the ingest routes carry the allowed origin, errors included", async () => {
  await withServer({ honch: { projectKeys: ["phc_demo"] } }, async (server) => {
    const health = await server.fetch(
      new Request("http://x/healthz", { headers: { origin: PAGE } }),
    );
    assert.equal(health.status, 200);
    assert.equal(health.headers.get("access-control-allow-origin"), "*");

    const challenge = await post(
      server,
      "/api/v1/handshake",
      JSON.stringify({
        plugin_id: "demo",
        version: "1.0.0",
        client_name: "exteraGram",
        client_version: "12.3.1",
        user_hash: "a".repeat(64),
        device_fingerprint: "b".repeat(64),
      }),
    );
    assert.equal(challenge.status, 200);
    assert.equal(challenge.headers.get("access-control-allow-origin"), "*");
    assert.equal(challenge.headers.get("access-control-expose-headers"), "retry-after");

    const errors: [string, Response][] = [
      ["/api/handshake", await post(server, "/api/handshake", "{}")],
      ["/capture", await post(server, "/capture", "{}", { "x-honch-project-key": "wrong" })],
      ["/api/breadcrumb", await post(server, "/api/breadcrumb", "[")],
      ["/graphql", await post(server, "/graphql", "{}")],
      [
        "wrong method",
        await server.fetch(new Request("http://x/e", { headers: { origin: PAGE } })),
      ],
    ];
    assert.deepEqual(errors.map(([, response]) => response.status), [400, 401, 422, 400, 404]);
    for (const [path, response] of errors) {
      await response.body?.cancel();
      assert.equal(response.headers.get("access-control-allow-origin"), "*", path);
    }
  });
});

Deno.test("a rate-limited answer lets the page read its Retry-After", async () => {
  const options: ServerOptions = {
    rateLimit: { address: { capacity: 1, refillPerSecond: 0.01 } },
    migas: { rateLimit: { maxRequests: 1 } },
  };
  await withServer(options, async (server) => {
    await (await post(server, "/api/v1/data", "{}")).body?.cancel();
    const limited = await post(server, "/api/v1/data", "{}");
    assert.equal(limited.status, 429);
    assert.deepEqual(await limited.json(), { error: "rate_limited" });
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    assert.equal(limited.headers.get("access-control-allow-origin"), "*");
    assert.equal(limited.headers.get("access-control-expose-headers"), "retry-after");

    const usage = () =>
      server.fetch(new Request("http://x/api/usage/acme/tool", { headers: { origin: PAGE } }));
    await (await usage()).body?.cancel();
    const migasLimited = await usage();
    assert.equal(migasLimited.status, 429);
    await migasLimited.body?.cancel();
    assert.equal(migasLimited.headers.get("access-control-allow-origin"), "*");
  });
});

Deno.test("a configured origin list allows only those origins", async () => {
  const options: ServerOptions = {
    cors: { origins: ["https://page.example", "http://127.0.0.1:8080"] },
  };
  await withServer(options, async (server) => {
    const allowed = await preflight(server, "/capture", "POST", "content-type");
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get("access-control-allow-origin"), PAGE);
    assert.equal(allowed.headers.get("vary"), "Origin");
    const local = await preflight(
      server,
      "/graphql",
      "POST",
      "content-type",
      "http://127.0.0.1:8080",
    );
    assert.equal(local.headers.get("access-control-allow-origin"), "http://127.0.0.1:8080");

    for (const origin of ["https://evil.example", "https://page.example:444", "null"]) {
      const refused = await preflight(server, "/capture", "POST", "content-type", origin);
      assert.equal(refused.status, 403, origin);
      assert.deepEqual(await refused.json(), { error: "cors_forbidden" });
      assert.deepEqual(corsHeaders(refused), [], origin);
      assert.equal(refused.headers.get("vary"), "Origin");
    }

    const mine = await server.fetch(new Request("http://x/healthz", { headers: { origin: PAGE } }));
    assert.equal(mine.headers.get("access-control-allow-origin"), PAGE);
    assert.equal(mine.headers.get("vary"), "Origin");
    await mine.body?.cancel();
    const theirs = await server.fetch(
      new Request("http://x/healthz", { headers: { origin: "https://evil.example" } }),
    );
    // Answered (CORS is not access control) but unreadable by the other page.
    assert.equal(theirs.status, 200);
    await theirs.body?.cancel();
    assert.deepEqual(corsHeaders(theirs), []);
    assert.equal(theirs.headers.get("vary"), "Origin");
  });
});

Deno.test("an empty origin list refuses every preflight", async () => {
  await withServer({ cors: { origins: [] } }, async (server) => {
    const refused = await preflight(server, "/api/v1/handshake", "POST", "content-type");
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
    assert.deepEqual(corsHeaders(refused), []);
  });
});

Deno.test("a preflight to an admin route is refused with no CORS header", async () => {
  await withServer({}, async (server) => {
    for (const [path, method] of ADMIN) {
      const response = await preflight(server, path, method, "authorization,content-type");
      assert.equal(response.status, 403, path);
      assert.deepEqual(await response.json(), { error: "cors_forbidden" });
      assert.deepEqual(corsHeaders(response), [], path);
    }
    const unknown = await preflight(server, "/api/v1/nothing", "POST", "content-type");
    assert.equal(unknown.status, 403);
    await unknown.body?.cancel();
    // An OPTIONS that is no preflight is just an unknown route.
    const plain = await server.fetch(new Request("http://x/healthz", { method: "OPTIONS" }));
    assert.equal(plain.status, 404);
    await plain.body?.cancel();
  });
});

Deno.test("admin answers carry no CORS header, whether authorized or not", async () => {
  await withServer({}, async (server) => {
    for (const authorization of [`Bearer ${ADMIN_KEY}`, "Bearer wrong-key"]) {
      for (const [path, method] of ADMIN) {
        const response = await server.fetch(
          new Request(`http://x${path}`, {
            method,
            headers: { origin: PAGE, authorization, "content-type": "application/json" },
            body: method === "POST" ? JSON.stringify({ project: "acme/tool" }) : undefined,
          }),
        );
        const expected = authorization.endsWith(ADMIN_KEY) ? 200 : 401;
        assert.equal(response.status, expected, `${method} ${path}`);
        await response.body?.cancel();
        assert.deepEqual(corsHeaders(response), [], `${method} ${path}`);
      }
    }
  });
});

Deno.test("an invalid cors option is refused naming the field", () => {
  const cases: [unknown, string][] = [
    ["*", "cors"],
    [{ origins: "https://page.example" }, "cors.origins"],
    [{ origins: true }, "cors.origins"],
    [{ origins: ["https://page.example/"] }, "cors.origins[0]"],
    [{ origins: [PAGE, "https://page.example/app"] }, "cors.origins[1]"],
    [{ origins: ["page.example"] }, "cors.origins[0]"],
    [{ origins: ["ftp://page.example"] }, "cors.origins[0]"],
    [{ origins: [42] }, "cors.origins[0]"],
  ];
  for (const [cors, field] of cases) {
    assert.throws(
      () => createServer({ cors: cors as ServerOptions["cors"] }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError);
        assert.equal(error.argument, field);
        assert.match(error.message, new RegExp(`^Cannot create server as '${escape(field)}' must`));
        return true;
      },
    );
  }
});

function escape(text: string): string {
  return text.replace(/[.[\]]/g, "\\$&");
}
