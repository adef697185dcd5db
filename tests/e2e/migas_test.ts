import assert from "node:assert/strict";
import { MemoryStorage } from "../../src/core/storage.ts";
import { createMigas } from "../../src/migas/client.ts";
import type { MigasProtocol } from "../../src/migas/options.ts";
import { formatUpdateNotice } from "../../src/migas/notice.ts";
import { createServer } from "../../src/server/mod.ts";

const PROJECT = "nipreps/fmriprep";

function start(): { base: string } & AsyncDisposable {
  const server = createServer({
    adminKey: "admin-key-for-tests-only",
    migas: { projects: [{ project: PROJECT, latestVersion: "24.1.0", badVersions: ["23.0.0"] }] },
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  return {
    base: `http://127.0.0.1:${http.addr.port}`,
    async [Symbol.asyncDispose]() {
      await http.shutdown();
      await server.close();
    },
  };
}

function clientFor(base: string, protocol: MigasProtocol, userId: string) {
  return createMigas({
    endpoint: base,
    protocol,
    userId,
    storage: new MemoryStorage(),
    env: () => undefined, // no CI, no opt-out, whatever the machine running the tests has set
  });
}

for (const protocol of ["rest", "graphql"] as const) {
  Deno.test(`over ${protocol}, breadcrumbs are counted and version checks answer from the server`, async () => {
    await using running = start();
    const alice = clientFor(running.base, protocol, "alice");
    const bob = clientFor(running.base, protocol, "bob");
    for (const status of ["R", "C"] as const) {
      const answer = await alice.addBreadcrumb(PROJECT, "24.0.0", { status, wait: true });
      assert.equal(answer.success, true, JSON.stringify(answer));
    }
    assert.equal(
      (await bob.addBreadcrumb(PROJECT, "23.0.0", { status: "R", wait: true })).success,
      true,
    );

    const added = await alice.addProject(PROJECT, "24.0.0");
    assert.equal(added.success, true, JSON.stringify(added));
    assert.ok("latest_version" in added && added.latest_version === "24.1.0");
    // GraphQL's add_project returns the list; over REST only the checked version can be known bad
    assert.deepEqual(
      "bad_versions" in added && added.bad_versions,
      protocol === "graphql" ? ["23.0.0"] : [],
    );
    const flaggedAdd = await bob.addProject(PROJECT, "23.0.0");
    assert.ok("bad_versions" in flaggedAdd && flaggedAdd.bad_versions.includes("23.0.0"));

    const old = await bob.checkProject(PROJECT, "23.0.0");
    assert.ok("flagged" in old && old.flagged === true, JSON.stringify(old));
    assert.match(formatUpdateNotice(old), /23\.0\.0/);
    const current = await alice.checkProject(PROJECT, "24.1.0");
    assert.ok("flagged" in current && current.flagged === false && current.latest === "24.1.0");
    assert.equal(formatUpdateNotice(current), "");

    // A bare date is its midnight, so the range ends tomorrow to include today
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const hits = await alice.getUsage(PROJECT, "2020-01-01", tomorrow);
    const unique = await alice.getUsage(PROJECT, "2020-01-01", tomorrow, { unique: true });
    assert.ok("hits" in hits && hits.hits >= 5, JSON.stringify(hits)); // 3 breadcrumbs + two addProject
    assert.ok("hits" in unique && unique.hits === 2, JSON.stringify(unique));
  });

  Deno.test(`over ${protocol}, a project outside owner/repo form is refused as migas refuses it`, async () => {
    await using running = start();
    const client = clientFor(running.base, protocol, "carol");
    const answer = await client.addBreadcrumb("not-a-repo", "1.0.0", { wait: true });
    assert.equal(answer.success, false);
    // REST answers 400 with the reason; migas' GraphQL mutation answers success: false, message ""
    if (protocol === "rest") {
      assert.match(JSON.stringify(answer), /Invalid project format \(expected owner\/repo\)\./);
    }
  });
}

Deno.test("track() sends R at start and exactly one final C, counted by the server", async () => {
  await using running = start();
  const client = clientFor(running.base, "rest", "dave");
  const handle = client.track(PROJECT, "24.1.0");
  assert.equal(client.track(PROJECT, "24.1.0"), handle, "track is idempotent per project");
  await handle.started;
  await handle.finish();
  await handle.finish(new Error("late, ignored"));
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const usage = await client.getUsage(PROJECT, "2020-01-01", tomorrow);
  assert.ok("hits" in usage && usage.hits === 2, JSON.stringify(usage));
});

Deno.test("a breadcrumb sent while the server is down is stored once, by the next run", async () => {
  await using running = start();
  const storage = new MemoryStorage();
  const offline = createMigas({
    endpoint: running.base,
    userId: "erin",
    storage,
    env: () => undefined,
    fetch: () => Promise.reject(new TypeError("connection refused")),
  });
  const failed = await offline.addBreadcrumb(PROJECT, "24.1.0", { status: "F", wait: true });
  assert.equal(failed.success, false);
  assert.equal(offline.queueStats().queued, 1);

  const nextRun = createMigas({
    endpoint: running.base,
    userId: "erin",
    storage,
    env: () => undefined,
  });
  const answer = await nextRun.addBreadcrumb(PROJECT, "24.1.0", { status: "R", wait: true });
  assert.equal(answer.success, true, JSON.stringify(answer));
  assert.equal(nextRun.queueStats().queued, 0);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const usage = await nextRun.getUsage(PROJECT, "2020-01-01", tomorrow);
  assert.ok("hits" in usage && usage.hits === 2, JSON.stringify(usage));
});
