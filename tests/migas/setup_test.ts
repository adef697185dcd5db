import { MemoryStorage } from "../../src/core/storage.ts";
import assert from "node:assert/strict";
import {
  addBreadcrumb,
  addProject,
  checkProject,
  getUsage,
  setup,
  track,
} from "../../src/migas/setup.ts";
import { envOf, fakeFetch } from "./_helpers.ts";

// One test, because the module state is process-wide and tests must not depend on their order
Deno.test("before setup every function answers setup incomplete, and a later setup replaces the earlier", async () => {
  const notSetup = {
    success: false,
    errors: [{ message: "migas setup incomplete - did you call `setup()`?" }],
  };
  assert.deepEqual(await addBreadcrumb("owner/tool", "1.0.0"), notSetup);
  assert.deepEqual(await addProject("owner/tool", "1.0.0"), notSetup);
  assert.deepEqual(await checkProject("owner/tool", "1.0.0"), notSetup);
  assert.deepEqual(await getUsage("owner/tool", "2024-01-01"), notSetup);
  const early = track("owner/tool", "1.0.0");
  assert.deepEqual(await early.started, notSetup);
  assert.deepEqual(await early.finish(), notSetup);

  const first = fakeFetch();
  const second = fakeFetch();
  setup({
    storage: new MemoryStorage(),
    fileExists: () => false,
    endpoint: "http://first.test",
    env: envOf({}),
    fetch: first.fetch,
    logger: () => {},
  });
  await addBreadcrumb("owner/tool", "1.0.0");
  setup({
    storage: new MemoryStorage(),
    fileExists: () => false,
    endpoint: "http://second.test",
    env: envOf({}),
    fetch: second.fetch,
    logger: () => {},
  });
  await addBreadcrumb("owner/tool", "1.0.0");
  assert.deepEqual(first.seen.map((request) => request.url), ["http://first.test/api/breadcrumb"]);
  assert.deepEqual(second.seen.map((request) => request.url), [
    "http://second.test/api/breadcrumb",
  ]);
});
