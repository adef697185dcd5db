/**
 * Emitter's security model as the real broker has it: topic parsing and
 * limits, the 24-byte key and its permissions, the XTEA, Salsa and Shuffle key
 * ciphers, licenses v1 to v3, contracts, the authorization check and key
 * generation. The broker and the client build on these; keys and licenses from
 * a real Emitter deployment work unchanged.
 *
 * @example Generate a license and a key for a channel
 * ```ts
 * import { keygen, newLicense, parseChannel, singleContractProvider } from "./mod.ts";
 *
 * const { license, secret } = newLicense();
 * const result = keygen({
 *   cipher: license.cipher(),
 *   contracts: singleContractProvider(license),
 *   connectionId: "conn-1",
 * }, { key: secret, channel: "chat/", type: "rw", ttl: 0 });
 * if (result.ok) console.log(parseChannel(`${result.key}/chat/`).type); // "static"
 * ```
 *
 * @module
 */

export {
  EdgewireError,
  type EdgewireErrorOptions,
  InvalidArgumentError,
} from "../../core/errors.ts";
export { authorize, type Authorized, type SecurityContext } from "./authorize.ts";
export {
  CHANNEL_TIME_RANGE,
  type ChannelOption,
  channelSafeString,
  channelString,
  type ChannelType,
  channelWindow,
  type EmitterChannel,
  excludesSender,
  integerOption,
  makeChannel,
  parseChannel,
} from "./channel.ts";
export { type KeyCipher, SalsaCipher, ShuffleCipher, XteaCipher } from "./cipher.ts";
export {
  type ContractProvider,
  type EmitterContract,
  singleContractProvider,
  validateContract,
} from "./contract.ts";
export { EMITTER_STATUS, EmitterError, type EmitterStatus } from "./errors.ts";
export { KEY_TARGET_ERRORS, KEY_TIME_OFFSET, MAX_TARGET_PARTS, SecurityKey } from "./key.ts";
export {
  keygen,
  type KeygenContext,
  type KeygenRequest,
  type KeygenResult,
  readKeygenRequest,
} from "./keygen.ts";
export {
  type EmitterLicense,
  LicenseV1,
  LicenseV2,
  newLicense,
  newMasterKey,
  parseLicense,
  type RandomBytes,
} from "./license.ts";
export { murmur32, murmur32String } from "./murmur.ts";
export { formatPermissions, parsePermissions, PERMISSION } from "./permissions.ts";
