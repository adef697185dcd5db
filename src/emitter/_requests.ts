/**
 * The broker's API calls (`keygen`, `keyban`, `link`, `me`, `presence`,
 * `history`): their
 * JSON bodies, checked before sending, published at QoS 1 to
 * `emitter/<name>/`, and their answers, which the broker sends back on the same
 * topic (or on `emitter/error/`) to the asking connection, without a
 * subscription, with `req` set to the request's packet identifier. Presence
 * changes on `emitter/presence/` become `presence` events.
 *
 * @module
 */

import { Deadline } from "../core/deadline.ts";
import { AbortedError, EdgewireError, NetworkError, TimeoutError } from "../core/errors.ts";
import { integer, invalidArgument } from "../core/validate.ts";
import { publishTopic, subscribeTopic } from "./_topic.ts";
import { EmitterHistoryMessage } from "./message.ts";
import { EMITTER_STATUS, EmitterError } from "./security/errors.ts";
import type {
  EmitterCallOptions,
  EmitterHistoryRequest,
  EmitterKeybanRequest,
  EmitterKeygenRequest,
  EmitterLinkRequest,
  EmitterPresenceEvent,
  EmitterPresenceRequest,
} from "./options.ts";

/** The API calls that get an answer. */
export type ApiName = "keygen" | "keyban" | "link" | "me" | "presence" | "history";

/** A JSON body to send (none for `me`) and the secrets in it, kept out of error messages. */
export interface ApiBody {
  body?: unknown;
  secrets: string[];
}

/** Sends a QoS 1 publish; returns its packet identifier, or `undefined` when offline. */
export type ApiSend = (topic: string, payload: Uint8Array) => number | undefined;

interface Pending {
  name: ApiName;
  secrets: string[];
  resolve: (answer: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LINK = /^[a-zA-Z0-9]{1,2}$/;
const ANSWER_TOPIC = /^emitter\/(keygen|keyban|link|me|presence|history|error)\/?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function keyOf(value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new EmitterError(EMITTER_STATUS.unauthorized);
  }
  return value;
}

function flag(action: string, field: string, value: unknown, fallback?: boolean) {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "boolean") throw invalidArgument(action, field, "a boolean", value);
  return value;
}

/**
 * The body of keygen: `{key, channel, type, ttl}`.
 *
 * @throws {EmitterError} 401 for an empty key, 400 for a channel or type Emitter refuses.
 * @throws {InvalidArgumentError} When `ttl` is not an integer of 0 or more.
 */
export function keygenBody(request: EmitterKeygenRequest): ApiBody {
  const key = keyOf(request.key);
  const { channel } = request;
  if (typeof channel !== "string" || channel === "") {
    throw new EmitterError(EMITTER_STATUS.targetInvalid);
  }
  if (typeof request.type !== "string" || !/^[rwslpex]*$/.test(request.type)) {
    throw new EmitterError(EMITTER_STATUS.badRequest);
  }
  const ttl = integer("keygen", "ttl", request.ttl, 0, { min: 0 });
  return { body: { key, channel, type: request.type, ttl }, secrets: [key] };
}

/**
 * The body of keyban: `{secret, target, banned}`.
 *
 * @throws {EmitterError} 401 for an empty secret or target.
 * @throws {InvalidArgumentError} When `banned` is not a boolean.
 */
export function keybanBody(request: EmitterKeybanRequest): ApiBody {
  const secret = keyOf(request.secret);
  const target = keyOf(request.target);
  const banned = flag("keyban", "banned", request.banned);
  return { body: { secret, target, banned }, secrets: [secret, target] };
}

/**
 * The body of link: `{key, channel, name, private, subscribe}`, the channel
 * without its key and with its options (`?me=0&ttl=N`).
 *
 * @throws {EmitterError} 400 for a link name that is not 1 or 2 letters or digits
 * or a channel Emitter refuses, 401 for an empty key, 403 for wildcards.
 * @throws {InvalidArgumentError} When `subscribe`, `private` or `ttl` is unusable.
 */
export function linkBody(request: EmitterLinkRequest): ApiBody {
  linkName(request.name);
  const key = keyOf(request.key);
  const { topic } = publishTopic({ ...request, key });
  return {
    body: {
      key,
      channel: topic.slice(key.length + 1),
      name: request.name,
      private: flag("link", "private", request.private, false),
      subscribe: flag("link", "subscribe", request.subscribe),
    },
    secrets: [key],
  };
}

/**
 * The body of presence: `{key, channel, status, changes}`, `changes` only when given.
 *
 * @throws {EmitterError} 401 for an empty key, 400 for a channel Emitter refuses.
 * @throws {InvalidArgumentError} When `status` or `changes` is not a boolean.
 */
export function presenceBody(request: EmitterPresenceRequest): ApiBody {
  const key = keyOf(request.key);
  const { channel } = publishTopic({ key, channel: request.channel });
  const status = flag("presence", "status", request.status, true);
  const changes = request.changes === undefined
    ? undefined
    : flag("presence", "changes", request.changes);
  return { body: { key, channel, status, changes }, secrets: [key] };
}

/**
 * The body of history: `{key, channel, startFromID}`, where `channel` is the
 * whole topic with its key and options (`key/a/?last=5`), as the broker
 * parses it, and `startFromID` is only there when given.
 *
 * @throws {EmitterError} 401 for an empty key, 400 for a channel Emitter refuses.
 * @throws {InvalidArgumentError} When `last`, `from`, `until` or `startFromId` is unusable.
 */
export function historyBody(request: EmitterHistoryRequest): ApiBody {
  const key = keyOf(request.key);
  const { topic } = subscribeTopic({ ...request, key });
  const start = request.startFromId;
  if (start !== undefined && (typeof start !== "string" || start === "" || !BASE64.test(start))) {
    throw invalidArgument("history", "startFromId", "the id of a message history returned", start);
  }
  return { body: { key, channel: topic, startFromID: start }, secrets: [key] };
}

function base64Bytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Reads history's answer, `{messages: [{id, channel, payload}]}` with the id
 * and payload in base64 (`null` for none), into messages.
 *
 * @returns The messages, in the broker's order.
 * @throws {EdgewireError} `invalid_answer` when the answer does not have that shape.
 */
export function historyMessages(answer: Record<string, unknown>): EmitterHistoryMessage[] {
  const { messages } = answer;
  const invalid = (why: string) =>
    new EdgewireError(
      `Cannot read the Emitter broker's history answer as ${why}: check that the broker is Emitter`,
      { code: "invalid_answer" },
    );
  if (messages === null || messages === undefined) return [];
  if (!Array.isArray(messages)) throw invalid("'messages' is not a list");
  return messages.map((message: unknown) => {
    const { id, channel, payload } = (message ?? {}) as Record<string, unknown>;
    const text = (value: unknown) => (value === null || value === undefined ? "" : value);
    const idText = text(id);
    const payloadText = text(payload);
    if (
      typeof channel !== "string" || typeof idText !== "string" ||
      typeof payloadText !== "string" ||
      !BASE64.test(idText) || !BASE64.test(payloadText)
    ) {
      throw invalid("a message lacks a channel, or its id or payload is not base64");
    }
    return new EmitterHistoryMessage(idText, channel, base64Bytes(payloadText));
  });
}

/**
 * Checks a link name, the topic `publishWithLink` publishes to.
 *
 * @returns The name.
 * @throws {EmitterError} 400 with the broker's text when it is not 1 or 2 letters or digits.
 */
export function linkName(name: unknown): string {
  if (typeof name !== "string" || !LINK.test(name)) {
    throw new EmitterError(EMITTER_STATUS.linkInvalid);
  }
  return name;
}

function hide(message: string, secrets: string[]): string {
  let text = message;
  for (const secret of secrets) text = text.split(secret).join("[key]");
  return text;
}

/** The calls waiting for an answer, by packet identifier. */
export class ApiRequests {
  readonly #pending = new Map<number, Pending>();
  readonly #send: ApiSend;
  readonly #timeoutMs: number;
  readonly #onPresence: (event: EmitterPresenceEvent) => void;
  readonly #onRefusal: (req: number | undefined, error: EmitterError) => void;

  /**
   * @param send Publishes at QoS 1 on the current connection.
   * @param timeoutMs The client's deadline, for calls that give none.
   * @param onPresence Where presence changes go.
   * @param onRefusal Where a refusal on `emitter/error/` that answers no call goes, with its `req`.
   */
  constructor(
    send: ApiSend,
    timeoutMs: number,
    onPresence: (event: EmitterPresenceEvent) => void,
    onRefusal: (req: number | undefined, error: EmitterError) => void = () => {},
  ) {
    this.#send = send;
    this.#timeoutMs = timeoutMs;
    this.#onPresence = onPresence;
    this.#onRefusal = onRefusal;
  }

  /** Whether a packet identifier is held by a call waiting for its answer. */
  holds(packetId: number): boolean {
    return this.#pending.has(packetId);
  }

  /**
   * Sends one call and waits for its answer.
   *
   * @throws {EmitterError} When the broker answers with a status of 400 or more.
   * @throws {TimeoutError} When no answer comes in time.
   * @throws {AbortedError} When the signal aborts.
   * @throws {NetworkError} When offline, or the connection ends first.
   */
  async call<T>(name: ApiName, api: ApiBody, options: EmitterCallOptions): Promise<T> {
    const timeoutMs = integer(name, "timeoutMs", options.timeoutMs, this.#timeoutMs);
    const aborted = (reason: unknown) =>
      new AbortedError(`The Emitter '${name}' request was aborted`, { cause: reason });
    if (options.signal?.aborted) throw aborted(options.signal.reason);
    const payload = api.body === undefined
      ? new Uint8Array()
      : encoder.encode(JSON.stringify(api.body));
    const packetId = this.#send(`emitter/${name}/`, payload);
    if (packetId === undefined) {
      throw new NetworkError(
        `Cannot send the Emitter '${name}' request as the client is not connected: call connect() first`,
        { code: "not_connected" },
      );
    }
    let entry: Pending | undefined;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      entry = { name, secrets: api.secrets, resolve, reject };
      this.#pending.set(packetId, entry);
    });
    const deadline = new Deadline(timeoutMs, {
      signal: options.signal,
      onTimeout: (ms) =>
        new TimeoutError(
          `Cannot get the answer to '${name}' from the Emitter broker within ${ms} ms`,
          ms,
        ),
      onAbort: aborted,
    });
    try {
      return await deadline.race(answer) as T;
    } finally {
      deadline.end();
      if (this.#pending.get(packetId) === entry) this.#pending.delete(packetId);
    }
  }

  /**
   * Takes a message the broker published, when it is an API answer.
   *
   * @returns `true` for the API's topics (consumed, answered or ignored), else `false`.
   */
  receive(topic: string, payload: Uint8Array): boolean {
    const match = ANSWER_TOPIC.exec(topic);
    if (match === null) return false;
    let answer: unknown;
    try {
      answer = JSON.parse(decoder.decode(payload));
    } catch {
      return true; // Not an answer anyone can wait for
    }
    if (typeof answer !== "object" || answer === null || Array.isArray(answer)) return true;
    const fields = answer as Record<string, unknown>;
    if (
      match[1] === "presence" && (fields.event === "subscribe" || fields.event === "unsubscribe")
    ) {
      this.#onPresence(fields as unknown as EmitterPresenceEvent);
      return true;
    }
    const req = typeof fields.req === "number" ? fields.req : undefined;
    const pending = req === undefined ? undefined : this.#pending.get(req);
    if (pending === undefined && match[1] === "error") {
      // A refusal of something other than a call (a publish, a subscription): the client's to place
      const { status, message } = fields;
      if (typeof status === "number" && status >= 400) {
        this.#onRefusal(
          req,
          new EmitterError({ status, message: typeof message === "string" ? message : "" }),
        );
      }
      return true;
    }
    if (pending === undefined || (match[1] !== pending.name && match[1] !== "error")) return true;
    this.#pending.delete(fields.req as number);
    const { status, message } = fields;
    if (typeof status === "number" && status >= 400) {
      const text = typeof message === "string" ? hide(message, pending.secrets) : "";
      pending.reject(new EmitterError({ status, message: text }));
    } else {
      pending.resolve(fields);
    }
    return true;
  }

  /** Fails every waiting call: their answers cannot come on another connection. */
  failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
