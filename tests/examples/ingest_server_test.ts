import assert from "node:assert/strict";
import { exercise, serveTask as serve, serveTaskFails, tempDir } from "./_served.ts";

Deno.test({
  name: "deno task serve takes every setting from the environment and stops on SIGTERM",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using served = await serve({
      EDGEWIRE_PORT: "0",
      EDGEWIRE_DB: `${dir.path}/serve.db`,
      EDGEWIRE_ADMIN_KEY: "operator-chosen-admin-key",
      EDGEWIRE_DIFFICULTY: "2",
      EDGEWIRE_HONCH_PROJECT_KEYS: "phc_first,phc_operator_chosen",
      EDGEWIRE_MIGAS_PROJECTS: "acme/tool@2.0.0,acme/other",
      EDGEWIRE_MIGAS_BAD_VERSIONS: "acme/tool@1.0.0",
      EMITTER_LICENSE: "zT83oDV0DWY5_JysbSTPTDr8KB0AAAAAAAAAAAAAAAI:1",
      XDG_DATA_HOME: `${dir.path}/data`,
    });
    assert.match(served.banner, /difficulty +2/);
    assert.match(served.banner, /Honch keys +2 accepted/);
    assert.doesNotMatch(served.banner, /operator-chosen-admin-key|phc_operator_chosen|Generated/);

    const check = await exercise(
      served.base,
      "operator-chosen-admin-key",
      "phc_operator_chosen",
      "acme/tool",
    );
    assert.deepEqual(
      "flagged" in check && [check.latest, check.flagged],
      ["2.0.0", true],
      "the project's latest and bad versions come from the environment",
    );

    const { code, stdout, stderr } = await served.stop("SIGTERM");
    assert.equal(code, 0, stderr);
    assert.match(stdout, /SIGTERM: stopping\nStopped\n$/);
    assert.doesNotMatch(stderr, /error|warn/i);
    assert.ok((await Deno.stat(`${dir.path}/serve.db`)).isFile);
    await assert.rejects(Deno.stat(`${dir.path}/data`), Deno.errors.NotFound);
  },
});

Deno.test({
  name: "without keys, serve generates both, prints them once, and they work; SIGINT stops it",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using served = await serve({
      EDGEWIRE_PORT: "0",
      EDGEWIRE_DIFFICULTY: "1",
      EDGEWIRE_MIGAS_PROJECTS: "acme/tool",
      XDG_DATA_HOME: dir.path,
    });
    const adminKey = served.banner.match(/^ {2}EDGEWIRE_ADMIN_KEY=(\S+)$/m)?.[1];
    const honchKey = served.banner.match(/^ {2}EDGEWIRE_HONCH_PROJECT_KEYS=(\S+)$/m)?.[1];
    assert.ok(adminKey && honchKey, served.banner);
    await exercise(served.base, adminKey, honchKey, "acme/tool");

    const { code, stdout } = await served.stop("SIGINT");
    assert.equal(code, 0);
    assert.match(stdout, /Stopped\n$/);
    assert.equal(stdout.split(adminKey).length, 2, "the admin key is printed exactly once");
    const database = `${dir.path}/edgewire/edgewire.db`;
    assert.ok((await Deno.stat(database)).isFile, "the default database is in XDG_DATA_HOME");
    assert.ok(served.banner.includes(database));
  },
});

Deno.test("a bad variable stops serve with exit code 2 and a message naming it, no stack trace", async () => {
  const { code, stdout, stderr: text } = await serveTaskFails({
    EDGEWIRE_DB: ":memory:",
    EDGEWIRE_PORT: "eighty",
    EDGEWIRE_MIGAS_BAD_VERSIONS: "acme/tool@1.0.0",
  });
  assert.equal(code, 2, text);
  assert.equal(stdout, "");
  assert.deepEqual(text.trimEnd().split("\n"), [
    "Cannot start the Edgewire reference server:",
    '  - EDGEWIRE_PORT must be an integer in 0..65535, such as 8787, or 0 for any free port: current value is "eighty"',
    "  - EDGEWIRE_MIGAS_BAD_VERSIONS entry 1 names acme/tool, which EDGEWIRE_MIGAS_PROJECTS does not list: add it there",
  ]);
});

Deno.test({
  name: "a database path serve cannot open stops it with exit code 2 naming EDGEWIRE_DB",
  async fn() {
    await using dir = await tempDir();
    const { code, stderr: text } = await serveTaskFails({
      EDGEWIRE_DB: `${dir.path}/missing/dir/x.db`,
    });
    assert.equal(code, 2, text);
    assert.match(text, /^Cannot open the database .*set EDGEWIRE_DB to a writable file path/);
    assert.doesNotMatch(text, /\n\s+at /, "no stack trace");
  },
});
