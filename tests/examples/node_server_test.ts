import assert from "node:assert/strict";
import { exercise, nodeExampleTest, serveNodeExample } from "./_served.ts";

const PACKAGES = ["@hono/node-server"];

Deno.test({
  name: "the Node example serves every module behind @hono/node-server and stops on SIGTERM",
  ...nodeExampleTest(PACKAGES),
  async fn() {
    // The example is built and run from a copy, so the test writes nothing into the checkout
    await using served = await serveNodeExample(PACKAGES, (dir) => ({
      EDGEWIRE_DB: `${dir}/node.db`,
      EDGEWIRE_ADMIN_KEY: "node-admin-key",
      EDGEWIRE_DIFFICULTY: "2",
      EDGEWIRE_HONCH_PROJECT_KEYS: "phc_node",
      EDGEWIRE_MIGAS_PROJECTS: "acme/tool@2.0.0",
      EDGEWIRE_MIGAS_BAD_VERSIONS: "acme/tool@1.0.0",
    }));
    const check = await exercise(served.base, "node-admin-key", "phc_node", "acme/tool");
    assert.deepEqual("flagged" in check && [check.latest, check.flagged], ["2.0.0", true]);

    const { code, stdout, stderr } = await served.stop("SIGTERM");
    assert.equal(code, 0, stderr);
    assert.match(stdout, /SIGTERM: stopping\nStopped\n$/);
    assert.ok((await Deno.stat(`${served.dir}/node.db`)).isFile);
  },
});
