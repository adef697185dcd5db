/**
 * The mkStats client as the unit tests build it: one plugin, a stable device
 * id, a test endpoint, and the fetch the test scripts.
 *
 * @module
 */

import { MkStatsClient } from "../../src/mkstats/client.ts";
import type { MkStatsClientOptions } from "../../src/mkstats/options.ts";

/**
 * A client that sends through `fetch`; `extra` overrides any option.
 *
 * @param fetch The scripted fetch.
 * @param extra Options that replace the defaults.
 * @returns The client.
 */
export function client(
  fetch: typeof globalThis.fetch,
  extra: Partial<MkStatsClientOptions> = {},
): MkStatsClient {
  return new MkStatsClient({
    pluginId: "my_plugin",
    pluginVersion: "1.0.0",
    deviceId: "stable-device-id",
    endpoint: "http://mkstats.test/api",
    fetch,
    ...extra,
  });
}
