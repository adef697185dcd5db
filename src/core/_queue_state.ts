/**
 * The JSON a {@linkcode BoundedQueue} persists (version 1: the items, oldest
 * first, and the drop counters), and reading it back without trusting it:
 * anything that is not such a state is reported as corrupt, never thrown.
 * Internal to the queue.
 *
 * @module
 */

/** What is stored under the queue's key. */
export interface PersistedState {
  version: 1;
  items: unknown[];
  dropped: number;
  droppedByReason: Record<string, number>;
}

/** A stored state read back: its items, and the drop counters that are counts. */
export interface RestoredState {
  items: unknown[];
  droppedByReason: [reason: string, count: number][];
}

/**
 * Encodes a queue's state for storage.
 *
 * @param items The queued items, oldest first.
 * @param dropped How many items were dropped in all.
 * @param droppedByReason The drop counters.
 * @returns The JSON text.
 */
export function encodeState(
  items: unknown[],
  dropped: number,
  droppedByReason: Map<string, number>,
): string {
  const state: PersistedState = {
    version: 1,
    items,
    dropped,
    droppedByReason: Object.fromEntries(droppedByReason),
  };
  return JSON.stringify(state);
}

/**
 * Reads a stored state.
 *
 * @param raw What storage returned.
 * @returns The state; `undefined` when nothing was stored; `"corrupt"` when
 * the text is not JSON or not a queue's state.
 */
export function parseState(raw: string | undefined | null): RestoredState | undefined | "corrupt" {
  if (raw === undefined || raw === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return "corrupt";
  }
  if (typeof value !== "object" || value === null) return "corrupt";
  const state = value as Partial<PersistedState>;
  const counters = state.droppedByReason;
  if (
    !Array.isArray(state.items) || typeof counters !== "object" || counters === null ||
    Array.isArray(counters)
  ) {
    return "corrupt";
  }
  return {
    items: state.items,
    // A counter that is not a positive count is ignored rather than poisoning the sums
    droppedByReason: Object.entries(counters).filter(([, n]) => Number.isSafeInteger(n) && n > 0),
  };
}
