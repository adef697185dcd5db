/**
 * The {@linkcode ServerStore} contract of the migas interface: projects and
 * breadcrumb usage.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ContractTest, crumb } from "./_contract_fixtures.ts";

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

  test("migas usage counts breadcrumbs in an inclusive range, or distinct users", async ({ store }) => {
    for (const [user, time] of [["u1", 10], ["u1", 20], ["u2", 30], [undefined, 40], ["u3", 50]]) {
      await store.addMigasBreadcrumb(crumb(user as string | undefined, time as number));
    }
    await store.addMigasBreadcrumb(crumb("u9", 20, "other/tool"));
    const count = (start: number, end: number, unique: boolean) =>
      store.countMigasUsage({ project: "acme/tool", start, end, unique });
    assert.equal(await count(10, 40, false), 4);
    assert.equal(await count(10, 40, true), 2);
    assert.equal(await count(11, 49, false), 3);
    assert.equal(await count(11, 19, false), 0);
    assert.equal(await count(0, 100, true), 3);
    assert.equal(
      await store.countMigasUsage({ project: "no/such", start: 0, end: 99, unique: false }),
      0,
    );
  });
}
