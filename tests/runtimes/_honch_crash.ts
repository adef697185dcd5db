/**
 * A program that dies of an uncaught error, bundled for browsers and run
 * under Deno, Node and Bun by `honch_crash_test.ts`. With
 * `HONCH_CRASH_HOOK=1` it first installs Honch's error hook over a file
 * storage at `HONCH_CRASH_STATE`; `HONCH_CRASH_MODE` picks an uncaught
 * `exception` in a timer, an unhandled `rejection`, or an error thrown while
 * the `module` itself runs. It prints `ready` just before.
 *
 * @module
 */

import { HonchClient } from "../../src/honch/mod.ts";
import { privateFileStorage, readEnv } from "../../src/core/runtime/mod.ts";

const state = readEnv("HONCH_CRASH_STATE") ?? "";
const storage = privateFileStorage(state);
if (storage === undefined) throw new Error(`Cannot keep files at ${state}`);
const client = new HonchClient({
  apiKey: "phc_crash_test",
  deviceId: "dev_crash",
  deviceModel: "crash-test",
  firmwareVersion: "1.0.0",
  endpoint: readEnv("HONCH_CRASH_ENDPOINT") ?? "http://127.0.0.1:9",
  storage,
});
await client.ready();
if (readEnv("HONCH_CRASH_HOOK") === "1" && !client.installErrorHook()) {
  throw new Error("installErrorHook() answered false");
}
console.log("ready");

function failDeep(): never {
  throw new TypeError("disk full at sector 7");
}

const mode = readEnv("HONCH_CRASH_MODE");
if (mode === "rejection") {
  void Promise.reject(new RangeError("depth 12 is out of range"));
} else if (mode === "module") {
  failDeep();
} else {
  setTimeout(failDeep, 0);
}
