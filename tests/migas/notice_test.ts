import assert from "node:assert/strict";
import { formatUpdateNotice } from "../../src/migas/notice.ts";
import type { CheckProjectResult } from "../../src/migas/results.ts";

const check = (fields: Partial<CheckProjectResult>): CheckProjectResult => ({
  success: true,
  flagged: false,
  latest: "1.2.0",
  message: "",
  project: "owner/tool",
  project_version: "1.1.0",
  ...fields,
});

Deno.test("a newer latest version gives the upgrade notice", () => {
  assert.equal(
    formatUpdateNotice(check({})),
    "A newer version 1.2.0 of owner/tool is available (you have 1.1.0)",
  );
  assert.equal(
    formatUpdateNotice(check({ latest: "v1.10.0", project_version: "1.9.3" })),
    "A newer version v1.10.0 of owner/tool is available (you have 1.9.3)",
  );
});

Deno.test("a flagged version gives the flagged notice, even when it is the latest", () => {
  assert.equal(
    formatUpdateNotice(check({ flagged: true })),
    "Version 1.1.0 of owner/tool is flagged: upgrade to 1.2.0",
  );
  assert.equal(
    formatUpdateNotice(check({ flagged: true, latest: "1.1.0" })),
    "Version 1.1.0 of owner/tool is flagged: upgrade to a newer version",
  );
});

Deno.test("an add_project answer is worded the same way", () => {
  const base = {
    success: true,
    latest_version: "2.0.0",
    bad_versions: [] as string[],
    cached: false,
    message: "",
    project: "owner/tool",
    project_version: "1.0.0",
  };
  assert.equal(
    formatUpdateNotice(base),
    "A newer version 2.0.0 of owner/tool is available (you have 1.0.0)",
  );
  assert.equal(
    formatUpdateNotice({ ...base, bad_versions: ["1.0.0"] }),
    "Version 1.0.0 of owner/tool is flagged: upgrade to 2.0.0",
  );
});

Deno.test("nothing is said when up to date, ahead, unknown or failed", () => {
  assert.equal(formatUpdateNotice(check({ latest: "1.1.0" })), "");
  assert.equal(formatUpdateNotice(check({ latest: "1.0.0" })), "");
  assert.equal(formatUpdateNotice(check({ latest: "1.2.0-rc.1", project_version: "1.2.0" })), "");
  assert.equal(formatUpdateNotice(check({ latest: null })), "");
  assert.equal(formatUpdateNotice(check({ success: false })), "");
  assert.equal(
    formatUpdateNotice({ success: false, errors: [{ message: "migas telemetry is disabled." }] }),
    "",
  );
});
