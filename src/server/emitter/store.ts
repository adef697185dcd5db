/**
 * What the Emitter broker keeps in the server's store: messages published
 * with a time to live (retained ones included) for `last`, `from`/`until` and
 * history, and the hashes of banned keys. Live state (connections,
 * subscriptions, presence, links) stays in the broker's memory, as in the real
 * broker.
 *
 * @module
 */

/** One stored message, as the broker writes it and reads it back. */
export interface EmitterStoredMessage {
  /**
   * The message id in the real broker's layout: 16 bytes (channel prefix,
   * reversed time, reversed sequence, node) then 4 bytes per `ssid` word.
   * Unique; the store uses it as the primary key.
   */
  readonly id: Uint8Array;
  /** The channel's words: the contract id, then the murmur hash of each segment. */
  readonly ssid: readonly number[];
  /** The channel without key or options, such as `chat/room1/`. */
  readonly channel: string;
  /** The payload, as published. */
  readonly payload: Uint8Array;
  /** When the broker stored it, in milliseconds. */
  readonly time: number;
  /** When it stops being served, in milliseconds (retained messages: far future). */
  readonly expiresAt: number;
}

/** Which stored messages a subscription's `last`, `from`/`until` or a history request asks for. */
export interface EmitterMessageQuery {
  /**
   * The words to match, as in the real broker: a message matches when its
   * `ssid` is at least this long and each word here equals the message's word
   * at the same place or is the hash of `+` or `#` (a wildcard).
   */
  readonly ssid: readonly number[];
  /** The earliest `time` to return, in milliseconds, inclusive. */
  readonly from: number;
  /** The latest `time` to return, in milliseconds, inclusive. */
  readonly until: number;
  /**
   * At most this many messages: the newest ones in the window. The memory
   * and SQLite stores read a larger limit as 1000 (`MAX_EMITTER_QUERY_LIMIT`)
   * and a limit below 1 as 0.
   */
  readonly limit: number;
  /** The server's current time: messages with `expiresAt <= now` are never returned. */
  readonly now: number;
}

/** How much a contract holds in the store: its unexpired messages and their bytes. */
export interface EmitterContractUsage {
  /** How many unexpired messages the contract has stored. */
  readonly messages: number;
  /** Their id and payload bytes, summed. */
  readonly bytes: number;
}

/**
 * The Emitter broker's slice of the server store. Every method is async, so
 * a networked database can stand behind it; times are passed in by the
 * broker, so a store never reads a clock of its own.
 *
 * @example Store a message and read it back
 * ```ts
 * import { MemoryStore } from "@edgewire/sdk/server";
 *
 * const store = new MemoryStore();
 * await store.storeEmitterMessage({
 *   id: new Uint8Array(24), ssid: [1, 2], channel: "a/", payload: new Uint8Array([1]),
 *   time: 1_000, expiresAt: 61_000,
 * });
 * const found = await store.queryEmitterMessages({ ssid: [1], from: 0, until: 2_000, limit: 10, now: 1_500 });
 * console.log(found.length); // 1
 * await store.close();
 * ```
 */
export interface EmitterStore {
  /**
   * Keeps a message until its `expiresAt`. A second message with the same
   * `id` replaces the first.
   *
   * @param message The message to keep.
   * @returns When it is stored.
   */
  storeEmitterMessage(message: EmitterStoredMessage): Promise<void>;
  /**
   * Finds the newest `limit` unexpired messages matching the query.
   *
   * @param query The words, window, limit and current time.
   * @returns The matches, oldest first; messages of the same `time` in the
   * order they were stored (a replaced message counts as stored again).
   */
  queryEmitterMessages(query: EmitterMessageQuery): Promise<EmitterStoredMessage[]>;
  /**
   * Counts a contract's unexpired stored messages and their bytes (id and
   * payload), so the broker can hold each contract to its storage quota.
   *
   * @param contract The contract id, the first word of the messages' `ssid`.
   * @param now The server's current time: messages with `expiresAt <= now` are not counted.
   * @returns The count and bytes; zeros when the contract has none.
   */
  emitterContractUsage(contract: number, now: number): Promise<EmitterContractUsage>;
  /**
   * Bans or unbans a key, by the hash the broker gives (never the key itself).
   *
   * @param keyHash The SHA-256 of the key text, as lowercase hex.
   * @param banned Whether the key is banned from now on.
   * @param now The server's current time, in milliseconds.
   * @returns When the change is stored.
   */
  setEmitterKeyBan(keyHash: string, banned: boolean, now: number): Promise<void>;
  /**
   * Lists the banned keys' hashes, loaded by the broker when it opens.
   *
   * @returns The hashes, in no particular order.
   */
  listEmitterKeyBans(): Promise<string[]>;
  /**
   * Deletes at most `limit` of the messages that expired at `now` or before.
   * The server calls it again while it deletes `limit`, so one call stays short.
   *
   * @param now The server's current time, in milliseconds.
   * @param limit The most messages one call deletes, at least 1.
   * @returns How many it deleted.
   */
  pruneEmitter(now: number, limit: number): Promise<number>;
}
