/**
 * Key generation (`emitter/keygen/` and the `/keygen` form) as a pure
 * function with the real broker's checks and statuses. A master (secret) key
 * makes a key for any channel of its contract; a key with the extend
 * permission makes a key for a private channel, `<channel><connection id>/`
 * (plus `#/` when asked), with at most its own rights and never extend again.
 *
 * @module
 */

import { readGoJson } from "./_go_json.ts";
import { authorize, type SecurityContext } from "./authorize.ts";
import { makeChannel } from "./channel.ts";
import { validateContract } from "./contract.ts";
import { EMITTER_STATUS, type EmitterStatus } from "./errors.ts";
import { KEY_TARGET_ERRORS, SecurityKey } from "./key.ts";
import type { RandomBytes } from "./license.ts";
import { parsePermissions, PERMISSION } from "./permissions.ts";

/** A keygen request, as sent to `emitter/keygen/`. */
export interface KeygenRequest {
  /** The master key, or a key with the extend permission. */
  readonly key: string;
  /** The target: `a/b/`, `a/+/c/` or `a/#/`. */
  readonly channel: string;
  /** The rights, letters of `rwslpex`. */
  readonly type: string;
  /** Seconds until the key expires; 0 for never. */
  readonly ttl: number;
}

/** The outcome of a keygen request: the new key and its channel, or the broker's refusal. */
export type KeygenResult =
  | { readonly ok: true; readonly key: string; readonly channel: string }
  | { readonly ok: false; readonly error: EmitterStatus };

/** What keygen needs beyond the authorization context. */
export interface KeygenContext extends SecurityContext {
  /** The id of the connection asking, which names private channels. */
  readonly connectionId: string;
  /**
   * The source of random bytes for the key's salt.
   *
   * @default crypto.getRandomValues
   */
  readonly random?: RandomBytes;
}

/**
 * Reads a keygen request body as the broker does.
 *
 * @param body The JSON payload.
 * @returns The request (missing fields empty or 0), or `undefined` when the body is not one.
 * @throws Never.
 * @example
 * ```ts
 * import { readKeygenRequest } from "./keygen.ts";
 *
 * console.log(readKeygenRequest('{"key":"k","channel":"a/","type":"rw","ttl":0}')?.type); // "rw"
 * ```
 */
export function readKeygenRequest(body: string | Uint8Array): KeygenRequest | undefined {
  return readGoJson(body, { key: "string", channel: "string", type: "string", ttl: "int32" });
}

const fail = (error: EmitterStatus): KeygenResult => ({ ok: false, error });

function expiresAt(context: KeygenContext, ttl: number): number {
  return ttl === 0 ? 0 : Math.floor((context.now ?? Date.now)() / 1000) + ttl;
}

function createKey(context: KeygenContext, request: KeygenRequest): KeygenResult {
  const master = context.cipher.decryptKey(request.key);
  if (master === undefined || !master.isMaster || master.isExpired((context.now ?? Date.now)())) {
    return fail(EMITTER_STATUS.unauthorized);
  }
  const contract = context.contracts.get(master.contract);
  if (contract === undefined) return fail(EMITTER_STATUS.notFound);
  if (!validateContract(contract, master)) return fail(EMITTER_STATUS.unauthorized);
  const salt = (context.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n))))(2);
  const key = new SecurityKey();
  key.salt = ((salt[0] << 8) | salt[1]) % 32767;
  key.master = master.master;
  key.contract = master.contract;
  key.signature = master.signature;
  key.permissions = parsePermissions(request.type) & ~PERMISSION.master;
  key.expires = expiresAt(context, request.ttl);
  const problem = key.setTarget(request.channel);
  if (problem !== undefined) return fail(EMITTER_STATUS[problem]);
  return { ok: true, key: context.cipher.encryptKey(key), channel: request.channel };
}

function extendKey(context: KeygenContext, request: KeygenRequest): KeygenResult {
  let name = request.channel;
  const suffix = name.endsWith("#/") ? "#/" : "";
  if (suffix) name = name.slice(0, -2);
  const channel = makeChannel(request.key, name);
  if (channel.type !== "static") return fail(EMITTER_STATUS.badRequest);
  const granted = authorize(context, channel, PERMISSION.extend);
  if (granted === undefined) return fail(EMITTER_STATUS.unauthorized);
  const key = granted.key;
  key.setPermission(PERMISSION.extend, false);
  key.permissions &= parsePermissions(request.type);
  key.expires = expiresAt(context, request.ttl);
  const target = `${channel.channel}${context.connectionId}/${suffix}`;
  const problem = key.setTarget(target);
  // The broker passes the key package's own text through, with status 500.
  if (problem !== undefined) return fail({ status: 500, message: KEY_TARGET_ERRORS[problem] });
  return { ok: true, key: context.cipher.encryptKey(key), channel: target };
}

/**
 * Answers a keygen request as the broker does: 401 for a key that does not
 * decrypt, has expired, or is neither master nor extendable; 404 for an
 * unknown contract; 400 for a channel that cannot be a target (with the
 * broker's target messages) or a private channel that is not static.
 *
 * @param context The cipher, contracts, bans, clock, randomness and connection id.
 * @param request The request, from {@linkcode readKeygenRequest}.
 * @returns The new key and its channel, or the status to answer with.
 * @throws Never.
 * @example
 * ```ts
 * import { XteaCipher } from "./cipher.ts";
 * import { singleContractProvider } from "./contract.ts";
 * import { keygen } from "./keygen.ts";
 *
 * const result = keygen({
 *   cipher: XteaCipher.fromText("zT83oDV0DWY5_JysbSTPTA"),
 *   contracts: singleContractProvider({ contract: 989603869, signature: 0 }),
 *   connectionId: "ID",
 * }, { key: "kBCZch5re3Ue-kpG1Aa8Vo7BYvXZ3UwR", channel: "a/b/", type: "rw", ttl: 0 });
 * console.log(result.ok); // true
 * ```
 */
export function keygen(context: KeygenContext, request: KeygenRequest): KeygenResult {
  const parent = context.cipher.decryptKey(request.key);
  if (parent === undefined || parent.isExpired((context.now ?? Date.now)())) {
    return fail(EMITTER_STATUS.unauthorized);
  }
  if (parent.isMaster) return createKey(context, request);
  if (parent.hasPermission(PERMISSION.extend)) return extendKey(context, request);
  return fail(EMITTER_STATUS.unauthorized);
}
