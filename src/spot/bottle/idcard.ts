/**
 * {@linkcode IDCard}: a primary key with purpose-bound subkeys, group
 * memberships and metadata (draft section 4), self-signed in a bottle
 * (`ct: "idcard"`, bottled up, signed by the primary key), and the `k.<hash>`
 * address Spot routes to.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";
import { InvalidArgumentError } from "../../core/errors.ts";
import { type PrivateKey, PublicKey, verify } from "../crypto/mod.ts";
import { Bottle } from "./bottle.ts";
import {
  decodeCardCbor,
  decodeIDCardFields,
  encodeIDCardFields,
  type IDCardFields,
  type Membership,
  readMembership,
  type SubKey,
  writeMembership,
} from "./_idcard_codec.ts";
import { encodeCbor } from "./_cbor.ts";
import { IDCardError } from "./errors.ts";
import { openBottle } from "./open.ts";

export type { Membership, SubKey };

/** Options of {@linkcode IDCard.create} and of the card operations that stamp a time. */
export interface IDCardOptions {
  /**
   * The clock, in milliseconds since the epoch.
   *
   * @default Date.now
   */
  now?: () => number;
}

function pkixOf(key: PrivateKey | PublicKey | Uint8Array): Uint8Array {
  if (key instanceof Uint8Array) return key;
  if (key instanceof PublicKey) return key.pkix;
  return key.publicKey.pkix;
}

function sameBytes(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The Spot address of a primary key: `k.` and the unpadded base64url SHA-256
 * of its PKIX bytes.
 *
 * @param self The card's primary PKIX public key.
 * @returns The address, such as `k.8uWq…`.
 * @throws Never.
 * @example
 * ```ts
 * import { idcardAddress } from "./idcard.ts";
 *
 * console.log(idcardAddress(new Uint8Array(0))); // "k.47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
 * ```
 */
export function idcardAddress(self: Uint8Array): string {
  return "k." + base64urlnopad.encode(sha256(self));
}

/**
 * An identity: a primary key, subkeys with purposes, group memberships and
 * metadata. Load a signed card with {@linkcode IDCard.load}, make one with
 * {@linkcode IDCard.create}, and sign it with its primary key.
 *
 * @example Create, sign and load a card
 * ```ts
 * import { IDCard } from "./idcard.ts";
 * import { PrivateKey } from "../crypto/mod.ts";
 *
 * const key = await PrivateKey.generate("p256");
 * const card = IDCard.create(key);
 * card.meta.name = "Alice";
 * const loaded = await IDCard.load(await card.sign(key));
 * console.log(loaded.meta.name, loaded.address === card.address); // "Alice" true
 * ```
 */
export class IDCard {
  /** The primary PKIX public key. */
  readonly self: Uint8Array;
  /** When the card was issued. */
  issued: Date;
  /** The keys of the card with their purposes; the primary key is one of them. */
  subKeys: SubKey[];
  /** Keys that must never be used again. */
  revoke: SubKey[];
  /** The groups the card belongs to. */
  groups: Membership[];
  /** Free text metadata, such as `name`. */
  meta: Record<string, string>;
  /** The signed bytes the card was loaded from or last signed to, if any. */
  signed: Uint8Array | undefined;

  private constructor(fields: IDCardFields) {
    this.self = fields.self;
    this.issued = fields.issued;
    this.subKeys = fields.subKeys;
    this.revoke = fields.revoke;
    this.groups = fields.groups;
    this.meta = fields.meta;
  }

  /** The card's Spot address, `k.` and the base64url SHA-256 of its primary key. */
  get address(): string {
    return idcardAddress(this.self);
  }

  /**
   * Creates a card for a primary key, which becomes a subkey with the "sign" purpose.
   *
   * @param key The primary key, private or public.
   * @param options The clock.
   * @returns The new, unsigned card.
   * @throws {InvalidArgumentError} When the key is not a key.
   */
  static create(key: PrivateKey | PublicKey, options: IDCardOptions = {}): IDCard {
    if (!(key instanceof PublicKey) && !(key?.publicKey instanceof PublicKey)) {
      throw new InvalidArgumentError(
        "key",
        "Cannot create IDCard as 'key' must be a PrivateKey or a PublicKey",
      );
    }
    const self = pkixOf(key);
    const now = new Date((options.now ?? Date.now)());
    return new IDCard({
      self,
      issued: now,
      subKeys: [{ key: self, issued: now, purposes: ["sign"] }],
      revoke: [],
      groups: [],
      meta: Object.create(null),
    });
  }

  /**
   * Reads an unsigned card from its CBOR (the message inside the signed bottle).
   *
   * @param bytes The card's CBOR.
   * @returns The card, not verified.
   * @throws {IDCardError} When the bytes are not an IDCard.
   */
  static decode(bytes: Uint8Array): IDCard {
    return new IDCard(decodeIDCardFields(bytes));
  }

  /**
   * Loads a signed card: opens the bottle verifying every signature, checks
   * the content type and that one signature is by the card's primary key.
   *
   * @param signed The signed card bytes, as {@linkcode IDCard.sign} or Go write them.
   * @returns The verified card.
   * @throws {IDCardError} When the card is malformed or not signed by its primary key.
   * @throws {BottleFormatError} When the bytes are not a bottle.
   * @throws {BottleSignatureError} When a signature does not verify.
   */
  static async load(signed: Uint8Array): Promise<IDCard> {
    const opened = await openBottle(signed);
    const type = opened.header.ct;
    if (type !== undefined && type !== "idcard") {
      throw new IDCardError(
        "wrong_content_type",
        `Cannot load IDCard as its bottle holds content of type ${JSON.stringify(type)}`,
      );
    }
    const card = IDCard.decode(opened.message);
    if (!opened.signers.some((signer) => sameBytes(signer.publicKey, card.self))) {
      throw new IDCardError(
        "not_self_signed",
        `Cannot load IDCard ${card.address} as none of its ${opened.signers.length} signatures is by its primary key`,
      );
    }
    card.signed = signed;
    return card;
  }

  /**
   * Encodes the card's CBOR as Go does (not signed).
   *
   * @returns The CBOR bytes.
   * @throws Never.
   */
  encode(): Uint8Array {
    return encodeIDCardFields(this);
  }

  /**
   * Signs the card with its primary key: the card's CBOR in a bottle with the
   * header `ct: "idcard"`, bottled up, signed.
   *
   * @param key The primary private key.
   * @returns The signed card bytes, also kept as `signed`.
   * @throws {IDCardError} When the key is not the card's primary key.
   * @throws {SpotKeyError} When the key cannot sign.
   */
  async sign(key: PrivateKey): Promise<Uint8Array> {
    if (!key?.publicKey?.equals(this.self)) {
      throw new IDCardError(
        "wrong_key",
        "Cannot sign IDCard with a key that is not its primary key",
      );
    }
    const bottle = new Bottle(this.encode(), { header: { ct: "idcard" } }).bottleUp();
    await bottle.sign(key);
    this.signed = bottle.encode();
    return this.signed;
  }

  /**
   * Finds the subkey for a key.
   *
   * @param key The key or its PKIX bytes.
   * @returns The subkey, or `undefined`.
   * @throws Never.
   */
  findKey(key: PrivateKey | PublicKey | Uint8Array): SubKey | undefined {
    const pkix = pkixOf(key);
    return this.subKeys.find((subKey) => sameBytes(subKey.key, pkix));
  }

  /**
   * Adds purposes to a key, adding the key as a subkey when the card lacks
   * it. Purposes are kept sorted, as Go keeps them.
   *
   * @param key The key or its PKIX bytes.
   * @param purposes Purposes such as "sign" and "decrypt".
   * @param options The clock for a new subkey's issue time, and an expiry.
   * @returns The subkey.
   * @throws Never.
   */
  addKeyPurpose(
    key: PrivateKey | PublicKey | Uint8Array,
    purposes: readonly string[],
    options: IDCardOptions & { expires?: Date } = {},
  ): SubKey {
    let subKey = this.findKey(key);
    if (subKey === undefined) {
      subKey = { key: pkixOf(key), issued: new Date((options.now ?? Date.now)()), purposes: [] };
      this.subKeys.push(subKey);
    }
    for (const purpose of purposes) {
      if (!subKey.purposes.includes(purpose)) subKey.purposes.push(purpose);
    }
    subKey.purposes.sort();
    if (options.expires !== undefined) subKey.expires = options.expires;
    return subKey;
  }

  /**
   * Whether a key is an unexpired, unrevoked subkey with a purpose.
   *
   * @param key The key or its PKIX bytes.
   * @param purpose The purpose, such as "sign".
   * @param now The time to judge expiry at, in milliseconds.
   * @returns Whether the key may be used for it.
   * @throws Never.
   */
  hasPurpose(
    key: PrivateKey | PublicKey | Uint8Array,
    purpose: string,
    now: number = Date.now(),
  ): boolean {
    const pkix = pkixOf(key);
    return this.getKeys(purpose, now).some((candidate) => sameBytes(candidate, pkix));
  }

  /**
   * The PKIX keys with a purpose, leaving out expired and revoked ones:
   * encrypting to the card uses its "decrypt" keys.
   *
   * @param purpose The purpose.
   * @param now The time to judge expiry at, in milliseconds.
   * @returns The keys.
   * @throws Never.
   */
  getKeys(purpose: string, now: number = Date.now()): Uint8Array[] {
    return this.subKeys
      .filter((subKey) =>
        subKey.purposes.includes(purpose) &&
        (subKey.expires === undefined || subKey.expires.getTime() > now) &&
        !this.revoke.some((revoked) => sameBytes(revoked.key, subKey.key))
      )
      .map((subKey) => subKey.key);
  }

  /**
   * Applies group memberships announced for this card (a Spot relay sends
   * them in its handshake): each must name this card as subject and be
   * signed by the group key; a valid one is added or replaces the one of the
   * same group, any other status removes the group. Re-sign the card after.
   *
   * @param memberships The CBOR of each membership.
   * @returns How many memberships changed the card.
   * @throws {IDCardError} When a membership is malformed or its signature does not verify.
   */
  async updateGroups(memberships: readonly Uint8Array[]): Promise<number> {
    let changed = 0;
    for (const [index, data] of memberships.entries()) {
      const what = `membership ${index}`;
      const membership = readMembership(decodeCardCbor(data, what), what);
      if (!sameBytes(membership.subject, this.self)) continue;
      if (!sameBytes(membership.signKey, membership.key) || membership.signature === null) {
        throw new IDCardError(
          "invalid_structure",
          `Cannot update IDCard groups as ${what} is not signed by its group key`,
        );
      }
      const signed = encodeCbor(writeMembership(membership, null));
      const valid = await verify(membership.key, signed, membership.signature).catch((error) => {
        throw new IDCardError(
          "invalid_structure",
          `Cannot update IDCard groups as the group key of ${what} cannot verify: ${error.message}`,
          { cause: error },
        );
      });
      if (!valid) {
        throw new IDCardError(
          "invalid_structure",
          `Cannot update IDCard groups as the signature of ${what} does not verify`,
        );
      }
      const at = this.groups.findIndex((group) => sameBytes(group.key, membership.key));
      if (membership.status !== "valid") {
        if (at >= 0) this.groups.splice(at, 1);
      } else {
        membership.subject = null;
        if (at >= 0) this.groups[at] = membership;
        else this.groups.push(membership);
      }
      changed++;
    }
    return changed;
  }

  /**
   * Whether one of this card's memberships holds: its status is "valid" and
   * the group key signed it with this card as its subject. A card is signed
   * by its own key only, so it can list any group: whoever acts on its groups
   * (a relay answering `@/group_list`) checks each with this first.
   *
   * @param membership A membership of this card, as in `groups`.
   * @returns Whether it is valid and signed by its group key.
   * @throws Never: a membership that cannot verify is not valid.
   * @example
   * ```ts
   * import { IDCard } from "./idcard.ts";
   * import { PrivateKey } from "../crypto/mod.ts";
   *
   * const key = await PrivateKey.generate("p256");
   * const card = IDCard.create(key);
   * card.groups.push({
   *   subject: null, key: key.publicKey.pkix, status: "valid", issued: new Date(0),
   *   info: null, signKey: key.publicKey.pkix, signature: new Uint8Array(64),
   * });
   * console.log(await card.verifyGroup(card.groups[0])); // false
   * ```
   */
  async verifyGroup(membership: Membership): Promise<boolean> {
    if (
      membership.status !== "valid" || membership.signature === null ||
      !sameBytes(membership.signKey, membership.key)
    ) return false;
    try {
      const signed = encodeCbor(writeMembership({ ...membership, subject: this.self }, null));
      return await verify(membership.key, signed, membership.signature);
    } catch {
      return false;
    }
  }
}
