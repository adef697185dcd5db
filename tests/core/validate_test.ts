import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import {
  describeValue,
  httpUrl,
  integer,
  invalidArgument,
  nonEmptyString,
  nonNegativeNumber,
  oneOf,
  optionalFunction,
  optionalObject,
  positiveNumber,
} from "../../src/core/validate.ts";

const ACTION = "create TestClient";

/** Asserts `run` throws the house error for `field` with exactly `message`. */
function throwsHouse(run: () => unknown, field: string, message: string): void {
  assert.throws(run, (error) => {
    assert.ok(error instanceof InvalidArgumentError);
    assert.equal(error.argument, field);
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("describeValue never shows a string unless told it is safe", () => {
  assert.equal(describeValue("sk_live_abcdef"), "a string of 14 characters");
  assert.equal(describeValue("rset", { reveal: true }), '"rset"');
  assert.equal(describeValue("x".repeat(50), { reveal: true }), `"${"x".repeat(40)}…"`);
  assert.equal(describeValue(""), '""');
  assert.equal(describeValue(0), "0");
  assert.equal(describeValue(NaN), "NaN");
  assert.equal(describeValue(undefined), "undefined");
  assert.equal(describeValue(new Uint8Array(3)), "3 bytes");
  assert.equal(describeValue([1]), "an array");
  assert.equal(describeValue(() => 1), "a function");
  assert.equal(describeValue({ token: "secret" }), "an object");
});

Deno.test("integer returns the value or its default and words a failure the house way", () => {
  assert.equal(integer(ACTION, "maxItems", undefined, 1000), 1000);
  assert.equal(integer(ACTION, "maxItems", 5, 1000), 5);
  assert.equal(integer(ACTION, "workers", 0, 1, { min: 0, max: 64 }), 0);
  throwsHouse(
    () => integer(ACTION, "maxItems", 0, 1000),
    "maxItems",
    "Cannot create TestClient as 'maxItems' must be an integer of at least 1: current value is 0",
  );
  throwsHouse(
    () => integer(ACTION, "difficulty", 1.5, undefined, { min: 1, max: 16 }),
    "difficulty",
    "Cannot create TestClient as 'difficulty' must be an integer from 1 to 16: current value is 1.5",
  );
  throwsHouse(
    () => integer(ACTION, "size", undefined),
    "size",
    "Cannot create TestClient as 'size' must be an integer of at least 1: current value is undefined",
  );
});

Deno.test("positiveNumber and nonNegativeNumber refuse NaN, Infinity and strings", () => {
  assert.equal(positiveNumber(ACTION, "timeoutMs", undefined, 10_000), 10_000);
  assert.equal(nonNegativeNumber(ACTION, "intervalMs", 0, 5), 0);
  for (const value of [0, -1, NaN, Infinity, "5"]) {
    assert.throws(() => positiveNumber(ACTION, "timeoutMs", value, 1), /a positive finite number/);
  }
  throwsHouse(
    () => nonNegativeNumber(ACTION, "intervalMs", -1, 5),
    "intervalMs",
    "Cannot create TestClient as 'intervalMs' must be a finite number of 0 or more: current value is -1",
  );
});

Deno.test("nonEmptyString checks the UTF-8 budget and never echoes the value", () => {
  assert.equal(nonEmptyString(ACTION, "apiKey", "k", undefined, { maxBytes: 1 }), "k");
  throwsHouse(
    () => nonEmptyString(ACTION, "apiKey", "é".repeat(3), undefined, { maxBytes: 4 }),
    "apiKey",
    "Cannot create TestClient as 'apiKey' must be a non-empty string of at most 4 UTF-8 bytes: current value is 6 bytes long",
  );
  throwsHouse(
    () => nonEmptyString(ACTION, "apiKey", 42),
    "apiKey",
    "Cannot create TestClient as 'apiKey' must be a non-empty string: current value is 42",
  );
});

Deno.test("oneOf lists the choices and shows the rejected value", () => {
  assert.equal(oneOf(ACTION, "transport", undefined, "rest", ["rest", "graphql"]), "rest");
  throwsHouse(
    () => oneOf(ACTION, "transport", "rset", "rest", ["rest", "graphql", "grpc"]),
    "transport",
    `Cannot create TestClient as 'transport' must be "rest", "graphql" or "grpc": current value is "rset"`,
  );
});

Deno.test("httpUrl accepts absolute http(s) URLs and never shows a rejected one", () => {
  assert.equal(httpUrl(ACTION, "endpoint", "https://example.com/api/"), "https://example.com/api");
  assert.equal(
    httpUrl(ACTION, "endpoint", new URL("http://127.0.0.1:8080")),
    "http://127.0.0.1:8080",
  );
  assert.equal(httpUrl(ACTION, "endpoint", undefined, "https://x.test"), "https://x.test");
  for (const value of ["/relative", "ftp://user:pass@host/", 3]) {
    assert.throws(() => httpUrl(ACTION, "endpoint", value), (error) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.match(error.message, /'endpoint' must be an absolute http or https URL/);
      assert.ok(!error.message.includes("pass"));
      return true;
    });
  }
});

Deno.test("optionalFunction and optionalObject check shapes", () => {
  assert.equal(optionalFunction(ACTION, "now", undefined), undefined);
  const now = () => 1;
  assert.equal(optionalFunction(ACTION, "now", now), now);
  throwsHouse(
    () => optionalFunction(ACTION, "now", 5),
    "now",
    "Cannot create TestClient as 'now' must be a function: current value is 5",
  );
  const store = { get() {}, set() {} };
  assert.equal(optionalObject(ACTION, "storage", store, ["get", "set"]), store);
  throwsHouse(
    () => optionalObject(ACTION, "storage", { get() {} }, ["get", "set"]),
    "storage",
    "Cannot create TestClient as 'storage' must be an object with get(), set(): current value is an object",
  );
});

Deno.test("invalidArgument builds the house error for a custom rule", () => {
  const error = invalidArgument(ACTION, "userHash", "64 lowercase hex characters", "XYZ");
  assert.ok(error instanceof InvalidArgumentError);
  assert.equal(
    error.message,
    "Cannot create TestClient as 'userHash' must be 64 lowercase hex characters: current value is a string of 3 characters",
  );
});
