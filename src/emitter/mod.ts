/**
 * Emitter: publish and subscribe over MQTT 3.1.1 on the standard `WebSocket`,
 * compatible with an Emitter broker (emitter.io, or `@edgewire/sdk/server`),
 * from Deno, Bun, Node 22, browsers and Workers. {@linkcode EmitterClient}
 * keeps the connection alive, reconnects with backoff and resubscribes,
 * queues publishes while offline, joins share groups, and answers the
 * broker's calls (`keygen`, `keyban`, `link`, `me`, `presence`, `history`)
 * as promises.
 *
 * @example Publish to yourself with a key made from the master key
 * ```ts
 * import { EmitterClient } from "@edgewire/sdk/emitter";
 *
 * const client = new EmitterClient({ endpoint: "ws://127.0.0.1:8080/" });
 * await client.connect();
 * const { key } = await client.keygen({ key: "MASTER_KEY", channel: "chat/", type: "rw" });
 * const chat = await client.subscribe({ key, channel: "chat/" });
 * await client.publish({ key, channel: "chat/", message: { hi: 1 }, qos: 1 });
 * for await (const message of chat) {
 *   console.log(message.asObject()); // { hi: 1 }
 *   break;
 * }
 * await client.disconnect();
 * ```
 *
 * @module
 */

// Timeouts, aborts, lost connections and bad options are the core's classes, shared by every client
export {
  AbortedError,
  EdgewireError,
  type EdgewireErrorOptions,
  InvalidArgumentError,
  NetworkError,
  TimeoutError,
} from "../core/errors.ts";
// The types the client's options and statistics name, so this entry point documents on its own
export type { BackoffOption } from "../core/_backoff_option.ts";
export type { Jitter } from "../core/backoff.ts";
export type { QueueStats } from "../core/queue.ts";
export { EmitterClient } from "./client.ts";
export { EmitterConnectError, EmitterSubscribeError } from "./errors.ts";
export { EmitterHistoryMessage, EmitterMessage } from "./message.ts";
export { MqttProtocolError, type MqttProtocolProblem } from "./mqtt/errors.ts";
export type {
  EmitterCallOptions,
  EmitterClientOptions,
  EmitterConnectOptions,
  EmitterEvents,
  EmitterHistoryRequest,
  EmitterKeybanRequest,
  EmitterKeybanResponse,
  EmitterKeygenRequest,
  EmitterKeygenResponse,
  EmitterLinkPublishRequest,
  EmitterLinkRequest,
  EmitterLinkResponse,
  EmitterMeResponse,
  EmitterPresenceEvent,
  EmitterPresenceMember,
  EmitterPresenceRequest,
  EmitterPresenceResponse,
  EmitterPublishRequest,
  EmitterShareSubscribeRequest,
  EmitterSubscribeRequest,
  EmitterUnsubscribeRequest,
} from "./options.ts";
export { EMITTER_STATUS, EmitterError, type EmitterStatus } from "./security/errors.ts";
export { EmitterSubscription } from "./subscription.ts";
