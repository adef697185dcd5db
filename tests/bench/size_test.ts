import assert from "node:assert/strict";
import { budgets, entryPoints, type EntrySize, measureEntry } from "../../bench/size.ts";

const entries = await entryPoints();
const limits = await budgets();
const measured = new Map<string, Promise<EntrySize>>();

// Bundling takes a moment: each entry is bundled once and shared by the tests below
function measure(name: string): Promise<EntrySize> {
  let size = measured.get(name);
  if (size === undefined) measured.set(name, size = measureEntry(entries[name]));
  return size;
}

Deno.test("every deno.json export has a size budget, or null for information only", () => {
  assert.deepEqual(Object.keys(limits).sort(), Object.keys(entries).sort());
});

for (const [name, limit] of Object.entries(limits)) {
  if (limit === null) continue;
  Deno.test(`the ${name} entry loads at most ${limit} gzip'd bytes before any lazy import`, async () => {
    const { initial } = await measure(name);
    assert.ok(
      initial.gzip <= limit,
      `${name} loads ${initial.gzip} gzip'd bytes (${initial.files.join(", ")}): ` +
        `over its budget of ${limit} in bench/size_budgets.json`,
    );
  });
}

Deno.test("the mkStats and proof-of-work entries keep both kernels in lazy chunks", async () => {
  for (const name of ["./mkstats", "./pow", "./pow/worker"]) {
    const { initial, lazy } = await measure(name);
    assert.deepEqual(lazy.files, ["_kernel_unrolled.js", "_kernel_wasm.js"], name);
    assert.ok(lazy.gzip > 2 * initial.gzip, `${name}: the kernels outweigh what loads first`);
  }
});

Deno.test("the Spot entry keeps @noble/curves and ML-KEM in lazy chunks", async () => {
  const { initial, lazy } = await measure("./spot");
  for (const chunk of ["ed25519.js", "ml-kem.js"]) {
    assert.ok(lazy.files.includes(chunk), `./spot: ${chunk} not among ${lazy.files.join(", ")}`);
    assert.ok(!initial.files.includes(chunk), `./spot: ${chunk} loads first`);
  }
});
