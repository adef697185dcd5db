/**
 * The `/dashboard` of the reference server: the login form and its session
 * cookie (attributes, expiry, logout, a wrong key, another origin, the rate
 * limit), the 403 `admin_disabled` of every admin route without a key, the
 * Content Security Policy on every answer, escaping of what the store holds,
 * and each service's page showing the figures the store (and the live broker
 * and relay) hold after ingest through the real routes.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { hex } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  createServer,
  type EdgewireServer,
  MemoryStore,
  type ServerOptions,
} from "../../src/server/mod.ts";
import { COMMON, event, expectJson, handshake, ping, SECRET } from "./_mkstats_routes_fixtures.ts";
import { roundTrip, websocketPeer } from "./emitter/_mqtt_peer.ts";

const ADMIN = "dashboard-admin-key-for-tests";
const HONCH_KEY = "phc_dashboard_project";
const PROJECT = "acme/tool";
const CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PAGES = ["/dashboard", "/dashboard/mkstats", "/dashboard/honch", "/dashboard/migas"]
  .concat(["/dashboard/emitter", "/dashboard/spot"]);

interface Harness {
  server: EdgewireServer;
  store: MemoryStore;
  clock: { time: number };
}

function start(options: ServerOptions = {}): Harness {
  const clock = { time: Date.UTC(2026, 10, 25, 12) };
  const store = new MemoryStore();
  const server = createServer({
    store,
    secret: SECRET,
    difficulty: 1,
    adminKey: ADMIN,
    now: () => clock.time,
    clientAddress: () => "203.0.113.7",
    honch: { projectKeys: [HONCH_KEY] },
    migas: { projects: [{ project: PROJECT, latestVersion: "2.0.0", badVersions: ["1.0.1"] }] },
    log: () => {},
    ...options,
  });
  return { server, store, clock };
}

function request(
  server: EdgewireServer,
  path: string,
  init: { cookie?: string; method?: string; form?: Record<string, string> } & {
    headers?: Record<string, string>;
  } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.cookie !== undefined) headers.cookie = init.cookie;
  let body: string | undefined;
  if (init.form !== undefined) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(init.form).toString();
  }
  return server.fetch(
    new Request(`http://localhost${path}`, { method: init.method ?? "GET", headers, body }),
  );
}

/** Logs in with `key` from the dashboard's own origin; answers the response. */
function postLogin(server: EdgewireServer, key: string, origin = "http://localhost") {
  return request(server, "/dashboard/login", {
    method: "POST",
    form: { key },
    headers: { origin, "sec-fetch-site": "same-origin" },
  });
}

/** Logs in and answers the `name=value` of the session cookie. */
async function login(server: EdgewireServer): Promise<string> {
  const response = await postLogin(server, ADMIN);
  assert.equal(response.status, 303, await response.text());
  assert.equal(response.headers.get("location"), "/dashboard");
  const cookie = response.headers.get("set-cookie") ?? "";
  return cookie.slice(0, cookie.indexOf(";"));
}

async function page(server: EdgewireServer, path: string, cookie: string): Promise<string> {
  const response = await request(server, path, { cookie });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.equal(response.headers.get("content-security-policy"), CSP);
  return text;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The value a page shows for the headline figure `label`. */
function figure(html: string, label: string): string {
  const match = new RegExp(`data-figure="${escapeRegExp(label)}">([^<]*)</dd>`).exec(html);
  assert.ok(match, `No figure '${label}' in the page`);
  return match[1];
}

/** The cells of a table's body rows, as text. */
function rows(html: string, label: string): string[][] {
  const start = html.indexOf(`data-table="${label}"`);
  assert.ok(start >= 0, `No table '${label}' in the page`);
  const body = html.slice(start, html.indexOf("</table>", start));
  return [...body.matchAll(/<tr[^>]*>(.*?)<\/tr>/g)].slice(1).map((row) =>
    [...row[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((cell) => cell[1].replace(/<[^>]+>/g, ""))
  );
}

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

function honchContext(device: string, session?: string): Record<string, string> {
  return {
    distinct_id: "user-1",
    $device_id: device,
    $device_model: "model-x",
    $firmware_version: "1.0.0",
    $sdk_platform: "posix",
    $sdk_version: "0.3.1",
    ...(session === undefined ? {} : { $session_id: session }),
  };
}

Deno.test("each service page shows what the store holds after ingest through the real routes", async () => {
  const { server, store, clock } = start();
  const now = clock.time;
  // mkStats: two installs, a ping each, events on two versions
  const first = await handshake(server);
  const second = await handshake(server, { ...COMMON, user_hash: "c".repeat(64) });
  await expectJson(await ping(server, first), 200);
  await expectJson(await ping(server, second, { user_hash: "c".repeat(64) }), 200);
  for (let i = 0; i < 3; i++) await expectJson(await event(server, first), 200);
  await expectJson(
    await event(server, second, { user_hash: "c".repeat(64), version: "1.1.0", event: "opened" }),
    200,
  );
  // Honch: two sessions, one crash
  const capture = (session: string, events: unknown[]) =>
    server.fetch(
      new Request("http://localhost/capture", {
        method: "POST",
        headers: { "content-type": "application/json", "x-honch-project-key": HONCH_KEY },
        body: JSON.stringify({ context: honchContext("device-1", session), events }),
      }),
    );
  const at = (minutes: number) => now - 3_600_000 + minutes * 60_000;
  await expectJson(
    await capture("s1", [{ event: "boot", timestamp: at(0) }, { event: "tap", timestamp: at(1) }]),
    200,
  );
  await expectJson(
    await capture("s2", [
      { event: "boot", timestamp: at(61) },
      {
        event: "$crash",
        timestamp: at(62),
        properties: { name: "TypeError", message: "disk full" },
      },
    ]),
    200,
  );
  // migas: three breadcrumbs from two users
  for (const user of ["u1", "u1", "u2"]) {
    const response = await server.fetch(
      new Request("http://localhost/api/breadcrumb?wait=true", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          project: PROJECT,
          project_version: "1.0.1",
          language: "javascript",
          language_version: "22.0.0",
          ctx: { user_id: user, platform: "linux", container: "unknown", is_ci: false },
          proc: { status: "C" },
        }),
      }),
    );
    assert.equal(response.status, 200, await response.text());
  }
  const cookie = await login(server);

  const stats = await store.getStats(COMMON.plugin_id);
  const mkstats = await page(server, `/dashboard/mkstats?plugin=${COMMON.plugin_id}`, cookie);
  assert.equal(figure(mkstats, "Installs"), String(stats.installs));
  assert.equal(stats.installs, 2);
  assert.equal(figure(mkstats, "Daily actives today"), String(stats.daily_actives.at(-1)?.count));
  assert.equal(figure(mkstats, "Events"), "4");
  assert.deepEqual(
    rows(mkstats, "mkstats-events"),
    stats.events.map((entry) => [entry.event, entry.version, String(entry.count)]),
  );
  assert.deepEqual(rows(mkstats, "mkstats-daily-actives"), [["2026-11-25", "2"]]);

  const keyHash = hex.encode(sha256(new TextEncoder().encode(HONCH_KEY)));
  const events = await store.listHonchEvents(keyHash, 1000);
  const honch = await page(server, "/dashboard/honch", cookie);
  assert.equal(figure(honch, "Events"), String(events.length));
  assert.equal(events.length, 4);
  assert.equal(figure(honch, "Sessions"), "2");
  assert.equal(figure(honch, "Crashes"), "1");
  assert.equal(figure(honch, "Devices"), "1");
  assert.deepEqual(rows(honch, `honch-crashes-${keyHash}`), [
    ["2026-11-25 12:02:00 UTC", "device-1", "TypeError", "disk full", ""],
  ]);
  // By hour: two events at 11:00, two at 12:00
  assert.match(honch, /<title>2026-11-25 11:00: 2<\/title>/);
  assert.match(honch, /<title>2026-11-25 12:00: 2<\/title>/);

  const migas = await page(server, "/dashboard/migas", cookie);
  const monthAgo = now - 29 * 86_400_000;
  const hits = await store.countMigasUsage({
    project: PROJECT,
    start: monthAgo,
    end: now,
    unique: false,
  });
  const users = await store.countMigasUsage({
    project: PROJECT,
    start: monthAgo,
    end: now,
    unique: true,
  });
  assert.equal(hits, 3);
  assert.equal(figure(migas, "Breadcrumbs, 30 days"), String(hits));
  assert.equal(figure(migas, "Users, 30 days"), String(users));
  assert.equal(figure(migas, "Latest version"), "2.0.0");
  assert.equal(figure(migas, "Flagged versions"), "1");
  assert.match(
    migas,
    /<tr class="flagged"><td>1\.0\.1<\/td><td><span class="badge">flagged<\/span>/,
  );
  assert.match(migas, /<title>2026-11-25: 3<\/title>/);

  await server.close();
});

Deno.test("the Emitter and Spot pages show the live broker and relay and the stored messages", async () => {
  const { server, store } = start({ now: Date.now });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  const base = `http://127.0.0.1:${http.addr.port}`;
  try {
    const cookie = await login(server);
    const idle = await page(server, "/dashboard/emitter", cookie);
    assert.equal(figure(idle, "Connections"), "0");
    assert.match(idle, /The broker has not started/);

    // Read, write and store: the message published with a ttl is kept
    const keygen = await server.fetch(
      new Request("http://localhost/keygen", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: server.emitter.secret, channel: "dash/", type: "rws", ttl: 0 }),
      }),
    );
    const key = (await expectJson(keygen, 200)).key as string;
    const mqtt = await websocketPeer(`${base.replace("http", "ws")}/mqtt`, ["mqtt"]);
    await roundTrip(mqtt, key, "dash/", "hello");
    await mqtt.send({
      type: "publish",
      topic: `${key}/dash/?ttl=60`,
      payload: new TextEncoder().encode("kept"),
      qos: 0,
      retain: false,
      dup: false,
    });
    assert.equal((await mqtt.next()).type, "publish");
    const spot = new WebSocket(`${base.replace("http", "ws")}/_websocket`);
    await new Promise((resolve, reject) => {
      spot.onopen = resolve;
      spot.onerror = reject;
    });
    const spotClosed = new Promise((resolve) => spot.onclose = resolve);

    const emitter = await page(server, "/dashboard/emitter", cookie);
    const stats = server.emitter.stats();
    const usage = await store.emitterContractUsage(server.emitter.license.contract, Date.now());
    assert.equal(figure(emitter, "Connections"), String(stats.connections));
    assert.equal(stats.connections, 1);
    assert.equal(figure(emitter, "Subscriptions"), String(stats.subscriptions));
    assert.equal(figure(emitter, "Messages in"), String(stats.messagesIn));
    assert.equal(stats.messagesIn, 2);
    assert.equal(figure(emitter, "Messages out"), String(stats.messagesOut));
    assert.equal(figure(emitter, "Stored messages"), String(usage.messages));
    assert.equal(usage.messages, 1);
    assert.equal(figure(emitter, "Stored bytes"), String(usage.bytes));
    assert.equal(figure(emitter, "Channels with stored messages"), "1");
    assert.equal(rows(emitter, "emitter-channels")[0][0], "dash/");

    const spotPage = await page(server, "/dashboard/spot", cookie);
    assert.equal(figure(spotPage, "Peers online"), String(server.spot.connectionCount));
    assert.equal(server.spot.connectionCount, 1);
    assert.equal(
      figure(spotPage, "Blobs stored"),
      String((await store.storeSizes!()).rows?.spot_blobs),
    );
    spot.close();
    await spotClosed;
    await mqtt[Symbol.asyncDispose]();
  } finally {
    await http.shutdown();
    await server.close();
  }
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
