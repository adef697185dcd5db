import assert from "node:assert/strict";
import { authorize } from "../../src/emitter/security/authorize.ts";
import { makeChannel, parseChannel } from "../../src/emitter/security/channel.ts";
import { singleContractProvider } from "../../src/emitter/security/contract.ts";
import { EMITTER_STATUS, EmitterError } from "../../src/emitter/security/errors.ts";
import {
  keygen,
  type KeygenContext,
  readKeygenRequest,
} from "../../src/emitter/security/keygen.ts";
import { parseLicense } from "../../src/emitter/security/license.ts";
import { formatPermissions, PERMISSION } from "../../src/emitter/security/permissions.ts";
import { TEST_VECTORS, VECTORS } from "./_security_vectors.ts";

const CONSTANTS = TEST_VECTORS.licenses.keygen_test_constants;
const LICENSE = parseLicense(CONSTANTS.license);
const NOW = 1_700_000_000_000;

function context(overrides: Partial<KeygenContext> = {}): KeygenContext {
  return {
    cipher: LICENSE.cipher(),
    contracts: singleContractProvider(LICENSE),
    connectionId: "ID",
    now: () => NOW,
    random: (n) => new Uint8Array(n).fill(1),
    ...overrides,
  };
}

Deno.test("the status table is the broker's, word for word", () => {
  const byName: Record<string, string> = {
    ErrBadRequest: "badRequest",
    ErrUnauthorized: "unauthorized",
    ErrPaymentRequired: "paymentRequired",
    ErrForbidden: "forbidden",
    ErrNotFound: "notFound",
    ErrServerError: "serverError",
    ErrNotImplemented: "notImplemented",
    ErrTargetInvalid: "targetInvalid",
    ErrTargetTooLong: "targetTooLong",
    ErrLinkInvalid: "linkInvalid",
    ErrUnauthorizedExt: "unauthorizedExt",
  };
  for (const { name, status, message } of VECTORS.errors.table) {
    const ours = EMITTER_STATUS[byName[name] as keyof typeof EMITTER_STATUS];
    assert.deepEqual({ ...ours }, { status, message }, name);
  }
  const error = new EmitterError(EMITTER_STATUS.notFound);
  assert.equal(error.status, 404);
  assert.equal(error.name, "EmitterError");
  assert.match(error.message, /^Emitter refused the request with status 404/);
});

Deno.test("every keygen request vector succeeds or fails as in the broker's test", () => {
  const cases = TEST_VECTORS.keygen_requests.cases;
  assert.equal(cases.length, 5);
  for (const c of cases) {
    const request = c.payload === undefined
      ? readKeygenRequest(JSON.stringify(c.request))
      : readKeygenRequest(c.payload);
    const contracts = c.contract_found === false ? { get: () => undefined } : undefined;
    const result = request === undefined
      ? undefined
      : keygen(context(contracts ? { contracts } : {}), request);
    assert.equal(result?.ok ?? false, c.ok, JSON.stringify(c));
  }
});

Deno.test("a master key makes a key with the rights, target and expiry asked for", () => {
  const result = keygen(context(), {
    key: CONSTANTS.secret,
    channel: "a/b/",
    type: "rwslpex",
    ttl: 60,
  });
  assert.ok(result.ok);
  assert.equal(result.channel, "a/b/");
  const key = LICENSE.cipher().decryptKey(result.key)!;
  assert.equal(formatPermissions(key.permissions), "rwslpex");
  assert.equal(key.isMaster, false);
  assert.equal(key.expires, NOW / 1000 + 60);
  assert.equal(key.salt, 0x0101);
  assert.ok(key.validateChannel(parseChannel("k/a/b/")));
  assert.ok(!key.validateChannel(parseChannel("k/a/c/")));
});

Deno.test("keygen refuses with the broker's statuses", () => {
  const ask = (key: string, channel: string, over: Partial<KeygenContext> = {}) => {
    const result = keygen(context(over), { key, channel, type: "rw", ttl: 0 });
    return result.ok ? 200 : result.error;
  };
  assert.equal(ask("x".repeat(32), "a/"), EMITTER_STATUS.unauthorized);
  assert.equal(ask(CONSTANTS.secret, "a/b"), EMITTER_STATUS.targetInvalid);
  const deep = Array.from({ length: 24 }, (_, i) => i).join("/") + "/";
  assert.equal(ask(CONSTANTS.secret, deep), EMITTER_STATUS.targetTooLong);
  assert.equal(
    ask(CONSTANTS.secret, "a/", { contracts: { get: () => undefined } }),
    EMITTER_STATUS.notFound,
  );
  const wrongSignature = singleContractProvider({ contract: LICENSE.contract, signature: 1 });
  assert.equal(
    ask(CONSTANTS.secret, "a/", { contracts: wrongSignature }),
    EMITTER_STATUS.unauthorized,
  );
  const readWrite = keygen(context(), { key: CONSTANTS.secret, channel: "a/", type: "rw", ttl: 0 });
  assert.ok(readWrite.ok);
  assert.equal(ask(readWrite.key, "a/"), EMITTER_STATUS.unauthorized);
  const expiring = keygen(context(), { key: CONSTANTS.secret, channel: "a/", type: "rwe", ttl: 5 });
  assert.ok(expiring.ok);
  assert.equal(ask(expiring.key, "a/", { now: () => NOW + 6000 }), EMITTER_STATUS.unauthorized);
});

Deno.test("every extend vector gives the private channel and rights of the broker's test", () => {
  const cases = TEST_VECTORS.keygen_requests.extend_key;
  assert.equal(cases.length, 5);
  for (const c of cases) {
    const type = c.access.startsWith("AllowAll &^ AllowLoad") ? "rwspex" : "rwslpex";
    const result = keygen(context(), { key: c.key, channel: c.channel, type, ttl: 0 });
    if (c.error) {
      const expected = c.error === "ErrUnauthorized"
        ? EMITTER_STATUS.unauthorized
        : EMITTER_STATUS.badRequest;
      assert.deepEqual(result, { ok: false, error: expected }, c.key);
      continue;
    }
    assert.ok(result.ok, c.key);
    assert.equal(result.channel, c.expect_channel);
    const key = LICENSE.cipher().decryptKey(result.key)!;
    assert.equal(key.permissions, Number(c.expect_access.match(/\((\d+)\)/)[1]));
    assert.ok(key.validateChannel(makeChannel(result.key, result.channel)));
  }
});

Deno.test("a banned extend key cannot make private keys", () => {
  const { key } = TEST_VECTORS.keygen_requests.extend_key[0];
  const request = { key, channel: "a/b/", type: "r", ttl: 0 };
  assert.ok(keygen(context(), request).ok);
  const banned = keygen(context({ isBanned: (text) => text === key }), request);
  assert.deepEqual(banned, { ok: false, error: EMITTER_STATUS.unauthorized });
});

Deno.test("authorize needs a valid topic, the right and a target covering the channel", () => {
  const { key } = TEST_VECTORS.keygen_requests.extend_key[0];
  const ctx = context();
  assert.ok(authorize(ctx, parseChannel(`${key}/a/b/`), PERMISSION.read));
  assert.equal(authorize(ctx, parseChannel(`${key}/a/b/`), PERMISSION.write), undefined);
  assert.equal(authorize(ctx, parseChannel(`${key}/a/c/`), PERMISSION.read), undefined);
  assert.equal(authorize(ctx, parseChannel(`${key}/a/b`), PERMISSION.read), undefined);
});

Deno.test("keygen bodies are read as Go's decoder reads them", () => {
  assert.equal(readKeygenRequest("invalid"), undefined);
  assert.equal(readKeygenRequest("[1]"), undefined);
  assert.equal(readKeygenRequest('{"ttl":"5"}'), undefined);
  assert.equal(readKeygenRequest('{"ttl":2147483648}'), undefined);
  assert.deepEqual(readKeygenRequest("null"), { key: "", channel: "", type: "", ttl: 0 });
  assert.deepEqual(readKeygenRequest('{"KEY":"k","Channel":null,"other":1,"ttl":-5}'), {
    key: "k",
    channel: "",
    type: "",
    ttl: -5,
  });
});
