/**
 * A storage whose every method rejects must never crash a client's
 * constructor: the failure is typed, counted, and the client carries on in
 * memory. The client is built in a child process, so an unhandled rejection
 * (which ends a Deno process) shows as the child's exit code and stderr,
 * not as a crash of this test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runChild } from "../_helpers/runtimes.ts";

const MKSTATS = new URL("../../src/mkstats/client.ts", import.meta.url).href;

Deno.test("new MkStatsClient with a storage whose every method rejects does not end the process", async () => {
  const program = `
    import { MkStatsClient } from ${JSON.stringify(MKSTATS)};
    const fail = () => Promise.reject(new Error("disk gone"));
    const storage = { get: fail, set: fail, delete: fail };
    const client = new MkStatsClient({
      pluginId: "my_plugin",
      pluginVersion: "1.0.0",
      storage,
      fetch: () => Promise.reject(new Error("no network in this test")),
    });
    // Unhandled rejections are reported once the microtask queue drains
    await new Promise((resolve) => setTimeout(resolve, 50));
    console.log(JSON.stringify(client.queueStats()));
  `;
  const ran = await runChild(Deno.execPath(), ["eval", "--no-check", "--quiet", program], {
    timeoutMs: 30_000,
  });
  assert.doesNotMatch(ran.stderr, /Uncaught|unhandled/i, "no unhandled rejection");
  assert.ok(ran.success, `the process ended with an error: ${ran.stderr}`);
  const stats = JSON.parse(ran.stdout.trim().split("\n").pop()!);
  assert.equal(stats.queued, 0);
});
