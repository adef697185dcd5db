/**
 * A bounded cache of IDCards by `k.` address: the least recently used card
 * goes first when it is full. `idcard_update` notifications replace cards.
 *
 * @module
 */

import { IDCard } from "./bottle/mod.ts";
import { SpotMessageError } from "./errors.ts";
import { invalidArgument } from "../core/validate.ts";
import { KEY_HASH_BYTES, parseAddress } from "./proto/mod.ts";

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
