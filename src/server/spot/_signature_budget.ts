/**
 * How many signatures the relay verifies for one bottle a client sends (a
 * handshake's ID card, a request to an `@/` endpoint). Each signature costs
 * a verification, and a 1 MiB packet can carry thousands of copies of one:
 * the relay counts them on the decoded layers first, without any crypto,
 * and refuses a bottle past the budget instead of verifying them.
 *
 * @module
 */

import { Bottle, DEFAULT_MAX_DEPTH } from "../../spot/bottle/mod.ts";

/** The most signatures, over all the layers it can see, of a bottle the relay opens. */
export const MAX_VERIFIED_SIGNATURES = 8;

/**
 * Whether a bottle carries at most {@linkcode MAX_VERIFIED_SIGNATURES}
 * signatures over the layers readable without a key (an encrypted layer's
 * inside is not counted: the relay cannot open it anyway).
 *
 * @param bytes The bottle's CBOR.
 * @returns Whether it is within the budget; a bottle that does not decode is (opening it fails alike).
 * @throws Never.
 *
 * @example
 * ```ts
 * import { withinSignatureBudget } from "./_signature_budget.ts";
 * import { Bottle } from "../../spot/bottle/mod.ts";
 *
 * console.log(withinSignatureBudget(new Bottle("hi").encode())); // true
 * ```
 */
export function withinSignatureBudget(bytes: Uint8Array): boolean {
  let count = 0;
  try {
    let bottle = Bottle.decode(bytes);
    for (let layer = 0; layer < DEFAULT_MAX_DEPTH; layer++) {
      count += bottle.signatures.length;
      if (count > MAX_VERIFIED_SIGNATURES) return false;
      if (bottle.format === 1) bottle = Bottle.decode(bottle.message);
      else if (bottle.format === 3) bottle = Bottle.decodeJson(bottle.message);
      else return true;
    }
  } catch {
    // Not a bottle: openBottle reports it as it always did
  }
  return true;
}
