/**
 * Idempotency keys for requests that record something: the standard
 * `Idempotency-Key` header (IETF httpapi draft), one fresh key per record,
 * reused by every retry of that record so the server can store it once.
 *
 * @module
 */

/** The request header that carries the key. */
export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

/**
 * Makes a new idempotency key: a random UUID.
 *
 * @param randomUUID The UUID source.
 * @returns A key never used before.
 * @throws {TypeError} When `randomUUID` is left out and the runtime has no `crypto.randomUUID`.
 *
 * @example
 * ```ts
 * import { IDEMPOTENCY_KEY_HEADER, newIdempotencyKey } from "@edgewire/sdk";
 *
 * const headers = { [IDEMPOTENCY_KEY_HEADER]: newIdempotencyKey() };
 * console.log(headers["Idempotency-Key"].length); // 36
 * ```
 */
export function newIdempotencyKey(randomUUID: () => string = () => crypto.randomUUID()): string {
  return randomUUID();
}
