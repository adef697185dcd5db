/**
 * The Honch part of {@linkcode PostgresStore}: partial uploads
 * (`honch_partials`) with their frames by offset (`honch_frames`), markers
 * of completed messages (`honch_messages`), events and blobs. Each method is
 * one transaction; opening a partial and marking a completed message are
 * upserts that replace only an expired row, and a frame is appended by a
 * compare-and-set of the bytes held, so concurrent or repeated frames never
 * append twice, whichever process serves them. A completed message (partial
 * dropped, marker, events, blob) is one statement, so one round trip.
 * Transactions touching an upload lock its partial's row before its frames.
 *
 * @module
 */

import type { HonchPartialCount, HonchStore, HonchUploadKey } from "../honch/store.ts";
import { propertiesFromJson, propertiesToJson } from "../honch/_rows.ts";
import type { PostgresConnection, Query, Row } from "./_connection.ts";
import { fromText, toText } from "./_text.ts";

const UPLOAD_KEY =
  "project_key_hash = $1 AND stream_id = $2 AND source_type = $3 AND message_id = $4";
const UPLOAD_COLUMNS = "project_key_hash, stream_id, source_type, message_id";

type UploadParams = [string, string, number, number];

function params(key: HonchUploadKey): UploadParams {
  return [toText(key.projectKeyHash), toText(key.streamId), key.sourceType, key.messageId];
}

/** A copy of a `bytea` value as a plain `Uint8Array` (the driver gives a `Buffer`). */
function bytesOf(value: unknown): Uint8Array {
  return new Uint8Array(value as Uint8Array);
}

/**
 * Builds the Honch part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function postgresHonch(db: PostgresConnection): HonchStore {
  const s = db.s;
  const usage = `SELECT
     (SELECT row(count(*), coalesce(sum(total_length), 0))::text FROM ${s}honch_partials
       WHERE project_key_hash = $1 AND expires_at > $4) AS project,
     (SELECT row(count(*), coalesce(sum(total_length), 0))::text FROM ${s}honch_partials
       WHERE project_key_hash = $1 AND stream_id = $2 AND expires_at > $4) AS stream,
     (SELECT row(count(*), coalesce(sum(total_length), 0))::text FROM ${s}honch_partials
       WHERE client_address = $3 AND expires_at > $4) AS address`;
  const findPartial = `SELECT total_length, received, expires_at FROM ${s}honch_partials
     WHERE ${UPLOAD_KEY} AND expires_at > $5`;
  // Inserts a partial, or replaces one that expired; a live one stays and nothing is returned.
  const openPartial = `INSERT INTO ${s}honch_partials AS p (${UPLOAD_COLUMNS}, total_length,
       received, expires_at, client_address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (${UPLOAD_COLUMNS}) DO UPDATE SET total_length = excluded.total_length,
       received = excluded.received, expires_at = excluded.expires_at,
       client_address = excluded.client_address
     WHERE p.expires_at <= $9
     RETURNING 1`;
  const insertFrame = `INSERT INTO ${s}honch_frames (${UPLOAD_COLUMNS}, frame_offset, payload)
     VALUES ($1, $2, $3, $4, $5, $6)`;
  const advancePartial = `UPDATE ${s}honch_partials SET received = received + $7
     WHERE ${UPLOAD_KEY} AND expires_at > $5 AND received = $6 RETURNING 1`;
  const deletePartial = `DELETE FROM ${s}honch_partials WHERE ${UPLOAD_KEY}`;
  const deleteFrames = `DELETE FROM ${s}honch_frames WHERE ${UPLOAD_KEY}`;
  const listFrames =
    `SELECT payload FROM ${s}honch_frames WHERE ${UPLOAD_KEY} ORDER BY frame_offset`;
  // A complete message in one statement, so in one transaction and one round trip: its partial
  // and frames dropped; its marker inserted, or replacing one that expired (a live one stays and
  // `stored` is 0); and only then its events and blob. `digest` is the live marker's, as of the
  // statement's start (null when another process marked it meanwhile: read again).
  const complete = `WITH partial AS (
       DELETE FROM ${s}honch_partials WHERE ${UPLOAD_KEY}
     ), frames AS (
       DELETE FROM ${s}honch_frames WHERE ${UPLOAD_KEY}
     ), marked AS (
       INSERT INTO ${s}honch_messages AS m (${UPLOAD_COLUMNS}, digest, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (${UPLOAD_COLUMNS}) DO UPDATE SET digest = excluded.digest,
         expires_at = excluded.expires_at
       WHERE m.expires_at <= $7
       RETURNING 1
     ), events AS (
       INSERT INTO ${s}honch_events (project_key_hash, event, distinct_id, timestamp, properties,
         received_at)
       SELECT $1, event, distinct_id, timestamp, properties, $7
       FROM unnest($8::text[], $9::text[], $10::bigint[], $11::text[]) WITH ORDINALITY
         AS e(event, distinct_id, timestamp, properties, n)
       WHERE EXISTS (SELECT 1 FROM marked)
       ORDER BY n
     ), blob AS (
       INSERT INTO ${s}honch_blobs (${UPLOAD_COLUMNS}, bytes, received_at)
       SELECT $1, $2, $3, $4, $12::bytea, $7
       WHERE $12::bytea IS NOT NULL AND EXISTS (SELECT 1 FROM marked)
     )
     SELECT (SELECT count(*) FROM marked) AS stored,
       (SELECT digest FROM ${s}honch_messages WHERE ${UPLOAD_KEY}) AS digest`;
  const insertEvents = `INSERT INTO ${s}honch_events (project_key_hash, event, distinct_id,
       timestamp, properties, received_at)
     SELECT $1, event, distinct_id, timestamp, properties, $2
     FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY
       AS e(event, distinct_id, timestamp, properties, n)
     ORDER BY n`;
  const listEvents = `SELECT event, distinct_id, timestamp, properties FROM ${s}honch_events
     WHERE project_key_hash = $1 ORDER BY id DESC LIMIT $2`;
  const listBlobs = `SELECT ${UPLOAD_COLUMNS}, bytes, received_at FROM ${s}honch_blobs
     WHERE project_key_hash = $1 ORDER BY id DESC LIMIT $2`;
  // A bounded pick of expired partials by the expires_at index, locked (skipping the ones another
  // transaction holds), then their rows and frames.
  const prunePartials = `WITH picked AS (
       SELECT ${UPLOAD_COLUMNS} FROM ${s}honch_partials WHERE expires_at < $1
       ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
     ), frames AS (
       DELETE FROM ${s}honch_frames f USING picked
       WHERE (f.project_key_hash, f.stream_id, f.source_type, f.message_id)
         = (picked.project_key_hash, picked.stream_id, picked.source_type, picked.message_id)
     )
     DELETE FROM ${s}honch_partials p USING picked
     WHERE (p.project_key_hash, p.stream_id, p.source_type, p.message_id)
       = (picked.project_key_hash, picked.stream_id, picked.source_type, picked.message_id)`;
  const pruneMessages = `DELETE FROM ${s}honch_messages WHERE (${UPLOAD_COLUMNS}) IN
     (SELECT ${UPLOAD_COLUMNS} FROM ${s}honch_messages WHERE expires_at < $1 LIMIT $2)`;

  // The partial's row first, then its frames: the order every transaction takes them in.
  const drop = async (query: Query, at: UploadParams): Promise<void> => {
    await query(deletePartial, at);
    await query(deleteFrames, at);
  };
  const addEvents = async (
    query: Query,
    projectKeyHash: string,
    events: readonly { event: string; distinct_id: string; timestamp: number }[],
    properties: readonly string[],
    now: number,
  ): Promise<void> => {
    if (events.length === 0) return;
    await query(insertEvents, [
      toText(projectKeyHash),
      now,
      events.map((event) => toText(event.event)),
      events.map((event) => toText(event.distinct_id)),
      events.map((event) => event.timestamp),
      properties,
    ]);
  };
  const count = (text: unknown): HonchPartialCount => {
    const [found, bytes] = String(text).slice(1, -1).split(",");
    return { count: Number(found), bytes: Number(bytes) };
  };

  return {
    openHonchPartial: (key, opening) =>
      db.transaction(async (query) => {
        const at = params(key);
        const opened = await query(openPartial, [
          ...at,
          opening.totalLength,
          opening.payload.length,
          opening.expiresAt,
          toText(opening.address ?? ""),
          opening.now,
        ]);
        if (opened.length === 0) return false;
        // The frames of the expired partial it replaced, if any.
        await query(deleteFrames, at);
        await query(insertFrame, [...at, 0, opening.payload]);
        return true;
      }),
    honchPartialUsage: async (scope, now) => {
      const [row] = await db.query(usage, [
        toText(scope.projectKeyHash),
        toText(scope.streamId),
        toText(scope.address),
        now,
      ]);
      return {
        project: count(row.project),
        stream: count(row.stream),
        address: count(row.address),
      };
    },
    findHonchPartial: async (key, now) => {
      const [row] = await db.query(findPartial, [...params(key), now]);
      if (row === undefined) return undefined;
      return {
        totalLength: Number(row.total_length),
        received: Number(row.received),
        expiresAt: Number(row.expires_at),
      };
    },
    appendHonchFrame: (key, frame) =>
      db.transaction(async (query) => {
        const at = params(key);
        const advanced = await query(advancePartial, [
          ...at,
          frame.now,
          frame.offset,
          frame.payload.length,
        ]);
        if (advanced.length === 0) return false;
        await query(insertFrame, [...at, frame.offset, frame.payload]);
        return true;
      }),
    readHonchPartialBytes: async (key) => {
      const rows = await db.query(listFrames, params(key));
      let length = 0;
      for (const row of rows) length += (row.payload as Uint8Array).length;
      const joined = new Uint8Array(length);
      let offset = 0;
      for (const row of rows) {
        joined.set(row.payload as Uint8Array, offset);
        offset += (row.payload as Uint8Array).length;
      }
      return joined;
    },
    discardHonchPartial: (key) => db.transaction((query) => drop(query, params(key))),
    completeHonchMessage: async (key, completion) => {
      const values = [
        ...params(key),
        toText(completion.digest),
        completion.expiresAt,
        completion.now,
        completion.events.map((event) => toText(event.event)),
        completion.events.map((event) => toText(event.distinct_id)),
        completion.events.map((event) => event.timestamp),
        completion.events.map((event) => propertiesToJson(event.properties)),
        completion.blob ?? null,
      ];
      for (;;) {
        const [row] = await db.query(complete, values);
        if (Number(row.stored) === 1) return "stored";
        // Null only when another process marked the message after this statement began: its
        // marker is then committed, and the statement run again finds it.
        if (row.digest === null) continue;
        return fromText(row.digest as string) === completion.digest ? "duplicate" : "collision";
      }
    },
    addHonchEvents: async (projectKeyHash, events, now) => {
      const rows = events.map((event) => propertiesToJson(event.properties));
      await db.transaction((query) => addEvents(query, projectKeyHash, events, rows, now));
    },
    listHonchEvents: async (projectKeyHash, limit) => {
      const rows = await db.query(listEvents, [toText(projectKeyHash), limit]);
      return rows.reverse().map((row: Row) => ({
        event: fromText(row.event as string),
        distinct_id: fromText(row.distinct_id as string),
        timestamp: Number(row.timestamp),
        properties: propertiesFromJson(row.properties as string),
      }));
    },
    listHonchBlobs: async (projectKeyHash, limit) => {
      const rows = await db.query(listBlobs, [toText(projectKeyHash), limit]);
      return rows.reverse().map((row: Row) => ({
        key: {
          projectKeyHash: fromText(row.project_key_hash as string),
          streamId: fromText(row.stream_id as string),
          sourceType: Number(row.source_type),
          messageId: Number(row.message_id),
        },
        bytes: bytesOf(row.bytes),
        receivedAt: Number(row.received_at),
      }));
    },
    pruneHonch: (now, limit) =>
      db.transaction(async (query) => {
        const partials = (await query(prunePartials, [now, limit])).count;
        if (partials >= limit) return partials;
        return partials + (await query(pruneMessages, [now, limit - partials])).count;
      }),
  };
}
