/**
 * The broker's one authorization check, used by publish, subscribe, presence,
 * history, links and private keys: the topic is valid, its key is not banned,
 * decrypts and has not expired, its contract honours it, it holds the right
 * asked for, and its target covers the channel.
 *
 * @module
 */

import type { EmitterChannel } from "./channel.ts";
import type { KeyCipher } from "./cipher.ts";
import { type ContractProvider, type EmitterContract, validateContract } from "./contract.ts";
import type { SecurityKey } from "./key.ts";

/** What the authorization check needs from the broker. */
export interface SecurityContext {
  /** The license's key cipher. */
  readonly cipher: KeyCipher;
  /** The contracts keys may belong to. */
  readonly contracts: ContractProvider;
  /**
   * Whether a key text is banned (keyban).
   *
   * @default () => false
   */
  readonly isBanned?: (key: string) => boolean;
  /**
   * The current time in milliseconds, for key expiry.
   *
   * @default Date.now
   */
  readonly now?: () => number;
}

/** A key that passed the check, with its contract. */
export interface Authorized {
  /** The contract the key belongs to. */
  readonly contract: EmitterContract;
  /** The decrypted key. */
  readonly key: SecurityKey;
}

/**
 * Checks that a channel's key allows an operation on it, as the broker does.
 *
 * @param context The cipher, contracts, bans and clock.
 * @param channel The parsed topic, whose `key` is the key text.
 * @param permission The rights needed, `PERMISSION` bits.
 * @returns The key and contract, or `undefined` when refused (the broker then answers 401).
 * @throws Never.
 * @example
 * ```ts
 * import { authorize } from "./authorize.ts";
 * import { parseChannel } from "./channel.ts";
 * import { ShuffleCipher } from "./cipher.ts";
 * import { singleContractProvider } from "./contract.ts";
 *
 * const context = {
 *   cipher: new ShuffleCipher(new Uint8Array(32), new Uint8Array(16)),
 *   contracts: singleContractProvider({ contract: 123, signature: 777 }),
 * };
 * console.log(authorize(context, parseChannel("A-dOBQDuXhqoFz-GZZdbpSFCtzmFl7Ng/a/b/c/"), 2)); // undefined: expired
 * ```
 */
export function authorize(
  context: SecurityContext,
  channel: EmitterChannel,
  permission: number,
): Authorized | undefined {
  if (channel.type === "invalid") return undefined;
  if (context.isBanned?.(channel.key)) return undefined;
  const key = context.cipher.decryptKey(channel.key);
  if (key === undefined || key.isExpired((context.now ?? Date.now)())) return undefined;
  const contract = context.contracts.get(key.contract);
  if (
    contract === undefined || !validateContract(contract, key) ||
    !key.hasPermission(permission) || !key.validateChannel(channel)
  ) {
    return undefined;
  }
  return { contract, key };
}
