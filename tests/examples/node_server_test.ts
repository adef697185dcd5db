import assert from "node:assert/strict";
import { exercise, serveProcess, tempDir } from "./_served.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const EXAMPLE = `${ROOT}examples/node`;
const REQUIRED = Deno.env.get("EDGEWIRE_REQUIRE_RUNTIMES") === "1";

/** The first Node with node:sqlite (22.5+): the one .ci/run installs, else `node` on the PATH. */
function findNode(): string | undefined {
  for (const candidate of [`${ROOT}.tools/node22/node_modules/.bin/node`, "node"]) {
    try {
      const { success, stdout } = new Deno.Command(candidate, {
        args: ["--version"],
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      const [major, minor] = new TextDecoder().decode(stdout).slice(1).split(".").map(Number);
      if (success && (major > 22 || (major === 22 && minor >= 5))) return candidate;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

const node = findNode();
const dependencies = installed(`${EXAMPLE}/node_modules/@hono/node-server`);

Deno.test({
  name: "the Node example serves every module behind @hono/node-server and stops on SIGTERM",
  ignore: (node === undefined || !dependencies) && !REQUIRED,
  sanitizeResources: false,
  async fn() {
    assert.ok(node, "Node 22.5+ is not installed; .ci/run installs it in .tools/node22");
    assert.ok(dependencies, "examples/node has no node_modules; .ci/run runs npm ci there");
    // The example is built and run from a copy, so the test writes nothing into the checkout
    await using dir = await tempDir();
    for (const file of ["package.json", "server.mjs"]) {
      await Deno.copyFile(`${EXAMPLE}/${file}`, `${dir.path}/${file}`);
    }
    await Deno.symlink(`${EXAMPLE}/node_modules`, `${dir.path}/node_modules`);
    const build = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "node",
        "-o",
        `${dir.path}/dist/edgewire.mjs`,
        `${EXAMPLE}/_bundle_entry.ts`,
      ],
      cwd: EXAMPLE,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(build.success, new TextDecoder().decode(build.stderr));

    await using served = await serveProcess(node, [`${dir.path}/server.mjs`], {
      EDGEWIRE_PORT: "0",
      EDGEWIRE_DB: `${dir.path}/node.db`,
      EDGEWIRE_ADMIN_KEY: "node-admin-key",
      EDGEWIRE_DIFFICULTY: "2",
      EDGEWIRE_HONCH_PROJECT_KEYS: "phc_node",
      EDGEWIRE_MIGAS_PROJECTS: "acme/tool@2.0.0",
      EDGEWIRE_MIGAS_BAD_VERSIONS: "acme/tool@1.0.0",
    });
    const check = await exercise(served.base, "node-admin-key", "phc_node", "acme/tool");
    assert.deepEqual("flagged" in check && [check.latest, check.flagged], ["2.0.0", true]);

    const { code, stdout, stderr } = await served.stop("SIGTERM");
    assert.equal(code, 0, stderr);
    assert.match(stdout, /SIGTERM: stopping\nStopped\n$/);
    assert.ok((await Deno.stat(`${dir.path}/node.db`)).isFile);
  },
});
