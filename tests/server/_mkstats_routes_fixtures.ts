/**
 * Shared fixtures of the mkStats route tests: a server with a fake clock, an
 * independent proof-of-work oracle, and helpers for the handshake, ping and
 * event requests.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { createServer, type EdgewireServer, type ServerOptions } from "../../src/server/mod.ts";

export const SECRET = "s".repeat(32);
export const USER = "a".repeat(64);
export const DEVICE = "b".repeat(64);
export const COMMON = {
  plugin_id: "pill_kstati",
  version: "1.0.0",
  client_name: "exteraGram",
  client_version: "12.3.1",
  user_hash: USER,
  device_fingerprint: DEVICE,
};
export const encoder = new TextEncoder();

/** An independent oracle: the first lowercase hex counter meeting the difficulty. */
export function solve(challenge: string, difficulty: number): string {
  const zeros = "0".repeat(difficulty);
  for (let n = 0;; n++) {
    const nonce = n.toString(16);
    if (hex.encode(sha256(encoder.encode(`${challenge}:${nonce}`))).startsWith(zeros)) return nonce;
  }
}

export class Clock {
  time = Date.UTC(2025, 0, 15, 12);
  readonly now = (): number => this.time;
}

export function makeServer(options: ServerOptions = {}): { server: EdgewireServer; clock: Clock } {
  const clock = new Clock();
  const server = createServer({ secret: SECRET, difficulty: 1, now: clock.now, ...options });
  return { server, clock };
}

export function post(
  server: EdgewireServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return server.fetch(
    new Request(`http://x${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

export async function expectJson(
  response: Response,
  status: number,
): Promise<Record<string, unknown>> {
  const body = await response.json();
  assert.equal(response.status, status, JSON.stringify(body));
  return body;
}

export async function handshake(
  server: EdgewireServer,
  fields: Record<string, unknown> = COMMON,
  base = "/api/v1",
): Promise<string> {
  const first = await expectJson(await post(server, `${base}/handshake`, fields), 200);
  const challenge = first.pow_challenge as string;
  const nonce = solve(challenge, first.pow_difficulty as number);
  const second = await expectJson(
    await post(server, `${base}/handshake`, {
      ...fields,
      pow_challenge: challenge,
      pow_nonce: nonce,
    }),
    200,
  );
  assert.equal(typeof second.install_token, "string");
  return second.install_token as string;
}

export function ping(
  server: EdgewireServer,
  token: string,
  extra: Record<string, unknown> = {},
): Promise<Response> {
  return post(server, "/api/v1/data", {
    ...COMMON,
    install_token: token,
    timestamp: 1736942400,
    ...extra,
  });
}

export function event(
  server: EdgewireServer,
  token: string,
  extra: Record<string, unknown> = {},
): Promise<Response> {
  return post(server, "/api/v1/event", {
    ...COMMON,
    install_token: token,
    event: "feature_clicked",
    timestamp: 1736942400,
    ...extra,
  });
}
