/**
 * The identity helpers of the original mkStats client: the user hash that
 * names an install, the device fingerprint, and the client-name lookup.
 * They hash synchronously so a plugin can compute them at import time.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { detectRuntime } from "../core/runtime/mod.ts";

/**
 * The user hash of one device for one plugin:
 * `hex(sha256(deviceId + ":" + pluginId + ":mkstats:v1"))`.
 *
 * @param deviceId A stable, private identifier of the device.
 * @param pluginId The plugin the hash is for.
 * @returns 64 lowercase hex characters.
 *
 * @example
 * ```ts
 * import { generateUserHash } from "@edgewire/sdk/mkstats";
 *
 * console.log(generateUserHash("stable-device-id", "my_plugin").slice(0, 8)); // "2f67a85a"
 * ```
 */
export function generateUserHash(deviceId: string, pluginId: string): string {
  return bytesToHex(sha256(utf8ToBytes(`${deviceId}:${pluginId}:mkstats:v1`)));
}

/**
 * The device fingerprint: `hex(sha256(deviceId + ":mkstats:device:v1"))`.
 *
 * @param deviceId A stable, private identifier of the device.
 * @returns 64 lowercase hex characters.
 *
 * @example
 * ```ts
 * import { generateDeviceFingerprint } from "@edgewire/sdk/mkstats";
 *
 * console.log(generateDeviceFingerprint("stable-device-id").slice(0, 8)); // "e4018239"
 * ```
 */
export function generateDeviceFingerprint(deviceId: string): string {
  return bytesToHex(sha256(utf8ToBytes(`${deviceId}:mkstats:device:v1`)));
}

const KNOWN_CLIENTS: Readonly<Record<string, string>> = {
  "com.exteragram.messenger": "exteraGram",
  "com.radolyn.ayugram": "AyuGram",
};

/**
 * The `client_name` to report. Given an app package name it answers as the
 * original does (`exteraGram`, `AyuGram`, else `unknown`); without one it
 * names the JavaScript runtime, which is what identifies the host here.
 *
 * @param packageName The host application's package name, when there is one.
 * @returns The client name.
 *
 * @example
 * ```ts
 * import { getClientName } from "@edgewire/sdk/mkstats";
 *
 * console.log(getClientName("com.exteragram.messenger")); // "exteraGram"
 * console.log(getClientName()); // "deno" under Deno
 * ```
 */
export function getClientName(packageName?: string): string {
  if (packageName !== undefined) return KNOWN_CLIENTS[packageName] ?? "unknown";
  return detectRuntime().name;
}
