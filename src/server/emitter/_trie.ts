/**
 * The subscription trie with the real Emitter broker's matching rules: a
 * subscription is a path of words (the contract, then one murmur hash per
 * channel segment) and matches every message whose words start with it (a
 * subscriber at `a/` gets `a/b/`); the word of `+` matches any one segment;
 * `#` is only a word (it never matches, as in the real broker, since `a/`
 * already covers `a/#/`). Share groups (`$share/<group>/` after the contract)
 * add one random member of each group per message. Internal.
 *
 * Lookups allocate nothing: they append to a caller's array and tell repeats
 * apart with a stamp on each subscriber, a new one per walk of the trie.
 *
 * @module
 */

import { murmur32String } from "../../emitter/security/murmur.ts";

/** The word of the `+` segment. */
export const WILDCARD_WORD: number = murmur32String("+");
/** The word of the `$share` segment, which starts a share group. */
export const SHARE_WORD: number = murmur32String("$share");

/** What the trie holds: a connection, with the stamp lookups use. */
export interface TrieSubscriber {
  /** The last walk of the trie that collected this subscriber. */
  mark: number;
}

interface TrieNode<S> {
  readonly word: number;
  readonly parent: TrieNode<S> | undefined;
  readonly children: Map<number, TrieNode<S>>;
  subs: Set<S> | undefined;
}

/** Past this stamp every mark is cleared and stamps start again at 1. */
const MAX_STAMP = 0x3fff_ffff;

function clearMarks<S extends TrieSubscriber>(node: TrieNode<S>): void {
  if (node.subs !== undefined) { for (const sub of node.subs) sub.mark = 0; }
  for (const child of node.children.values()) clearMarks(child);
}

function newNode<S>(word: number, parent: TrieNode<S> | undefined): TrieNode<S> {
  return { word, parent, children: new Map(), subs: undefined };
}

/**
 * A subscription trie over subscribers of type `S`.
 *
 * @example
 * ```ts
 * import { SubscriptionTrie } from "./_trie.ts";
 *
 * const trie = new SubscriptionTrie<{ mark: number }>();
 * const sub = { mark: 0 };
 * trie.subscribe([1, 2], sub);
 * console.log(trie.lookup([1, 2, 3], [], undefined, Math.random).length); // 1
 * ```
 */
export class SubscriptionTrie<S extends TrieSubscriber> {
  readonly #root: TrieNode<S> = newNode(0, undefined);
  #count = 0;
  #stamp = 0;
  readonly #group: S[] = [];
  readonly #picks: S[] = [];

  /** How many (path, subscriber) pairs the trie holds. */
  get size(): number {
    return this.#count;
  }

  /**
   * Adds a subscriber at a path; nothing when it is there already.
   *
   * @param ssid The words.
   * @param sub The subscriber.
   * @returns Whether it was added.
   */
  subscribe(ssid: readonly number[], sub: S): boolean {
    let node = this.#root;
    for (const word of ssid) {
      let child = node.children.get(word);
      if (child === undefined) {
        child = newNode(word, node);
        node.children.set(word, child);
      }
      node = child;
    }
    node.subs ??= new Set();
    if (node.subs.has(sub)) return false;
    node.subs.add(sub);
    this.#count++;
    return true;
  }

  /**
   * Removes a subscriber from a path, and the nodes left empty.
   *
   * @param ssid The words.
   * @param sub The subscriber.
   * @returns Whether it was there.
   */
  unsubscribe(ssid: readonly number[], sub: S): boolean {
    let node = this.#root;
    for (const word of ssid) {
      const child = node.children.get(word);
      if (child === undefined) return false;
      node = child;
    }
    if (node.subs === undefined || !node.subs.delete(sub)) return false;
    this.#count--;
    if (node.subs.size === 0) node.subs = undefined;
    while (node.parent !== undefined && node.subs === undefined && node.children.size === 0) {
      node.parent.children.delete(node.word);
      node = node.parent;
    }
    return true;
  }

  /**
   * Collects every subscriber a message on `ssid` goes to: each matching
   * subscriber once, then one random matching member of each share group of
   * the contract unless it is collected already.
   *
   * @param ssid The message's words: the contract, then one per segment.
   * @param out Where to append the subscribers.
   * @param exclude A subscriber never collected (the sender under `me=0`).
   * @param random A number in `[0, 1)` for the group picks.
   * @returns `out`.
   */
  lookup(ssid: readonly number[], out: S[], exclude: S | undefined, random: () => number): S[] {
    if (ssid.length === 0) return out;
    // The share groups are walked first, each with a stamp of its own, so the
    // subscribers' one stamp is free for the plain walk that follows
    const shares = this.#root.children.get(ssid[0])?.children.get(SHARE_WORD);
    const picks = this.#picks;
    if (shares !== undefined) {
      const group = this.#group;
      for (const node of shares.children.values()) {
        this.#collect(node, ssid, 1, this.#nextStamp(), group, exclude);
        if (group.length === 0) continue;
        picks.push(group[Math.min(group.length - 1, Math.floor(random() * group.length))]);
        group.length = 0;
      }
    }
    const stamp = this.#nextStamp();
    this.#collect(this.#root, ssid, 0, stamp, out, exclude);
    if (picks.length > 0) {
      for (let i = 0; i < picks.length; i++) {
        const pick = picks[i];
        if (pick.mark !== stamp) {
          pick.mark = stamp;
          out.push(pick);
        }
      }
      picks.length = 0;
    }
    return out;
  }

  /** A stamp no subscriber holds; kept a small integer, which V8 compares fastest. */
  #nextStamp(): number {
    if (this.#stamp < MAX_STAMP) return ++this.#stamp;
    clearMarks(this.#root);
    this.#stamp = 1;
    return 1;
  }

  #collect(
    node: TrieNode<S>,
    ssid: readonly number[],
    index: number,
    stamp: number,
    out: S[],
    exclude: S | undefined,
  ): void {
    if (node.subs !== undefined) {
      for (const sub of node.subs) {
        if (sub.mark !== stamp && sub !== exclude) {
          sub.mark = stamp;
          out.push(sub);
        }
      }
    }
    if (index === ssid.length) return;
    const exact = node.children.get(ssid[index]);
    if (exact !== undefined) this.#collect(exact, ssid, index + 1, stamp, out, exclude);
    const wild = node.children.get(WILDCARD_WORD);
    if (wild !== undefined && wild !== exact) {
      this.#collect(wild, ssid, index + 1, stamp, out, exclude);
    }
  }
}
