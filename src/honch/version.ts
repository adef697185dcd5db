/**
 * The version of the Honch SDK behaviour this client implements, sent with
 * every batch as `$sdk_version`.
 *
 * @module
 */

/**
 * The SDK behaviour version sent as `$sdk_version`.
 *
 * @example
 * ```ts
 * import { HONCH_SDK_VERSION } from "@edgewire/sdk/honch";
 *
 * console.log(HONCH_SDK_VERSION); // "0.1.0"
 * ```
 */
export const HONCH_SDK_VERSION = "0.1.0";
