/**
 * Runs the Emitter client once, through `exerciseEmitter` of
 * `_emitter_exercise.ts`, in whatever runtime executes the bundle of this
 * file, and prints the report as one JSON line. The broker's WebSocket URL
 * comes from `EDGEWIRE_EMITTER_URL`, its master key from
 * `EDGEWIRE_EMITTER_SECRET` and the run's label from `EDGEWIRE_RUN_LABEL`,
 * read through the package's portable `readEnv`, so this file names no runtime.
 *
 * @module
 */

import { readEnv } from "../../src/core/runtime/mod.ts";
import { exerciseEmitter } from "./_emitter_exercise.ts";

const url = readEnv("EDGEWIRE_EMITTER_URL");
const secret = readEnv("EDGEWIRE_EMITTER_SECRET");
const label = readEnv("EDGEWIRE_RUN_LABEL");
if (!url || !secret || !label) {
  throw new Error(
    "Set EDGEWIRE_EMITTER_URL, EDGEWIRE_EMITTER_SECRET and EDGEWIRE_RUN_LABEL before running this entry",
  );
}
console.log(JSON.stringify(await exerciseEmitter(url, secret, label)));
