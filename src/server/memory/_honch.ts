/**
 * The Honch part of {@linkcode MemoryStore}: partial uploads as lists of
 * frame payloads, completed-message markers, events and blobs. Event
 * properties are kept as JSON text, as the SQLite store keeps them, so both
 * stores hand back the same values (a uint64 beyond 2^53 as its decimal
 * string).
 *
 * @module
 */

import type { HonchBlobRecord, HonchStore, HonchUploadKey } from "../honch/store.ts";
import { concatBytes } from "../../core/bytes.ts";
import { propertiesFromJson, propertiesToJson } from "../honch/_rows.ts";
import type { Lifetime } from "./_lifetime.ts";

interface Partial {
  projectKeyHash: string;
  streamId: string;
  address: string;
  totalLength: number;
  received: number;
  expiresAt: number;
  frames: Uint8Array[];
}

interface StoredEvent {
  projectKeyHash: string;
  event: string;
  distinct_id: string;
  timestamp: number;
  properties: string;
}

function keyOf(key: HonchUploadKey): string {
  return JSON.stringify([key.projectKeyHash, key.streamId, key.sourceType, key.messageId]);
}

/**
 * Builds the Honch part of a memory store.
 *
 * @param life The store's open-or-closed state.
 * @returns The part.
 */
export function memoryHonch(life: Lifetime): HonchStore {
  const partials = new Map<string, Partial>();
  const markers = new Map<string, { digest: string; expiresAt: number }>();
  const events: StoredEvent[] = [];
  const blobs: HonchBlobRecord[] = [];
  life.count("honch_partials", () => partials.size);
  life.count("honch_messages", () => markers.size);
  life.count("honch_events", () => events.length);
  life.count("honch_blobs", () => blobs.length);

  const live = (key: HonchUploadKey, now: number): Partial | undefined => {
    const partial = partials.get(keyOf(key));
    return partial !== undefined && partial.expiresAt > now ? partial : undefined;
  };

  return {
    openHonchPartial: (key, opening) =>
      life.run(() => {
        if (live(key, opening.now) !== undefined) return false;
        partials.set(keyOf(key), {
          projectKeyHash: key.projectKeyHash,
          streamId: key.streamId,
          address: opening.address ?? "",
          totalLength: opening.totalLength,
          received: opening.payload.length,
          expiresAt: opening.expiresAt,
          frames: [opening.payload.slice()],
        });
        return true;
      }),
    honchPartialUsage: (scope, now) =>
      life.run(() => {
        const usage = {
          project: { count: 0, bytes: 0 },
          stream: { count: 0, bytes: 0 },
          address: { count: 0, bytes: 0 },
        };
        for (const partial of partials.values()) {
          if (partial.expiresAt <= now) continue;
          if (partial.projectKeyHash === scope.projectKeyHash) {
            usage.project.count++;
            usage.project.bytes += partial.totalLength;
            if (partial.streamId === scope.streamId) {
              usage.stream.count++;
              usage.stream.bytes += partial.totalLength;
            }
          }
          if (partial.address === scope.address) {
            usage.address.count++;
            usage.address.bytes += partial.totalLength;
          }
        }
        return usage;
      }),
    findHonchPartial: (key, now) =>
      life.run(() => {
        const partial = live(key, now);
        if (partial === undefined) return undefined;
        const { totalLength, received, expiresAt } = partial;
        return { totalLength, received, expiresAt };
      }),
    appendHonchFrame: (key, frame) =>
      life.run(() => {
        const partial = live(key, frame.now);
        if (partial === undefined || partial.received !== frame.offset) return false;
        partial.frames.push(frame.payload.slice());
        partial.received += frame.payload.length;
        return true;
      }),
    readHonchPartialBytes: (key) =>
      life.run(() => concatBytes(...(partials.get(keyOf(key))?.frames ?? []))),
    discardHonchPartial: (key) => life.run(() => void partials.delete(keyOf(key))),
    completeHonchMessage: (key, completion) =>
      life.run(() => {
        const id = keyOf(key);
        // Serialised first, so a value JSON cannot hold changes nothing.
        const rows = completion.events.map((event) => ({
          projectKeyHash: key.projectKeyHash,
          ...event,
          properties: propertiesToJson(event.properties),
        }));
        partials.delete(id);
        const marker = markers.get(id);
        if (marker !== undefined && marker.expiresAt > completion.now) {
          return marker.digest === completion.digest ? "duplicate" : "collision";
        }
        markers.set(id, { digest: completion.digest, expiresAt: completion.expiresAt });
        events.push(...rows);
        if (completion.blob !== undefined) {
          blobs.push({
            key: { ...key },
            bytes: completion.blob.slice(),
            receivedAt: completion.now,
          });
        }
        return "stored";
      }),
    addHonchEvents: (projectKeyHash, added) =>
      life.run(() => {
        // Serialised first, so a value JSON cannot hold fails before any event is kept.
        const rows = added.map((event) => ({
          projectKeyHash,
          ...event,
          properties: propertiesToJson(event.properties),
        }));
        events.push(...rows);
      }),
    listHonchEvents: (projectKeyHash, limit) =>
      life.run(() =>
        events.filter((event) => event.projectKeyHash === projectKeyHash).slice(-limit)
          .map((event) => ({
            event: event.event,
            distinct_id: event.distinct_id,
            timestamp: event.timestamp,
            properties: propertiesFromJson(event.properties),
          }))
      ),
    listHonchBlobs: (projectKeyHash, limit) =>
      life.run(() =>
        blobs.filter((blob) => blob.key.projectKeyHash === projectKeyHash).slice(-limit)
          .map((blob) => ({
            key: { ...blob.key },
            bytes: blob.bytes.slice(),
            receivedAt: blob.receivedAt,
          }))
      ),
    pruneHonch: (now, limit) =>
      life.run(() => {
        let removed = 0;
        for (const [id, partial] of partials) {
          if (removed >= limit) return removed;
          if (partial.expiresAt < now && partials.delete(id)) removed++;
        }
        for (const [id, marker] of markers) {
          if (removed >= limit) return removed;
          if (marker.expiresAt < now && markers.delete(id)) removed++;
        }
        return removed;
      }),
  };
}
