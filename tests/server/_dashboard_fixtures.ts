/**
 * What the dashboard tests share: a server with an admin key, a Honch
 * project key and a migas project on a fixed clock, requests to it, the
 * login through the form, and readers of the figures and tables a page
 * shows.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  createServer,
  type EdgewireServer,
  MemoryStore,
  type ServerOptions,
} from "../../src/server/mod.ts";
import { SECRET } from "./_mkstats_routes_fixtures.ts";

/** The admin key. */
export const ADMIN = "dashboard-admin-key-for-tests";
/** The Honch project key the server accepts. */
export const HONCH_KEY = "phc_dashboard_project";
/** The migas project registered at start, latest 2.0.0, 1.0.1 flagged. */
export const PROJECT = "acme/tool";
/** The Content Security Policy every dashboard answer carries. */
export const CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/** Every page of the dashboard. */
export const PAGES = ["/dashboard", "/dashboard/mkstats", "/dashboard/honch", "/dashboard/migas"]
  .concat(["/dashboard/emitter", "/dashboard/spot"]);

/** A started server, its store and its clock. */
export interface Harness {
  server: EdgewireServer;
  store: MemoryStore;
  clock: { time: number };
}

/** Creates a server on a fixed clock (2026-11-25 12:00 UTC). */
export function start(options: ServerOptions = {}): Harness {
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

/** Sends a request to the server, with a cookie or a form when given. */
export function request(
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
export function postLogin(
  server: EdgewireServer,
  key: string,
  origin = "http://localhost",
): Promise<Response> {
  return request(server, "/dashboard/login", {
    method: "POST",
    form: { key },
    headers: { origin, "sec-fetch-site": "same-origin" },
  });
}

/** Logs in and answers the `name=value` of the session cookie. */
export async function login(server: EdgewireServer): Promise<string> {
  const response = await postLogin(server, ADMIN);
  assert.equal(response.status, 303, await response.text());
  assert.equal(response.headers.get("location"), "/dashboard");
  const cookie = response.headers.get("set-cookie") ?? "";
  return cookie.slice(0, cookie.indexOf(";"));
}

/** Reads a page, which must answer 200 with the policy. */
export async function page(server: EdgewireServer, path: string, cookie: string): Promise<string> {
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
export function figure(html: string, label: string): string {
  const match = new RegExp(`data-figure="${escapeRegExp(label)}">([^<]*)</dd>`).exec(html);
  assert.ok(match, `No figure '${label}' in the page`);
  return match[1];
}

/** The cells of a table's body rows, as text. */
export function rows(html: string, label: string): string[][] {
  const start = html.indexOf(`data-table="${label}"`);
  assert.ok(start >= 0, `No table '${label}' in the page`);
  const body = html.slice(start, html.indexOf("</table>", start));
  return [...body.matchAll(/<tr[^>]*>(.*?)<\/tr>/g)].slice(1).map((row) =>
    [...row[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((cell) => cell[1].replace(/<[^>]+>/g, ""))
  );
}

/** A Honch capture context for a device and, optionally, a session. */
export function honchContext(device: string, session?: string): Record<string, string> {
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
