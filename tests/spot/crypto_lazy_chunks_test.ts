/**
 * `@noble/curves` (the Ed25519 and X25519 fallback) and
 * `@noble/post-quantum` (ML-KEM) load with `import()` on first use: the
 * loader keeps a module once loaded and turns a failed load into a
 * {@linkcode SpotKeyError} that the next call retries; bundled with code
 * splitting, both run from their own chunks, and a missing ML-KEM chunk is
 * reported as such rather than as data that is not for the key.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SpotKeyError } from "../../src/spot/crypto/mod.ts";
import { isLoadFailure, lazyModule } from "../../src/spot/crypto/_lazy_module.ts";
import { bundle, runChild } from "../_helpers/runtimes.ts";
import type { LazyChunksReport } from "./_lazy_chunks_entry.ts";

const RUN_MS = 60_000;

async function runBundle(file: string): Promise<LazyChunksReport> {
  const result = await runChild(Deno.execPath(), ["run", "--no-config", "-A", file], {
    timeoutMs: RUN_MS,
  });
  assert.ok(result.success, `the bundle failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim());
}

// The chunks the entry imports statically, transitively: what loads before any import()
async function staticClosure(dir: string, entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = await Deno.readTextFile(`${dir}/${file}`);
    for (const [, target] of code.matchAll(/(?:\bfrom|\bimport)\s*"\.\/([^"]+\.js)"/g)) {
      pending.push(target);
    }
  }
  return seen;
}

Deno.test("a lazy module is imported once and shared by every caller", async () => {
  let imports = 0;
  const load = lazyModule("a package", () => Promise.resolve({ n: ++imports }));
  const [a, b] = await Promise.all([load(), load()]);
  assert.equal(imports, 1);
  assert.equal(a, b);
  assert.equal(await load(), a);
});

Deno.test("a lazy module that fails to load throws a SpotKeyError naming it, and the next call tries again", async () => {
  let imports = 0;
  const load = lazyModule("@noble/example", () => {
    imports++;
    return imports === 1 ? Promise.reject(new TypeError("fetch failed")) : Promise.resolve("ok");
  });
  const error = await load().then(() => undefined, (caught) => caught);
  assert.ok(error instanceof SpotKeyError);
  assert.equal(error.operation, "load @noble/example");
  assert.match(error.message, /^Cannot load @noble\/example \(TypeError\): deploy/);
  assert.ok(error.cause instanceof TypeError);
  assert.ok(isLoadFailure(error));
  assert.equal(await load(), "ok");
  assert.equal(imports, 2);
});

Deno.test("only a failed load counts as a load failure", () => {
  assert.equal(isLoadFailure(new SpotKeyError("sign", "Cannot sign")), false);
  assert.equal(isLoadFailure(new TypeError("load @noble/curves")), false);
});

Deno.test("bundled with code splitting, the noble fallback and ML-KEM run from their own chunks", async () => {
  const entry = new URL("./_lazy_chunks_entry.ts", import.meta.url);
  await using built = await bundle(entry, { platform: "browser", codeSplitting: true });
  const files = [...Deno.readDirSync(built.dir)].map(({ name }) => name).sort();
  const chunk = (prefix: string) => files.find((name) => name.startsWith(`${prefix}-`));
  assert.ok(chunk("ed25519"), `no @noble/curves chunk among ${files.join(", ")}`);
  assert.ok(chunk("ml-kem"), `no ML-KEM chunk among ${files.join(", ")}`);
  // Unminified, the bundle names each module it inlines in a comment
  const eager = await staticClosure(built.dir, built.file.slice(built.dir.length + 1));
  for (const file of eager) {
    const code = await Deno.readTextFile(`${built.dir}/${file}`);
    assert.ok(!/@noble\/(curves|post-quantum)\//.test(code), `${file} loads first with noble code`);
  }
  const curves = await Deno.readTextFile(`${built.dir}/${chunk("ed25519")}`);
  assert.ok(curves.includes("@noble/curves/abstract/edwards.js"));

  assert.deepEqual(await runBundle(built.file), {
    "ed25519": true,
    "mlkem768": true,
    "mlkem1024-x25519": true,
  });

  await Deno.remove(`${built.dir}/${chunk("ml-kem")}`);
  const missing =
    "spot_key: Cannot load @noble/post-quantum (TypeError): deploy the bundle's lazy chunks beside its entry";
  assert.deepEqual(await runBundle(built.file), {
    "ed25519": true,
    "mlkem768": missing,
    "mlkem1024-x25519": missing,
  });
});
