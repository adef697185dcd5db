/**
 * The Spot wire protocol on typed arrays: packets (ping and pong, the
 * handshake both ways, instant messages with their flags), addresses and
 * the routing rule of query answers, and the bodies of the relay's own
 * endpoints (`@/time`, `@/group_list`, the blob store) and of discovery.
 * Every length is checked; bytes that break a rule raise a
 * {@linkcode SpotProtocolError} whose `code` names the rule. Internal for
 * now: not an entry point of the package.
 *
 * @example Round-trip an instant message
 * ```ts
 * import { decodePacket, encodePacket, MESSAGE_FLAG_NOT_BOTTLE } from "./mod.ts";
 *
 * const bytes = encodePacket({
 *   type: "message",
 *   message: {
 *     id: crypto.getRandomValues(new Uint8Array(16)),
 *     flags: MESSAGE_FLAG_NOT_BOTTLE,
 *     recipient: "@/time",
 *     sender: "/query-1",
 *     body: new Uint8Array(),
 *   },
 * });
 * const packet = decodePacket(bytes, "relay");
 * if (packet.type === "message") console.log(packet.message.recipient); // "@/time"
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./packet.ts";
export * from "./message.ts";
export * from "./handshake.ts";
export * from "./address.ts";
export * from "./system_answers.ts";
export * from "./blob_body.ts";
export * from "./discovery.ts";
