import assert from "node:assert/strict";
import { AbortedError, HttpError, NetworkError, TimeoutError } from "../../src/core/errors.ts";
import { parseRetryAfter, postBytes, postJson } from "../../src/core/http.ts";

type Handler = (request: Request) => Response | Promise<Response>;

function fakeFetch(handler: Handler): typeof fetch {
  return (input, init) => Promise.resolve(handler(new Request(input, init)));
}

Deno.test("postJson() sends JSON and returns the decoded 2xx body", async () => {
  let seen: Request | undefined;
  const fetch = fakeFetch(async (request) => {
    seen = request;
    assert.deepEqual(await request.json(), { a: 1 });
    return Response.json({ ok: true });
  });
  const response = await postJson("http://example.test/api?key=secret", { a: 1 }, { fetch });
  assert.equal(response.status, 200);
  assert.deepEqual(response.body, { ok: true });
  assert.equal(seen?.headers.get("content-type"), "application/json");
});

Deno.test("postBytes() sends the bytes with the given content type", async () => {
  const fetch = fakeFetch(async (request) => {
    assert.equal(request.headers.get("content-type"), "application/vnd.test");
    assert.deepEqual(new Uint8Array(await request.arrayBuffer()), new Uint8Array([1, 2, 3]));
    return new Response(null, { status: 204 });
  });
  const response = await postBytes(
    "http://example.test/",
    new Uint8Array([1, 2, 3]),
    "application/vnd.test",
    {
      fetch,
    },
  );
  assert.equal(response.status, 204);
  assert.equal(response.body, undefined);
});

Deno.test("a non-2xx answer becomes an HttpError with status, code and Retry-After", async () => {
  const fetch = fakeFetch(() =>
    Response.json({ error: "rate_limited" }, { status: 429, headers: { "retry-after": "7" } })
  );
  const error = await postJson("http://example.test/x?token=abc", {}, { fetch }).catch((e) => e);
  assert.ok(error instanceof HttpError);
  assert.equal(error.status, 429);
  assert.equal(error.code, "rate_limited");
  assert.equal(error.retryAfterMs, 7000);
  assert.deepEqual(error.body, { error: "rate_limited" });
  assert.ok(!error.message.includes("abc"), "the query string never reaches a message");
});

Deno.test("a Retry-After HTTP date is read against the injected clock", async () => {
  const now = Date.parse("Sun, 22 Nov 2026 10:00:00 GMT");
  const fetch = fakeFetch(() =>
    new Response("busy", {
      status: 503,
      headers: { "retry-after": "Sun, 22 Nov 2026 10:00:30 GMT" },
    })
  );
  const error = await postJson("http://example.test/", {}, { fetch, now: () => now }).catch((e) =>
    e
  );
  assert.ok(error instanceof HttpError);
  assert.equal(error.status, 503);
  assert.equal(error.code, undefined);
  assert.equal(error.body, "busy");
  assert.equal(error.retryAfterMs, 30_000);
});

Deno.test("parseRetryAfter() reads seconds and dates and ignores nonsense", () => {
  assert.equal(parseRetryAfter("0", 0), 0);
  assert.equal(parseRetryAfter(" 12 ", 0), 12_000);
  assert.equal(parseRetryAfter("Thu, 01 Jan 1970 00:00:05 GMT", 1000), 4000);
  assert.equal(parseRetryAfter("Thu, 01 Jan 1970 00:00:05 GMT", 9000), 0);
  assert.equal(parseRetryAfter("1.5", 0), undefined);
  assert.equal(parseRetryAfter("-3", 0), undefined);
  assert.equal(parseRetryAfter("soon", 0), undefined);
  assert.equal(parseRetryAfter(null, 0), undefined);
});

Deno.test("a request that outlives timeoutMs rejects with TimeoutError", async () => {
  const fetch: typeof globalThis.fetch = (_input, init) =>
    new Promise((_resolve, reject) => {
      init?.signal?.addEventListener("abort", () =>
        reject(new DOMException("aborted", "AbortError")));
    });
  const error = await postJson("http://example.test/", {}, { fetch, timeoutMs: 5 }).catch((e) => e);
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.timeoutMs, 5);
});

Deno.test("the caller's signal aborts the request with AbortedError", async () => {
  const controller = new AbortController();
  const fetch: typeof globalThis.fetch = (_input, init) =>
    new Promise((_resolve, reject) => {
      init?.signal?.addEventListener("abort", () =>
        reject(new DOMException("aborted", "AbortError")));
      queueMicrotask(() =>
        controller.abort()
      );
    });
  const error = await postJson("http://example.test/", {}, { fetch, signal: controller.signal })
    .catch((e) => e);
  assert.ok(error instanceof AbortedError);
  const early = await postJson("http://example.test/", {}, { fetch, signal: controller.signal })
    .catch((e) => e);
  assert.ok(early instanceof AbortedError);
});

Deno.test("a fetch that throws becomes a NetworkError keeping the cause", async () => {
  const cause = new TypeError("connection refused");
  const fetch: typeof globalThis.fetch = () => Promise.reject(cause);
  const error = await postJson("http://127.0.0.1:1/data", {}, { fetch }).catch((e) => e);
  assert.ok(error instanceof NetworkError);
  assert.equal(error.cause, cause);
  assert.match(error.message, /connection refused/);
});

Deno.test("a real connection refused becomes a NetworkError", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const error = await postJson(`http://127.0.0.1:${port}/`, {}).catch((e) => e);
  assert.ok(error instanceof NetworkError);
});

Deno.test("a non-positive timeoutMs is refused before anything is sent", async () => {
  let called = false;
  const fetch: typeof globalThis.fetch = () => {
    called = true;
    return Promise.resolve(new Response());
  };
  await assert.rejects(
    postJson("http://example.test/", {}, { fetch, timeoutMs: 0 }),
    /'timeoutMs' must be a positive/,
  );
  assert.equal(called, false);
});
