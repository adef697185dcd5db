/**
 * The device batch the Honch benches send: a few event names, numeric
 * readings and a reserved property under the seven required context strings.
 *
 * @module
 */

import type { WireBatch } from "../src/honch/wire_v2.ts";
import { toWireValue } from "../src/honch/wire_value.ts";

const BASE = 1_700_000_000_000;
const context = [
  ["distinct_id", 1],
  ["$device_id", 2],
  ["$device_model", 3],
  ["$firmware_version", 4],
  ["$sdk_platform", 5],
  ["$sdk_version", 6],
  ["$environment", 7],
].map(([value, id]) => ({ id: id as number, value: toWireValue(`${value}-value`) }));

/**
 * A realistic device batch of `count` events.
 *
 * @param count How many events.
 * @returns The batch, ready for `encodeMessage`.
 */
export function deviceBatch(count: number): WireBatch {
  const names = ["sensor_reading", "button_pressed", "wifi_connected", "ota_progress"];
  return {
    baseTimeMs: BASE,
    context,
    events: Array.from({ length: count }, (_, i) => ({
      name: names[i % names.length],
      timestampMs: BASE + i * 250,
      properties: [
        { key: "$battery_level", value: toWireValue(90 - (i % 40)) },
        { key: "temperature", value: toWireValue(21.5 + (i % 7) / 10) },
        { key: "slot", value: toWireValue(i % 4) },
        { key: "ok", value: toWireValue(i % 5 !== 0) },
      ],
    })),
  };
}
