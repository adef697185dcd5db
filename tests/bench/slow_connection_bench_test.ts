/**
 * A smoke run of `bench/slow_connection_bench.ts` with 20 connections: the
 * script starts the real server, holds 20 partial bodies, and prints its
 * table with every one answered 408. Memory and timing figures are printed by
 * the script, never asserted here: they move with the machine. The run takes
 * the server's 10 s body deadline, which `deno task serve` cannot lower.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runChild } from "../_helpers/runtimes.ts";

const SCRIPT = new URL("../../bench/slow_connection_bench.ts", import.meta.url).pathname;

Deno.test({
  name: "the slow-connection bench holds 20 partial bodies and reports all 20 answered 408",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const { success, timedOut, stdout, stderr } = await runChild(
      Deno.execPath(),
      [
        "run",
        "-A",
        SCRIPT,
        "--connections",
        "20",
        "--content-length",
        "4000",
        "--sent-bytes",
        "1000",
        "--body-timeout-ms",
        "1000",
      ],
      { timeoutMs: 60_000 },
    );
    assert.ok(success && !timedOut, `the bench failed:\n${stdout}\n${stderr}`);
    const rows = new Map(
      [...stdout.matchAll(/^\| ([^|]+) \| ([^|]+) \|$/gm)].map(([, name, value]) => [name, value]),
    );
    assert.equal(rows.get("connections asked"), "20", stdout);
    assert.match(rows.get("connections holding a partial body") ?? "", /^20 \(/, stdout);
    assert.equal(rows.get("connections that failed to open or send"), "0", stdout);
    assert.equal(rows.get("answered 408"), "20", stdout);
    assert.equal(rows.get("other outcomes"), "none", stdout);
    for (
      const name of [
        "RSS baseline, after warm-up",
        "RSS peak during the run (sampled every 100 ms)",
      ]
    ) {
      assert.match(rows.get(name) ?? "", /^\d+\.\d MiB$/, `${name}: ${stdout}`);
    }
    assert.match(rows.get("peak / baseline") ?? "", /^\d+\.\d\d×$/, stdout);
  },
});
