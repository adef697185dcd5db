/**
 * Spot: end-to-end encrypted messages between keys through a relay,
 * compatible with KarpelesLab's spotlib, pyspotlib and gobottle, from Deno,
 * Bun, Node 22, browsers and Workers. {@linkcode SpotClient} holds a key and
 * its signed {@linkcode IDCard}, connects to a relay over the standard
 * `WebSocket` (an explicit `url`, or discovery from `endpoint`), and sends
 * queries to `k.<hash>/<endpoint>` addresses that only the holder of the key
 * can read, answers them with handlers, keeps encrypted blobs on the relay
 * and reads its clock. Underneath, {@linkcode Bottle} builds, signs, encrypts
 * and nests messages (draft-karpeles-bottle-idcard-01), {@linkcode openBottle}
 * verifies and decrypts them, and {@linkcode PrivateKey} /
 * {@linkcode PublicKey} hold keys of every type a bottle uses, in the DER and
 * PEM forms the Go and Python clients write. WebCrypto does the work;
 * `@noble/curves` stands in for Ed25519 and X25519 where a runtime lacks them.
 *
 * @example Ask another key a question through a relay
 * ```ts
 * import { SpotClient } from "@edgewire/sdk/spot";
 *
 * const url = "ws://127.0.0.1:8080/_websocket"; // the relay of `@edgewire/sdk/server`
 * const alice = new SpotClient({ url });
 * const bob = new SpotClient({ url });
 * bob.setHandler("greet", (message) => `hello, ${new TextDecoder().decode(message.body)}`);
 * await Promise.all([alice.waitOnline(), bob.waitOnline()]);
 *
 * // Encrypted for bob's IDCard and signed by alice's key; the relay sees neither text
 * const answer = await alice.query(`${bob.address}/greet`, "alice");
 * console.log(new TextDecoder().decode(answer)); // "hello, alice"
 * alice.close();
 * bob.close();
 * ```
 *
 * @example Sign and encrypt for a card, then open
 * ```ts
 * import { Bottle, IDCard, openBottle, PrivateKey } from "@edgewire/sdk/spot";
 *
 * const alice = await PrivateKey.generate("p256");
 * const bob = await PrivateKey.generate("p256");
 * const bobCard = IDCard.create(bob);
 * bobCard.addKeyPurpose(bob.publicKey, ["decrypt"]);
 *
 * const bottle = await (await new Bottle("hello bob").sign(alice)).encrypt(bobCard);
 * const opened = await openBottle(bottle.encode(), { keys: [bob] });
 * console.log(new TextDecoder().decode(opened.message)); // "hello bob"
 * console.log(opened.decryptions, opened.signers[0].publicKey.length > 0); // 1 true
 * console.log(bobCard.address.startsWith("k.")); // true
 * ```
 *
 * @module
 */

// Timeouts, aborts, lost connections and bad arguments are the core's classes, shared by every client
export {
  AbortedError,
  EdgewireError,
  type EdgewireErrorOptions,
  InvalidArgumentError,
  NetworkError,
  TimeoutError,
} from "../core/errors.ts";
// The types the client's options name, so this entry point documents on its own
export type { BackoffOption } from "../core/_backoff_option.ts";
export type { Jitter } from "../core/backoff.ts";
export type { Storage } from "../core/storage.ts";
// The client: queries between keys through a relay, handlers, blobs, packet connections
export { SpotClient } from "./client.ts";
export type {
  SpotClientOptions,
  SpotConnectionCount,
  SpotHandler,
  SpotIncomingMessage,
  SpotQueryOptions,
  SpotSendOptions,
  SpotWaitOptions,
} from "./options.ts";
export {
  type SpotClientState,
  SpotClientStateError,
  SpotMessageError,
  type SpotMessageProblem,
  SpotRemoteError,
} from "./errors.ts";
export { type SpotPacket, SpotPacketConn, type SpotReadOptions } from "./packet_conn.ts";
// Bottles and IDCards
export {
  Bottle,
  type BottleFormat,
  BottleFormats,
  type BottleOptions,
  type EncryptionTarget,
  type KeyHolder,
  type MessageRecipient,
  type MessageSignature,
  type RandomSource,
} from "./bottle/bottle.ts";
export {
  type BottleSigner,
  DEFAULT_MAX_DEPTH,
  openBottle,
  type OpenBottleOptions,
  type OpenedBottle,
} from "./bottle/open.ts";
export {
  IDCard,
  idcardAddress,
  type IDCardOptions,
  type Membership,
  type SubKey,
} from "./bottle/idcard.ts";
export {
  BottleDecryptionError,
  type BottleDecryptionProblem,
  BottleFormatError,
  type BottleProblem,
  BottleSignatureError,
  IDCardError,
  type IDCardProblem,
} from "./bottle/errors.ts";
// Keys and signatures
export {
  type Backend,
  type CryptoBackends,
  cryptoBackends,
  type EcdsaHash,
  type GenerateKeyOptions,
  type KeyType,
  PrivateKey,
  PublicKey,
  sign,
  type SignatureOptions,
  SpotKeyError,
  verify,
} from "./crypto/mod.ts";
// Addresses, and the error of bytes that are not Spot protocol
export {
  formatAddress,
  KEY_HASH_BYTES,
  keyTarget,
  parseAddress,
  type SpotAddress,
} from "./proto/address.ts";
export { SpotProtocolError, type SpotProtocolProblem } from "./proto/errors.ts";
export type { SpotTime } from "./proto/system_answers.ts";
