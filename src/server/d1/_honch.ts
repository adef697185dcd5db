/**
 * The Honch part of {@linkcode D1Store}: partial uploads (`honch_partials`)
 * with their frames by offset (`honch_frames`), markers of completed
 * messages (`honch_messages`), events and blobs. Each write is one
 * `batch()` whose statements carry their own conditions (a live partial, the
 * expected offset, no live marker), so two concurrent frames never both
 * append and a message's events are stored once.
 *
 * @module
 */

import type { HonchEventRecord, HonchStore, HonchUploadKey } from "../honch/store.ts";
import { concatBytes } from "../../core/bytes.ts";
import { propertiesFromJson, propertiesToJson } from "../honch/_rows.ts";
import type { D1PreparedStatement, D1Value } from "./d1_database.ts";
import { bytesOf, changesOf, type D1Connection, type Row, rowsOf } from "./_connection.ts";

/**
 * The most events one INSERT carries: 4 values each, plus 6 shared ones,
 * under D1's 100 bound values per statement.
 */
const EVENTS_PER_INSERT = 20;

const KEY = "project_key_hash = ? AND stream_id = ? AND source_type = ? AND message_id = ?";
const COLUMNS = "project_key_hash, stream_id, source_type, message_id";
const LIVE_PARTIAL = `SELECT 1 FROM honch_partials WHERE ${KEY} AND expires_at > ?`;
const MARKER = `SELECT 1 FROM honch_messages WHERE ${KEY}`;

type KeyValues = [string, string, number, number];

function keyOf(key: HonchUploadKey): KeyValues {
  return [key.projectKeyHash, key.streamId, key.sourceType, key.messageId];
}

function counted(row: Row | undefined): { count: number; bytes: number } {
  return { count: Number(row?.count ?? 0), bytes: Number(row?.bytes ?? 0) };
}

/**
 * Builds the Honch part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function d1Honch(db: D1Connection): HonchStore {
  const drop = (at: KeyValues): D1PreparedStatement[] => [
    db.statement(`DELETE FROM honch_frames WHERE ${KEY}`, at),
    db.statement(`DELETE FROM honch_partials WHERE ${KEY}`, at),
  ];

  /**
   * The INSERTs of a message's events, in order; with `unlessMarked`, each
   * inserts nothing when the upload's marker exists.
   */
  const insertEvents = (
    projectKeyHash: string,
    events: readonly HonchEventRecord[],
    now: number,
    unlessMarked?: KeyValues,
  ): D1PreparedStatement[] => {
    // Serialised first, so a value JSON cannot hold fails before anything is written.
    const properties = events.map((event) => propertiesToJson(event.properties));
    const statements: D1PreparedStatement[] = [];
    for (let start = 0; start < events.length; start += EVENTS_PER_INSERT) {
      const end = Math.min(events.length, start + EVENTS_PER_INSERT);
      const values: D1Value[] = [projectKeyHash, now];
      for (let index = start; index < end; index++) {
        const event = events[index];
        values.push(event.event, event.distinct_id, event.timestamp, properties[index]);
      }
      let sql = `INSERT INTO honch_events (project_key_hash, received_at, event, distinct_id,
          timestamp, properties)
        SELECT ?, ?, column1, column2, column3, column4
        FROM (VALUES ${Array(end - start).fill("(?, ?, ?, ?)").join(", ")})`;
      if (unlessMarked !== undefined) {
        sql += ` WHERE NOT EXISTS (${MARKER})`;
        values.push(...unlessMarked);
      }
      statements.push(db.statement(sql, values));
    }
    return statements;
  };

  return {
    openHonchPartial: async (key, opening) => {
      const at = keyOf(key);
      const results = await db.batch([
        // Whatever a partial that no longer lives left behind goes first.
        db.statement(
          `DELETE FROM honch_frames WHERE ${KEY} AND NOT EXISTS (${LIVE_PARTIAL})`,
          [...at, ...at, opening.now],
        ),
        db.statement(`DELETE FROM honch_partials WHERE ${KEY} AND expires_at <= ?`, [
          ...at,
          opening.now,
        ]),
        db.statement(
          `INSERT INTO honch_partials (${COLUMNS}, total_length, received, expires_at,
             client_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          [
            ...at,
            opening.totalLength,
            opening.payload.length,
            opening.expiresAt,
            opening.address ?? "",
          ],
        ),
        // A live partial keeps its own first frame: this one is then not stored.
        db.statement(
          `INSERT INTO honch_frames (${COLUMNS}, frame_offset, payload) VALUES (?, ?, ?, ?, 0, ?)
           ON CONFLICT DO NOTHING`,
          [...at, opening.payload],
        ),
      ]);
      return changesOf(results[2]) === 1;
    },
    honchPartialUsage: async (scope, now) => {
      const usage = "SELECT count(*) AS count, coalesce(sum(total_length), 0) AS bytes";
      const [project, stream, address] = await db.batch([
        db.statement(
          `${usage} FROM honch_partials WHERE project_key_hash = ? AND expires_at > ?`,
          [scope.projectKeyHash, now],
        ),
        db.statement(
          `${usage} FROM honch_partials
           WHERE project_key_hash = ? AND stream_id = ? AND expires_at > ?`,
          [scope.projectKeyHash, scope.streamId, now],
        ),
        db.statement(
          `${usage} FROM honch_partials WHERE client_address = ? AND expires_at > ?`,
          [scope.address, now],
        ),
      ]);
      return {
        project: counted(rowsOf(project)[0]),
        stream: counted(rowsOf(stream)[0]),
        address: counted(rowsOf(address)[0]),
      };
    },
    findHonchPartial: async (key, now) => {
      const row = await db.first(
        `SELECT total_length, received, expires_at FROM honch_partials
         WHERE ${KEY} AND expires_at > ?`,
        [...keyOf(key), now],
      );
      if (row === undefined) return undefined;
      return {
        totalLength: Number(row.total_length),
        received: Number(row.received),
        expiresAt: Number(row.expires_at),
      };
    },
    appendHonchFrame: async (key, frame) => {
      const at = keyOf(key);
      // Both statements check the same condition on the same state: the partial lives and
      // has received exactly `offset` bytes. The second one's change count is the answer.
      const expected = `${KEY} AND received = ? AND expires_at > ?`;
      const results = await db.batch([
        db.statement(
          `INSERT INTO honch_frames (${COLUMNS}, frame_offset, payload)
           SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS
             (SELECT 1 FROM honch_partials WHERE ${expected})
           ON CONFLICT DO UPDATE SET payload = excluded.payload`,
          [...at, frame.offset, frame.payload, ...at, frame.offset, frame.now],
        ),
        db.statement(`UPDATE honch_partials SET received = ? WHERE ${expected}`, [
          frame.offset + frame.payload.length,
          ...at,
          frame.offset,
          frame.now,
        ]),
      ]);
      return changesOf(results[1]) === 1;
    },
    readHonchPartialBytes: async (key) => {
      const rows = await db.all(
        `SELECT payload FROM honch_frames WHERE ${KEY} ORDER BY frame_offset`,
        keyOf(key),
      );
      return concatBytes(...rows.map((row) => bytesOf(row.payload)));
    },
    discardHonchPartial: async (key) => {
      await db.batch(drop(keyOf(key)));
    },
    completeHonchMessage: async (key, completion) => {
      const at = keyOf(key);
      const events = insertEvents(key.projectKeyHash, completion.events, completion.now, at);
      const blob = completion.blob === undefined ? [] : [
        db.statement(
          `INSERT INTO honch_blobs (${COLUMNS}, bytes, received_at)
           SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (${MARKER})`,
          [...at, completion.blob, completion.now, ...at],
        ),
      ];
      const results = await db.batch([
        ...drop(at),
        // A marker whose window passed no longer counts; a live one stops every write below.
        db.statement(`DELETE FROM honch_messages WHERE ${KEY} AND expires_at <= ?`, [
          ...at,
          completion.now,
        ]),
        ...events,
        ...blob,
        db.statement(
          `INSERT INTO honch_messages (${COLUMNS}, digest, expires_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT DO NOTHING`,
          [...at, completion.digest, completion.expiresAt],
        ),
        db.statement(`SELECT digest FROM honch_messages WHERE ${KEY}`, at),
      ]);
      if (changesOf(results[results.length - 2]) === 1) return "stored";
      const marker = rowsOf(results[results.length - 1])[0];
      return marker?.digest === completion.digest ? "duplicate" : "collision";
    },
    addHonchEvents: async (projectKeyHash, events, now) => {
      const statements = insertEvents(projectKeyHash, events, now);
      if (statements.length > 0) await db.batch(statements);
    },
    listHonchEvents: async (projectKeyHash, limit) => {
      const rows = await db.all(
        `SELECT event, distinct_id, timestamp, properties FROM honch_events
         WHERE project_key_hash = ? ORDER BY id DESC LIMIT ?`,
        [projectKeyHash, limit],
      );
      return rows.reverse().map((row) => ({
        event: String(row.event),
        distinct_id: String(row.distinct_id),
        timestamp: Number(row.timestamp),
        properties: propertiesFromJson(String(row.properties)),
      }));
    },
    listHonchBlobs: async (projectKeyHash, limit) => {
      const rows = await db.all(
        `SELECT ${COLUMNS}, bytes, received_at FROM honch_blobs
         WHERE project_key_hash = ? ORDER BY id DESC LIMIT ?`,
        [projectKeyHash, limit],
      );
      return rows.reverse().map((row) => ({
        key: {
          projectKeyHash: String(row.project_key_hash),
          streamId: String(row.stream_id),
          sourceType: Number(row.source_type),
          messageId: Number(row.message_id),
        },
        bytes: bytesOf(row.bytes),
        receivedAt: Number(row.received_at),
      }));
    },
    pruneHonch: async (now, limit) => {
      // The same bounded pick of expired partials, by the expires_at index, for frames and rows.
      const expired =
        `SELECT ${COLUMNS} FROM honch_partials WHERE expires_at < ? ORDER BY expires_at LIMIT ?`;
      const [, partials] = await db.batch([
        db.statement(`DELETE FROM honch_frames WHERE (${COLUMNS}) IN (${expired})`, [now, limit]),
        db.statement(`DELETE FROM honch_partials WHERE (${COLUMNS}) IN (${expired})`, [
          now,
          limit,
        ]),
      ]);
      const pruned = changesOf(partials);
      if (pruned >= limit) return pruned;
      return pruned + await db.run(
        `DELETE FROM honch_messages WHERE (${COLUMNS}) IN
           (SELECT ${COLUMNS} FROM honch_messages WHERE expires_at < ? LIMIT ?)`,
        [now, limit - pruned],
      );
    },
  };
}
