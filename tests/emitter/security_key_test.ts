import assert from "node:assert/strict";
import fc from "fast-check";
import { parseChannel } from "../../src/emitter/security/channel.ts";
import { SalsaCipher, ShuffleCipher, XteaCipher } from "../../src/emitter/security/cipher.ts";
import { KEY_TIME_OFFSET, SecurityKey } from "../../src/emitter/security/key.ts";
import {
  formatPermissions,
  parsePermissions,
  PERMISSION,
} from "../../src/emitter/security/permissions.ts";
import { fromHex, hex, TEST_VECTORS, VECTORS } from "./_security_vectors.ts";

function layoutKey(): SecurityKey {
  const { fields } = TEST_VECTORS.key_layout;
  const key = new SecurityKey();
  key.salt = fields.salt;
  key.master = fields.master;
  key.contract = fields.contract;
  key.signature = fields.signature;
  key.permissions = PERMISSION.read | PERMISSION.write;
  assert.equal(key.setTarget(fields.target), undefined);
  key.expires = fields.expires_unix;
  return key;
}

Deno.test("the permission bits are the broker's and rwslpex reads as they do", () => {
  const { bits } = VECTORS.permissions;
  assert.deepEqual(
    [PERMISSION.master, PERMISSION.read, PERMISSION.write, PERMISSION.store, PERMISSION.load],
    [bits.AllowMaster, bits.AllowRead, bits.AllowWrite, bits.AllowStore, bits.AllowLoad],
  );
  assert.deepEqual(
    [PERMISSION.presence, PERMISSION.extend, PERMISSION.execute, PERMISSION.all],
    [bits.AllowPresence, bits.AllowExtend, bits.AllowExecute, bits.AllowAll],
  );
  const { type, access } = VECTORS.requests.keygen.type_vector;
  assert.equal(parsePermissions(type), access);
  assert.equal(parsePermissions("r?w!"), bits.AllowReadWrite);
  assert.equal(formatPermissions(access), "rwslpex");
});

Deno.test("a key lays out its fields in the broker's 24 bytes", () => {
  const { expect, raw_key_24_bytes_hex_derived } = TEST_VECTORS.key_layout;
  const key = layoutKey();
  assert.equal(hex(key.bytes), raw_key_24_bytes_hex_derived);
  const read = new SecurityKey(fromHex(raw_key_24_bytes_hex_derived));
  assert.deepEqual(
    [read.salt, read.master, read.contract, read.signature, read.permissions, read.expires],
    [
      expect.salt,
      expect.master,
      expect.contract,
      expect.signature,
      expect.permissions,
      expect
        .expires_unix,
    ],
  );
  assert.equal(read.isExpired(), expect.is_expired);
  assert.equal(read.hasPermission(PERMISSION.read), expect.has_read);
  assert.equal(read.hasPermission(PERMISSION.extend), expect.has_extend);
  assert.equal(read.isMaster, false);
});

Deno.test("expiry counts from 2010 and 0 means never", () => {
  const key = new SecurityKey();
  assert.equal(key.expires, 0);
  assert.equal(key.isExpired(Number.MAX_SAFE_INTEGER), false);
  key.expires = KEY_TIME_OFFSET + 10;
  assert.equal(hex(key.bytes.subarray(20)), "0000000a");
  assert.equal(key.isExpired((KEY_TIME_OFFSET + 10) * 1000), false);
  assert.equal(key.isExpired((KEY_TIME_OFFSET + 11) * 1000), true);
});

Deno.test("setTarget writes the bit path and hash of every key vector and refuses 24 parts", () => {
  const group = TEST_VECTORS.key_validate_channel;
  for (const c of group.cases) {
    if (!c.key_bytes_12_19_hex_derived) continue;
    const key = new SecurityKey();
    assert.equal(key.setTarget(c.set_target), undefined);
    assert.equal(hex(key.bytes.subarray(12, 20)), c.key_bytes_12_19_hex_derived, c.set_target);
  }
  for (const { target, error } of group.set_target_errors) {
    assert.equal(new SecurityKey().setTarget(target), error === null ? undefined : "targetTooLong");
  }
  assert.equal(new SecurityKey().setTarget("a/b"), "targetInvalid");
});

Deno.test("validateChannel accepts and refuses channels as every key vector says", () => {
  const { cases } = TEST_VECTORS.key_validate_channel;
  assert.equal(cases.length, 38);
  for (const c of cases) {
    const key = new SecurityKey();
    key.setTarget(c.set_target);
    if (!c.key_bytes_12_19_hex_derived) key.bytes.fill(0, 12, 15);
    const parsed = parseChannel(`k/${c.channel}`);
    const channel = { channel: c.channel, query: parsed.query };
    assert.equal(key.validateChannel(channel), c.valid, `${c.set_target} ${c.channel}`);
  }
});

Deno.test("the shuffle and salsa ciphers with zeroed state give the broker's key texts", () => {
  const { encrypted } = TEST_VECTORS.key_layout;
  const shuffle = new ShuffleCipher(new Uint8Array(32), new Uint8Array(16));
  const salsa = new SalsaCipher(new Uint8Array(32), new Uint8Array(24));
  const key = layoutKey();
  assert.equal(shuffle.encryptKey(key), encrypted.shuffle_cipher_zero_state);
  assert.equal(salsa.encryptKey(key), encrypted.salsa_cipher_zero_state);
  assert.deepEqual(shuffle.decryptKey(encrypted.shuffle_cipher_zero_state)?.bytes, key.bytes);
  assert.deepEqual(salsa.decryptKey(encrypted.salsa_cipher_zero_state)?.bytes, key.bytes);
});

Deno.test("the XTEA cipher decrypts every vector key to its contract and re-encrypts it", () => {
  const group = TEST_VECTORS.xtea_keys;
  const byWords = new XteaCipher(group.xtea_key_u32);
  const byLicense = XteaCipher.fromText(group.license.slice(0, 22));
  for (const { key: text } of group.cases) {
    for (const cipher of [byWords, byLicense]) {
      const key = cipher.decryptKey(text);
      assert.equal(key?.contract, group.contract, text);
      assert.equal(cipher.encryptKey(key!), text);
    }
  }
  assert.equal(byWords.decryptKey(group.secret_key)?.isMaster, true);
  for (const text of group.invalid) {
    assert.equal(byWords.decryptKey(text), undefined);
    assert.equal(
      new ShuffleCipher(new Uint8Array(32), new Uint8Array(16)).decryptKey(text),
      undefined,
    );
  }
});

Deno.test("every cipher decrypts what it encrypts, whatever the key bytes", () => {
  const ciphers = [
    new XteaCipher([1, 2, 3, 0xffffffff]),
    new SalsaCipher(new Uint8Array(32).fill(7), new Uint8Array(24).fill(9)),
    new ShuffleCipher(new Uint8Array(32).fill(5), new Uint8Array(16).fill(3)),
  ];
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 24, maxLength: 24 }), (bytes) => {
      for (const cipher of ciphers) {
        const text = cipher.encryptKey(new SecurityKey(bytes.slice()));
        assert.match(text, /^[A-Za-z0-9_-]{32}$/);
        assert.deepEqual(cipher.decryptKey(text)?.bytes, bytes);
      }
    }),
    { seed: 2410, numRuns: 500 },
  );
});

Deno.test("the shuffle cipher gives keys with different salts unrelated texts", () => {
  const cipher = new ShuffleCipher(new Uint8Array(32).fill(1), new Uint8Array(16).fill(2));
  const a = layoutKey();
  const b = layoutKey();
  b.salt = 333;
  const [ta, tb] = [cipher.encryptKey(a), cipher.encryptKey(b)];
  const differing = [...ta].filter((char, i) => char !== tb[i]).length;
  assert.ok(differing > 20, `only ${differing} characters differ`);
});
