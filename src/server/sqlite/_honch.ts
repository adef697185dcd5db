/**
 * The Honch part of {@linkcode SqliteStore}: partial uploads
 * (`honch_partials`) with their frames by offset (`honch_frames`), markers
 * of completed messages (`honch_messages`), events and blobs. Each method is
 * one transaction, so concurrent frames never append twice.
 *
 * @module
 */

import type { HonchPartialCount, HonchStore, HonchUploadKey } from "../honch/store.ts";
import { concatBytes } from "../../core/bytes.ts";
import { propertiesFromJson, propertiesToJson } from "../honch/_rows.ts";
import type { SqliteConnection } from "./_connection.ts";
import type { StatementSync } from "node:sqlite";
import { HONCH_PARTIALS, HONCH_STORED, sqliteScript } from "../_sqlite_schema.ts";

const SCHEMA = sqliteScript([...HONCH_PARTIALS, ...HONCH_STORED]);

/** The most events one INSERT carries: 50 rows of 6 values, far below SQLite's 32,766 variables. */
const EVENTS_PER_INSERT = 50;

const UPLOAD_KEY = "project_key_hash = ? AND stream_id = ? AND source_type = ? AND message_id = ?";
const UPLOAD_COLUMNS = "project_key_hash, stream_id, source_type, message_id";

type UploadParams = [string, string, number, number];

function params(key: HonchUploadKey): UploadParams {
  return [key.projectKeyHash, key.streamId, key.sourceType, key.messageId];
}

interface PartialRow {
  total_length: number;
  received: number;
  expires_at: number;
}

/**
 * Creates the Honch tables when missing and builds the Honch part.
 *
 * @param db The open database.
 * @returns The part.
 */
export function sqliteHonch(db: SqliteConnection): HonchStore {
  db.schema(SCHEMA);
  // A database made before the per-address quota lacks the column: partials are short-lived, so
  // the ones it holds simply count for no address.
  const columns = db.prepare("PRAGMA table_info(honch_partials)").all() as { name: string }[];
  if (!columns.some((column) => column.name === "client_address")) {
    db.schema("ALTER TABLE honch_partials ADD COLUMN client_address TEXT NOT NULL DEFAULT ''");
  }
  db.schema(
    "CREATE INDEX IF NOT EXISTS honch_partials_address ON honch_partials (client_address)",
  );
  const usage = db.prepare(
    `SELECT count(*) AS count, coalesce(sum(total_length), 0) AS bytes FROM honch_partials
     WHERE project_key_hash = ? AND expires_at > ?`,
  );
  const streamUsage = db.prepare(
    `SELECT count(*) AS count, coalesce(sum(total_length), 0) AS bytes FROM honch_partials
     WHERE project_key_hash = ? AND stream_id = ? AND expires_at > ?`,
  );
  const addressUsage = db.prepare(
    `SELECT count(*) AS count, coalesce(sum(total_length), 0) AS bytes FROM honch_partials
     WHERE client_address = ? AND expires_at > ?`,
  );
  const findPartial = db.prepare(
    `SELECT total_length, received, expires_at FROM honch_partials WHERE ${UPLOAD_KEY}`,
  );
  const insertPartial = db.prepare(
    `INSERT INTO honch_partials (${UPLOAD_COLUMNS}, total_length, received, expires_at,
       client_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const advancePartial = db.prepare(`UPDATE honch_partials SET received = ? WHERE ${UPLOAD_KEY}`);
  const deletePartial = db.prepare(`DELETE FROM honch_partials WHERE ${UPLOAD_KEY}`);
  const insertFrame = db.prepare(
    `INSERT INTO honch_frames (${UPLOAD_COLUMNS}, frame_offset, payload) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const listFrames = db.prepare(
    `SELECT payload FROM honch_frames WHERE ${UPLOAD_KEY} ORDER BY frame_offset`,
  );
  const deleteFrames = db.prepare(`DELETE FROM honch_frames WHERE ${UPLOAD_KEY}`);
  const findMessage = db.prepare(
    `SELECT digest, expires_at FROM honch_messages WHERE ${UPLOAD_KEY}`,
  );
  const deleteMessage = db.prepare(`DELETE FROM honch_messages WHERE ${UPLOAD_KEY}`);
  const insertMessage = db.prepare(
    `INSERT INTO honch_messages (${UPLOAD_COLUMNS}, digest, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  // One statement per row count up to EVENTS_PER_INSERT, prepared when first needed: a
  // message's events go in one step rather than one call each, a third of the time.
  const insertEvents = new Map<number, StatementSync>();
  const insertEventsOf = (rows: number): StatementSync => {
    let statement = insertEvents.get(rows);
    if (statement === undefined) {
      statement = db.prepare(
        `INSERT INTO honch_events (project_key_hash, event, distinct_id, timestamp, properties,
           received_at) VALUES ${Array(rows).fill("(?, ?, ?, ?, ?, ?)").join(", ")}`,
      );
      insertEvents.set(rows, statement);
    }
    return statement;
  };
  const listEvents = db.prepare(
    `SELECT event, distinct_id, timestamp, properties FROM honch_events
     WHERE project_key_hash = ? ORDER BY id DESC LIMIT ?`,
  );
  const insertBlob = db.prepare(
    `INSERT INTO honch_blobs (${UPLOAD_COLUMNS}, bytes, received_at) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const listBlobs = db.prepare(
    `SELECT ${UPLOAD_COLUMNS}, bytes, received_at
     FROM honch_blobs WHERE project_key_hash = ? ORDER BY id DESC LIMIT ?`,
  );
  // The same bounded pick of expired partials, by the expires_at index, for frames and rows.
  const expiredPartials =
    `SELECT ${UPLOAD_COLUMNS} FROM honch_partials WHERE expires_at < ? ORDER BY expires_at LIMIT ?`;
  const pruneFrames = db.prepare(
    `DELETE FROM honch_frames WHERE (${UPLOAD_COLUMNS}) IN (${expiredPartials})`,
  );
  const prunePartials = db.prepare(
    `DELETE FROM honch_partials WHERE (${UPLOAD_COLUMNS}) IN (${expiredPartials})`,
  );
  const pruneMessages = db.prepare(
    `DELETE FROM honch_messages WHERE (${UPLOAD_COLUMNS}) IN
       (SELECT ${UPLOAD_COLUMNS} FROM honch_messages WHERE expires_at < ? LIMIT ?)`,
  );

  const live = (key: UploadParams, now: number): PartialRow | undefined => {
    const row = findPartial.get(...key) as PartialRow | undefined;
    return row !== undefined && row.expires_at > now ? row : undefined;
  };
  const drop = (key: UploadParams): void => {
    deleteFrames.run(...key);
    deletePartial.run(...key);
  };
  const addEvents = (
    projectKeyHash: string,
    events: readonly { event: string; distinct_id: string; timestamp: number }[],
    properties: readonly string[],
    now: number,
  ): void => {
    for (let start = 0; start < events.length; start += EVENTS_PER_INSERT) {
      const end = Math.min(events.length, start + EVENTS_PER_INSERT);
      const values: (string | number)[] = [];
      for (let index = start; index < end; index++) {
        const event = events[index];
        values.push(
          projectKeyHash,
          event.event,
          event.distinct_id,
          event.timestamp,
          properties[index],
          now,
        );
      }
      insertEventsOf(end - start).run(...values);
    }
  };

  return {
    openHonchPartial: (key, opening) =>
      db.run(() =>
        db.transaction(() => {
          const at = params(key);
          if (live(at, opening.now) !== undefined) return false;
          drop(at);
          insertPartial.run(
            ...at,
            opening.totalLength,
            opening.payload.length,
            opening.expiresAt,
            opening.address ?? "",
          );
          insertFrame.run(...at, 0, opening.payload);
          return true;
        })
      ),
    honchPartialUsage: (scope, now) =>
      db.read(() => {
        const count = (row: unknown): HonchPartialCount => {
          const { count, bytes } = row as { count: number; bytes: number };
          return { count: Number(count), bytes: Number(bytes) };
        };
        return {
          project: count(usage.get(scope.projectKeyHash, now)),
          stream: count(streamUsage.get(scope.projectKeyHash, scope.streamId, now)),
          address: count(addressUsage.get(scope.address, now)),
        };
      }),
    findHonchPartial: (key, now) =>
      db.read(() => {
        const row = live(params(key), now);
        if (row === undefined) return undefined;
        return { totalLength: row.total_length, received: row.received, expiresAt: row.expires_at };
      }),
    appendHonchFrame: (key, frame) =>
      db.run(() =>
        db.transaction(() => {
          const at = params(key);
          const row = live(at, frame.now);
          if (row === undefined || row.received !== frame.offset) return false;
          insertFrame.run(...at, frame.offset, frame.payload);
          advancePartial.run(frame.offset + frame.payload.length, ...at);
          return true;
        })
      ),
    readHonchPartialBytes: (key) =>
      db.read(() => {
        const rows = listFrames.all(...params(key)) as unknown as { payload: Uint8Array }[];
        return concatBytes(...rows.map((row) => row.payload));
      }),
    discardHonchPartial: (key) => db.run(() => db.transaction(() => drop(params(key)))),
    completeHonchMessage: (key, completion) =>
      db.run(() => {
        // Serialised before the transaction, so a value JSON cannot hold changes nothing.
        const rows = completion.events.map((event) => propertiesToJson(event.properties));
        return db.transaction(() => {
          const at = params(key);
          drop(at);
          const marker = findMessage.get(...at) as
            | { digest: string; expires_at: number }
            | undefined;
          if (marker !== undefined && marker.expires_at > completion.now) {
            return marker.digest === completion.digest ? "duplicate" : "collision";
          }
          if (marker !== undefined) deleteMessage.run(...at);
          insertMessage.run(...at, completion.digest, completion.expiresAt);
          addEvents(key.projectKeyHash, completion.events, rows, completion.now);
          if (completion.blob !== undefined) {
            insertBlob.run(...at, completion.blob, completion.now);
          }
          return "stored" as const;
        });
      }),
    addHonchEvents: (projectKeyHash, events, now) =>
      db.run(() => {
        const rows = events.map((event) => propertiesToJson(event.properties));
        db.transaction(() => {
          addEvents(projectKeyHash, events, rows, now);
        });
      }),
    listHonchEvents: (projectKeyHash, limit) =>
      db.read(() => {
        const rows = listEvents.all(projectKeyHash, limit) as unknown as {
          event: string;
          distinct_id: string;
          timestamp: number;
          properties: string;
        }[];
        return rows.reverse().map((row) => ({
          event: row.event,
          distinct_id: row.distinct_id,
          timestamp: row.timestamp,
          properties: propertiesFromJson(row.properties),
        }));
      }),
    listHonchBlobs: (projectKeyHash, limit) =>
      db.read(() => {
        const rows = listBlobs.all(projectKeyHash, limit) as unknown as {
          project_key_hash: string;
          stream_id: string;
          source_type: number;
          message_id: number;
          bytes: Uint8Array;
          received_at: number;
        }[];
        return rows.reverse().map((row) => ({
          key: {
            projectKeyHash: row.project_key_hash,
            streamId: row.stream_id,
            sourceType: row.source_type,
            messageId: row.message_id,
          },
          bytes: row.bytes,
          receivedAt: row.received_at,
        }));
      }),
    pruneHonch: (now, limit) =>
      db.run(() => {
        const partials = db.transaction(() => {
          pruneFrames.run(now, limit);
          return Number(prunePartials.run(now, limit).changes);
        });
        if (partials >= limit) return partials;
        return partials + Number(pruneMessages.run(now, limit - partials).changes);
      }),
  };
}
