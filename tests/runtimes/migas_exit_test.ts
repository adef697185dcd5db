import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createServer } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";

const SCRIPT = new URL("./_migas_track.ts", import.meta.url).pathname;

async function runChild(mode: "exit" | "error" | "signal") {
  const dir = await Deno.makeTempDir({ prefix: "edgewire-migas-" });
  const path = `${dir}/migas.db`;
  const server = createServer({
    store: new SqliteStore(path),
    migas: { projects: [{ project: "nipreps/fmriprep", latestVersion: "24.1.0" }] },
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", SCRIPT],
      env: {
        MIGAS_TEST_ENDPOINT: `http://127.0.0.1:${http.addr.port}`,
        MIGAS_TEST_MODE: mode,
        // The user id file goes in the test's folder, not the machine's real config
        XDG_CONFIG_HOME: dir,
        MIGAS_OPTOUT: "",
        DO_NOT_TRACK: "",
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (mode === "signal") {
      // Signal only once the start breadcrumb is out, so the hooks are in place
      const reader = child.stdout.getReader();
      const { value } = await reader.read();
      assert.match(new TextDecoder().decode(value), /started/);
      reader.releaseLock();
      child.kill("SIGINT");
    }
    const status = await child.output();
    const db = new DatabaseSync(path);
    const rows = db.prepare(
      "SELECT status, error_type, error_desc FROM migas_breadcrumbs ORDER BY id",
    )
      .all() as { status: string; error_type: string | null; error_desc: string | null }[];
    db.close();
    return { code: status.code, rows, stderr: new TextDecoder().decode(status.stderr) };
  } finally {
    await http.shutdown();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a CLI that ends normally sends R then exactly one C", async () => {
  const { code, rows } = await runChild("exit");
  assert.equal(code, 0);
  assert.deepEqual(rows.map((row) => row.status), ["R", "C"]);
});

Deno.test("a CLI that dies of an uncaught error sends R then F with the error's class and message", async () => {
  const { code, rows, stderr } = await runChild("error");
  assert.equal(code, 1);
  assert.match(stderr, /disk full/, "the error is still printed");
  assert.deepEqual(rows.map((row) => row.status), ["R", "F"]);
  assert.equal(rows[1].error_type, "TypeError");
  assert.equal(rows[1].error_desc, "disk full");
});

Deno.test({
  name: "a CLI interrupted by SIGINT sends R then S and exits with 130",
  ignore: Deno.build.os === "windows",
  async fn() {
    const { code, rows } = await runChild("signal");
    assert.equal(code, 130);
    assert.deepEqual(rows.map((row) => row.status), ["R", "S"]);
  },
});
