/**
 * Bottles and IDCards (draft-karpeles-bottle-idcard-01) as the Go
 * implementation writes them: {@linkcode Bottle} to build, sign, encrypt,
 * nest and encode messages, {@linkcode openBottle} to verify and decrypt
 * them, and {@linkcode IDCard} for signed identities and their `k.` address.
 * Internal for now: the `spot` entry point will re-export it.
 *
 * @example Sign, encrypt and open
 * ```ts
 * import { Bottle, IDCard, openBottle } from "./mod.ts";
 * import { PrivateKey } from "../crypto/mod.ts";
 *
 * const alice = await PrivateKey.generate("p256");
 * const bob = await PrivateKey.generate("x25519");
 * const bobCard = IDCard.create(await PrivateKey.generate("ed25519"));
 * bobCard.addKeyPurpose(bob.publicKey, ["decrypt"]);
 * const bottle = await (await new Bottle("hello").sign(alice)).encrypt(bobCard);
 * const opened = await openBottle(bottle.encode(), { keys: [bob] });
 * console.log(opened.signers.length, opened.decryptions); // 1 1
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./bottle.ts";
export * from "./open.ts";
export * from "./idcard.ts";
