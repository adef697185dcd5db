/**
 * The broker's message storage on top of the server's `EmitterStore`:
 * writing a message published with a time to live (or retained), the query a
 * subscription's `last`, `from` and `until` make, and reading messages back
 * as the real broker does (the newest ones, oldest first, at most 64 KiB of
 * them; history pages backwards from `startFromID`). Internal.
 *
 * @module
 */

import {
  channelWindow,
  type EmitterChannel,
  integerOption,
} from "../../emitter/security/channel.ts";
import type { BrokerCore } from "./_core.ts";
import { PRUNE_CHUNK_ROWS, pruneInChunks } from "../_pruner.ts";
import { storeWithinQuota } from "./_store_quota.ts";
import type { EmitterMessageQuery, EmitterStoredMessage } from "./store.ts";

/** The time to live, in seconds, of a retained message: the real broker's `RetainedTTL`. */
export const RETAINED_TTL = 0xffffffff;
/** The real broker's cap on the bytes one replay or history answer carries. */
const REPLAY_BYTES = 65_536;
/** The most messages one query asks for. */
const MAX_LIMIT = 10_000;
/** How often, at most, the broker deletes the expired stored messages, in milliseconds. */
export const PRUNE_INTERVAL_MS = 60_000;

/** When the broker last started a prune, and whether one is in flight. */
export interface PruneState {
  /** The time the last prune started, in milliseconds. */
  last: number;
  /** Whether a prune is in flight. */
  running: boolean;
  /** Set when the broker closes: a running prune stops after its current chunk. */
  stopped?: boolean;
}

/**
 * Deletes the expired stored messages in the background, at most once per
 * {@linkcode PRUNE_INTERVAL_MS} and never twice at once, in chunks of
 * `PRUNE_CHUNK_ROWS` with the event loop free between them; a failure is
 * counted, never thrown. Nothing waits on it but `close()`.
 *
 * @param core The broker.
 * @param state When the last prune started; updated.
 * @param now The current time, in milliseconds.
 * @returns Whether a prune started.
 */
export function pruneExpired(core: BrokerCore, state: PruneState, now: number): boolean {
  const store = core.store;
  if (store === undefined || state.running || now - state.last < PRUNE_INTERVAL_MS) return false;
  state.last = now;
  state.running = true;
  const prune = pruneInChunks(
    (time, limit) => store.pruneEmitter(time, limit),
    now,
    PRUNE_CHUNK_ROWS,
    () => state.stopped === true,
  );
  core.track(prune).then(
    () => {
      state.running = false;
      core.counters.prunes++;
    },
    () => {
      state.running = false;
      core.counters.storeFailures++;
    },
  );
  return true;
}

/**
 * Stores a message in the background, within its contract's quota; a
 * failure is counted, never thrown.
 *
 * @param core The broker.
 * @param ssid The channel's words.
 * @param channel The channel without key or options.
 * @param payload The payload; copied.
 * @param ttlSeconds How long to keep it, above 0.
 * @param refused Called when the quota keeps it out of the store.
 * @returns Settles once it is stored or refused (`true`) or could not be stored (`false`).
 */
export function storeMessage(
  core: BrokerCore,
  ssid: readonly number[],
  channel: string,
  payload: Uint8Array,
  ttlSeconds: number,
  refused?: () => void,
): Promise<boolean> {
  if (core.store === undefined) return Promise.resolve(true);
  const time = core.now();
  const message: EmitterStoredMessage = {
    id: core.ids.next(ssid, time),
    ssid: ssid.slice(),
    channel,
    payload: payload.slice(),
    time,
    expiresAt: time + ttlSeconds * 1000,
  };
  return storeWithinQuota(core, message, refused);
}

/**
 * The query a channel's options ask for: `last` messages (1 by default) in the
 * `from`/`until` window (unix seconds; 0 for open).
 *
 * @param core The broker.
 * @param ssid The channel's words.
 * @param channel The parsed topic, for its options.
 * @returns The query, or `undefined` when `last` asks for none.
 */
export function messageQuery(
  core: BrokerCore,
  ssid: readonly number[],
  channel: EmitterChannel,
): EmitterMessageQuery | undefined {
  const limit = integerOption(channel, "last") ?? 1;
  if (limit < 1) return undefined;
  const window = channelWindow(channel);
  const now = core.now();
  return {
    ssid,
    from: window.from * 1000,
    until: window.until === 0 ? now : window.until * 1000 + 999,
    limit: Math.min(limit, MAX_LIMIT),
    now,
  };
}

/** Compares the time, sequence and node bytes: positive when `a` is older than `b`. */
function olderThan(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 4; i < 16; i++) {
    if (a[i] !== b[i]) return a[i] > b[i];
  }
  return false;
}

/** Keeps the newest messages whose bytes stay within the real broker's cap. */
function capBySize(messages: EmitterStoredMessage[]): EmitterStoredMessage[] {
  let size = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    size += m.payload.length + m.id.length + m.channel.length;
    if (size > REPLAY_BYTES) return messages.slice(i + 1);
  }
  return messages;
}

/**
 * Reads stored messages for a query, oldest first; with `startFromId`, only
 * those older than that message (the next page of history).
 *
 * @param core The broker.
 * @param query The words, window and limit.
 * @param startFromId A message id from an earlier answer, or `undefined`.
 * @returns The messages.
 * @throws What the store throws.
 */
export async function loadMessages(
  core: BrokerCore,
  query: EmitterMessageQuery,
  startFromId?: Uint8Array,
): Promise<EmitterStoredMessage[]> {
  const store = core.store;
  if (store === undefined) return [];
  if (startFromId === undefined || startFromId.length < 16) {
    return capBySize(await core.track(store.queryEmitterMessages(query)));
  }
  const view = new DataView(startFromId.buffer, startFromId.byteOffset, 16);
  const second = 0xffffffff - view.getUint32(4) + 1514764800;
  const until = Math.min(query.until, second * 1000 + 999);
  let extra = 16;
  for (;;) {
    const ask = Math.min(query.limit + extra, MAX_LIMIT * 2);
    const found = await core.track(store.queryEmitterMessages({ ...query, until, limit: ask }));
    const older = found.filter((m) => olderThan(m.id, startFromId));
    if (older.length >= query.limit || found.length < ask || ask >= MAX_LIMIT * 2) {
      return capBySize(older.slice(Math.max(0, older.length - query.limit)));
    }
    extra *= 4;
  }
}
