/**
 * Who an mkStats install is: the user hash and device fingerprint, derived
 * from a device id the caller gives or one generated once and kept in
 * storage, and the fields every request carries.
 *
 * @module
 */

import { getOrCreate } from "../core/storage/keyed.ts";
import { generateDeviceFingerprint, generateUserHash } from "./identity.ts";
import type { MkStatsSettings } from "./_settings.ts";

/** The two hashes the server knows an install by. */
export interface InstallIdentity {
  userHash: string;
  deviceFingerprint: string;
}

const DEVICE_KEY = "device_id";

/**
 * Resolves the install's identity, reading or creating the device id only
 * when the caller did not give both hashes.
 *
 * @param settings The client's settings.
 * @returns The hashes; never rejects, even when storage fails.
 */
export async function resolveIdentity(settings: MkStatsSettings): Promise<InstallIdentity> {
  const { userHash, deviceFingerprint } = settings;
  if (userHash !== undefined && deviceFingerprint !== undefined) {
    return { userHash, deviceFingerprint };
  }
  // The original plugin keeps a random uuid4 hex per device; so do we. A storage
  // that fails leaves an id for this process only, rather than no client at all
  const make = () => crypto.randomUUID().replaceAll("-", "");
  const deviceId = settings.deviceId ??
    await getOrCreate(settings.storage, settings.prefix + DEVICE_KEY, make).catch(make);
  return {
    userHash: userHash ?? generateUserHash(deviceId, settings.pluginId),
    deviceFingerprint: deviceFingerprint ?? generateDeviceFingerprint(deviceId),
  };
}

/**
 * The fields every mkStats request carries.
 *
 * @param settings The client's settings.
 * @param identity The install's hashes.
 * @returns `plugin_id`, `version`, `client_name`, `client_version`, `user_hash`, `device_fingerprint`.
 */
export function commonFields(
  settings: MkStatsSettings,
  identity: InstallIdentity,
): Record<string, string> {
  return {
    plugin_id: settings.pluginId,
    version: settings.pluginVersion,
    client_name: settings.clientName,
    client_version: settings.clientVersion,
    user_hash: identity.userHash,
    device_fingerprint: identity.deviceFingerprint,
  };
}
