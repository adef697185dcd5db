/**
 * The mkStats part of {@linkcode MemoryStore}: installs, token hashes,
 * daily actives and event counters in maps keyed as the SQLite tables are,
 * and the activity per UTC day, plugin and version kept beside them.
 *
 * @module
 */

import type {
  EventTotal,
  MkStatsStore,
  PluginActivity,
  PluginVersionDay,
} from "../mkstats/store.ts";
import type { Lifetime, SettleKey } from "./_lifetime.ts";
import { readLimit } from "../common/_read_limit.ts";

interface Install {
  pluginId: string;
  userHash: string;
  version: string;
  firstPing: number | undefined;
}

interface Token {
  pluginId: string;
  userHash: string;
  expiresAt: number;
}

/** Joins key parts with a separator no plugin id, hash, day or event name contains. */
function keyOf(...parts: string[]): string {
  return parts.join("\u0000");
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds the mkStats part of a memory store.
 *
 * @param life The store's open-or-closed state.
 * @param settleKey Settles a recording write's idempotency key.
 * @returns The part.
 */
export function memoryMkStats(life: Lifetime, settleKey: SettleKey): MkStatsStore {
  const installs = new Map<string, Install>();
  const tokens = new Map<string, Token>();
  /** plugin, day, user hash → version */
  const actives = new Map<string, { pluginId: string; day: string }>();
  /** plugin, event, version, day → count */
  const counts = new Map<string, EventTotal & { pluginId: string }>();
  /** day → plugin → version → actives and events */
  const activity = new Map<string, Map<string, Map<string, { actives: number; events: number }>>>();
  const tally = (pluginId: string, day: string, version: string) => {
    let plugins = activity.get(day);
    if (plugins === undefined) activity.set(day, plugins = new Map());
    let versions = plugins.get(pluginId);
    if (versions === undefined) plugins.set(pluginId, versions = new Map());
    let row = versions.get(version);
    if (row === undefined) versions.set(version, row = { actives: 0, events: 0 });
    return row;
  };
  /** The kept days in a range, as many as there are days with activity at most. */
  const daysIn = (firstDay: string, lastDay: string): string[] =>
    [...activity.keys()].filter((day) => day >= firstDay && day <= lastDay);
  life.count("installs", () => installs.size);
  life.count("install_tokens", () => tokens.size);
  life.count("daily_actives", () => actives.size);
  life.count("event_counts", () => counts.size);
  return {
    recordInstall: (install) =>
      life.run(() => {
        const key = keyOf(install.pluginId, install.userHash);
        const known = installs.get(key);
        installs.set(key, {
          pluginId: install.pluginId,
          userHash: install.userHash,
          version: install.version,
          firstPing: known?.firstPing,
        });
        tokens.set(install.tokenHash, {
          pluginId: install.pluginId,
          userHash: install.userHash,
          expiresAt: install.tokenExpiresAt,
        });
      }),
    findInstallToken: (tokenHash) =>
      life.run(() => {
        const token = tokens.get(tokenHash);
        if (token === undefined) return undefined;
        const install = installs.get(keyOf(token.pluginId, token.userHash));
        return { ...token, hasPinged: install?.firstPing !== undefined };
      }),
    recordPing: (ping, settle) =>
      life.run(() => {
        const active = keyOf(ping.pluginId, ping.day, ping.userHash);
        if (!actives.has(active)) {
          actives.set(active, { pluginId: ping.pluginId, day: ping.day });
          tally(ping.pluginId, ping.day, ping.version).actives++;
        }
        const install = installs.get(keyOf(ping.pluginId, ping.userHash));
        if (install !== undefined) {
          install.firstPing ??= ping.now;
          install.version = ping.version;
        }
      }).then(() => settleKey(settle)),
    addEventCount: (event, settle) =>
      life.run(() => {
        const key = keyOf(event.pluginId, event.event, event.version, event.day);
        const row = counts.get(key);
        if (row === undefined) {
          counts.set(key, {
            pluginId: event.pluginId,
            event: event.event,
            version: event.version,
            count: event.count,
          });
        } else row.count += event.count;
        tally(event.pluginId, event.day, event.version).events += event.count;
      }).then(() => settleKey(settle)),
    getStats: (pluginId) =>
      life.run(() => {
        let installCount = 0;
        for (const install of installs.values()) if (install.pluginId === pluginId) installCount++;
        const days = new Map<string, number>();
        for (const row of actives.values()) {
          if (row.pluginId === pluginId) days.set(row.day, (days.get(row.day) ?? 0) + 1);
        }
        const totals = new Map<string, EventTotal>();
        for (const row of counts.values()) {
          if (row.pluginId !== pluginId) continue;
          const key = keyOf(row.event, row.version);
          const total = totals.get(key);
          if (total === undefined) {
            totals.set(key, { event: row.event, version: row.version, count: row.count });
          } else total.count += row.count;
        }
        return {
          plugin_id: pluginId,
          installs: installCount,
          daily_actives: [...days].sort(([a], [b]) => compare(a, b))
            .map(([day, count]) => ({ day, count })),
          events: [...totals.values()].sort((a, b) =>
            compare(a.event, b.event) || compare(a.version, b.version)
          ),
        };
      }),
    pruneInstallTokens: (now, limit) =>
      life.run(() => {
        let removed = 0;
        for (const [hash, token] of tokens) {
          if (removed >= limit) break;
          if (token.expiresAt < now && tokens.delete(hash)) removed++;
        }
        return removed;
      }),
    listMkStatsPlugins: (query) =>
      life.run(() => {
        const totals = new Map<string, PluginActivity>();
        for (const day of daysIn(query.firstDay, query.lastDay)) {
          for (const [pluginId, versions] of activity.get(day)!) {
            let total = totals.get(pluginId);
            if (total === undefined) {
              totals.set(pluginId, total = { pluginId, actives: 0, events: 0 });
            }
            for (const row of versions.values()) {
              total.actives += row.actives;
              total.events += row.events;
            }
          }
        }
        return [...totals.values()].sort((a, b) =>
          b.actives - a.actives || b.events - a.events || compare(a.pluginId, b.pluginId)
        ).slice(0, readLimit(query.limit));
      }),
    getMkStatsActivity: (pluginId, query) =>
      life.run(() => {
        const rows: PluginVersionDay[] = [];
        for (const day of daysIn(query.firstDay, query.lastDay)) {
          for (const [version, row] of activity.get(day)!.get(pluginId) ?? []) {
            rows.push({ day, version, actives: row.actives, events: row.events });
          }
        }
        return rows.sort((a, b) => compare(b.day, a.day) || compare(a.version, b.version))
          .slice(0, readLimit(query.limit));
      }),
  };
}
