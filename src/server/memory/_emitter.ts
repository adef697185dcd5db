/**
 * The Emitter part of {@linkcode MemoryStore}: stored messages in one map by
 * id (in the order they were stored) with a map per contract for queries,
 * and banned key hashes in a set. Messages are bounded by count and by bytes:
 * past either bound the oldest stored go first, and expired ones go at every
 * prune (a query only skips them, so it never changes what the store holds).
 *
 * @module
 */

import type { EmitterStore, EmitterStoredMessage } from "../emitter/store.ts";
import { boundedLimit, copyMessage, inWindow, ssidMatches } from "../emitter/_store_query.ts";
import type { Lifetime } from "./_lifetime.ts";

/** The most messages a memory store keeps; past it the oldest stored are dropped. */
export const MEMORY_EMITTER_MAX_MESSAGES = 100_000;

/** The most payload and id bytes a memory store keeps; past it the oldest stored are dropped. */
export const MEMORY_EMITTER_MAX_BYTES: number = 64 * 1024 * 1024;

interface Entry {
  readonly key: string;
  readonly message: EmitterStoredMessage;
  /** The store order, which breaks ties between messages of the same `time`. */
  readonly seq: number;
  readonly bytes: number;
}

function keyOf(id: Uint8Array): string {
  return String.fromCharCode(...id);
}

/**
 * Builds the Emitter part of a memory store.
 *
 * @param life The store's open-or-closed state.
 * @returns The part.
 */
export function memoryEmitter(life: Lifetime): EmitterStore {
  const byId = new Map<string, Entry>();
  const byContract = new Map<number, Map<string, Entry>>();
  const bans = new Set<string>();
  let seq = 0;
  let bytes = 0;
  life.count("emitter_messages", () => byId.size);
  life.count("emitter_key_bans", () => bans.size);

  const remove = (entry: Entry): void => {
    byId.delete(entry.key);
    bytes -= entry.bytes;
    const contract = entry.message.ssid[0];
    const bucket = byContract.get(contract);
    if (bucket === undefined) return;
    bucket.delete(entry.key);
    if (bucket.size === 0) byContract.delete(contract);
  };

  const add = (message: EmitterStoredMessage): void => {
    const key = keyOf(message.id);
    const known = byId.get(key);
    if (known !== undefined) remove(known);
    const entry: Entry = {
      key,
      message: copyMessage(message),
      seq: seq++,
      bytes: message.id.byteLength + message.payload.byteLength,
    };
    byId.set(key, entry);
    bytes += entry.bytes;
    const contract = message.ssid[0];
    let bucket = byContract.get(contract);
    if (bucket === undefined) byContract.set(contract, bucket = new Map());
    bucket.set(key, entry);
    // A Map iterates in insertion order, so the first entries are the oldest stored.
    for (const oldest of byId.values()) {
      if (byId.size <= MEMORY_EMITTER_MAX_MESSAGES && bytes <= MEMORY_EMITTER_MAX_BYTES) break;
      remove(oldest);
    }
  };

  return {
    storeEmitterMessage: (message) => life.run(() => add(message)),
    queryEmitterMessages: (query) =>
      life.run(() => {
        const limit = boundedLimit(query);
        if (limit === 0) return [];
        const candidates = query.ssid.length === 0
          ? byId.values()
          : byContract.get(query.ssid[0])?.values() ?? [];
        const found: Entry[] = [];
        for (const entry of candidates) {
          if (inWindow(query, entry.message) && ssidMatches(query.ssid, entry.message.ssid)) {
            found.push(entry);
          }
        }
        found.sort((a, b) => a.message.time - b.message.time || a.seq - b.seq);
        return found.slice(-limit).map((entry) => copyMessage(entry.message));
      }),
    emitterContractUsage: (contract, now) =>
      life.run(() => {
        let messages = 0;
        let used = 0;
        for (const entry of byContract.get(contract)?.values() ?? []) {
          if (entry.message.expiresAt <= now) continue;
          messages++;
          used += entry.bytes;
        }
        return { messages, bytes: used };
      }),
    setEmitterKeyBan: (keyHash, banned) =>
      life.run(() => void (banned ? bans.add(keyHash) : bans.delete(keyHash))),
    listEmitterKeyBans: () => life.run(() => [...bans]),
    pruneEmitter: (now, limit) =>
      life.run(() => {
        let removed = 0;
        for (const entry of byId.values()) {
          if (removed >= limit) break;
          if (entry.message.expiresAt <= now) {
            remove(entry);
            removed++;
          }
        }
        return removed;
      }),
  };
}
