import assert from "node:assert/strict";
import { detectContainer, gatherEnvironment } from "../../src/migas/environment.ts";
import { envOf } from "./_helpers.ts";

Deno.test("a /.dockerenv file means the container is docker", async () => {
  assert.equal(await detectContainer((path) => path === "/.dockerenv"), "docker");
});

Deno.test("a /singularity file means the container is apptainer", async () => {
  assert.equal(
    await detectContainer((path) => Promise.resolve(path === "/singularity")),
    "apptainer",
  );
});

Deno.test("docker wins when both probe files exist", async () => {
  assert.equal(await detectContainer(() => true), "docker");
});

Deno.test("no probe files, no probe, or a throwing probe mean an unknown container", async () => {
  assert.equal(await detectContainer(() => false), "unknown");
  assert.equal(await detectContainer(undefined), "unknown");
  assert.equal(
    await detectContainer(() => Promise.reject(new Error("PermissionDenied"))),
    "unknown",
  );
});

Deno.test("the environment names javascript, the runtime and its version, and the CI user type", async () => {
  const environment = await gatherEnvironment({ env: envOf({ GITLAB_CI: "true" }) });
  assert.equal(environment.language, "javascript");
  assert.equal(environment.runtime, "deno");
  assert.equal(environment.language_version, Deno.version.deno);
  assert.equal(environment.platform, Deno.build.os === "windows" ? "win32" : Deno.build.os);
  assert.equal(environment.is_ci, true);
  assert.equal(environment.user_type, "ci");
  assert.equal(environment.container, "unknown");
});

Deno.test("outside CI the user type is general unless one is given", async () => {
  assert.equal((await gatherEnvironment({ env: envOf({}) })).user_type, "general");
  assert.equal((await gatherEnvironment({ env: envOf({}), userType: "dev" })).user_type, "dev");
});
