import assert from "node:assert/strict";
import { AbortedError, HttpError, NetworkError, TimeoutError } from "../../src/core/errors.ts";
import { parseRetryAfter, postBytes, postJson, postRaw } from "../../src/core/http.ts";

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

/** A fetch that never answers and ignores its abort signal. */
const deafFetch: typeof globalThis.fetch = () => new Promise<Response>(() => {});

Deno.test("the deadline holds even when fetch ignores the abort signal", async () => {
  const started = performance.now();
  const error = await postJson("http://example.test/", {}, { fetch: deafFetch, timeoutMs: 30 })
    .catch((e) => e);
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.timeoutMs, 30);
  assert.ok(performance.now() - started < 1000, "the caller is released at the deadline");
});

Deno.test("the deadline covers a body that never finishes, even when fetch ignores abort", async () => {
  const fetch: typeof globalThis.fetch = () =>
    Promise.resolve(new Response(new ReadableStream({ start() {} }), { status: 200 }));
  const error = await postRaw("http://example.test/", "{}", "application/json", {
    fetch,
    timeoutMs: 30,
  }).catch((e) => e);
  assert.ok(error instanceof TimeoutError);
});

Deno.test("the caller's signal releases a request whose fetch ignores it", async () => {
  const controller = new AbortController();
  const pending = postJson("http://example.test/", {}, {
    fetch: deafFetch,
    signal: controller.signal,
    timeoutMs: 60_000,
  }).catch((e) => e);
  controller.abort();
  assert.ok(await pending instanceof AbortedError);
});

Deno.test("postRaw() answers any status with its decoded body and Retry-After", async () => {
  const fetch = fakeFetch(() =>
    new Response("<html>Not Found</html>", {
      status: 404,
      headers: { "content-type": "text/html", "retry-after": "3" },
    })
  );
  const answer = await postRaw("http://example.test/", "{}", "application/json", { fetch });
  assert.equal(answer.status, 404);
  assert.equal(answer.body, "<html>Not Found</html>");
  assert.equal(answer.retryAfterMs, 3000);
  assert.equal(answer.headers.get("content-type"), "text/html");
});
