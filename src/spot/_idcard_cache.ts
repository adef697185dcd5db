/**
 * A bounded cache of IDCards by `k.` address: the least recently used card
 * goes first when it is full. `idcard_update` notifications replace cards.
 * The directory above it fetches each missing card once, however many wait.
 *
 * @module
 */

import { IDCard } from "./bottle/mod.ts";
import { SpotMessageError } from "./errors.ts";
import { invalidArgument } from "../core/validate.ts";
import { KEY_HASH_BYTES, keyTarget, parseAddress } from "./proto/mod.ts";

/** The IDCards a client knows, at most `max` of them. */
export class IDCardCache {
  readonly #max: number;
  readonly #cards = new Map<string, IDCard>();

  /**
   * Creates an empty cache.
   *
   * @param max The most cards kept.
   * @throws Never.
   *
   * @example
   * ```ts
   * import { IDCardCache } from "./_idcard_cache.ts";
   *
   * console.log(new IDCardCache(4).size); // 0
   * ```
   */
  constructor(max: number) {
    this.#max = max;
  }

  /** How many cards are kept. */
  get size(): number {
    return this.#cards.size;
  }

  /**
   * The card of an address, marked as just used.
   *
   * @param address The `k.<hash>` address.
   * @returns The card, or `undefined`.
   */
  get(address: string): IDCard | undefined {
    const card = this.#cards.get(address);
    if (card !== undefined) {
      this.#cards.delete(address);
      this.#cards.set(address, card);
    }
    return card;
  }

  /**
   * Keeps a card under its own address, replacing an older one.
   *
   * @param card The verified card.
   * @returns Whether it replaced a card.
   */
  set(card: IDCard): boolean {
    const address = card.address;
    const replaced = this.#cards.delete(address);
    this.#cards.set(address, card);
    while (this.#cards.size > this.#max) {
      this.#cards.delete(this.#cards.keys().next().value!);
    }
    return replaced;
  }

  /**
   * Forgets a card, so the next use fetches it again.
   *
   * @param address The `k.<hash>` address.
   * @returns Nothing.
   */
  delete(address: string): void {
    this.#cards.delete(address);
  }
}

/**
 * Loads the IDCard the relay answered for an address, checking it is
 * self-signed and the card of that address.
 *
 * @param signed The signed card bytes.
 * @param address The `k.<hash>` address asked for.
 * @returns The verified card.
 * @throws {SpotMessageError} With code `invalid_answer` when it does not load or is another card.
 *
 * @example
 * ```ts
 * import { loadAnsweredCard } from "./_idcard_cache.ts";
 * import { IDCard } from "./bottle/mod.ts";
 * import { PrivateKey } from "./crypto/mod.ts";
 *
 * const key = await PrivateKey.generate("p256");
 * const card = IDCard.create(key);
 * console.log((await loadAnsweredCard(await card.sign(key), card.address)).address === card.address); // true
 * ```
 */
export async function loadAnsweredCard(signed: Uint8Array, address: string): Promise<IDCard> {
  let card: IDCard;
  try {
    card = await IDCard.load(signed);
  } catch (cause) {
    throw new SpotMessageError(
      "invalid_answer",
      `Cannot use the IDCard the relay answered for ${address} as it does not load: ${
        (cause as Error).message
      }`,
      { cause },
    );
  }
  if (card.address !== address) {
    throw new SpotMessageError(
      "invalid_answer",
      `Cannot use the IDCard the relay answered for ${address} as it is the card of ${card.address}`,
    );
  }
  return card;
}

/**
 * The key hash a `getIDCard` target names.
 *
 * @param target A `k.<hash>[/endpoint]` or `k.<srv>.<hash>/...` address, or the 32-byte hash.
 * @returns The 32-byte hash.
 * @throws {InvalidArgumentError} When the target is neither.
 *
 * @example
 * ```ts
 * import { keyHashOf } from "./_idcard_cache.ts";
 *
 * console.log(keyHashOf(`k.${"A".repeat(43)}/ping`).length); // 32
 * ```
 */
export function keyHashOf(target: string | Uint8Array): Uint8Array {
  if (target instanceof Uint8Array && target.length === KEY_HASH_BYTES) return target;
  try {
    const text = String(target);
    const parsed = parseAddress(text.includes("/") ? text : `${text}/`);
    if (parsed.kind === "key") return parsed.hash;
  } catch {
    // Reported below with the house wording
  }
  throw invalidArgument("get IDCard", "target", "a k.<hash> address or a 32-byte hash", target);
}

/**
 * The client's IDCards: the bounded cache, and one `@/idcard_find` at a
 * time per card however many callers wait for it. The shared fetch is
 * bounded by the client's deadline, never by one caller's signal, so a
 * caller who gives up fails alone.
 */
export class IDCardDirectory {
  /** The cards known. */
  readonly cache: IDCardCache;
  readonly #fetches = new Map<string, Promise<IDCard>>();
  readonly #ask: (hash: Uint8Array) => Promise<Uint8Array>;

  /**
   * Creates the directory.
   *
   * @param max The most cards kept.
   * @param ask Asks the relay for the signed card of a key hash.
   * @throws Never.
   *
   * @example
   * ```ts
   * import { IDCardDirectory } from "./_idcard_cache.ts";
   *
   * const directory = new IDCardDirectory(4, () => Promise.reject(new Error("offline")));
   * console.log(directory.cache.size); // 0
   * ```
   */
  constructor(max: number, ask: (hash: Uint8Array) => Promise<Uint8Array>) {
    this.cache = new IDCardCache(max);
    this.#ask = ask;
  }

  /**
   * The verified card of a key, cached or fetched.
   *
   * @param hash The key's 32-byte hash.
   * @returns The card.
   * @throws {SpotMessageError} When the relay answers another card or one that does not load.
   */
  find(hash: Uint8Array): Promise<IDCard> {
    const address = keyTarget(hash);
    const cached = this.cache.get(address);
    if (cached !== undefined) return Promise.resolve(cached);
    const inFlight = this.#fetches.get(address);
    if (inFlight !== undefined) return inFlight;
    const fetching = (async () => {
      const card = await loadAnsweredCard(await this.#ask(hash), address);
      this.cache.set(card);
      return card;
    })().finally(() => this.#fetches.delete(address));
    // Every caller may have given up before it settles
    fetching.catch(() => {});
    this.#fetches.set(address, fetching);
    return fetching;
  }
}
