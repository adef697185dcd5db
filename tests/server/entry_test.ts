import assert from "node:assert/strict";

/** Every module `deno info` finds from an entry, as specifiers. */
async function moduleGraph(entry: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const graph = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string; dependencies?: { specifier: string }[] }[];
  };
  return graph.modules.flatMap((module) => [
    module.specifier,
    ...(module.dependencies ?? []).map((dependency) => dependency.specifier),
  ]);
}

Deno.test("nothing reachable from the server entry imports a runtime module", async () => {
  const specifiers = await moduleGraph("../../src/server/mod.ts");
  assert.ok(specifiers.some((specifier) => specifier.endsWith("/src/server/app.ts")));
  assert.deepEqual(specifiers.filter((specifier) => specifier.startsWith("node:")), []);
});

Deno.test("the SQLite entry is where node:sqlite comes in", async () => {
  const specifiers = await moduleGraph("../../src/server/sqlite/mod.ts");
  assert.ok(specifiers.includes("node:sqlite"));
});

Deno.test("the Postgres entry brings in the postgres client and, of its own, no runtime module", async () => {
  const specifiers = await moduleGraph("../../src/server/postgres/mod.ts");
  assert.ok(specifiers.some((specifier) => /^npm:\/?postgres@3\./.test(specifier)));
  assert.deepEqual(specifiers.filter((specifier) => specifier.startsWith("node:")), []);
});
