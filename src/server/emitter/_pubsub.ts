/**
 * Publish, subscribe and unsubscribe as the real Emitter broker decides them:
 * the topic grammar, the key's permission for the operation (write, read),
 * the refusal of keys with the extend permission, storage of messages with a
 * time to live or the retain flag when the key may store, `me=0`, and the
 * replay a subscription asks for when the key may load. Internal.
 *
 * @module
 */

import { authorize } from "../../emitter/security/authorize.ts";
import {
  type EmitterChannel,
  excludesSender,
  integerOption,
  parseChannel,
} from "../../emitter/security/channel.ts";
import { EMITTER_STATUS, type EmitterStatus } from "../../emitter/security/errors.ts";
import { PERMISSION } from "../../emitter/security/permissions.ts";
import type { BrokerCore, CoreSession } from "./_core.ts";
import { STORAGE_FULL } from "./_store_quota.ts";
import { messageQuery, RETAINED_TTL, storeMessage } from "./_storage.ts";
import type { EmitterMessageQuery } from "./store.ts";

/** The topic the broker's refusals are sent on. */
const ERROR_TOPIC = "emitter/error/";

/** The words of a channel under a contract: the contract, then the segments' hashes. */
export function channelSsid(contract: number, channel: EmitterChannel): number[] {
  const ssid = new Array<number>(channel.query.length + 1);
  ssid[0] = contract;
  for (let i = 0; i < channel.query.length; i++) ssid[i + 1] = channel.query[i];
  return ssid;
}

/**
 * Publishes a message on a static channel for `sender` (or for a last will
 * when `undefined`).
 *
 * When the contract's storage quota keeps the message out of the store, it
 * is still delivered and the sender gets a 429 on `emitter/error/`.
 *
 * @param whenStored Given the store's outcome when the message goes to the store (a QoS 1
 *   PUBACK waits for it: an acknowledged message is a stored one).
 * @returns The refusal, or `undefined` when it was published.
 */
export function publishMessage(
  core: BrokerCore,
  sender: CoreSession | undefined,
  channel: EmitterChannel,
  payload: Uint8Array,
  retain: boolean,
  packetId?: number,
  whenStored?: (stored: Promise<boolean>) => void,
): EmitterStatus | undefined {
  const granted = authorize(core.security, channel, PERMISSION.write);
  if (granted === undefined) return EMITTER_STATUS.unauthorized;
  const key = granted.key;
  if (key.hasPermission(PERMISSION.extend)) return EMITTER_STATUS.unauthorizedExt;
  const ssid = channelSsid(key.contract, channel);
  let ttl = retain ? RETAINED_TTL : 0;
  if (channel.options.length > 0) {
    const asked = integerOption(channel, "ttl");
    if (asked !== undefined && asked > 0) ttl = Math.min(asked, RETAINED_TTL);
  }
  if (ttl > 0 && key.hasPermission(PERMISSION.store)) {
    const refused = sender === undefined ? undefined : () =>
      sender.sendJson(
        ERROR_TOPIC,
        { status: STORAGE_FULL.status, message: STORAGE_FULL.message },
        packetId,
      );
    const stored = storeMessage(core, ssid, channel.channel, payload, ttl, refused);
    whenStored?.(stored);
  }
  const exclude = sender !== undefined && channel.options.length > 0 && excludesSender(channel)
    ? sender
    : undefined;
  core.fanOut(ssid, channel.channel, payload, exclude);
  return undefined;
}

/** What a subscription came to: refused, or made (with the stored messages to replay). */
export type SubscribeOutcome = EmitterStatus | { readonly replay: EmitterMessageQuery | undefined };

/**
 * Subscribes a session to a topic as the real broker does (a `#` becomes
 * `#/`, `//` becomes `/`).
 *
 * @returns The refusal, or the replay to send.
 */
export function subscribeTopic(
  core: BrokerCore,
  session: CoreSession,
  topic: string,
): SubscribeOutcome {
  const channel = parseChannel(topic.replaceAll("#", "#/").replaceAll("//", "/"));
  if (channel.type === "invalid") return EMITTER_STATUS.badRequest;
  const granted = authorize(core.security, channel, PERMISSION.read);
  if (granted === undefined) return EMITTER_STATUS.unauthorized;
  const key = granted.key;
  if (key.hasPermission(PERMISSION.extend)) return EMITTER_STATUS.unauthorizedExt;
  const ssid = channelSsid(key.contract, channel);
  if (core.subscribe(session, ssid, channel.channel) === "limit") return EMITTER_STATUS.forbidden;
  const replay = core.store !== undefined && key.hasPermission(PERMISSION.load)
    ? messageQuery(core, ssid, channel)
    : undefined;
  return { replay };
}

/**
 * Unsubscribes a session from a topic.
 *
 * @returns The refusal, or `undefined`.
 */
export function unsubscribeTopic(
  core: BrokerCore,
  session: CoreSession,
  topic: string,
): EmitterStatus | undefined {
  const channel = parseChannel(topic);
  if (channel.type === "invalid") return EMITTER_STATUS.badRequest;
  const granted = authorize(core.security, channel, PERMISSION.read);
  if (granted === undefined) return EMITTER_STATUS.unauthorized;
  if (granted.key.hasPermission(PERMISSION.extend)) return EMITTER_STATUS.unauthorizedExt;
  core.unsubscribe(session, channelSsid(granted.key.contract, channel));
  return undefined;
}
