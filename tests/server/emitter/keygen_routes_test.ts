import assert from "node:assert/strict";
import { base64 } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  authorize,
  EMITTER_STATUS,
  newLicense,
  parseChannel,
  PERMISSION,
  singleContractProvider,
} from "../../../src/emitter/security/mod.ts";
import {
  KEYGEN_BODY_LIMIT_BYTES,
  keygenRoutes,
} from "../../../src/server/emitter/keygen_routes.ts";

const NOW = 1_700_000_000_000;
const { license, secret } = newLicense();
const security = {
  cipher: license.cipher(),
  contracts: singleContractProvider(license),
  now: () => NOW,
};
const app = keygenRoutes(security);

function postJson(body: unknown): Promise<Response> {
  return Promise.resolve(app.request("/keygen", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  }));
}

function postForm(fields: Record<string, string>, accept = "*/*"): Promise<Response> {
  return Promise.resolve(app.request("/keygen", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept },
    body: new URLSearchParams(fields).toString(),
  }));
}

/** Reads an answer's text and checks it never carries the secret key. */
async function textOf(answer: Response): Promise<string> {
  const text = await answer.text();
  assert.ok(!text.includes(secret), "the answer must not echo the secret key");
  return text;
}

function decrypt(key: string) {
  const decrypted = security.cipher.decryptKey(key);
  assert.ok(decrypted !== undefined, "the new key must decrypt with the license's cipher");
  return decrypted;
}

Deno.test("GET /keygen answers an accessible form with a strict policy and no script", async () => {
  const answer = await app.request("/keygen");
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("content-type"), "text/html; charset=utf-8");
  const policy = answer.headers.get("content-security-policy") ?? "";
  assert.match(policy, /default-src 'none'/);
  assert.match(policy, /form-action 'self'/);
  assert.match(policy, /frame-ancestors 'none'/);
  assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|script-src/);
  const html = await answer.text();
  assert.doesNotMatch(html, /<script|\son[a-z]+=|style="/i);
  // The one stylesheet is allowed by its hash, so it applies under the policy.
  const style = /<style>([^<]*)<\/style>/.exec(html)?.[1];
  assert.ok(style !== undefined);
  const hash = base64.encode(sha256(new TextEncoder().encode(style)));
  assert.ok(policy.includes(`style-src 'sha256-${hash}'`), policy);
  assert.match(html, /<html lang="en">/);
  for (const name of ["key", "channel", "ttl"]) {
    const id = new RegExp(`id="([^"]+)" name="${name}"`).exec(html)?.[1];
    assert.ok(id !== undefined, `the ${name} field has an id`);
    assert.match(html, new RegExp(`<label for="${id}">`), `the ${name} field has a label`);
  }
  for (const name of ["sub", "pub", "store", "load", "presence", "extend"]) {
    assert.match(html, new RegExp(`<label><input type="checkbox" name="${name}"`));
  }
  assert.match(
    html,
    /<input type="password" id="keygen-key" name="key" required autocomplete="off"/,
  );
  assert.match(html, /<form method="post">/);
  assert.match(html, /aria-live="polite"/);
  assert.equal(answer.headers.get("cache-control"), "no-store");
});

Deno.test("HEAD /keygen answers without a body and another method gets 405 with Allow", async () => {
  const head = await app.request("/keygen", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  const put = await app.request("/keygen", { method: "PUT", body: "x" });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get("allow"), "GET, HEAD, POST");
  assert.equal(await put.text(), "feature not supported\n");
});

Deno.test("a JSON keygen request makes a key with the rights asked for on the channel", async () => {
  const answer = await postJson({ key: secret, channel: "chat/room/", type: "rw", ttl: 0 });
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get("content-type") ?? "", /^application\/json/);
  const body = JSON.parse(await textOf(answer));
  assert.deepEqual(Object.keys(body).sort(), ["channel", "key", "status"]);
  assert.equal(body.status, 200);
  assert.equal(body.channel, "chat/room/");
  const key = decrypt(body.key);
  assert.equal(key.isMaster, false);
  assert.equal(key.contract, license.contract);
  assert.equal(key.hasPermission(PERMISSION.read | PERMISSION.write), true);
  assert.equal(key.hasPermission(PERMISSION.store), false);
  assert.equal(key.isExpired(NOW + 10 * 365 * 86_400_000), false);
  const allowed = (topic: string, permission: number) =>
    authorize(security, parseChannel(`${body.key}/${topic}`), permission) !== undefined;
  assert.equal(allowed("chat/room/", PERMISSION.write), true);
  assert.equal(allowed("chat/other/", PERMISSION.write), false);
  assert.equal(allowed("chat/room/", PERMISSION.load), false);
});

Deno.test("a form keygen request reads the real page's checkboxes and its time to live", async () => {
  const answer = await postForm({
    key: secret,
    channel: "news/#/",
    ttl: "300",
    sub: "on",
    load: "on",
    pub: "off",
    extend: "",
  });
  assert.equal(answer.status, 200);
  const body = JSON.parse(await textOf(answer));
  assert.equal(body.channel, "news/#/");
  const key = decrypt(body.key);
  assert.equal(key.permissions, PERMISSION.read | PERMISSION.load);
  assert.equal(key.isExpired(NOW + 299_000), false);
  assert.equal(key.isExpired(NOW + 301_000), true);
  assert.ok(authorize(security, parseChannel(`${body.key}/news/a/b/`), PERMISSION.read));
});

Deno.test("a form's type letters win over its checkboxes", async () => {
  const answer = await postForm({ key: secret, channel: "a/", type: "wsp", sub: "on" });
  const body = JSON.parse(await textOf(answer));
  assert.equal(
    decrypt(body.key).permissions,
    PERMISSION.write | PERMISSION.store | PERMISSION.presence,
  );
});

Deno.test("a form the page cannot read is refused with the real page's words", async () => {
  const unreadable: Record<string, string>[] = [
    { ttl: "soon" },
    { ttl: "99999999999" },
    { sub: "yes" },
  ];
  for (const fields of unreadable) {
    const answer = await postForm({ key: secret, channel: "a/", ...fields });
    assert.equal(answer.status, 400);
    assert.deepEqual(JSON.parse(await textOf(answer)), {
      status: 400,
      message: "invalid arguments",
    });
  }
  const noKey = await postForm({ channel: "a/" });
  assert.deepEqual(JSON.parse(await textOf(noKey)), { status: 400, message: "Missing SecretKey" });
  const noChannel = await postJson({ key: secret, type: "r" });
  assert.equal(noChannel.status, 400);
  assert.deepEqual(JSON.parse(await textOf(noChannel)), {
    status: 400,
    message: "Missing Channel",
  });
});

Deno.test("keygen refuses a key that is not a secret key with 401", async () => {
  const made = JSON.parse(
    await textOf(await postJson({ key: secret, channel: "a/", type: "rwe", ttl: 0 })),
  );
  const unauthorized = { status: 401, message: EMITTER_STATUS.unauthorized.message };
  for (const key of [made.key, "not-a-key", newLicense().secret]) {
    const answer = await postJson({ key, channel: "a/", type: "r", ttl: 0 });
    assert.equal(answer.status, 401);
    const text = await textOf(answer);
    assert.ok(!text.includes(key), "the answer must not echo the key");
    assert.deepEqual(JSON.parse(text), unauthorized);
  }
});

Deno.test("keygen refuses a channel that cannot be a key's target with the broker's status", async () => {
  const answer = await postJson({ key: secret, channel: "chat", type: "r", ttl: 0 });
  assert.equal(answer.status, 400);
  assert.deepEqual(JSON.parse(await textOf(answer)), { ...EMITTER_STATUS.targetInvalid });
  const deep = await postJson({ key: secret, channel: "a/".repeat(30), type: "r", ttl: 0 });
  assert.deepEqual(JSON.parse(await textOf(deep)), { ...EMITTER_STATUS.targetTooLong });
});

Deno.test("keygen refuses a body that is not a keygen request, or of another type", async () => {
  for (const body of ["{", "[1]", '{"ttl":"soon"}', '{"key":5}']) {
    const answer = await postJson(body);
    assert.equal(answer.status, 400, body);
    assert.deepEqual(JSON.parse(await textOf(answer)), { ...EMITTER_STATUS.badRequest });
  }
  const plain = await app.request("/keygen", {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: `key=${secret}&channel=a/`,
  });
  assert.equal(plain.status, 415);
  assert.equal(JSON.parse(await textOf(plain)).status, 415);
});

Deno.test("a browser's form post gets the page again with the new key, never the secret", async () => {
  const answer = await postForm(
    { key: secret, channel: "room/<b>/", ttl: "60", pub: "on" },
    "text/html,application/xhtml+xml,*/*;q=0.8",
  );
  assert.equal(answer.status, 200);
  assert.ok(answer.headers.get("content-security-policy")?.includes("default-src 'none'"));
  const html = await textOf(answer);
  const key = /<dt>Key<\/dt><dd>([^<]+)<\/dd>/.exec(html)?.[1];
  assert.ok(key !== undefined, html);
  assert.equal(decrypt(key).permissions, PERMISSION.write);
  // What the user typed comes back escaped, and the rights stay ticked.
  assert.match(html, /value="room\/&#60;b&#62;\/"/);
  assert.doesNotMatch(html, /room\/<b>/);
  assert.match(html, /name="pub" checked/);
  assert.doesNotMatch(html, /name="sub" checked/);
  assert.match(html, /value="60"/);

  const refused = await postForm({ key: "wrong", channel: "a/" }, "text/html");
  assert.equal(refused.status, 401);
  assert.match(
    await textOf(refused),
    /<p class="error">the security key provided is not authorized/,
  );
});

Deno.test("keygen served over HTTP refuses a body past its limit, declared or streamed", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}/keygen`;
  try {
    const fits = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ key: secret, channel: "a/", sub: "on" }),
    });
    assert.equal(fits.status, 200);
    assert.equal(JSON.parse(await textOf(fits)).channel, "a/");

    const declared = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        key: secret,
        channel: "a/",
        type: "x".repeat(KEYGEN_BODY_LIMIT_BYTES),
      }),
    });
    assert.equal(declared.status, 413);
    assert.equal(JSON.parse(await textOf(declared)).status, 413);

    const chunk = new TextEncoder().encode(" ".repeat(1024));
    let sent = 0;
    const streamed = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < KEYGEN_BODY_LIMIT_BYTES / 1024 + 2) controller.enqueue(chunk);
          else controller.close();
        },
      }),
    });
    assert.equal(streamed.status, 413);
    await streamed.body?.cancel();
  } finally {
    await server.shutdown();
  }
});
