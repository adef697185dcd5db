/**
 * The storage quota per contract when several processes share a backplane:
 * each process's own count would miss the others' messages, so the count
 * is kept in two of the backplane's atomic counters (messages, bytes). A
 * message first reserves its room (both counters go up), is refused when
 * that passes a limit (the room is given back), else is written (the room
 * is given back if the write fails). The counters live for a minute, the
 * interval of the broker's prune: the process that creates them again
 * seeds them with the store's count of the unexpired messages, so expiry
 * is accounted for. If the backplane fails, the process's own count
 * decides. Internal.
 *
 * @module
 */

import type { Backplane } from "../backplane.ts";
import type { BrokerCore } from "./_core.ts";
import { PRUNE_INTERVAL_MS } from "./_storage.ts";
import type { EmitterStore, EmitterStoredMessage } from "./store.ts";

/**
 * Stores a message if the contract's quota, counted for every process, leaves room.
 *
 * @param core The broker.
 * @param store Its store.
 * @param backplane The shared counters.
 * @param message The message to keep.
 * @param refused Called when the quota refuses it.
 * @param fallback The process's own quota, for when the backplane fails.
 * @returns Settles once stored or refused (`true`) or failed to store (`false`); never rejects.
 */
export function storeWithinSharedQuota(
  core: BrokerCore,
  store: EmitterStore,
  backplane: Backplane,
  message: EmitterStoredMessage,
  refused: (() => void) | undefined,
  fallback: () => Promise<boolean>,
): Promise<boolean> {
  const contract = message.ssid[0];
  const size = message.id.byteLength + message.payload.byteLength;
  const messagesKey = `emitter:quota:${contract}:messages`;
  const bytesKey = `emitter:quota:${contract}:bytes`;
  const add = (messages: number, bytes: number) =>
    Promise.all([
      backplane.increment(messagesKey, messages, PRUNE_INTERVAL_MS),
      backplane.increment(bytesKey, bytes, PRUNE_INTERVAL_MS),
    ]);
  const giveBack = () => add(-1, -size).catch(() => {});
  const run = async (): Promise<boolean> => {
    let reserved: [number, number];
    try {
      reserved = await add(1, size);
      if (reserved[0] === 1) {
        // New counters: this process seeds them with what the store holds now
        const usage = await store.emitterContractUsage(contract, core.now());
        reserved = await add(usage.messages, usage.bytes);
      }
    } catch {
      return await fallback();
    }
    const { maxStoredMessagesPerContract, maxStoredBytesPerContract } = core.options;
    if (reserved[0] > maxStoredMessagesPerContract || reserved[1] > maxStoredBytesPerContract) {
      await giveBack();
      core.counters.storeRefused++;
      refused?.();
      return true;
    }
    try {
      await store.storeEmitterMessage(message);
      return true;
    } catch {
      core.counters.storeFailures++;
      await giveBack();
      return false;
    }
  };
  return core.track(run());
}
