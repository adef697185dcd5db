/**
 * Shared fixtures of the {@linkcode ServerStore} contract: the store under
 * test, the signature of a contract test, and builders of the installs,
 * uploads, breadcrumbs, events and idempotency claims the behaviours write.
 *
 * @module
 */

import type {
  HonchUploadKey,
  IdempotencyClaim,
  InstallRecord,
  ServerStore,
} from "../../src/server/mod.ts";
import type { MigasBreadcrumbRecord } from "../../src/server/mod.ts";

/** A store under test, and how to restart and remove it. */
export interface StoreFixture {
  /** The open store. */
  store: ServerStore;
  /** Closes the store and opens it again over the same data; absent when nothing is kept. */
  reopen?: () => Promise<ServerStore>;
  /** Removes whatever the store left behind; the store is closed by then. */
  dispose(): Promise<void>;
}

/** Registers one contract test that runs `body` against a fresh store. */
export type ContractTest = (title: string, body: (fixture: StoreFixture) => Promise<void>) => void;

export const USER = "a".repeat(64);
export const PROJECT_HASH = "f".repeat(64);
export const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

export function install(
  tokenHash: string,
  now: number,
  tokenExpiresAt = now + 1000,
): InstallRecord {
  return {
    pluginId: "p",
    userHash: USER,
    version: "1.0.0",
    deviceFingerprint: "b".repeat(64),
    clientName: "exteraGram",
    clientVersion: "12.3.1",
    tokenHash,
    tokenExpiresAt,
    now,
  };
}

export function upload(messageId: number, streamId = "s"): HonchUploadKey {
  return { projectKeyHash: PROJECT_HASH, streamId, sourceType: 0, messageId };
}

export function crumb(
  userId: string | undefined,
  timestamp: number,
  project = "acme/tool",
): MigasBreadcrumbRecord {
  return {
    project,
    projectVersion: "1.0.0",
    language: "python",
    languageVersion: "3.12",
    timestamp,
    sessionId: undefined,
    userId,
    userType: "general",
    platform: "linux",
    container: "unknown",
    isCi: false,
    status: "R",
    statusDesc: undefined,
    errorType: undefined,
    errorDesc: undefined,
  };
}

export const EVENT = { event: "boot", distinct_id: "u1", timestamp: 1, properties: { n: 1 } };

export function claim(
  key: string,
  now: number,
  extra: Partial<IdempotencyClaim> = {},
): IdempotencyClaim {
  return {
    scope: "mkstats\np\nu",
    key,
    fingerprint: "f1",
    now,
    expiresAt: now + 1000,
    leaseExpiresAt: now + 100,
    maxPerScope: 100,
    maxTotal: 1000,
    ...extra,
  };
}

export const OK_ANSWER = { status: 200, body: '{"ok":true}' };
