/**
 * Shared test helpers for migas: the shared vectors (read from
 * `tests/fixtures/vectors/migas_api.json`, copied into the repository), a recording
 * fake fetch, an environment from a record, and a storage that counts
 * every access.
 *
 * @module
 */

import type { Storage } from "../../src/core/storage.ts";

/** The parts of the vectors the tests use. */
export interface MigasVectors {
  graphql: {
    sdl_reconstructed: { sdl: string };
    example_operations_from_tests: Record<string, string>;
  };
  rest: { routes: { path: string; example_request?: Record<string, unknown> }[] };
  ci_info: {
    vendors: { name: string; constant: string; env_signature: unknown; pr_rule: unknown }[];
    detection_vectors: {
      cases: {
        vendor: string;
        env: Record<string, string>;
        expect: { name: string | null; is_ci: boolean; is_pr: boolean | null };
      }[];
      empty_env: {
        env: Record<string, string>;
        expect: { name: string | null; is_ci: boolean; is_pr: boolean | null };
      };
    };
  };
}

/** The vectors, parsed. */
export const vectors: MigasVectors = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/migas_api.json", import.meta.url)),
);

/** One request the fake fetch saw. */
export interface SeenRequest {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

/** A fake fetch that records requests and answers with `answer` (by default, migas taking it). */
export function fakeFetch(
  answer: (request: SeenRequest) => Response | Promise<Response> = () =>
    migasResponse({ success: true, message: "" }, 202),
): { fetch: typeof fetch; seen: SeenRequest[] } {
  const seen: SeenRequest[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const request: SeenRequest = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: String(init?.body ?? ""),
    };
    seen.push(request);
    return await answer(request);
  };
  return { fetch: fetch as typeof globalThis.fetch, seen };
}

/** A JSON answer with migas' `X-Backend-Server` header. */
export function migasResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "x-backend-server": "migas@0.9" },
  });
}

/** An environment reader over a record. */
export function envOf(record: Record<string, string>): (name: string) => string | undefined {
  return (name) => Object.hasOwn(record, name) ? record[name] : undefined;
}

/** A storage that counts every access. */
export class SpyStorage implements Storage {
  /** The values. */
  readonly map = new Map<string, string>();
  /** Calls of any method. */
  accesses = 0;
  /** Reads a value. */
  get(key: string): Promise<string | undefined> {
    this.accesses++;
    return Promise.resolve(this.map.get(key));
  }
  /** Writes a value. */
  set(key: string, value: string): Promise<void> {
    this.accesses++;
    this.map.set(key, value);
    return Promise.resolve();
  }
  /** Removes a value. */
  delete(key: string): Promise<void> {
    this.accesses++;
    this.map.delete(key);
    return Promise.resolve();
  }
}

/** A query's text from a recorded GraphQL request. */
export function queryOf(request: SeenRequest): string {
  return (JSON.parse(request.body) as { query: string }).query;
}
