/**
 * Bottles against the raw WebCrypto operations they are made of, and Spot
 * round trips through the relay against a bare WebSocket echo, in one run:
 * `deno bench -A bench/spot_bench.ts`. The baseline of the sign, encrypt
 * and open groups is the bare WebCrypto work with keys already imported, so
 * the ratio they print is the SDK's overhead (CBOR, DER signatures, the
 * recipient entry, copies); the relay group's baseline is the echo.
 *
 * - sign: a 256-byte message signed with ECDSA P-256 (SHA-256) and encoded,
 *   against one `crypto.subtle.sign`.
 * - encrypt: the message encrypted for one P-256 key and encoded, against an
 *   ephemeral ECDH key pair, its SPKI export, `deriveBits`, SHA-256 and two
 *   AES-256-GCM encryptions (the content key, then the content).
 * - open: a bottle encrypted for the opener then signed, as a Spot query
 *   travels, verified and decrypted, against one ECDSA verify, the ephemeral
 *   key's import, `deriveBits`, SHA-256 and two AES-256-GCM decryptions.
 * - relay: round trips through the package's relay (`createServer()` under
 *   `Deno.serve` in this process, rate limits lifted) against a bare
 *   WebSocket echo on `Deno.serve`: a Spot ping packet the relay echoes,
 *   `getTime()` (a signed request to `@/time`), and a 64-byte query from one
 *   `SpotClient` to another, encrypted and signed both ways; beside them the
 *   bottle work of one query without any network, to tell crypto from relay.
 *
 * @module
 */

import { createServer } from "../src/server/mod.ts";
import { Bottle, openBottle, PrivateKey, SpotClient } from "../src/spot/mod.ts";

const MESSAGE = new Uint8Array(256).map((_, i) => 32 + (i % 90));
const ECDSA = { name: "ECDSA", namedCurve: "P-256" } as const;
const ECDH = { name: "ECDH", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

// The SDK's keys
const alice = await PrivateKey.generate("p256");
const bob = await PrivateKey.generate("p256");

// The same keys as WebCrypto keys, imported once as a long-lived client holds them
const copy = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);
const aliceSign = await crypto.subtle.importKey("pkcs8", copy(alice.toPkcs8()), ECDSA, false, [
  "sign",
]);
const aliceVerify = await crypto.subtle.importKey(
  "spki",
  copy(alice.publicKey.pkix),
  ECDSA,
  false,
  ["verify"],
);
const bobEcdhPublic = await crypto.subtle.importKey(
  "spki",
  copy(bob.publicKey.pkix),
  ECDH,
  false,
  [],
);
const bobEcdhPrivate = await crypto.subtle.importKey("pkcs8", copy(bob.toPkcs8()), ECDH, false, [
  "deriveBits",
]);

async function sealGcm(
  key: Uint8Array<ArrayBuffer>,
  plain: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const aes = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aes, plain));
  const out = new Uint8Array(12 + sealed.length);
  out.set(iv);
  out.set(sealed, 12);
  return out;
}

async function openGcm(
  key: Uint8Array<ArrayBuffer>,
  sealed: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const aes = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["decrypt"]);
  const iv = sealed.subarray(0, 12);
  return new Uint8Array(
    await crypto.subtle.decrypt({ name: "AES-GCM", iv }, aes, sealed.subarray(12)),
  );
}

/** The raw steps of encrypting for one P-256 recipient: what `Bottle.encrypt` is made of. */
async function rawEncrypt(): Promise<Record<"eph" | "key" | "body", Uint8Array<ArrayBuffer>>> {
  const cek = crypto.getRandomValues(new Uint8Array(32));
  const pair = await crypto.subtle.generateKey(ECDH, true, ["deriveBits"]) as CryptoKeyPair;
  const shared = await crypto.subtle.deriveBits(
    { name: "ECDH", public: bobEcdhPublic },
    pair.privateKey,
    256,
  );
  const eph = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const wrap = new Uint8Array(await crypto.subtle.digest("SHA-256", shared));
  return { eph, key: await sealGcm(wrap, cek), body: await sealGcm(cek, MESSAGE) };
}

// The inputs of the open group, made once
const raw = await rawEncrypt();
const rawSignature = new Uint8Array(await crypto.subtle.sign(SIGN, aliceSign, raw.body));
const sealedBottle = (await (await new Bottle(MESSAGE).encrypt(bob.publicKey)).sign(alice))
  .encode();

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`The bench's ${what} did not come out right`);
}

Deno.bench("WebCrypto ECDSA P-256 sign", { group: "sign", baseline: true }, async () => {
  await crypto.subtle.sign(SIGN, aliceSign, MESSAGE);
});

Deno.bench("Bottle sign + encode", { group: "sign" }, async () => {
  (await new Bottle(MESSAGE).sign(alice)).encode();
});

Deno.bench(
  "WebCrypto ECDH P-256 + SHA-256 + 2 AES-GCM",
  { group: "encrypt", baseline: true },
  async () => {
    await rawEncrypt();
  },
);

Deno.bench("Bottle encrypt for one P-256 key + encode", { group: "encrypt" }, async () => {
  (await new Bottle(MESSAGE).encrypt(bob.publicKey)).encode();
});

Deno.bench(
  "WebCrypto ECDSA verify + ECDH + SHA-256 + 2 AES-GCM",
  { group: "open", baseline: true },
  async () => {
    check(await crypto.subtle.verify(SIGN, aliceVerify, rawSignature, raw.body), "signature");
    const eph = await crypto.subtle.importKey("spki", raw.eph, ECDH, false, []);
    const shared = await crypto.subtle.deriveBits(
      { name: "ECDH", public: eph },
      bobEcdhPrivate,
      256,
    );
    const wrap = new Uint8Array(await crypto.subtle.digest("SHA-256", shared));
    const plain = await openGcm(await openGcm(wrap, raw.key), raw.body);
    check(plain.length === MESSAGE.length, "raw decryption");
  },
);

Deno.bench("openBottle (signed, encrypted for the opener)", { group: "open" }, async () => {
  const opened = await openBottle(sealedBottle, { keys: [bob] });
  check(opened.decryptions === 1 && opened.signers.length === 1, "opened bottle");
});

// Round trips through the package's relay, beside a bare WebSocket echo, all served in this
// process on 127.0.0.1: the relay's rate limits are lifted so the bench is not throttled
const PAYLOAD = new Uint8Array(64).map((_, i) => i);
const UNLIMITED = Number.MAX_SAFE_INTEGER;
const server = createServer({
  spot: { messageBurst: UNLIMITED, messagesPerSecond: UNLIMITED },
});
const relay = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
const relayUrl = `ws://127.0.0.1:${relay.addr.port}/_websocket`;
const echo = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => socket.send(event.data);
  return response;
});

/** A WebSocket whose binary messages are awaited one at a time, those failing `keep` dropped. */
async function openSocket(url: string, keep: (bytes: Uint8Array) => boolean) {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  let waiting: ((bytes: Uint8Array) => void) | undefined;
  socket.onmessage = (event) => {
    const bytes = new Uint8Array(event.data as ArrayBuffer);
    if (keep(bytes) && waiting !== undefined) waiting(bytes);
  };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  return {
    socket,
    roundTrip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
      const answer = new Promise<Uint8Array>((resolve) => waiting = resolve);
      socket.send(bytes);
      return answer;
    },
  };
}

const echoSocket = await openSocket(`ws://127.0.0.1:${echo.addr.port}/`, () => true);
// A Spot ping packet (first byte 0: version 0, type ping), which the relay echoes as it is;
// the relay's handshake request, which comes first, is dropped
const pingPacket = new Uint8Array([0, ...PAYLOAD]);
const pingSocket = await openSocket(relayUrl, (bytes) => bytes[0] === 0);
const asker = new SpotClient({ url: relayUrl, timeoutMs: 10_000 });
const answerer = new SpotClient({ url: relayUrl, timeoutMs: 10_000 });
answerer.setHandler("echo", (message) => message.body);
await Promise.all([asker.waitOnline(), answerer.waitOnline()]);
const echoTarget = `${answerer.address}/echo`;

Deno.bench("WebSocket echo on Deno.serve (64 bytes)", {
  group: "relay",
  baseline: true,
}, async () => {
  check((await echoSocket.roundTrip(PAYLOAD)).length === PAYLOAD.length, "echo");
});

Deno.bench("Spot ping packet through the relay (64 bytes)", { group: "relay" }, async () => {
  check((await pingSocket.roundTrip(pingPacket)).length === pingPacket.length, "pong");
});

Deno.bench("SpotClient getTime() (@/time, signed request)", { group: "relay" }, async () => {
  check((await asker.getTime()).seconds > 0, "time");
});

Deno.bench(
  "SpotClient query to another SpotClient (64 bytes, encrypted both ways)",
  { group: "relay" },
  async () => {
    check((await asker.query(echoTarget, PAYLOAD)).length === PAYLOAD.length, "query answer");
  },
);

Deno.bench(
  "the bottles of one query, without the relay (seal, open, seal, open)",
  { group: "relay" },
  async () => {
    const asked = (await (await new Bottle(PAYLOAD).encrypt(bob.publicKey)).sign(alice)).encode();
    const question = await openBottle(asked, { keys: [bob] });
    const answered = (await (await new Bottle(question.message).encrypt(alice.publicKey)).sign(bob))
      .encode();
    const answer = await openBottle(answered, { keys: [alice] });
    check(answer.message.length === PAYLOAD.length && answer.decryptions === 1, "bottles");
  },
);

// Nothing else runs after the benches: close everything so the process can end
globalThis.addEventListener("unload", () => {
  asker.close();
  answerer.close();
  echoSocket.socket.close();
  pingSocket.socket.close();
});
