/**
 * The relay's side of the Spot handshake: the challenge it sends (a random
 * `rnd`, its `srv`, the connection's `cid`, and group memberships to add),
 * and the check of a client's answer: the signature over the exact request
 * bytes by the answer's key, the signed ID card loaded with its own
 * signature verified, and the key a "sign" key of that card. The client's
 * address is derived from the card, never taken from the client, and only
 * the groups whose memberships the group key signed count.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { PublicKey, verify } from "../../spot/crypto/mod.ts";
import { IDCard } from "../../spot/bottle/mod.ts";
import { withinSignatureBudget } from "./_signature_budget.ts";
import {
  encodePacket,
  type HandshakeResponse,
  handshakeSignedBytes,
  keyTarget,
} from "../../spot/proto/mod.ts";

/** The bytes of the challenge's nonce. */
export const CHALLENGE_NONCE_BYTES = 32;

/** The most group memberships of one card the relay checks; those past it are ignored. */
export const MAX_CHECKED_GROUPS = 64;

/** One challenge sent: the whole packet, whose body the client signs. */
export interface Challenge {
  /** The packet as sent (first byte 0x01, then the request CBOR). */
  readonly packet: Uint8Array;
}

/** A client whose answer checked out. */
export interface VerifiedPeer {
  /** The loaded, verified card. */
  readonly card: IDCard;
  /** The SHA-256 of the card's primary key. */
  readonly hash: Uint8Array;
  /** `k.<hash>`. */
  readonly address: string;
  /** The card's signed bytes, as the client sent them. */
  readonly signed: Uint8Array;
  /** The keys of the groups whose membership is valid and signed by the group key. */
  readonly groups: readonly Uint8Array[];
}

/** The outcome of {@linkcode verifyAnswer}: the peer, or why it was refused. */
export type AnswerCheck = { ok: true; peer: VerifiedPeer } | { ok: false; reason: string };

/**
 * Builds a challenge packet.
 *
 * @param serverCode The relay's code (`srv`).
 * @param clientId The connection's id (`cid`).
 * @param groups Memberships for the client to add to its card, or `null`.
 * @returns The challenge.
 */
export function makeChallenge(
  serverCode: string,
  clientId: string,
  groups: Uint8Array[] | null,
): Challenge {
  const nonce = crypto.getRandomValues(new Uint8Array(CHALLENGE_NONCE_BYTES));
  return {
    packet: encodePacket({
      type: "handshake_request",
      request: { ready: false, serverCode, clientId, nonce, groups },
    }),
  };
}

/**
 * Builds the final `rdy` packet that ends the handshake.
 *
 * @param serverCode The relay's code.
 * @param clientId The connection's id.
 * @returns The packet.
 */
export function readyPacket(serverCode: string, clientId: string): Uint8Array {
  return encodePacket({
    type: "handshake_request",
    request: { ready: true, serverCode, clientId, nonce: null, groups: null },
  });
}

/**
 * Checks a client's answer to a challenge. Never throws: every failure is a reason.
 *
 * @param challenge The challenge the answer is to.
 * @param answer The decoded answer.
 * @returns The verified peer, or the reason it was refused (no key material in it).
 */
export async function verifyAnswer(
  challenge: Challenge,
  answer: HandshakeResponse,
): Promise<AnswerCheck> {
  if (answer.id === null || answer.key === null || answer.sig === null) {
    return { ok: false, reason: "handshake answer lacks id, key or sig" };
  }
  if (!withinSignatureBudget(answer.id)) {
    return { ok: false, reason: "handshake ID card has too many signatures" };
  }
  let key: PublicKey;
  try {
    key = PublicKey.fromPkix(answer.key);
  } catch {
    return { ok: false, reason: "handshake key is not a PKIX public key" };
  }
  let valid = false;
  try {
    valid = await verify(key, handshakeSignedBytes(challenge.packet), answer.sig);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: "handshake signature does not verify" };
  let card: IDCard;
  try {
    card = await IDCard.load(answer.id);
  } catch {
    return { ok: false, reason: "handshake ID card does not load or verify" };
  }
  if (!card.hasPurpose(key, "sign")) {
    return { ok: false, reason: "handshake key is not a sign key of the ID card" };
  }
  // The card is signed by its holder alone: a group it lists counts only when the group signed it
  const groups: Uint8Array[] = [];
  for (const membership of card.groups.slice(0, MAX_CHECKED_GROUPS)) {
    if (await card.verifyGroup(membership)) groups.push(membership.key);
  }
  const hash = sha256(card.self);
  return {
    ok: true,
    peer: { card, hash, address: keyTarget(hash), signed: answer.id.slice(), groups },
  };
}
