/**
 * The client's table of subscriptions: one entry per key, channel and share
 * group (none for a plain subscription), each
 * with its {@linkcode EmitterSubscription} and the promise of its SUBACK.
 * The client sends the packets; this file keeps the entries, settles them
 * from SUBACK, delivers messages to the ones that match, and ends them.
 *
 * @module
 */

import { deferred } from "./_deferred.ts";
import { matchesSubscription } from "./_topic.ts";
import { EmitterSubscribeError } from "./errors.ts";
import type { EmitterMessage } from "./message.ts";
import { EmitterSubscription } from "./subscription.ts";

/** One subscription as the client keeps it. */
export interface SubscriptionEntry {
  /** The table's id for it: key, share group and channel. */
  id: string;
  /** The channel key it was made with. */
  key: string;
  /** The topic sent in SUBSCRIBE. */
  topic: string;
  /** Its messages. */
  subscription: EmitterSubscription;
  /** Settles on the broker's SUBACK (again after each reconnection). */
  acked: Promise<void>;
  /** Settles `acked`, with an error when the broker refused. */
  settle: (error?: Error) => void;
  /** Whether a SUBACK already settled `acked`, so no caller waits for the next one. */
  acknowledged?: boolean;
}

/** A plain subscription and one in a share group are two entries, even on one channel. */
function idOf(key: string, channel: string, group: string | undefined): string {
  return group === undefined ? `${key}/${channel}` : `${key}/$share/${group}/${channel}`;
}

/** Every subscription of one client. */
export class Subscriptions {
  readonly #entries = new Map<string, SubscriptionEntry>();
  readonly #limit: number;

  /**
   * @param limit How many unread messages each subscription keeps.
   */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /**
   * The entry for a key, channel and share group, made when there is none
   * yet or when the one there ended (its reader left with `break`).
   *
   * @returns The entry, and whether it was just made (and so needs a SUBSCRIBE).
   */
  open(
    key: string,
    channel: string,
    topic: string,
    group?: string,
  ): { entry: SubscriptionEntry; made: boolean } {
    const id = idOf(key, channel, group);
    const existing = this.#entries.get(id);
    // One whose reader stopped (`break`) has ended for good: a new subscribe gets a new one
    if (existing !== undefined && !existing.subscription.ended) {
      return { entry: existing, made: false };
    }
    const { promise, settle } = deferred();
    const subscription = new EmitterSubscription(channel, this.#limit);
    const entry = { id, key, topic, subscription, acked: promise, settle };
    this.#entries.set(id, entry);
    return { entry, made: true };
  }

  /** The entry for a key, channel and share group, if any. */
  find(key: string, channel: string, group?: string): SubscriptionEntry | undefined {
    return this.#entries.get(idOf(key, channel, group));
  }

  /** Every entry, to subscribe again after a reconnection. */
  all(): IterableIterator<SubscriptionEntry> {
    return this.#entries.values();
  }

  /**
   * Settles an entry from its SUBACK's granted code; `0x80` drops it with a typed error.
   *
   * @returns The refusal when no caller waits for it (a resubscription after a
   * reconnection), for the client to report; `undefined` otherwise.
   */
  acknowledge(
    entry: SubscriptionEntry,
    granted: number | undefined,
  ): EmitterSubscribeError | undefined {
    const waited = entry.acknowledged !== true;
    entry.acknowledged = true;
    if (granted !== 0x80) {
      entry.settle();
      return undefined;
    }
    this.drop(entry);
    const refused = new EmitterSubscribeError(entry.subscription.channel);
    entry.settle(refused);
    return waited ? undefined : refused;
  }

  /** Hands a message to every subscription whose channel matches its topic. */
  deliver(message: EmitterMessage, topic: string): void {
    for (const entry of this.#entries.values()) {
      if (matchesSubscription(entry.key, entry.subscription.channel, topic)) {
        entry.subscription.deliver(message);
      }
    }
  }

  /** Removes an entry (if it is still the current one) and ends its iterator. */
  drop(entry: SubscriptionEntry): void {
    if (this.#entries.get(entry.id) === entry) this.#entries.delete(entry.id);
    entry.subscription.end();
  }

  /** Fails every pending SUBACK with `error`, ends every iterator, and forgets them all. */
  clear(error: Error): void {
    for (const entry of this.#entries.values()) {
      entry.settle(error);
      entry.subscription.end();
    }
    this.#entries.clear();
  }
}
