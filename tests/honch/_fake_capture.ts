/**
 * A Honch capture endpoint in memory, reached through the client's
 * `transport` option: it reassembles the frames, decodes each complete
 * message back into the events the client queued, and answers either what a
 * test scripted for the next request or "accepted".
 *
 * @module
 */

import type {
  HonchTransport,
  HonchTransportRequest,
  HonchTransportResponse,
} from "../../src/honch/transport.ts";
import { decodeFrame, FrameAssembler } from "../../src/honch/frames.ts";
import { CONTEXT_KEY_IDS, decodeMessage, type WireBatch } from "../../src/honch/wire_v2.ts";
import { wireValueToJson } from "../../src/honch/wire_value.ts";

/** One event as capture received it, in the shape the client queued it. */
export interface ReceivedEvent {
  /** The event name. */
  name: string;
  /** Context id 1 of its message. */
  distinctId: string;
  /** Context id 8 of its message, when present. */
  sessionId?: string;
  /** Its properties as JSON values, in wire order. */
  properties: Record<string, unknown>;
}

/** What the next request gets: an answer, or a function that throws or answers. */
export type Scripted =
  | HonchTransportResponse
  | ((request: HonchTransportRequest) => Promise<HonchTransportResponse>);

/** The fake endpoint: pass `transport` to the client, read `requests`, `messages` and `events`. */
export class FakeCapture {
  /** Every request the client made, in order. */
  readonly requests: HonchTransportRequest[] = [];
  /** Every message accepted, decoded. */
  readonly messages: { messageId: number; batch: WireBatch }[] = [];
  /** Every event of the accepted messages, in order. */
  readonly events: ReceivedEvent[] = [];
  /** Answers for the next requests, first in first out; when empty, the request is accepted. */
  readonly script: Scripted[] = [];
  readonly #assemblers = new Map<number, FrameAssembler>();

  /** The transport to give the client. */
  readonly transport: HonchTransport = async (request) => {
    this.requests.push(request);
    const scripted = this.script.shift();
    if (typeof scripted === "function") return await scripted(request);
    if (scripted !== undefined) return scripted;
    const frame = decodeFrame(request.body);
    let assembler = this.#assemblers.get(frame.messageId);
    if (assembler === undefined) {
      assembler = new FrameAssembler();
      this.#assemblers.set(frame.messageId, assembler);
    }
    const result = assembler.push(frame);
    if (!result.complete) return { status: 202 };
    this.#assemblers.delete(frame.messageId);
    const batch = decodeMessage(result.message);
    this.messages.push({ messageId: frame.messageId, batch });
    this.events.push(...received(batch));
    return { status: 204 };
  };

  /** The names of the events received so far. */
  names(): string[] {
    return this.events.map((event) => event.name);
  }
}

/**
 * The string value of a context entry of a batch.
 *
 * @param batch The decoded batch.
 * @param key The context key, such as `"$sdk_version"`.
 * @returns Its value, or `undefined` when the batch has none.
 */
export function contextValue(batch: WireBatch, key: string): unknown {
  const entry = batch.context.find((candidate) => candidate.id === CONTEXT_KEY_IDS[key]);
  return entry === undefined ? undefined : wireValueToJson(entry.value);
}

function received(batch: WireBatch): ReceivedEvent[] {
  const distinctId = contextValue(batch, "distinct_id") as string;
  const sessionId = contextValue(batch, "$session_id") as string | undefined;
  return batch.events.map((event) => {
    const properties: Record<string, unknown> = {};
    for (const property of event.properties) {
      properties[property.key] = wireValueToJson(property.value);
    }
    const result: ReceivedEvent = { name: event.name, distinctId, properties };
    if (sessionId !== undefined) result.sessionId = sessionId;
    return result;
  });
}
