/**
 * Runs the Spot clients once, through `exerciseSpot` of `_spot_exercise.ts`,
 * in whatever runtime executes the bundle of this file, and prints the
 * report as one JSON line. The relay's WebSocket URL comes from
 * `EDGEWIRE_SPOT_URL` and the run's label from `EDGEWIRE_RUN_LABEL`, read
 * through the package's portable `readEnv`, so this file names no runtime.
 *
 * @module
 */

import { readEnv } from "../../src/core/runtime/mod.ts";
import { exerciseSpot } from "./_spot_exercise.ts";

const url = readEnv("EDGEWIRE_SPOT_URL");
const label = readEnv("EDGEWIRE_RUN_LABEL");
if (!url || !label) {
  throw new Error("Set EDGEWIRE_SPOT_URL and EDGEWIRE_RUN_LABEL before running this entry");
}
console.log(JSON.stringify(await exerciseSpot(url, label)));
