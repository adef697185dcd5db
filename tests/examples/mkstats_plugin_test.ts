import assert from "node:assert/strict";
import { startServer } from "../e2e/_server.ts";

const SCRIPT = new URL("../../examples/mkstats_plugin.ts", import.meta.url).pathname;

Deno.test({
  name: "the mkStats plugin example keeps its token in the data directory, not the current one",
  sanitizeResources: false,
  async fn() {
    await using running = startServer({ now: Date.now });
    const cwd = await Deno.makeTempDir({ prefix: "edgewire-plugin-cwd-" });
    const data = await Deno.makeTempDir({ prefix: "edgewire-plugin-data-" });
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", SCRIPT, `${running.base}/api`],
        cwd,
        env: { NO_COLOR: "1", XDG_DATA_HOME: data },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(child.stderr).text();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let stdout = "";
      while (!stdout.includes("until Ctrl-C")) {
        const { value, done } = await reader.read();
        if (done) assert.fail(`the plugin exited early: ${stdout}${await stderr}`);
        stdout += value;
      }
      child.kill("SIGINT");
      for (let r = await reader.read(); !r.done; r = await reader.read()) stdout += r.value;
      const { code } = await child.status;
      assert.equal(code, 0, await stderr);
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
