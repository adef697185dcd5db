/**
 * The one store the reference server takes: every service's narrow
 * interface together. {@linkcode MemoryStore} is the default; the embedded
 * SQLite store comes from `@edgewire/sdk/server/sqlite`, and any other
 * database can stand behind the same interfaces.
 *
 * @module
 */

import type { HonchStore } from "./honch/store.ts";
import type { MigasStore } from "./migas/store.ts";
import type { MkStatsStore } from "./mkstats/store.ts";
import type { SharedStore } from "./common/store.ts";
import type { EmitterStore } from "./emitter/store.ts";
import type { SpotStore } from "./spot/store.ts";

/**
 * Where the reference server keeps its state: the shared settings and spent
 * challenges, the rows of mkStats, Honch and migas, the Emitter broker's
 * stored messages and key bans, and the Spot relay's blobs. Every method is
 * async, so a networked database can stand behind it; times are passed in by
 * the server, so a store never reads a clock of its own.
 *
 * @example Hand a store to the server
 * ```ts
 * import { createServer, MemoryStore, type ServerStore } from "@edgewire/sdk/server";
 *
 * const store: ServerStore = new MemoryStore();
 * const server = createServer({ store });
 * await server.close(); // closes the store too
 * ```
 */
export interface ServerStore
  extends SharedStore, MkStatsStore, HonchStore, MigasStore, EmitterStore, SpotStore {}

/** Every method a {@linkcode ServerStore} has, to recognise one at run time. */
export const STORE_METHODS: readonly (keyof ServerStore)[] = [
  "getMeta",
  "setMeta",
  "ensureMeta",
  "markChallengeUsed",
  "pruneChallenges",
  "claimIdempotencyKey",
  "settleIdempotencyKey",
  "pruneIdempotencyKeys",
  "close",
  "recordInstall",
  "findInstallToken",
  "recordPing",
  "addEventCount",
  "getStats",
  "pruneInstallTokens",
  "listMkStatsPlugins",
  "getMkStatsActivity",
  "openHonchPartial",
  "honchPartialUsage",
  "findHonchPartial",
  "appendHonchFrame",
  "readHonchPartialBytes",
  "discardHonchPartial",
  "completeHonchMessage",
  "addHonchEvents",
  "listHonchEvents",
  "listHonchBlobs",
  "pruneHonch",
  "registerMigasProject",
  "findMigasProject",
  "listMigasProjects",
  "addMigasBreadcrumb",
  "addMigasBreadcrumbs",
  "countMigasUsage",
  "countMigasUsageByVersion",
  "storeEmitterMessage",
  "queryEmitterMessages",
  "emitterContractUsage",
  "setEmitterKeyBan",
  "listEmitterKeyBans",
  "pruneEmitter",
  "putSpotBlob",
  "getSpotBlob",
  "deleteSpotBlob",
  "spotBlobTotals",
];

/**
 * The methods `value` lacks to be a {@linkcode ServerStore}.
 *
 * @param value Anything.
 * @returns The missing method names; empty for a store.
 */
export function missingStoreMethods(value: unknown): string[] {
  if (typeof value !== "object" || value === null) return [...STORE_METHODS];
  const candidate = value as Record<string, unknown>;
  return STORE_METHODS.filter((method) => typeof candidate[method] !== "function");
}
