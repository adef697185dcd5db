/**
 * The migas usage aggregates of the SQLite store: a database written before
 * them gets them built from its breadcrumbs when it opens, once.
 *
 * @module
 */

import { crumb } from "./_contract_fixtures.ts";
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";

const DAY = 86_400_000;

Deno.test("a database without usage aggregates gets them built from its breadcrumbs on open", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/old.db`;
  const first = new SqliteStore(path);
  await first.addMigasBreadcrumbs([
    crumb("u1", 1),
    crumb("u1", 2),
    crumb("u2", DAY + 1),
    crumb(undefined, 2 * DAY),
  ]);
  await first.close();
  // As the store left a database before the aggregates existed.
  const raw = new DatabaseSync(path);
  raw.exec("DROP TABLE migas_usage_days");
  raw.close();

  const count = (store: SqliteStore, end: number, unique: boolean) =>
    store.countMigasUsage({ project: "acme/tool", start: 0, end, unique });
  const reopened = new SqliteStore(path);
  assert.equal(await count(reopened, 3 * DAY, false), 4);
  assert.equal(await count(reopened, 3 * DAY, true), 2);
  assert.equal(await count(reopened, DAY - 1, false), 2);
  await reopened.addMigasBreadcrumb(crumb("u3", 1));
  await reopened.close();
  // Built once: a second open keeps counting what the first built and what came after.
  const again = new SqliteStore(path);
  assert.equal(await count(again, 3 * DAY, false), 5);
  assert.equal(await count(again, 3 * DAY, true), 3);
  await again.close();
  await Deno.remove(dir, { recursive: true });
});
