import assert from "node:assert/strict";
import {
  generateDeviceFingerprint,
  generateUserHash,
  getClientName,
} from "../../src/mkstats/identity.ts";
import { normalizeEndpoint } from "../../src/mkstats/options.ts";
import { InvalidArgumentError } from "../../src/core/errors.ts";

Deno.test("generateUserHash() matches the known mkStats value", () => {
  assert.equal(
    generateUserHash("stable-device-id", "my_plugin"),
    "2f67a85aa8258d99bdff5fef8ab73000f7ef4c0c4f2448b7e721d0cd87556f9c",
  );
});

Deno.test("generateDeviceFingerprint() matches the known mkStats value", () => {
  assert.equal(
    generateDeviceFingerprint("stable-device-id"),
    "e4018239e34778d9808a130da142bd8a60a537b2bc240997e59d0ce07701a56d",
  );
});

Deno.test("getClientName() maps the known host packages and otherwise names the runtime", () => {
  assert.equal(getClientName("com.exteragram.messenger"), "exteraGram");
  assert.equal(getClientName("com.radolyn.ayugram"), "AyuGram");
  assert.equal(getClientName("org.telegram.messenger"), "unknown");
  assert.equal(getClientName(), "deno");
});

Deno.test("normalizeEndpoint() appends /v1 to /api and strips trailing slashes", () => {
  assert.equal(normalizeEndpoint("https://mkstats.mk69.su/api"), "https://mkstats.mk69.su/api/v1");
  assert.equal(
    normalizeEndpoint("https://mkstats.mk69.su/api///"),
    "https://mkstats.mk69.su/api/v1",
  );
  assert.equal(
    normalizeEndpoint("https://mkstats.mk69.su/api/v1/"),
    "https://mkstats.mk69.su/api/v1",
  );
  assert.equal(normalizeEndpoint("http://127.0.0.1:8787/custom"), "http://127.0.0.1:8787/custom");
});

Deno.test("normalizeEndpoint() refuses a relative or non-http URL", () => {
  assert.throws(() => normalizeEndpoint("/api"), InvalidArgumentError);
  assert.throws(() => normalizeEndpoint("ftp://host/api"), /absolute http or https URL/);
});
