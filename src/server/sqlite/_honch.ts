/**
 * The Honch part of {@linkcode SqliteStore}: partial uploads
 * (`honch_partials`) with their frames by offset (`honch_frames`), markers
 * of completed messages (`honch_messages`), events and blobs. Each method is
 * one transaction, so concurrent frames never append twice.
 *
 * Events are written one row per message (`honch_event_batches`, packed by
 * {@linkcode packEvents}) rather than one row per event: a message's events
 * share their context, so a row is a sixth of the bytes, and one row and one
 * index entry per message is what lets a frame's commit keep up with the
 * wire. Rows a database holds from before, in `honch_events`, are older than
 * every packed row and are still read after them (a server of an older
 * version writing to the same file meanwhile would have its events listed
 * before the packed ones). The D1 and PostgreSQL stores keep `honch_events`.
 *
 * @module
 */

import type {
  HonchEventRecord,
  HonchPartialCount,
  HonchStore,
  HonchUploadKey,
} from "../honch/store.ts";
import { concatBytes } from "../../core/bytes.ts";
import { packEvents, propertiesFromJson, propertiesToJson, unpackEvents } from "../honch/_rows.ts";
import type { SqliteConnection } from "./_connection.ts";
import { HONCH_PARTIALS, HONCH_STORED, sqliteScript } from "../_sqlite_schema.ts";

/**
 * The packed events, one row per message or per {@linkcode EVENTS_PER_ROW}
 * events of a JSON batch, with how many events the row holds (`count`, so a
 * count needs no unpacking); created on open, beside `honch_events` in a
 * database from before. No `AUTOINCREMENT`: no row is ever deleted, and its
 * counter would be one more page written per commit.
 */
const EVENT_BATCHES = [
  `CREATE TABLE IF NOT EXISTS honch_event_batches (
  id INTEGER PRIMARY KEY,
  project_key_hash TEXT NOT NULL,
  count INTEGER NOT NULL,
  events TEXT NOT NULL,
  received_at INTEGER NOT NULL
)`,
  `CREATE INDEX IF NOT EXISTS honch_event_batches_project
  ON honch_event_batches (project_key_hash, id)`,
];

const SCHEMA = sqliteScript([...HONCH_PARTIALS, ...HONCH_STORED, ...EVENT_BATCHES]);

/** The most events one packed row holds: a wire message's 50, and a JSON batch in rows of 100. */
const EVENTS_PER_ROW = 100;

/** The packed rows one read takes at a time, newest first, until it has the events asked for. */
const ROWS_PER_READ = 16;

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
    `SELECT digest FROM honch_messages WHERE ${UPLOAD_KEY}`,
  );
  // One statement in the usual case: a new marker, or one in place of an expired marker; it
  // changes nothing when a live marker holds the key.
  const putMessage = db.prepare(
    `INSERT INTO honch_messages (${UPLOAD_COLUMNS}, digest, expires_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (${UPLOAD_COLUMNS}) DO UPDATE SET digest = excluded.digest,
       expires_at = excluded.expires_at WHERE honch_messages.expires_at <= ?`,
  );
  const insertBatch = db.prepare(
    `INSERT INTO honch_event_batches (project_key_hash, count, events, received_at)
     VALUES (?, ?, ?, ?)`,
  );
  const listBatches = db.prepare(
    `SELECT id, events FROM honch_event_batches WHERE project_key_hash = ? AND id < ?
     ORDER BY id DESC LIMIT ?`,
  );
  // Rows written before the packed rows, all older than any of them.
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
  /** Rows' text, made before the transaction: a value JSON cannot hold then changes nothing. */
  const pack = (events: readonly HonchEventRecord[]): { count: number; text: string }[] => {
    const rows = [];
    for (let start = 0; start < events.length; start += EVENTS_PER_ROW) {
      const slice = events.slice(start, start + EVENTS_PER_ROW);
      const text = packEvents(slice, slice.map((event) => propertiesToJson(event.properties)));
      rows.push({ count: slice.length, text });
    }
    return rows;
  };
  const addEvents = (
    projectKeyHash: string,
    rows: readonly { count: number; text: string }[],
    now: number,
  ): void => {
    for (const row of rows) insertBatch.run(projectKeyHash, row.count, row.text, now);
  };
  /** The newest `limit` packed events of a project, newest first. */
  const newestPacked = (projectKeyHash: string, limit: number): HonchEventRecord[] => {
    const newest: HonchEventRecord[] = [];
    let before = Number.MAX_SAFE_INTEGER;
    while (newest.length < limit) {
      // Each row holds at least one event: no more rows than events still wanted.
      const wanted = Math.min(ROWS_PER_READ, limit - newest.length);
      const rows = listBatches.all(projectKeyHash, before, wanted) as unknown as {
        id: number;
        events: string;
      }[];
      for (const row of rows) {
        if (newest.length === limit) break;
        const events = unpackEvents(row.events);
        for (let index = events.length - 1; index >= 0 && newest.length < limit; index--) {
          newest.push(events[index]);
        }
        before = row.id;
      }
      if (rows.length < wanted) break;
    }
    return newest;
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
        const rows = pack(completion.events);
        return db.transaction(() => {
          const at = params(key);
          // Frames are only ever held with their partial: most messages come in one frame,
          // and have neither.
          if (deletePartial.run(...at).changes !== 0) deleteFrames.run(...at);
          const put = putMessage.run(
            ...at,
            completion.digest,
            completion.expiresAt,
            completion.now,
          );
          if (put.changes === 0) {
            const marker = findMessage.get(...at) as { digest: string };
            return marker.digest === completion.digest ? "duplicate" : "collision";
          }
          addEvents(key.projectKeyHash, rows, completion.now);
          if (completion.blob !== undefined) {
            insertBlob.run(...at, completion.blob, completion.now);
          }
          return "stored" as const;
        });
      }),
    addHonchEvents: (projectKeyHash, events, now) =>
      db.run(() => {
        const rows = pack(events);
        db.transaction(() => {
          addEvents(projectKeyHash, rows, now);
        });
      }),
    listHonchEvents: (projectKeyHash, limit) =>
      db.read(() => {
        const newest = newestPacked(projectKeyHash, limit);
        if (newest.length < limit) {
          const rows = listEvents.all(projectKeyHash, limit - newest.length) as unknown as {
            event: string;
            distinct_id: string;
            timestamp: number;
            properties: string;
          }[];
          for (const row of rows) {
            newest.push({
              event: row.event,
              distinct_id: row.distinct_id,
              timestamp: row.timestamp,
              properties: propertiesFromJson(row.properties),
            });
          }
        }
        return newest.reverse();
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
