/**
 * The channels the broker's own connections are subscribed to, read from
 * their live subscriptions: how many distinct channels, and the ones with
 * the most subscribers. A read only: it changes nothing in the broker.
 * Internal.
 *
 * @module
 */

import type { CoreSession } from "./_core.ts";

/** The most channels {@linkcode liveChannels} lists, whatever the limit asked. */
export const LIVE_CHANNELS_MAX = 1000;

/** One channel with live subscribers. */
export interface EmitterLiveChannel {
  /** The channel, as its subscribers named it (`room/a/`). */
  readonly channel: string;
  /** How many of the broker's connections are subscribed to it. */
  readonly subscribers: number;
}

/** What {@linkcode liveChannels} reports. */
export interface EmitterLiveChannels {
  /** Distinct channels with at least one live subscriber on this broker. */
  readonly channels: number;
  /** The channels with the most subscribers, most first, then by name; at most the limit. */
  readonly top: readonly EmitterLiveChannel[];
}

/**
 * Counts the channels of the given connections' subscriptions. A channel is
 * told apart by its words (contract and segment hashes), as messages are
 * routed, and named as its first subscriber spelled it.
 *
 * @param sessions The broker's open connections.
 * @param limit The most channels listed, from 0 to {@linkcode LIVE_CHANNELS_MAX}.
 * @returns The count of channels and the busiest ones.
 * @throws Never.
 * @example
 * ```ts
 * import { liveChannels } from "./_live_channels.ts";
 *
 * console.log(liveChannels([], 10)); // { channels: 0, top: [] }
 * ```
 */
export function liveChannels(
  sessions: Iterable<Pick<CoreSession, "subscriptions">>,
  limit: number,
): EmitterLiveChannels {
  const counts = new Map<string, { channel: string; subscribers: number }>();
  for (const session of sessions) {
    for (const [key, { channel }] of session.subscriptions) {
      const entry = counts.get(key);
      if (entry === undefined) counts.set(key, { channel, subscribers: 1 });
      else entry.subscribers++;
    }
  }
  const shown = Math.max(0, Math.min(LIVE_CHANNELS_MAX, Math.floor(limit) || 0));
  const top = [...counts.values()].sort((a, b) =>
    b.subscribers - a.subscribers || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0)
  ).slice(0, shown);
  return { channels: counts.size, top };
}
