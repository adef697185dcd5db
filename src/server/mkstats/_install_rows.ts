/**
 * How the SQLite and D1 stores (D1 is SQLite) write an install: the upsert
 * of its `installs` row and the insert of its token, each with the values
 * for its `?`s in the columns' order, so the two stores cannot drift apart
 * in what a row holds.
 *
 * @module
 */

import type { InstallRecord } from "./store.ts";

/** Adds or refreshes an install; its values are those of {@linkcode installValues}. */
export const UPSERT_INSTALL =
  `INSERT INTO installs (plugin_id, user_hash, version, device_fingerprint,
    client_name, client_version, first_seen, last_seen)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (plugin_id, user_hash) DO UPDATE SET
    version = excluded.version,
    device_fingerprint = excluded.device_fingerprint,
    client_name = excluded.client_name,
    client_version = excluded.client_version,
    last_seen = excluded.last_seen`;

/** Stores an install's token; its values are those of {@linkcode tokenValues}. */
export const INSERT_TOKEN =
  "INSERT OR REPLACE INTO install_tokens (token_hash, plugin_id, user_hash, expires_at) VALUES (?, ?, ?, ?)";

/**
 * The values of {@linkcode UPSERT_INSTALL} for one install: first and last
 * seen are both its `now` (an update keeps the first).
 *
 * @param install The install.
 * @returns Its eight values.
 * @throws Never.
 * @example
 * ```ts
 * import { installValues } from "./_install_rows.ts";
 *
 * const values = installValues({
 *   pluginId: "p", userHash: "a".repeat(64), version: "1.0.0", deviceFingerprint: "b".repeat(64),
 *   clientName: "exteraGram", clientVersion: "12.3.1", tokenHash: "c".repeat(64),
 *   tokenExpiresAt: 2000, now: 1000,
 * });
 * console.log(values.length); // 8
 * ```
 */
export function installValues(install: InstallRecord): (string | number)[] {
  return [
    install.pluginId,
    install.userHash,
    install.version,
    install.deviceFingerprint,
    install.clientName,
    install.clientVersion,
    install.now,
    install.now,
  ];
}

/**
 * The values of {@linkcode INSERT_TOKEN} for one install.
 *
 * @param install The install.
 * @returns Its token's hash, plugin, user and expiry.
 * @throws Never.
 * @example
 * ```ts
 * import { tokenValues } from "./_install_rows.ts";
 *
 * const values = tokenValues({
 *   pluginId: "p", userHash: "a".repeat(64), version: "1.0.0", deviceFingerprint: "b".repeat(64),
 *   clientName: "exteraGram", clientVersion: "12.3.1", tokenHash: "c".repeat(64),
 *   tokenExpiresAt: 2000, now: 1000,
 * });
 * console.log(values[3]); // 2000
 * ```
 */
export function tokenValues(install: InstallRecord): (string | number)[] {
  return [install.tokenHash, install.pluginId, install.userHash, install.tokenExpiresAt];
}
