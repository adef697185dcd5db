/**
 * The delivery core: the drain engine, the three outcomes of a send, the
 * HTTP outcome policy and idempotency keys, as every client uses them.
 *
 * @module
 */

export * from "./outcome.ts";
export * from "./engine.ts";
export * from "./http_outcome.ts";
export * from "./idempotency.ts";
