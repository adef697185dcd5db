/**
 * The client's identity: its private key (given, kept in storage as PKCS#8
 * PEM, or ephemeral), its IDCard with the key for signing and decrypting
 * (and "ephemeral" when it is), the signed card it sends in the handshake,
 * re-signed when the relay announces groups, and the handshake response.
 *
 * @module
 */

import { getOrCreate } from "../core/storage/keyed.ts";
import { IDCard } from "./bottle/mod.ts";
import { PrivateKey, sign } from "./crypto/mod.ts";
import type { DecodedHandshakeRequest, HandshakeResponse } from "./proto/mod.ts";
import type { ResolvedSpotOptions } from "./_resolve_options.ts";

/** A loaded identity. */
export class SpotIdentity {
  /** The signing (and decrypting) key. */
  readonly key: PrivateKey;
  /** The client's IDCard. */
  readonly card: IDCard;
  /** Whether the key lives only as long as the client. */
  readonly ephemeral: boolean;
  #signed: Uint8Array;

  private constructor(key: PrivateKey, card: IDCard, signed: Uint8Array, ephemeral: boolean) {
    this.key = key;
    this.card = card;
    this.#signed = signed;
    this.ephemeral = ephemeral;
  }

  /**
   * Loads or makes the key, then makes and signs the card.
   *
   * @param o The client options.
   * @returns The identity.
   * @throws {StorageError} When the storage fails.
   * @throws {SpotKeyError} When the stored key does not import.
   *
   * @example
   * ```ts
   * import { SpotIdentity } from "./_identity.ts";
   * import { resolveSpotOptions } from "./_resolve_options.ts";
   *
   * const identity = await SpotIdentity.load(resolveSpotOptions({ url: "ws://127.0.0.1:1/" }));
   * console.log(identity.ephemeral, identity.card.address.startsWith("k.")); // true true
   * ```
   */
  static async load(o: ResolvedSpotOptions): Promise<SpotIdentity> {
    let key = o.key;
    let ephemeral = false;
    if (key === undefined && o.storage !== undefined) {
      const pem = await getOrCreate(
        o.storage,
        o.storageKey,
        async () => (await PrivateKey.generate("p256")).toPem(),
        { accept: (value) => value.includes("PRIVATE KEY") },
      );
      key = await PrivateKey.fromPem(pem);
    }
    if (key === undefined) {
      key = await PrivateKey.generate("p256");
      ephemeral = true;
    }
    const card = IDCard.create(key, { now: o.now });
    Object.assign(card.meta, o.meta);
    const purposes = ["sign", "decrypt"];
    card.addKeyPurpose(key, ephemeral ? [...purposes, "ephemeral"] : purposes, { now: o.now });
    const signed = await card.sign(key);
    return new SpotIdentity(key, card, signed, ephemeral);
  }

  /** The `k.<hash>` address of the card. */
  get address(): string {
    return this.card.address;
  }

  /** The signed card bytes, as the handshake and `finger` send them. */
  get signed(): Uint8Array {
    return this.#signed;
  }

  /**
   * Applies the groups a handshake request announces and re-signs the card.
   *
   * @param groups The membership CBOR of each group.
   * @returns Nothing.
   * @throws {IDCardError} When a membership is malformed or mis-signed.
   *
   * @example
   * ```ts
   * import { SpotIdentity } from "./_identity.ts";
   * import { resolveSpotOptions } from "./_resolve_options.ts";
   *
   * const identity = await SpotIdentity.load(resolveSpotOptions({ url: "ws://127.0.0.1:1/" }));
   * await identity.applyGroups([]);
   * ```
   */
  async applyGroups(groups: readonly Uint8Array[]): Promise<void> {
    if ((await this.card.updateGroups(groups)) > 0) {
      this.#signed = await this.card.sign(this.key);
    }
  }

  /**
   * Answers a handshake request: the signed card, the public key, and the
   * signature over the request's exact CBOR bytes.
   *
   * @param request The decoded request.
   * @returns The response.
   * @throws {SpotKeyError} When the key cannot sign.
   *
   * @example
   * ```ts
   * import { SpotIdentity } from "./_identity.ts";
   * import { resolveSpotOptions } from "./_resolve_options.ts";
   *
   * const identity = await SpotIdentity.load(resolveSpotOptions({ url: "ws://127.0.0.1:1/" }));
   * const raw = new Uint8Array([0xa0]);
   * const response = await identity.respond({ ready: false, serverCode: "", clientId: "", nonce: null, groups: null, raw });
   * console.log(response.sig !== null); // true
   * ```
   */
  async respond(request: DecodedHandshakeRequest): Promise<HandshakeResponse> {
    if (request.groups !== null) {
      // As spotlib: memberships that do not apply leave the card as it is, the answer still goes
      await this.applyGroups(request.groups).catch(() => {});
    }
    return {
      id: this.#signed,
      key: this.key.publicKey.pkix,
      sig: await sign(this.key, request.raw),
    };
  }
}
