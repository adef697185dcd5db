/**
 * The breadcrumb fingerprint is the digest of the route and the sorted
 * entries; kept rows were made with it, so it must stay byte for byte the
 * same, whatever form computes it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fingerprint } from "../../src/server/_idempotency.ts";
import { crumbFingerprint } from "../../src/server/migas/_idempotency.ts";
import type { MigasBreadcrumbRecord } from "../../src/server/migas/store.ts";

/** The definition: every field but the timestamp, as entries sorted by key, after the route. */
function reference(route: string, crumb: MigasBreadcrumbRecord): string {
  const { timestamp: _timestamp, ...recorded } = crumb;
  return fingerprint([route, ...Object.entries(recorded).sort(([a], [b]) => a < b ? -1 : 1)]);
}

const BASE: MigasBreadcrumbRecord = {
  project: "acme/tool",
  projectVersion: "1.1.0",
  language: "python",
  languageVersion: "3.12.1",
  timestamp: 1_700_000_000_000,
  userId: undefined,
  sessionId: "s-1",
  userType: "general",
  platform: "linux",
  container: "docker",
  isCi: false,
  status: "R",
  statusDesc: undefined,
  errorType: undefined,
  errorDesc: undefined,
};

Deno.test("crumbFingerprint() digests the same text as the sorted entries, whatever the record holds", () => {
  const records: MigasBreadcrumbRecord[] = [
    BASE,
    { ...BASE, timestamp: 1 },
    { ...BASE, userId: 'ü\u0000"quote\\', errorDesc: "line\nbreak 🐍", isCi: true },
    { ...BASE, platform: "\ud800", status: "C" },
  ];
  // A record missing a key, then one with its keys in another order: each shape is its own
  const { userId: _userId, ...withoutUser } = BASE;
  records.push(withoutUser as MigasBreadcrumbRecord, BASE);
  const reordered = Object.fromEntries(Object.entries(BASE).reverse()) as MigasBreadcrumbRecord;
  records.push(reordered, BASE);
  for (const route of ["rest", "add_breadcrumb", "add_project"]) {
    for (const [index, crumb] of records.entries()) {
      assert.equal(crumbFingerprint(route, crumb), reference(route, crumb), `${route} #${index}`);
    }
  }
});

Deno.test("crumbFingerprint() ignores only the timestamp", () => {
  assert.equal(
    crumbFingerprint("rest", BASE),
    crumbFingerprint("rest", { ...BASE, timestamp: 42 }),
  );
  assert.notEqual(
    crumbFingerprint("rest", BASE),
    crumbFingerprint("rest", { ...BASE, isCi: true }),
  );
  assert.notEqual(crumbFingerprint("rest", BASE), crumbFingerprint("add_breadcrumb", BASE));
});
