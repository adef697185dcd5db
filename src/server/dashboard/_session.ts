/**
 * Dashboard sessions as HMAC-signed tokens: `<expiry>.<nonce>.<mac>`, the
 * nonce 16 random bytes from WebCrypto, the MAC an HMAC-SHA256 under a key
 * derived from the server's secret and the admin key's hash. The token never
 * holds the admin key; changing the key (or the secret) ends every session.
 * Signed rather than kept in a table, so a session holds on every instance
 * of a server that shares its secret (Workers, several processes) and across
 * restarts of a store that keeps the secret. Logging out revokes the token's
 * nonce here, in memory, until it would have expired anyway (bounded; on a
 * Worker, in the isolate that served the logout), and the browser drops the
 * cookie in any case.
 *
 * @module
 */

import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";
import { digestsEqual } from "../_context.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "edgewire_dashboard";

/** How long a session lasts, in milliseconds: eight hours. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

/** The most revoked tokens remembered; past it the soonest to expire go first. */
const MAX_REVOKED = 10_000;

const LABEL = new TextEncoder().encode("edgewire dashboard session v1\u0000");

/** Issues, checks and revokes dashboard session tokens. */
export class DashboardSessions {
  readonly #now: () => number;
  // Nonce -> expiry; a Map keeps insertion order, which is expiry order (one fixed lifetime).
  readonly #revoked = new Map<string, number>();

  /**
   * Sessions on a clock.
   *
   * @param now The server's clock, in milliseconds.
   */
  constructor(now: () => number) {
    this.#now = now;
  }

  /**
   * Issues a token that expires {@linkcode SESSION_TTL_MS} from now.
   *
   * @param secret The server's secret.
   * @param adminKeyHash The admin key's SHA-256.
   * @returns The token, for the cookie.
   */
  issue(secret: Uint8Array, adminKeyHash: Uint8Array): string {
    const expiresAt = Math.floor(this.#now()) + SESSION_TTL_MS;
    const nonce = base64urlnopad.encode(crypto.getRandomValues(new Uint8Array(16)));
    const body = `${expiresAt}.${nonce}`;
    return `${body}.${base64urlnopad.encode(sign(secret, adminKeyHash, body))}`;
  }

  /**
   * Checks a token: well formed, its MAC right (compared in constant time),
   * not expired, not revoked.
   *
   * @param secret The server's secret.
   * @param adminKeyHash The admin key's SHA-256.
   * @param token The cookie's value, if any.
   * @returns Whether it opens a session.
   */
  valid(secret: Uint8Array, adminKeyHash: Uint8Array, token: string | undefined): boolean {
    const parsed = parse(token);
    if (parsed === undefined) return false;
    const expected = sign(secret, adminKeyHash, parsed.body);
    if (!digestsEqual(parsed.mac, expected)) return false;
    if (parsed.expiresAt <= this.#now()) return false;
    return !this.#revoked.has(parsed.nonce);
  }

  /**
   * Revokes a valid token until it expires, so a copy of the cookie stops working.
   *
   * @param secret The server's secret.
   * @param adminKeyHash The admin key's SHA-256.
   * @param token The cookie's value, if any; an invalid one is ignored.
   */
  revoke(secret: Uint8Array, adminKeyHash: Uint8Array, token: string | undefined): void {
    if (!this.valid(secret, adminKeyHash, token)) return;
    const parsed = parse(token)!;
    const now = this.#now();
    for (const [nonce, expiresAt] of this.#revoked) {
      if (expiresAt > now && this.#revoked.size < MAX_REVOKED) break;
      this.#revoked.delete(nonce);
    }
    this.#revoked.set(parsed.nonce, parsed.expiresAt);
  }
}

function sign(secret: Uint8Array, adminKeyHash: Uint8Array, body: string): Uint8Array {
  const material = new Uint8Array(LABEL.length + adminKeyHash.length);
  material.set(LABEL);
  material.set(adminKeyHash, LABEL.length);
  const key = hmac(sha256, secret, material);
  return hmac(sha256, key, new TextEncoder().encode(body));
}

interface ParsedToken {
  body: string;
  expiresAt: number;
  nonce: string;
  mac: Uint8Array;
}

function parse(token: string | undefined): ParsedToken | undefined {
  if (token === undefined || token.length > 200) return undefined;
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (match === null) return undefined;
  try {
    return {
      body: `${match[1]}.${match[2]}`,
      expiresAt: Number(match[1]),
      nonce: match[2],
      mac: base64urlnopad.decode(match[3]),
    };
  } catch {
    return undefined;
  }
}

/**
 * The `Set-Cookie` value that starts a session: `HttpOnly` (no script reads
 * it), `Secure` (browsers send it over HTTPS only, and over plain HTTP to
 * `localhost` and `127.0.0.1`, which they treat as secure), `SameSite=Strict`
 * (never sent with a request another site starts) and `Path=/dashboard`.
 *
 * @param token The session token.
 * @returns The header value.
 */
export function sessionCookie(token: string): string {
  const maxAge = Math.floor(SESSION_TTL_MS / 1000);
  return `${SESSION_COOKIE}=${token}; Max-Age=${maxAge}; Path=/dashboard; HttpOnly; Secure; SameSite=Strict`;
}

/**
 * The `Set-Cookie` value that ends a session in the browser.
 *
 * @returns The header value, with the same attributes and `Max-Age=0`.
 */
export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Max-Age=0; Path=/dashboard; HttpOnly; Secure; SameSite=Strict`;
}

/**
 * Reads the session cookie from a request.
 *
 * @param request The request.
 * @returns The token, or `undefined` when the request carries none.
 */
export function readSessionCookie(request: Request): string | undefined {
  const header = request.headers.get("cookie");
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index < 0) continue;
    if (part.slice(0, index).trim() === SESSION_COOKIE) return part.slice(index + 1).trim();
  }
  return undefined;
}
