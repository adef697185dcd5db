/**
 * Incoming Spot messages that no query waits for, as spotlib's
 * `runHandler`: the handler of the recipient's routing segment runs on the
 * body, decrypted and verified against the sender's IDCard when it is a
 * bottle; its result goes back to the sender with the same message id,
 * flags response (and error when it threw), sender `/noreply`, encrypted to
 * the sender when the message was a bottle. Responses are never answered.
 * Also the default handlers `ping`, `version`, `finger`, `check_update` and
 * `idcard_update`.
 *
 * @module
 */

import { detectRuntime } from "../core/runtime/detect.ts";
import { IDCard } from "./bottle/mod.ts";
import type { PrivateKey } from "./crypto/mod.ts";
import type { SpotHandler, SpotIncomingMessage } from "./options.ts";
import {
  encodePacket,
  type InstantMessage,
  MESSAGE_FLAG_ERROR,
  MESSAGE_FLAG_NOT_BOTTLE,
  MESSAGE_FLAG_RESPONSE,
  routingSegment,
} from "./proto/mod.ts";
import { openMessage, sealMessage } from "./_seal.ts";

/** What the inbound side needs from the client. */
export interface InboundContext {
  /** The client's key. */
  key: PrivateKey;
  /** The endpoint's handler, if any. */
  handler(endpoint: string): SpotHandler | undefined;
  /** The verified IDCard of a `k.` address (cached). */
  idcard(address: string): Promise<IDCard>;
  /** Forgets a cached card whose key did not verify. */
  forget(address: string): void;
  /** Sends an encoded packet. */
  post(bytes: Uint8Array): void;
  /** Reports a message that could not be handled. */
  failed(error: unknown): void;
}

const encoder = new TextEncoder();

function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

/**
 * Runs the handler for a message and sends its answer.
 *
 * @param context The client's side of it.
 * @param message The message.
 * @returns Once answered (or dropped).
 * @throws Never: failures go to `context.failed`.
 *
 * @example
 * ```ts
 * import { handleIncoming } from "./_inbound.ts";
 * import type { InstantMessage } from "./proto/mod.ts";
 *
 * declare const context: Parameters<typeof handleIncoming>[0];
 * declare const message: InstantMessage;
 * await handleIncoming(context, message);
 * ```
 */
export async function handleIncoming(
  context: InboundContext,
  message: InstantMessage,
): Promise<void> {
  const endpoint = routingSegment(message.recipient);
  const handler = endpoint === null ? undefined : context.handler(endpoint);
  if (handler === undefined) return;
  const bottled = (message.flags & MESSAGE_FLAG_NOT_BOTTLE) === 0;
  let card: IDCard | undefined;
  const incoming: SpotIncomingMessage = {
    id: message.id.slice(),
    flags: message.flags,
    recipient: message.recipient,
    sender: message.sender,
    body: message.body,
    bottled,
    encrypted: false,
  };
  try {
    if (bottled) {
      const address = message.sender.split("/")[0];
      card = await context.idcard(address);
      let opened;
      try {
        opened = await openMessage(context.key, card, message.body, message.sender);
      } catch (error) {
        if ((error as { code?: string }).code === "wrong_signer") context.forget(address);
        throw error;
      }
      incoming.body = opened.body;
      incoming.encrypted = opened.encrypted;
      incoming.senderCard = card;
    }
  } catch (error) {
    context.failed(error);
    return;
  }
  let flags = MESSAGE_FLAG_RESPONSE;
  let answer: Uint8Array | undefined;
  try {
    const result = await handler(incoming);
    if (result !== null && result !== undefined) answer = toBytes(result);
  } catch (error) {
    flags |= MESSAGE_FLAG_ERROR;
    answer = encoder.encode(error instanceof Error ? error.message : String(error));
  }
  if ((message.flags & MESSAGE_FLAG_RESPONSE) !== 0 || answer === undefined) return;
  try {
    const body = bottled ? await sealMessage(context.key, card, answer) : answer;
    if (!bottled) flags |= MESSAGE_FLAG_NOT_BOTTLE;
    context.post(encodePacket({
      type: "message",
      message: { id: incoming.id, flags, recipient: message.sender, sender: "/noreply", body },
    }));
  } catch (error) {
    context.failed(error);
  }
}

/** What the default handlers need from the client. */
export interface DefaultHandlerHost {
  /** The client's signed IDCard. */
  signedIDCard(): Uint8Array;
  /** Keeps a card from an `idcard_update`. */
  updateIDCard(card: IDCard): void;
  /** Told of a `check_update` request. */
  checkUpdate(): void;
}

/** The most bytes `ping` echoes, as spotlib. */
export const PING_ECHO_BYTES = 128;

/**
 * The handlers every client has: `ping` echoes up to 128 bytes, `version`
 * names the library and runtime, `finger` answers the signed IDCard,
 * `check_update` answers nothing, `idcard_update` loads and caches the card.
 *
 * @param host The client's side of them.
 * @returns The handlers by endpoint.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { defaultHandlers } from "./_inbound.ts";
 *
 * const handlers = defaultHandlers({ signedIDCard: () => new Uint8Array(), updateIDCard: () => {}, checkUpdate: () => {} });
 * console.log([...handlers.keys()]); // ["ping", "version", "finger", "check_update", "idcard_update"]
 * ```
 */
export function defaultHandlers(host: DefaultHandlerHost): Map<string, SpotHandler> {
  const runtime = detectRuntime();
  return new Map<string, SpotHandler>([
    ["ping", (message) => message.body.slice(0, PING_ECHO_BYTES)],
    ["version", () => `edgewire spot, ${runtime.name} ${runtime.version}`.trimEnd()],
    ["finger", () => host.signedIDCard()],
    ["check_update", () => {
      host.checkUpdate();
      return null;
    }],
    ["idcard_update", async (message) => {
      if (message.body.length === 0) throw new Error("empty ID card data received");
      host.updateIDCard(await IDCard.load(message.body.slice()));
      return null;
    }],
  ]);
}
