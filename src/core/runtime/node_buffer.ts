/**
 * Node's `Buffer`, for the npm clients that accept binary arguments only as
 * one (the Redis client checks `instanceof Buffer`). Only
 * `@edgewire/sdk/server/redis` imports it, and it runs where `node:` modules
 * do (Deno, Node, Bun), as its client needs `node:net` anyway.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/**
 * Views bytes as a Node `Buffer`, without copying them.
 *
 * @param bytes The bytes.
 * @returns A `Buffer` over the same memory, typed as the `Uint8Array` it is.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { asNodeBuffer } from "./node_buffer.ts";
 *
 * const view = asNodeBuffer(new Uint8Array([1, 2]));
 * console.log(view.length); // 2
 * ```
 */
export function asNodeBuffer(bytes: Uint8Array): Uint8Array {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
