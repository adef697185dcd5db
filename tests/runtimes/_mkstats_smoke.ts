/**
 * Runs the mkStats client through a handshake, a ping and an event on
 * whatever runtime executes the bundle of this file. The server address
 * comes from MKSTATS_API_URL, read through the package's own portable
 * `readEnv`, so this file names no runtime.
 *
 * @module
 */

import { detectRuntime, MkStatsClient } from "../../mod.ts";
import { calibrate } from "../../src/pow/_select.ts";

const runtime = detectRuntime();
const client = new MkStatsClient({
  pluginId: "runtime_smoke",
  pluginVersion: "1.0.0",
  deviceId: `smoke-${runtime.name}`,
});
const token = await client.handshake();
const ping = await client.sendPing();
const event = await client.trackEvent(`ran_on_${runtime.name}`);
const { kernel, rates } = await calibrate();
console.log(JSON.stringify({
  runtime,
  apiUrl: client.apiUrl,
  tokenLength: token.length,
  ping,
  event,
  kernel: kernel.name,
  rates,
}));
