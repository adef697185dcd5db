import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import {
  LicenseV1,
  LicenseV2,
  newLicense,
  newMasterKey,
  parseLicense,
} from "../../src/emitter/security/license.ts";
import { snappyDecode, snappyEncode } from "../../src/emitter/security/_snappy.ts";
import { TEST_VECTORS } from "./_security_vectors.ts";

const GROUP = TEST_VECTORS.licenses;

function v1Fields(license: LicenseV1) {
  return {
    encryption_key: license.encryptionKey,
    user: license.contract,
    expires_unix: license.expires,
    type: license.type,
  };
}

Deno.test("every license vector parses to its fields or fails as the broker's does", () => {
  assert.equal(GROUP.parse.length, 9);
  for (const c of GROUP.parse) {
    if (c.error) {
      assert.throws(() => parseLicense(c.license), InvalidArgumentError, c.license);
      continue;
    }
    const license = parseLicense(c.license);
    if (c.v1) {
      assert.ok(license instanceof LicenseV1);
      assert.deepEqual(v1Fields(license), c.v1);
    } else {
      assert.deepEqual([license.contract, license.signature, license.master], [
        c.contract,
        c.signature,
        c.master,
      ]);
    }
    assert.ok(license.cipher());
  }
});

Deno.test("every license vector encodes to the broker's text and parses back", () => {
  for (const c of GROUP.encode) {
    const license = c.v1
      ? new LicenseV1({
        encryptionKey: c.v1.encryption_key,
        contract: c.v1.user ?? 0,
        expires: c.v1.expires_unix ?? 0,
        type: c.v1.type ?? 0,
      })
      : new LicenseV2({ version: 2, contract: c.v2.user });
    assert.equal(license.toString(), c.license);
    if (c.license !== "") assert.equal(parseLicense(c.license).contract, license.contract);
  }
});

Deno.test("the secret beside a real license decrypts to its master key", () => {
  const { license, secret } = GROUP.comment_pair_in_license_test;
  const parsed = parseLicense(license);
  const key = parsed.cipher().decryptKey(secret);
  assert.equal(key?.isMaster, true);
  assert.deepEqual([key.contract, key.signature, key.master], [
    parsed.contract,
    parsed.signature,
    parsed.master,
  ]);
  const keygen = GROUP.keygen_test_constants;
  assert.equal(parseLicense(keygen.license).cipher().decryptKey(keygen.secret)?.isMaster, true);
});

Deno.test("newLicense makes a v3 license whose secret is a master key of its contract", () => {
  let counter = 0;
  const random = (n: number) => Uint8Array.from({ length: n }, () => (counter++ * 37) & 0xff);
  const { license, secret } = newLicense(random);
  const text = license.toString();
  assert.match(text, /^[A-Za-z0-9_-]+:3$/);
  const parsed = parseLicense(text);
  assert.ok(parsed instanceof LicenseV2);
  assert.deepEqual(parsed, license);
  const key = parsed.cipher().decryptKey(secret);
  assert.equal(key?.isMaster, true);
  assert.deepEqual([key.master, key.contract, key.signature], [
    1,
    license.contract,
    license.signature,
  ]);
  assert.notEqual(newLicense().license.toString(), newLicense().license.toString());
});

Deno.test("newMasterKey keeps the salt below 32767 and sets only the master bit", () => {
  const key = newMasterKey({ contract: 5, signature: 6 }, 9, (n) => new Uint8Array(n).fill(0xff));
  assert.deepEqual([key.salt, key.master, key.contract, key.signature, key.permissions], [
    65535 % 32767,
    9,
    5,
    6,
    1,
  ]);
});

Deno.test("license errors never repeat the license text", () => {
  const secret = "zT83oDV0DWY5_JysbSTPT*AAAAAAAAAAAAAAAI:1";
  assert.throws(() => parseLicense(secret), (error: Error) => !error.message.includes("zT83"));
  assert.throws(() => parseLicense("zT83oDV0:1"), /needs 32 bytes/);
  assert.throws(() => parseLicense("AAAA:3"), InvalidArgumentError);
});

Deno.test("snappy decodes copies and refuses corrupt blocks", () => {
  // "abcabcabcabc": a 3-byte literal, then a copy of 9 bytes at offset 3 (tag 2).
  const block = Uint8Array.from([12, 2 << 2, 97, 98, 99, ((9 - 1) << 2) | 2, 3, 0]);
  assert.equal(new TextDecoder().decode(snappyDecode(block)), "abcabcabcabc");
  assert.equal(snappyDecode(Uint8Array.from([12, 2 << 2, 97, 98, 99])), undefined);
  assert.equal(snappyDecode(Uint8Array.from([3, ((3 - 1) << 2) | 2, 9, 0])), undefined);
  const big = Uint8Array.from({ length: 70000 }, (_, i) => i & 0xff);
  assert.deepEqual(snappyDecode(snappyEncode(big)), big);
});
