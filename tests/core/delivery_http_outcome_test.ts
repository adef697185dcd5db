import assert from "node:assert/strict";
import { AbortedError, HttpError, NetworkError, TimeoutError } from "../../src/core/errors.ts";
import { capture, httpOutcome, type HttpOutcomePolicy } from "../../src/core/delivery/mod.ts";
import type { HttpAnswer } from "../../src/core/http.ts";

function answer(status: number, body: unknown, retryAfterMs?: number): { answer: HttpAnswer } {
  return { answer: { status, headers: new Headers(), body, retryAfterMs } };
}

/** The service refuses with `{ error: "invalid_request" }`; its 2xx are JSON objects. */
const policy: HttpOutcomePolicy = {
  refusal: (a) =>
    (a.body as { error?: unknown } | undefined)?.error === "invalid_request"
      ? "rejected"
      : undefined,
  accepted: (a) => typeof a.body === "object" && a.body !== null,
};

Deno.test("an accepted 2xx is sent, with the answer", () => {
  assert.deepEqual(httpOutcome(answer(200, { ok: true }), policy), {
    kind: "sent",
    answer: { ok: true },
  });
});

Deno.test("5xx, 408 and 429 are retried, with Retry-After, whatever their body says", () => {
  for (
    const [status, reason] of [[500, "server_error"], [503, "server_error"], [408, "timeout"], [
      429,
      "rate_limited",
    ]] as const
  ) {
    const outcome = httpOutcome(answer(status, { error: "invalid_request" }, 2000), policy);
    assert.equal(outcome.kind, "retry", String(status));
    assert.equal(outcome.kind === "retry" && outcome.reason, reason);
    assert.equal(outcome.kind === "retry" && outcome.retryAfterMs, 2000);
  }
});

Deno.test("only a refusal the policy recognises drops the batch", () => {
  assert.deepEqual(httpOutcome(answer(400, { error: "invalid_request" }), policy), {
    kind: "dropped",
    reason: "rejected",
    status: 400,
    answer: { error: "invalid_request" },
  });
});

Deno.test("an answer that is not the service's is retried: proxy HTML, a bare 400, a portal 200", () => {
  for (
    const [status, body] of [
      [404, "<html>Not Found</html>"],
      [400, undefined],
      [400, { message: "bad" }],
      [200, "<html>Sign in</html>"],
      [302, undefined],
    ] as const
  ) {
    const outcome = httpOutcome(answer(status, body), policy);
    assert.equal(outcome.kind, "retry", `${status} ${JSON.stringify(body)}`);
    assert.equal(outcome.kind === "retry" && outcome.reason, "unrecognised_answer");
  }
});

Deno.test("without a policy a 4xx is retried, never dropped", () => {
  assert.equal(httpOutcome(answer(422, { detail: "nope" })).kind, "retry");
  assert.equal(httpOutcome(answer(204, undefined)).kind, "sent");
});

Deno.test("timeouts, network errors and aborts are retries with their reason", () => {
  const cases: [unknown, string][] = [
    [new TimeoutError("late", 10), "timeout"],
    [new NetworkError("refused"), "network"],
    [new AbortedError("stopped"), "aborted"],
    [new RangeError("bug"), "unexpected"],
  ];
  for (const [error, reason] of cases) {
    assert.deepEqual(httpOutcome({ error }, policy), { kind: "retry", reason, error });
  }
});

Deno.test("an HttpError from postJson is read as the answer it carries", () => {
  const refused = new HttpError("400", 400, {
    code: "invalid_request",
    body: { error: "invalid_request" },
  });
  assert.equal(httpOutcome({ error: refused }, policy).kind, "dropped");
  const limited = new HttpError("429", 429, { retryAfterMs: 5000 });
  const outcome = httpOutcome({ error: limited }, policy);
  assert.equal(outcome.kind === "retry" && outcome.retryAfterMs, 5000);
});

Deno.test("capture() turns a rejection into { error } and an answer into { answer }", async () => {
  const cause = new NetworkError("down");
  assert.deepEqual(await capture(Promise.reject(cause)), { error: cause });
  const ok = answer(200, {}).answer;
  assert.deepEqual(await capture(Promise.resolve(ok)), { answer: ok });
});
