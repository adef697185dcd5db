/**
 * The broker's storage quota per contract: before a message is stored, the
 * contract's unexpired messages and bytes (asked of the store once, then kept
 * up to date as the broker writes, and asked again whenever the count says
 * full) must leave room for it. A message past the quota is not stored: the
 * real broker ignores a failed store and delivers the message live anyway, so
 * this broker does the same, counts it in `storeRefused` and tells the
 * publisher with a 429 on `emitter/error/`. Internal.
 *
 * @module
 */

import type { EmitterStatus } from "../../emitter/security/errors.ts";
import type { BrokerCore } from "./_core.ts";
import type { EmitterContractUsage, EmitterStore, EmitterStoredMessage } from "./store.ts";
import { storeWithinSharedQuota } from "./_shared_quota.ts";

/** The answer on `emitter/error/` to a message the quota kept out of the store. */
export const STORAGE_FULL: EmitterStatus = Object.freeze({
  status: 429,
  message: "the storage quota of this contract is full, the message was delivered but not stored",
});

/** What the broker knows of one contract's stored messages. */
export interface ContractQuota {
  /** The usage as last counted and since added to; `undefined` to ask the store. */
  usage: EmitterContractUsage | undefined;
  /** The check in flight, which later messages of the contract wait behind. */
  waiting: Promise<unknown> | undefined;
}

/**
 * Stores a message if its contract's quota leaves room for it, in the order
 * the broker published them; a refusal is counted and reported through
 * `refused`, a store failure counted, never thrown.
 *
 * @param core The broker, with a store.
 * @param message The message to keep.
 * @param refused Called when the quota refuses it (the publisher's answer).
 * @returns Settles once the message is stored (`true`), refused (`true`: the
 *   refusal is the answer) or failed to store (`false`); never rejects.
 */
export function storeWithinQuota(
  core: BrokerCore,
  message: EmitterStoredMessage,
  refused: (() => void) | undefined,
): Promise<boolean> {
  const store = core.store;
  if (store === undefined) return Promise.resolve(true);
  // Several processes: the quota is counted on the backplane, where they all see it
  const backplane = core.cluster?.backplane;
  if (backplane !== undefined) {
    return storeWithinSharedQuota(
      core,
      store,
      backplane,
      message,
      refused,
      () => storeLocally(core, store, message, refused),
    );
  }
  return storeLocally(core, store, message, refused);
}

/** The quota of one process: its count of the contract's messages, asked of the store when full. */
function storeLocally(
  core: BrokerCore,
  store: EmitterStore,
  message: EmitterStoredMessage,
  refused: (() => void) | undefined,
): Promise<boolean> {
  const contract = message.ssid[0];
  let quota = core.quotas.get(contract);
  if (quota === undefined) {
    core.quotas.set(contract, quota = { usage: undefined, waiting: undefined });
  }
  const q = quota;
  const size = message.id.byteLength + message.payload.byteLength;
  const { maxStoredMessagesPerContract, maxStoredBytesPerContract } = core.options;
  const fits = (usage: EmitterContractUsage) =>
    usage.messages + 1 <= maxStoredMessagesPerContract &&
    usage.bytes + size <= maxStoredBytesPerContract;
  const write = (usage: EmitterContractUsage): Promise<boolean> => {
    q.usage = { messages: usage.messages + 1, bytes: usage.bytes + size };
    let written: Promise<void>;
    try {
      written = store.storeEmitterMessage(message);
    } catch (error) {
      written = Promise.reject(error);
    }
    return core.track(written).then(() => true, () => {
      q.usage = undefined;
      core.counters.storeFailures++;
      return false;
    });
  };
  if (q.waiting === undefined && q.usage !== undefined && fits(q.usage)) {
    // The common case: the count is known and leaves room, so the write starts now
    return write(q.usage);
  }
  // The write's outcome travels wrapped, so the next message waits for this check, not the commit
  const check = async (): Promise<{ stored: Promise<boolean> }> => {
    let usage = q.usage;
    if (usage === undefined || !fits(usage)) {
      usage = await store.emitterContractUsage(contract, core.now());
      q.usage = usage;
    }
    if (fits(usage)) return { stored: write(usage) };
    core.counters.storeRefused++;
    refused?.();
    return { stored: Promise.resolve(true) };
  };
  const run = (q.waiting ?? Promise.resolve()).then(check).catch(() => {
    q.usage = undefined;
    core.counters.storeFailures++;
    return { stored: Promise.resolve(false) };
  }).finally(() => {
    if (q.waiting === run) q.waiting = undefined;
  });
  q.waiting = run;
  core.track(run);
  return run.then((checked) => checked.stored);
}
