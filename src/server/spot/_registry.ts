/**
 * The relay's ID cards: the signed card of every client that finished the
 * handshake, for `@/idcard_find`; who follows which card, for
 * `idcard_update` notifications; which cards list which group, for
 * `@/group_list`; and the group memberships waiting to be offered to a
 * client in its next handshake. Bounded: past `maxCards` the card seen
 * longest ago whose holder is offline is forgotten.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad, hex } from "@scure/base";
import type { VerifiedPeer } from "./_handshake.ts";

/** Someone told when a card changes. */
export interface CardFollower {
  /**
   * Called with the new signed card.
   *
   * @param signed The card's signed bytes.
   */
  cardUpdated(signed: Uint8Array): void;
}

interface Entry {
  readonly signed: Uint8Array;
  readonly hash: Uint8Array;
  readonly groups: readonly string[];
}

/** The most memberships kept for one card until its next handshake. */
const MAX_PENDING_PER_CARD = 16;

/** The ID card registry of one relay. */
export class CardRegistry {
  readonly #cards = new Map<string, Entry>();
  readonly #groups = new Map<string, Set<string>>();
  readonly #followers = new Map<string, Set<CardFollower>>();
  readonly #pending = new Map<string, Uint8Array[]>();
  readonly #maxCards: number;
  readonly #online: (address: string) => boolean;

  /**
   * @param maxCards The most cards kept.
   * @param online Whether a card's holder is connected (never forgotten then).
   */
  constructor(maxCards: number, online: (address: string) => boolean) {
    this.#maxCards = maxCards;
    this.#online = online;
  }

  /** How many cards are kept. */
  get size(): number {
    return this.#cards.size;
  }

  /**
   * Finds a card by the SHA-256 of its primary key.
   *
   * @param hash 32 bytes.
   * @returns The signed card, or `undefined`.
   */
  find(hash: Uint8Array): Uint8Array | undefined {
    return this.#cards.get(addressOf(hash))?.signed;
  }

  /**
   * Keeps a verified card, replacing the one of the same key.
   *
   * @param peer The verified peer (here or, with a backplane, on another process).
   * @returns The followers to notify when the card's bytes changed, else none.
   */
  put(peer: Pick<VerifiedPeer, "address" | "signed" | "hash" | "groups">): CardFollower[] {
    const previous = this.#cards.get(peer.address);
    if (previous !== undefined) this.#remove(peer.address, previous);
    const groups = peer.groups.map((key) => hex.encode(sha256(key)));
    const entry: Entry = { signed: peer.signed, hash: peer.hash, groups };
    this.#cards.set(peer.address, entry);
    for (const group of groups) {
      let members = this.#groups.get(group);
      if (members === undefined) this.#groups.set(group, members = new Set());
      members.add(peer.address);
    }
    this.#evict();
    if (previous === undefined || sameBytes(previous.signed, peer.signed)) return [];
    return [...(this.#followers.get(peer.address) ?? [])];
  }

  /**
   * The hashes of the cards that list a group.
   *
   * @param group The group's key (PKIX), or the 32-byte SHA-256 of it.
   * @param max The most hashes returned.
   * @returns The members' key hashes.
   */
  members(group: Uint8Array, max: number): Uint8Array[] {
    let members = this.#groups.get(hex.encode(sha256(group)));
    if (members === undefined && group.length === 32) members = this.#groups.get(hex.encode(group));
    const hashes: Uint8Array[] = [];
    for (const address of members ?? []) {
      const entry = this.#cards.get(address);
      if (entry !== undefined) hashes.push(entry.hash);
      if (hashes.length >= max) break;
    }
    return hashes;
  }

  /**
   * The addresses of the cards that list a group, by the group's hash.
   *
   * @param hash The SHA-256 of the group's key, as in `g.<hash>`.
   * @returns The members' `k.` addresses.
   */
  groupAddresses(hash: Uint8Array): string[] {
    return [...(this.#groups.get(hex.encode(hash)) ?? [])];
  }

  /**
   * Follows a card for updates.
   *
   * @param hash The card's key hash.
   * @param follower Who is told.
   */
  follow(hash: Uint8Array, follower: CardFollower): void {
    const address = addressOf(hash);
    let set = this.#followers.get(address);
    if (set === undefined) this.#followers.set(address, set = new Set());
    set.add(follower);
  }

  /**
   * Stops following cards.
   *
   * @param hashes The cards' key hashes.
   * @param follower Who followed them.
   */
  unfollow(hashes: Iterable<Uint8Array>, follower: CardFollower): void {
    for (const hash of hashes) {
      const address = addressOf(hash);
      const set = this.#followers.get(address);
      set?.delete(follower);
      if (set?.size === 0) this.#followers.delete(address);
    }
  }

  /**
   * Keeps group memberships to offer a card's holder in its next handshake.
   *
   * @param address The card's `k.` address.
   * @param memberships The memberships' CBOR, signed by their group keys.
   */
  offerGroups(address: string, memberships: readonly Uint8Array[]): void {
    const list = [...(this.#pending.get(address) ?? []), ...memberships.map((m) => m.slice())];
    this.#pending.set(address, list.slice(-MAX_PENDING_PER_CARD));
  }

  /**
   * Takes the memberships waiting for a card.
   *
   * @param address The card's `k.` address.
   * @returns The memberships, or `null` when none wait.
   */
  takeGroups(address: string): Uint8Array[] | null {
    const list = this.#pending.get(address);
    this.#pending.delete(address);
    return list === undefined || list.length === 0 ? null : list;
  }

  #remove(address: string, entry: Entry): void {
    this.#cards.delete(address);
    for (const group of entry.groups) {
      const members = this.#groups.get(group);
      members?.delete(address);
      if (members?.size === 0) this.#groups.delete(group);
    }
  }

  #evict(): void {
    if (this.#cards.size <= this.#maxCards) return;
    // A Map iterates in insertion order, and put() re-inserts: the first entries were seen longest ago.
    for (const [address, entry] of this.#cards) {
      if (this.#cards.size <= this.#maxCards) return;
      if (!this.#online(address)) this.#remove(address, entry);
    }
  }
}

function addressOf(hash: Uint8Array): string {
  return "k." + base64urlnopad.encode(hash);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
