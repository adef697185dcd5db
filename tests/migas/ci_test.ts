import assert from "node:assert/strict";
import { detectCi } from "../../src/migas/ci.ts";
import { CI_VENDORS } from "../../src/migas/_ci_vendors.ts";
import { envOf, vectors } from "./_helpers.ts";

const { cases, empty_env: emptyEnv } = vectors.ci_info.detection_vectors;

Deno.test("the generated vendor table equals the 52 vendors of the vectors, in order", () => {
  assert.equal(CI_VENDORS.length, 52);
  const fromVectors = vectors.ci_info.vendors.map((vendor) => {
    const { kind, ...env } = vendor.env_signature as { kind: string };
    return {
      name: vendor.name,
      constant: vendor.constant,
      env: { kind, ...env },
      pr: vendor.pr_rule,
    };
  });
  assert.deepEqual(JSON.parse(JSON.stringify(CI_VENDORS)), fromVectors);
});

for (const vector of cases) {
  const label = Object.entries(vector.env).map(([key, value]) => `${key}=${value}`).join(" ");
  Deno.test(`an environment with ${label} is detected as ${vector.vendor}`, () => {
    const info = detectCi(envOf(vector.env));
    assert.deepEqual(
      { name: info.name, is_ci: info.isCi, is_pr: info.isPr },
      vector.expect,
    );
  });
}

Deno.test("an empty environment is not CI", () => {
  const info = detectCi(envOf(emptyEnv.env));
  assert.deepEqual({ name: info.name, is_ci: info.isCi, is_pr: info.isPr }, emptyEnv.expect);
});

Deno.test("a bare CI variable is not enough to be detected as CI, as in ci-info", () => {
  assert.equal(detectCi(envOf({ CI: "true" })).isCi, false);
});

Deno.test("an environment reader that throws counts the variable as unset", () => {
  assert.equal(
    detectCi(() => {
      throw new Error("denied");
    }).isCi,
    false,
  );
});
