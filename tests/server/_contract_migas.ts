/**
 * The {@linkcode ServerStore} contract of the migas interface: projects and
 * breadcrumb usage.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ContractTest, crumb } from "./_contract_fixtures.ts";

const DAY = 86_400_000;

/**
 * Registers the contract's tests of the migas store interface: projects and
 * usage.
 *
 * @param test Registers one contract test for the store.
 */
export function migasContract(test: ContractTest): void {
  test("migas projects register once, keep facts left unset, and list sorted", async ({ store }) => {
    assert.equal(await store.findMigasProject("acme/tool"), undefined);
    assert.equal(
      await store.registerMigasProject({
        project: "acme/tool",
        latestVersion: "1.2.0",
        badVersions: ["1.0.0"],
        now: 1,
      }),
      true,
    );
    assert.equal(await store.registerMigasProject({ project: "acme/tool", now: 2 }), false);
    assert.deepEqual(await store.findMigasProject("acme/tool"), {
      project: "acme/tool",
      latestVersion: "1.2.0",
      badVersions: ["1.0.0"],
    });
    await store.registerMigasProject({ project: "acme/tool", badVersions: [], now: 3 });
    assert.deepEqual((await store.findMigasProject("acme/tool"))?.badVersions, []);
    assert.equal((await store.findMigasProject("acme/tool"))?.latestVersion, "1.2.0");
    await store.registerMigasProject({ project: "Zed/b", now: 4 });
    await store.registerMigasProject({ project: "able/a", now: 4 });
    assert.deepEqual(await store.listMigasProjects(), ["Zed/b", "able/a", "acme/tool"]);
    assert.equal((await store.findMigasProject("able/a"))?.latestVersion, undefined);
  });

  test("migas usage counts breadcrumbs by whole UTC days, or distinct users", async ({ store }) => {
    const at = (day: number, hour: number) => day * DAY + hour * 3_600_000;
    for (
      const [user, time] of [
        ["u1", at(10, 1)],
        ["u1", at(10, 23)],
        ["u2", at(11, 0)],
        [undefined, at(12, 5)],
        ["u3", at(14, 12)],
      ] as const
    ) {
      await store.addMigasBreadcrumb(crumb(user, time));
    }
    await store.addMigasBreadcrumb(crumb("u9", at(10, 2), "other/tool"));
    const count = (start: number, end: number, unique: boolean) =>
      store.countMigasUsage({ project: "acme/tool", start, end, unique });
    assert.equal(await count(at(10, 0), at(12, 0), false), 4);
    assert.equal(await count(at(10, 0), at(12, 0), true), 2);
    // A range counts every day it touches, from any time within them.
    assert.equal(await count(at(10, 12), at(12, 23), false), 4);
    assert.equal(await count(at(11, 0), at(13, 0), false), 2);
    assert.equal(await count(at(13, 0), at(13, 23), false), 0);
    assert.equal(await count(0, at(100, 0), true), 3);
    assert.equal(await count(at(20, 0), at(10, 0), false), 0);
    assert.equal(
      await store.countMigasUsage({ project: "no/such", start: 0, end: at(99, 0), unique: false }),
      0,
    );
  });

  test("migas breadcrumbs stored in bulk count like single ones, an empty batch changes nothing", async ({ store }) => {
    await store.addMigasBreadcrumbs([]);
    const batch = Array.from(
      { length: 3000 },
      (_, i) => crumb(`user-${i % 1000}`, (i % 3) * DAY + i),
    );
    await store.addMigasBreadcrumbs(batch);
    await store.addMigasBreadcrumb(crumb("user-0", 5));
    const count = (start: number, end: number, unique: boolean) =>
      store.countMigasUsage({ project: "acme/tool", start, end, unique });
    assert.equal(await count(0, 3 * DAY - 1, false), 3001);
    assert.equal(await count(DAY, DAY, false), 1000);
    // Distinct users are an estimate: within 5% of 1000 here.
    const users = await count(0, 3 * DAY - 1, true);
    assert.ok(Math.abs(users - 1000) <= 50, `estimated ${users} users`);
  });
}
