/**
 * What Honch capture keeps: partial multi-frame uploads as rows (the frames'
 * bytes by offset), a marker per completed message that recognises a retry,
 * the expanded events and coredump blobs. The rules that decide what a frame
 * means live in the capture code, not here: a store only keeps rows.
 *
 * @module
 */

/**
 * Names one Honch upload: capture reassembles frames and recognises a retried
 * message by project, stream, source type and message id together.
 */
export interface HonchUploadKey {
  /** The SHA-256 of the project key, as lowercase hex; the key itself is never stored. */
  projectKeyHash: string;
  /** The `X-Honch-Stream-Id` header, or `""` for a single-frame upload without one. */
  streamId: string;
  /** The frame's source type: 0 events, 1 coredump. */
  sourceType: number;
  /** The frame's message id. */
  messageId: number;
}

/** A partial upload as {@linkcode HonchStore.findHonchPartial} finds it. */
export interface HonchPartial {
  /** The complete message's length, as the init frame declared it. */
  totalLength: number;
  /** How many bytes are held, from offset 0 without gaps. */
  received: number;
  /** When the partial expires, in milliseconds. */
  expiresAt: number;
}

/** The init frame that opens a partial upload, for {@linkcode HonchStore.openHonchPartial}. */
export interface HonchPartialOpening {
  /** The complete message's length, as the init frame declares it. */
  totalLength: number;
  /** The init frame's payload, held at offset 0. */
  payload: Uint8Array;
  /** The server's current time, in milliseconds; a partial that expired by then is replaced. */
  now: number;
  /** When the new partial expires, in milliseconds. */
  expiresAt: number;
  /**
   * The client address the init frame came from, for the per-address quota.
   *
   * @default ""
   */
  address?: string;
}

/** Where {@linkcode HonchStore.honchPartialUsage} counts open partial uploads. */
export interface HonchPartialScope {
  /** The project key's SHA-256, as lowercase hex. */
  projectKeyHash: string;
  /** The stream, counted within the project. */
  streamId: string;
  /** The client address, counted across projects. */
  address: string;
}

/** How many partial uploads are open in a scope, and the bytes their init frames declared. */
export interface HonchPartialCount {
  /** Live partial uploads. */
  count: number;
  /** The sum of their declared total lengths. */
  bytes: number;
}

/** The open partial uploads of a project, of one of its streams and of a client address. */
export interface HonchPartialUsage {
  /** Every live partial of the project. */
  project: HonchPartialCount;
  /** The live partials of the project's stream. */
  stream: HonchPartialCount;
  /** The live partials opened from the address, in any project. */
  address: HonchPartialCount;
}

/** A continuation frame to hold, for {@linkcode HonchStore.appendHonchFrame}. */
export interface HonchFrameAppend {
  /** Where the payload starts within the message; it must equal the bytes held. */
  offset: number;
  /** The frame's payload. */
  payload: Uint8Array;
  /** The server's current time, in milliseconds; an expired partial takes nothing. */
  now: number;
}

/** A Honch event expanded into the canonical event model, as capture stores it. */
export interface HonchEventRecord {
  /** The event name. */
  event: string;
  /** Whom the event is about. */
  distinct_id: string;
  /** When the event happened, in milliseconds since the epoch. */
  timestamp: number;
  /** The promoted context properties, then the event's own. */
  properties: Record<string, unknown>;
}

/** A complete, CRC-checked message handed to {@linkcode HonchStore.completeHonchMessage}. */
export interface HonchCompletion {
  /** The SHA-256 of the complete message bytes, as lowercase hex, to recognise a retry. */
  digest: string;
  /** The expanded events to store; empty for a coredump. */
  events: HonchEventRecord[];
  /** The raw bytes to keep, for a source that is not decoded (coredumps). */
  blob?: Uint8Array;
  /** The server's current time, in milliseconds. */
  now: number;
  /** When the marker that recognises a retry of this message may be dropped, in milliseconds. */
  expiresAt: number;
}

/**
 * What {@linkcode HonchStore.completeHonchMessage} did: `stored` the events
 * (or blob); found the same bytes already stored under the key
 * (`duplicate`, nothing written); or found other bytes stored under the key
 * (`collision`, nothing written).
 */
export type HonchCompletionResult = "stored" | "duplicate" | "collision";

/** A coredump (or other undecoded) blob as capture kept it. */
export interface HonchBlobRecord {
  /** The upload the blob came in. */
  key: HonchUploadKey;
  /** The complete blob. */
  bytes: Uint8Array;
  /** When it was received, in milliseconds. */
  receivedAt: number;
}

/**
 * The Honch part of a server store. Each method is atomic on its own, so
 * concurrent or repeated frames never append twice; partial uploads are kept
 * as durably as the rest of the store, so an upload survives a restart of a
 * durable store. Implementations must be safe to call concurrently.
 *
 * @example Hold two frames of an upload and read them back
 * ```ts
 * import { type HonchStore, MemoryStore } from "@edgewire/sdk/server";
 *
 * const store: HonchStore = new MemoryStore();
 * const key = { projectKeyHash: "0".repeat(64), streamId: "s", sourceType: 0, messageId: 1 };
 * const bytes = new Uint8Array([1, 2, 3, 4, 5]);
 * await store.openHonchPartial(key, {
 *   totalLength: 5, payload: bytes.subarray(0, 2), now: 0, expiresAt: 1000,
 * });
 * console.log(await store.appendHonchFrame(key, { offset: 2, payload: bytes.subarray(2, 4), now: 1 })); // true
 * console.log(await store.readHonchPartialBytes(key)); // Uint8Array [1, 2, 3, 4]
 * ```
 */
export interface HonchStore {
  /**
   * Opens a partial upload holding the init frame's payload at offset 0,
   * unless a live one is open under the key (an expired one is replaced).
   *
   * @param key The upload.
   * @param opening The declared length, the payload and times.
   * @returns `true` when opened, `false` when a live partial was already open.
   */
  openHonchPartial(key: HonchUploadKey, opening: HonchPartialOpening): Promise<boolean>;
  /**
   * Counts the live partial uploads of a project, of one of its streams and
   * of a client address, with the bytes their init frames declared, for the
   * quotas capture enforces before opening another.
   *
   * @param scope The project, stream and address.
   * @param now The server's current time, in milliseconds; partials expired by then are not counted.
   * @returns The counts and declared bytes per scope.
   */
  honchPartialUsage(scope: HonchPartialScope, now: number): Promise<HonchPartialUsage>;
  /**
   * Finds a live partial upload.
   *
   * @param key The upload.
   * @param now The server's current time, in milliseconds; a partial expired by then is not found.
   * @returns Its declared length, bytes held and expiry, or `undefined`.
   */
  findHonchPartial(key: HonchUploadKey, now: number): Promise<HonchPartial | undefined>;
  /**
   * Holds one more frame of a live partial upload, if and only if it starts
   * exactly where the held bytes stop (a compare-and-append).
   *
   * @param key The upload.
   * @param frame The frame's offset and payload, and the time.
   * @returns `true` when held, `false` when no live partial is open or it holds another count of bytes.
   */
  appendHonchFrame(key: HonchUploadKey, frame: HonchFrameAppend): Promise<boolean>;
  /**
   * Reads the bytes a partial upload holds, from offset 0, in one array.
   *
   * @param key The upload.
   * @returns The held bytes; empty when no partial is open.
   */
  readHonchPartialBytes(key: HonchUploadKey): Promise<Uint8Array>;
  /**
   * Drops a partial upload, such as one whose CRC failed.
   *
   * @param key The upload.
   */
  discardHonchPartial(key: HonchUploadKey): Promise<void>;
  /**
   * Stores a complete Honch message's events (or blob), marks its digest and
   * drops its partial, atomically; a retry of a message already stored under
   * the same key stores nothing.
   *
   * @param key The upload.
   * @param completion The message digest, its events or blob, and times.
   * @returns Whether it was stored, a duplicate, or a collision.
   */
  completeHonchMessage(
    key: HonchUploadKey,
    completion: HonchCompletion,
  ): Promise<HonchCompletionResult>;
  /**
   * Stores expanded events that did not come in frames (the JSON ingest path).
   *
   * @param projectKeyHash The SHA-256 of the project key, as lowercase hex.
   * @param events The events, in order.
   * @param now The server's current time, in milliseconds.
   */
  addHonchEvents(projectKeyHash: string, events: HonchEventRecord[], now: number): Promise<void>;
  /**
   * Reads the newest stored events of a project.
   *
   * @param projectKeyHash The SHA-256 of the project key, as lowercase hex.
   * @param limit How many events at most.
   * @returns Up to `limit` events, oldest first (the newest last).
   */
  listHonchEvents(projectKeyHash: string, limit: number): Promise<HonchEventRecord[]>;
  /**
   * Reads the blobs (coredumps) of a project.
   *
   * @param projectKeyHash The SHA-256 of the project key, as lowercase hex.
   * @param limit How many blobs at most.
   * @returns Up to `limit` blobs, the newest last.
   */
  listHonchBlobs(projectKeyHash: string, limit: number): Promise<HonchBlobRecord[]>;
  /**
   * Deletes at most `limit` partial uploads (each with its frames) and
   * completed-message markers, together, that expired before `now`. The
   * server calls it again while it deletes `limit`, so one call stays short.
   *
   * @param now The server's current time, in milliseconds.
   * @param limit The most partial uploads and markers one call deletes, at least 1.
   * @returns How many partial uploads and markers it deleted.
   */
  pruneHonch(now: number, limit: number): Promise<number>;
}
