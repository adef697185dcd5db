/**
 * Contracts: who a key belongs to. A key is honoured only when its contract
 * is known and allowed and the key carries that contract's master id and
 * signature. The broker started from one license serves one contract, master
 * id 1, as the real broker's single-contract provider does.
 *
 * @module
 */

import type { SecurityKey } from "./key.ts";

/** One contract as the broker checks keys against it. */
export interface EmitterContract {
  /** The contract id (a key's bytes 4-7). */
  readonly id: number;
  /** The master key id keys must carry. */
  readonly master: number;
  /** The signature keys must carry. */
  readonly signature: number;
  /** Whether the contract may be used at all. */
  readonly allowed: boolean;
}

/** Finds contracts by id. */
export interface ContractProvider {
  /**
   * Finds a contract.
   *
   * @param id The contract id from a key.
   * @returns The contract, or `undefined` when there is none with that id.
   */
  get(id: number): EmitterContract | undefined;
}

/**
 * The provider of a broker started from one license: one allowed contract,
 * master id 1.
 *
 * @param license The license's contract id and signature.
 * @returns A provider that knows only that contract.
 * @throws Never.
 * @example
 * ```ts
 * import { singleContractProvider } from "./contract.ts";
 *
 * const provider = singleContractProvider({ contract: 42, signature: 7 });
 * console.log(provider.get(42)?.master, provider.get(43)); // 1 undefined
 * ```
 */
export function singleContractProvider(
  license: { readonly contract: number; readonly signature: number },
): ContractProvider {
  const owner: EmitterContract = Object.freeze({
    id: license.contract,
    master: 1,
    signature: license.signature,
    allowed: true,
  });
  return { get: (id) => (id === owner.id ? owner : undefined) };
}

/**
 * Whether a key belongs to a contract: same id, master id and signature, and
 * the contract allowed.
 *
 * @param contract The contract.
 * @param key The decrypted key.
 * @returns `true` when the contract honours the key.
 * @throws Never.
 * @example
 * ```ts
 * import { validateContract } from "./contract.ts";
 * import { SecurityKey } from "./key.ts";
 *
 * const key = new SecurityKey();
 * key.master = 1;
 * console.log(validateContract({ id: 0, master: 1, signature: 0, allowed: true }, key)); // true
 * ```
 */
export function validateContract(contract: EmitterContract, key: SecurityKey): boolean {
  return contract.allowed && contract.id === key.contract && contract.master === key.master &&
    contract.signature === key.signature;
}
