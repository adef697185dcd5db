/**
 * The bounds Honch capture keeps one client to: how far a message may expand
 * into JSON events (a multiple of its size, an absolute cap, a cap per event)
 * and how many partial multi-frame uploads, and declared bytes, a project, a
 * stream and a client address may hold open at once.
 *
 * @module
 */

import type { ExpandOptions } from "../../honch/expand.ts";
import type { HonchPartialQuota, HonchSettings } from "../_context.ts";
import { RequestRejection } from "../_validate.ts";
import type { HonchPartialCount, HonchPartialScope, HonchStore } from "./store.ts";

/**
 * The expansion bounds of one message: `maxExpansionRatio` times its size,
 * but never less than one full event nor more than `maxExpandedBytes`.
 *
 * @param settings The Honch settings.
 * @param compressedBytes The message's size (or the JSON body's), in bytes.
 * @returns The bounds for {@linkcode expandBatch}.
 */
export function expansionBounds(settings: HonchSettings, compressedBytes: number): ExpandOptions {
  const scaled = Math.max(
    settings.maxExpansionRatio * compressedBytes,
    settings.maxExpandedEventBytes,
  );
  return {
    maxBytes: Math.min(scaled, settings.maxExpandedBytes),
    maxEventBytes: settings.maxExpandedEventBytes,
  };
}

function over(usage: HonchPartialCount, quota: HonchPartialQuota, declared: number): boolean {
  return usage.count + 1 > quota.count || usage.bytes + declared > quota.bytes;
}

/**
 * Refuses an init frame when opening its partial upload would pass a quota.
 *
 * @param store The store holding the partials.
 * @param settings The Honch settings.
 * @param scope The upload's project, stream and client address.
 * @param now The server's current time, in milliseconds.
 * @param declared The total length the init frame declares.
 * @throws {RequestRejection} 429 `partial_quota_exceeded` with `Retry-After` (the Honch client
 * keeps the message and retries) naming the scope that is full.
 */
export async function enforcePartialQuotas(
  store: HonchStore,
  settings: HonchSettings,
  scope: HonchPartialScope,
  now: number,
  declared: number,
): Promise<void> {
  const usage = await store.honchPartialUsage(scope, now);
  const quotas = settings.partialQuotas;
  const full = over(usage.address, quotas.address, declared)
    ? "address"
    : over(usage.stream, quotas.stream, declared)
    ? "stream"
    : over(usage.project, quotas.project, declared)
    ? "project"
    : undefined;
  if (full === undefined) return;
  // Open partials finish or expire within partialTtlMs; a minute is a fair first wait.
  const seconds = Math.max(1, Math.min(60, Math.ceil(settings.partialTtlMs / 1000)));
  throw new RequestRejection(
    429,
    {
      error: "partial_quota_exceeded",
      scope: full,
      message: `Too many partial uploads are open for this ${full}: retry later`,
    },
    { "retry-after": String(seconds) },
  );
}

/** Runs tasks one at a time, in the order they were given. */
export class SerialGate {
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs `task` once every task given before it has settled.
   *
   * @param task The work.
   * @returns What `task` returned.
   */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
