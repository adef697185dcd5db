/**
 * The `/dashboard` of the reference server: the login form and its session
 * cookie (attributes, expiry, logout, a wrong key, another origin, the rate
 * limit), the 403 `admin_disabled` of every admin route without a key, the
 * Content Security Policy on every answer, and escaping of what the store
 * holds. The figures each page shows are checked in
 * `dashboard_pages_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { hex } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { createServer } from "../../src/server/mod.ts";
import {
  ADMIN,
  CSP,
  HONCH_KEY,
  honchContext,
  login,
  page,
  PAGES,
  postLogin,
  PROJECT,
  request,
  start,
} from "./_dashboard_fixtures.ts";
import { COMMON, event, expectJson, handshake, ping, SECRET } from "./_mkstats_routes_fixtures.ts";

Deno.test("without an admin key every dashboard path answers 403 admin_disabled like /metrics", async () => {
  const { server } = start({ adminKey: undefined });
  for (const path of [...PAGES, "/dashboard/style.css"]) {
    const response = await request(server, path);
    assert.equal(response.status, 403, path);
    assert.deepEqual(await response.json(), { error: "admin_disabled" });
    assert.equal(response.headers.get("content-security-policy"), CSP, path);
  }
  const posted = await postLogin(server, "anything");
  assert.equal(posted.status, 403);
  assert.deepEqual(await posted.json(), { error: "admin_disabled" });
  const metrics = await request(server, "/metrics");
  assert.equal(metrics.status, 403);
  assert.deepEqual(await metrics.json(), { error: "admin_disabled" });
  await server.close();
});

Deno.test("without a session the dashboard shows the login form and the service pages send you there", async () => {
  const { server } = start();
  const response = await request(server, "/dashboard");
  const text = await response.text();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/html; charset=UTF-8");
  assert.match(text, /<form class="login" method="post" action="\/dashboard\/login">/);
  assert.match(text, /<input id="key" name="key" type="password"/);
  assert.doesNotMatch(text, /<script|style=/i);
  assert.equal(response.headers.get("set-cookie"), null);
  for (const path of PAGES.slice(1)) {
    const redirected = await request(server, path);
    assert.equal(redirected.status, 303, path);
    assert.equal(redirected.headers.get("location"), "/dashboard");
    await redirected.body?.cancel();
  }
  await server.close();
});

Deno.test("a wrong key gets the form again with an error, a 401 and no cookie", async () => {
  const { server } = start();
  for (const key of ["", "not-the-key", `${ADMIN}x`, ADMIN.slice(1)]) {
    const response = await postLogin(server, key);
    const text = await response.text();
    assert.equal(response.status, 401, key);
    assert.match(text, /<p class="error" role="alert">That key is not the admin key/);
    assert.match(text, /<form class="login"/);
    assert.equal(response.headers.get("set-cookie"), null);
    assert.equal(response.headers.get("content-security-policy"), CSP);
  }
  await server.close();
});

Deno.test("the admin key sets an HttpOnly Secure SameSite=Strict cookie on /dashboard that never holds the key", async () => {
  const { server } = start();
  const response = await postLogin(server, ADMIN);
  assert.equal(response.status, 303);
  await response.body?.cancel();
  const cookie = response.headers.get("set-cookie") ?? "";
  const [pair, ...attributes] = cookie.split(";").map((part) => part.trim());
  assert.match(pair, /^edgewire_dashboard=\d+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(attributes.sort(), [
    "HttpOnly",
    "Max-Age=28800",
    "Path=/dashboard",
    "SameSite=Strict",
    "Secure",
  ]);
  assert.ok(!cookie.includes(ADMIN));
  assert.ok(!cookie.includes(hex.encode(sha256(new TextEncoder().encode(ADMIN)))));
  // Every login draws a new random session
  assert.notEqual(await login(server), await login(server));
  const overview = await page(server, "/dashboard", pair);
  assert.match(overview, /<h1>Overview<\/h1>/);
  assert.match(overview, /<form method="post" action="\/dashboard\/logout">/);
  // A forged or altered token opens nothing
  const forged = pair.slice(0, -2) + (pair.endsWith("AA") ? "AB" : "AA");
  const refused = await request(server, "/dashboard", { cookie: forged });
  assert.match(await refused.text(), /<form class="login"/);
  await server.close();
});

Deno.test("a session ends after eight hours, at logout, and when the admin key changes", async () => {
  const { server, clock, store } = start();
  const cookie = await login(server);
  clock.time += 8 * 60 * 60 * 1000 - 1;
  assert.match(await page(server, "/dashboard", cookie), /<h1>Overview<\/h1>/);
  clock.time += 1;
  assert.match(await page(server, "/dashboard", cookie), /<form class="login"/);

  const fresh = await login(server);
  const logout = await request(server, "/dashboard/logout", {
    method: "POST",
    cookie: fresh,
    headers: { origin: "http://localhost" },
  });
  assert.equal(logout.status, 303);
  assert.equal(
    logout.headers.get("set-cookie"),
    "edgewire_dashboard=; Max-Age=0; Path=/dashboard; HttpOnly; Secure; SameSite=Strict",
  );
  // A copy of the cookie kept after logout opens nothing either
  assert.match(await page(server, "/dashboard", fresh), /<form class="login"/);
  const kept = await login(server);
  await server.close();

  // The same store and secret under another admin key: the old session is gone
  const other = createServer({ store, secret: SECRET, adminKey: "another-admin-key" });
  const text = await (await request(other, "/dashboard", { cookie: kept })).text();
  assert.match(text, /<form class="login"/);
  await other.close();
});

Deno.test("a login or logout posted from another site is refused", async () => {
  const { server } = start();
  const cross = await postLogin(server, ADMIN, "https://attacker.example");
  assert.equal(cross.status, 403);
  assert.equal(cross.headers.get("set-cookie"), null);
  assert.match(await cross.text(), /must be sent from the dashboard&#39;s own page/);
  const fetchSite = await request(server, "/dashboard/login", {
    method: "POST",
    form: { key: ADMIN },
    headers: { "sec-fetch-site": "cross-site" },
  });
  assert.equal(fetchSite.status, 403);
  await fetchSite.body?.cancel();
  const cookie = await login(server);
  const logout = await request(server, "/dashboard/logout", {
    method: "POST",
    cookie,
    headers: { origin: "null" },
  });
  assert.equal(logout.status, 403);
  await logout.body?.cancel();
  assert.match(await page(server, "/dashboard", cookie), /<h1>Overview<\/h1>/);
  await server.close();
});

Deno.test("login attempts are rate limited per address with 429 and Retry-After", async () => {
  const { server, clock } = start();
  for (let i = 0; i < 10; i++) {
    const response = await postLogin(server, "wrong");
    assert.equal(response.status, 401);
    await response.body?.cancel();
  }
  const limited = await postLogin(server, ADMIN);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "30");
  assert.equal(limited.headers.get("set-cookie"), null);
  assert.match(await limited.text(), /Too many attempts: try again in 30 seconds/);
  clock.time += 30_000;
  assert.match(await login(server), /^edgewire_dashboard=/);
  await server.close();
});

Deno.test("every dashboard answer carries the Content Security Policy and no script", async () => {
  const { server } = start();
  const cookie = await login(server);
  const answers: Response[] = [];
  for (const path of PAGES) {
    answers.push(await request(server, path), await request(server, path, { cookie }));
  }
  answers.push(
    await request(server, "/dashboard/style.css"),
    await request(server, "/dashboard/nowhere", { cookie }),
    await postLogin(server, "wrong"),
    await request(server, "/dashboard/login", {
      method: "POST",
      headers: { origin: "http://localhost" },
    }),
    await request(server, "/dashboard/logout", { method: "POST", cookie }),
  );
  for (const response of answers) {
    assert.equal(response.headers.get("content-security-policy"), CSP, response.url);
    assert.equal(response.headers.get("x-frame-options"), "DENY");
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.doesNotMatch(await response.text(), /<script|\son[a-z]+=|style="/i);
  }
  const css = await request(server, "/dashboard/style.css");
  assert.equal(css.headers.get("content-type"), "text/css");
  assert.match(await css.text(), /\.bar\.series-1/);
  await server.close();
});

Deno.test("text from the store renders as text, never as markup", async () => {
  const { server } = start({
    migas: {
      projects: [{ project: PROJECT, latestVersion: "<b>2</b>", badVersions: ["<i>1</i>"] }],
    },
  });
  const token = await handshake(server);
  await expectJson(await ping(server, token), 200);
  await expectJson(await event(server, token, { version: "<script>alert(1)</script>" }), 200);
  await expectJson(
    await server.fetch(
      new Request("http://localhost/capture", {
        method: "POST",
        headers: { "content-type": "application/json", "x-honch-project-key": HONCH_KEY },
        body: JSON.stringify({
          context: honchContext("<img src=x onerror=alert(1)>"),
          events: [{
            event: "$crash",
            timestamp: Date.UTC(2026, 10, 25, 11),
            properties: {
              name: "<script>",
              message: "</pre><script>alert(2)</script>",
            },
          }],
        }),
      }),
    ),
    200,
  );
  const cookie = await login(server);
  const mkstats = await page(server, `/dashboard/mkstats?plugin=${COMMON.plugin_id}`, cookie);
  assert.ok(mkstats.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), mkstats);
  const asked = await page(
    server,
    `/dashboard/mkstats?plugin=${encodeURIComponent('"><script>')}`,
    cookie,
  );
  assert.ok(asked.includes('value="&quot;&gt;&lt;script&gt;"'), asked);
  const honch = await page(server, "/dashboard/honch", cookie);
  assert.ok(honch.includes("&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;"), honch);
  assert.ok(honch.includes("&lt;img src=x onerror=alert(1)&gt;"), honch);
  const migas = await page(server, "/dashboard/migas", cookie);
  assert.ok(
    migas.includes("&lt;i&gt;1&lt;/i&gt;") && migas.includes("&lt;b&gt;2&lt;/b&gt;"),
    migas,
  );
  for (const text of [mkstats, asked, honch, migas]) {
    assert.doesNotMatch(text, /<script|<img|<i>|<b>/i);
  }
  await server.close();
});

Deno.test("odd requests to the dashboard never get a 5xx and always carry its policy", async () => {
  // No address limit, and a login attempt regained between runs: every request gets through
  const { server, clock } = start({ rateLimit: { address: { capacity: Infinity } } });
  const cookie = await login(server);
  const paths = [...PAGES, "/dashboard/style.css", "/dashboard/login", "/dashboard/logout"];
  const request = fc.record({
    method: fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"),
    path: fc.constantFrom(...paths),
    suffix: fc.constantFrom("", "/", "?plugin=", "?plugin=%ZZ", "?plugin=%00", "//x", "?a=<b>"),
    cookie: fc.oneof(
      fc.constant(cookie),
      fc.string({ maxLength: 80 }).map((text) => `edgewire_dashboard=${text}`),
      fc.constant(""),
    ),
    type: fc.constantFrom("application/x-www-form-urlencoded", "text/plain", "", "multipart/x"),
    body: fc.oneof(fc.constant(`key=${ADMIN}`), fc.string({ maxLength: 200 })),
    origin: fc.constantFrom("http://localhost", "null", "http://evil.example", "::", ""),
  });
  await fc.assert(
    fc.asyncProperty(request, async (item) => {
      clock.time += 30_000;
      const headers = new Headers();
      // A header value a Request refuses is not a request the server can get
      try {
        if (item.cookie !== "") headers.set("cookie", item.cookie);
        if (item.type !== "") headers.set("content-type", item.type);
        if (item.origin !== "") headers.set("origin", item.origin);
      } catch {
        return;
      }
      const withBody = item.method !== "GET" && item.method !== "HEAD";
      const response = await server.fetch(
        new Request(`http://localhost${item.path}${item.suffix}`, {
          method: item.method,
          headers,
          body: withBody ? item.body : undefined,
        }),
      );
      await response.body?.cancel();
      assert.ok(
        response.status < 500,
        `${item.method} ${item.path}${item.suffix}: ${response.status}`,
      );
      assert.notEqual(response.status, 429);
      assert.equal(response.headers.get("content-security-policy"), CSP);
    }),
    { seed: 20261125, numRuns: 300 },
  );
  await server.close();
});
