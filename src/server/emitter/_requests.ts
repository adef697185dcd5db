/**
 * The broker's API, reached by publishing JSON to `emitter/<name>/`: keygen,
 * keyban, link, me, presence and history, each reading its body the way Go's
 * `encoding/json` does and answering in the real broker's shapes (the session
 * adds `req`). An unknown name answers 404. Internal.
 *
 * @module
 */

import { readGoJson } from "../../emitter/security/_go_json.ts";
import { authorize } from "../../emitter/security/authorize.ts";
import {
  channelSafeString,
  channelString,
  type EmitterChannel,
  makeChannel,
  parseChannel,
} from "../../emitter/security/channel.ts";
import { EMITTER_STATUS, type EmitterStatus } from "../../emitter/security/errors.ts";
import { keygen, readKeygenRequest } from "../../emitter/security/keygen.ts";
import { PERMISSION } from "../../emitter/security/permissions.ts";
import { type BrokerCore, type CoreSession, PRESENCE_WORD } from "./_core.ts";
import { channelSsid } from "./_pubsub.ts";
import { loadMessages, messageQuery } from "./_storage.ts";

/** An answer body, without `req`. */
export type RequestAnswer = Record<string, unknown>;

/** The session fields the requests read and change. */
export interface RequestSession extends CoreSession {
  /** The links, by name, to the full topic. */
  readonly links: Map<string, string>;
}

const LINK_NAME = /^[a-zA-Z0-9]{1,2}$/;
/** The most links one connection holds, and their most characters in all (the real broker has no cap). */
const MAX_LINKS = 256;
const MAX_LINK_BYTES = 65_536;

function refusal(status: EmitterStatus): RequestAnswer {
  return { status: status.status, message: status.message };
}

/** Encodes bytes as standard base64, as Go's JSON encodes `[]byte`. */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function fromBase64(text: string): Uint8Array | undefined {
  try {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

/** Reads a JSON object body, `{}` for `null`, `undefined` when it is not JSON or not an object. */
function readObject(payload: Uint8Array): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(payload));
    if (parsed === null) return {};
    if (typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
    return parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A field found as Go finds it: the exact name first, else any case. */
function goField(record: Record<string, unknown>, name: string): unknown {
  if (name in record) return record[name];
  const found = Object.keys(record).find((n) => n.toLowerCase() === name);
  return found === undefined ? undefined : record[found];
}

/**
 * Answers one API request.
 *
 * @param core The broker.
 * @param session The asking connection.
 * @param channel The parsed `emitter/<name>/` topic.
 * @param payload The JSON body.
 * @returns The answer, or a promise of it for requests that wait on the store.
 */
export function handleRequest(
  core: BrokerCore,
  session: RequestSession,
  channel: EmitterChannel,
  payload: Uint8Array,
): RequestAnswer | Promise<RequestAnswer> {
  if (channel.query.length !== 1) return refusal(EMITTER_STATUS.notFound);
  switch (channel.channel) {
    case "keygen/":
      return onKeygen(core, session, payload);
    case "keyban/":
      return onKeyban(core, payload);
    case "link/":
      return onLink(core, session, payload);
    case "me/":
      return onMe(session);
    case "presence/":
      return onPresence(core, session, payload);
    case "history/":
      return onHistory(core, payload);
    default:
      return refusal(EMITTER_STATUS.notFound);
  }
}

function onKeygen(core: BrokerCore, session: RequestSession, payload: Uint8Array): RequestAnswer {
  const request = readKeygenRequest(payload);
  if (request === undefined) return refusal(EMITTER_STATUS.badRequest);
  const result = keygen({
    ...core.security,
    cipher: core.cipher,
    connectionId: session.id,
    random: core.options.randomBytes,
  }, request);
  if (!result.ok) return refusal(result.error);
  return { status: 200, key: result.key, channel: result.channel };
}

function onKeyban(core: BrokerCore, payload: Uint8Array): RequestAnswer | Promise<RequestAnswer> {
  const request = readGoJson(payload, { secret: "string", target: "string", banned: "bool" });
  if (request === undefined) return refusal(EMITTER_STATUS.badRequest);
  const secret = core.cipher.decryptKey(request.secret);
  if (secret === undefined || secret.isExpired(core.now()) || !secret.isMaster) {
    return refusal(EMITTER_STATUS.unauthorized);
  }
  const target = core.cipher.decryptKey(request.target);
  if (target === undefined || target.contract !== secret.contract) {
    return refusal(EMITTER_STATUS.unauthorized);
  }
  return core.setBan(request.target, request.banned).then(
    () => ({ status: 200, banned: request.banned }),
    () => {
      core.counters.storeFailures++;
      return refusal(EMITTER_STATUS.serverError);
    },
  );
}

function onLink(core: BrokerCore, session: RequestSession, payload: Uint8Array): RequestAnswer {
  const request = readGoJson(payload, {
    name: "string",
    key: "string",
    channel: "string",
    subscribe: "bool",
  });
  if (request === undefined) return refusal(EMITTER_STATUS.badRequest);
  if (!LINK_NAME.test(request.name)) return refusal(EMITTER_STATUS.linkInvalid);
  const channel = makeChannel(request.key, request.channel);
  if (channel.type === "invalid") return refusal(EMITTER_STATUS.badRequest);
  const topic = channelString(channel);
  if (!session.links.has(request.name)) {
    let bytes = topic.length;
    for (const linked of session.links.values()) bytes += linked.length;
    if (session.links.size >= MAX_LINKS || bytes > MAX_LINK_BYTES) {
      return refusal(EMITTER_STATUS.forbidden);
    }
  }
  session.links.set(request.name, topic);
  const granted = authorize(core.security, channel, PERMISSION.read);
  if (granted !== undefined && request.subscribe) {
    core.subscribe(session, channelSsid(granted.key.contract, channel), channel.channel);
  }
  return { status: 200, name: request.name, channel: channelSafeString(channel) };
}

function onMe(session: RequestSession): RequestAnswer {
  if (session.links.size === 0) return { status: 200, id: session.id };
  const links: Record<string, string> = {};
  for (const name of [...session.links.keys()].sort()) {
    links[name] = channelSafeString(parseChannel(session.links.get(name)!));
  }
  return { status: 200, id: session.id, links };
}

function onPresence(core: BrokerCore, session: RequestSession, payload: Uint8Array): RequestAnswer {
  const request = readGoJson(payload, { key: "string", channel: "string" });
  const record = readObject(payload);
  if (request === undefined || record === undefined) return refusal(EMITTER_STATUS.badRequest);
  const status = goField(record, "status") ?? true;
  const changes = goField(record, "changes") ?? undefined;
  if (typeof status !== "boolean" || (changes !== undefined && typeof changes !== "boolean")) {
    return refusal(EMITTER_STATUS.badRequest);
  }
  const name = request.channel.endsWith("/") ? request.channel : `${request.channel}/`;
  const channel = parseChannel(`${request.key}/${name}`);
  if (channel.type === "invalid") return refusal(EMITTER_STATUS.badRequest);
  const granted = authorize(core.security, channel, PERMISSION.presence);
  if (granted === undefined || granted.key.hasPermission(PERMISSION.extend)) {
    return refusal(EMITTER_STATUS.unauthorized);
  }
  const ssid = channelSsid(granted.key.contract, channel);
  if (changes !== undefined) {
    const watch = [0, PRESENCE_WORD, ...ssid];
    if (changes) core.subscribe(session, watch, channel.channel);
    else core.unsubscribe(session, watch);
  }
  if (!status) return { status: 200, time: 0, event: "", channel: "", who: null };
  return {
    status: 200,
    time: Math.floor(core.now() / 1000),
    event: "status",
    channel: name,
    who: core.whoIs(ssid),
  };
}

async function onHistory(core: BrokerCore, payload: Uint8Array): Promise<RequestAnswer> {
  const request = readGoJson(payload, { key: "string", channel: "string" });
  const record = readObject(payload);
  if (request === undefined || record === undefined) return refusal(EMITTER_STATUS.badRequest);
  const start = goField(record, "startfromid");
  let startFromId: Uint8Array | undefined;
  if (start !== undefined && start !== null) {
    startFromId = typeof start === "string" ? fromBase64(start) : undefined;
    if (startFromId === undefined) return refusal(EMITTER_STATUS.badRequest);
  }
  // The real broker reads the key from `channel` ("KEY/a/b/"); a bare channel takes `key`
  const topic = request.key !== "" && !request.channel.startsWith(`${request.key}/`)
    ? `${request.key}/${request.channel}`
    : request.channel;
  const channel = parseChannel(topic);
  if (channel.type === "invalid") return refusal(EMITTER_STATUS.badRequest);
  const granted = authorize(core.security, channel, PERMISSION.load);
  if (granted === undefined) return refusal(EMITTER_STATUS.unauthorized);
  const query = messageQuery(core, channelSsid(granted.key.contract, channel), channel);
  if (query === undefined) return { messages: [] };
  try {
    const found = await loadMessages(core, query, startFromId);
    return {
      messages: found.map((m) => ({
        id: toBase64(m.id),
        channel: m.channel,
        payload: toBase64(m.payload),
      })),
    };
  } catch {
    core.counters.storeFailures++;
    return refusal(EMITTER_STATUS.serverError);
  }
}
