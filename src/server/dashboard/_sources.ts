/**
 * What the dashboard's pages read: the store (through its read methods
 * only, each bounded by a limit or a window of days), the Honch project keys' hashes the server was configured
 * with, the live Emitter broker and Spot relay when they have been started
 * (the dashboard never starts them), and the counters `/metrics` renders.
 *
 * @module
 */

import type { EmitterBroker } from "../emitter/broker.ts";
import type { SpotRelay } from "../spot/relay.ts";
import type { MetricsSnapshot } from "../_observe.ts";
import type { ServerStore } from "../store.ts";

/** Where the dashboard's figures come from. */
export interface DashboardSources {
  /** The server's clock, in milliseconds. */
  readonly now: () => number;
  /** When the server was created, in milliseconds, for rates since the start. */
  readonly startedAt: number;
  /** The open store. */
  store(): Promise<ServerStore>;
  /** The SHA-256 of each Honch project key, the only way to name a project to the store. */
  readonly honchProjectKeyHashes: readonly Uint8Array[];
  /** The Emitter broker, or `undefined` when nothing has used it yet. */
  emitter(): EmitterBroker | undefined;
  /** The Spot relay, or `undefined` when nothing has used it yet. */
  spot(): SpotRelay | undefined;
  /** The request and rejection counters. */
  metrics(): MetricsSnapshot;
}
