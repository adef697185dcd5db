import assert from "node:assert/strict";
import { startServer } from "../e2e/_server.ts";
import { startChild } from "../_helpers/runtimes.ts";

const SCRIPT = new URL("../../examples/mkstats_plugin.ts", import.meta.url).pathname;

Deno.test({
  name: "the mkStats plugin example keeps its token in the data directory, not the current one",
  sanitizeResources: false,
  async fn() {
    await using running = startServer({ now: Date.now });
    const cwd = await Deno.makeTempDir({ prefix: "edgewire-plugin-cwd-" });
    const data = await Deno.makeTempDir({ prefix: "edgewire-plugin-data-" });
    try {
      const args = ["run", "-A", SCRIPT, `${running.base}/api`];
      const started = await startChild(Deno.execPath(), args, {
        cwd,
        env: { NO_COLOR: "1", XDG_DATA_HOME: data },
        ready: /until Ctrl-C/,
        timeoutMs: 60_000,
      });
      started.child.kill("SIGINT");
      const { code, stdout, stderr } = await started.ended;
      assert.equal(code, 0, stderr);
      assert.match(stdout, /Heartbeat stopped .*stopped: "aborted"/);

      const stats = await running.stats("my_plugin");
      assert.deepEqual(stats.events, [{ event: "plugin_started", version: "1.0.0", count: 1 }]);
      const kept = JSON.parse(await Deno.readTextFile(`${data}/edgewire/mkstats_plugin.json`));
      assert.ok(Object.keys(kept).length > 0, "the install token and identity are kept");
      assert.deepEqual([...Deno.readDirSync(cwd)], [], "nothing is written where it runs");
    } finally {
      await Deno.remove(cwd, { recursive: true });
      await Deno.remove(data, { recursive: true });
    }
  },
});
