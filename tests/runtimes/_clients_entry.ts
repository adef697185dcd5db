/**
 * Runs every client once, through `exerciseClients` of `_all_clients.ts`,
 * in whatever runtime executes the bundle of this file, and prints the
 * report as one JSON line. The server's origin comes from
 * `EDGEWIRE_REFERENCE_URL` and the run's label from `EDGEWIRE_RUN_LABEL`,
 * both read through the package's own portable `readEnv`, so this file
 * names no runtime.
 *
 * @module
 */

import { readEnv } from "../../src/core/runtime/mod.ts";
import { exerciseClients } from "./_all_clients.ts";

const base = readEnv("EDGEWIRE_REFERENCE_URL");
const label = readEnv("EDGEWIRE_RUN_LABEL");
if (!base || !label) {
  throw new Error("Set EDGEWIRE_REFERENCE_URL and EDGEWIRE_RUN_LABEL before running this entry");
}
console.log(JSON.stringify(await exerciseClients(base, label)));
