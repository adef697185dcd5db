import assert from "node:assert/strict";
import { exercise, serveProcess } from "./_served.ts";
import {
  bundle,
  locateRuntime,
  REPOSITORY_ROOT as ROOT,
  REQUIRE_RUNTIMES,
  requireBinary,
} from "../_helpers/runtimes.ts";

const EXAMPLE = `${ROOT}examples/node`;

/** The first Node with node:sqlite (22.5+): the one .ci/run installs, else `node` on the PATH. */
const NODE = locateRuntime({
  title: "Node 22.5+",
  candidates: [`${ROOT}.tools/node22/node_modules/.bin/node`, "node"],
  accepts(version) {
    const [major, minor] = version.split(".").map(Number);
    return major > 22 || (major === 22 && minor >= 5);
  },
});

function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

const dependencies = installed(`${EXAMPLE}/node_modules/@hono/node-server`);

Deno.test({
  name: "the Node example serves every module behind @hono/node-server and stops on SIGTERM",
  ignore: (NODE.binary === undefined || !dependencies) && !REQUIRE_RUNTIMES,
  sanitizeResources: false,
  async fn() {
    const node = requireBinary(NODE);
    assert.ok(dependencies, "examples/node has no node_modules; .ci/run runs npm ci there");
    // The example is built and run from a copy, so the test writes nothing into the checkout
    await using built = await bundle(`${EXAMPLE}/_bundle_entry.ts`, {
      platform: "node",
      output: "dist/edgewire.mjs",
    });
    const dir = built.dir;
    for (const file of ["package.json", "server.mjs"]) {
      await Deno.copyFile(`${EXAMPLE}/${file}`, `${dir}/${file}`);
    }
    await Deno.symlink(`${EXAMPLE}/node_modules`, `${dir}/node_modules`);

    await using served = await serveProcess(node, [`${dir}/server.mjs`], {
      EDGEWIRE_PORT: "0",
      EDGEWIRE_DB: `${dir}/node.db`,
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
    assert.ok((await Deno.stat(`${dir}/node.db`)).isFile);
  },
});
