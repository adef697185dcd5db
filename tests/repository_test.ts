/**
 * The repository stands on its own: no test, script, benchmark, example,
 * CI step or task names a path outside the clone (a user's clone has no
 * sibling folders), and the fixtures it reads are in `tests/fixtures/`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(decodeURIComponent(new URL("../", import.meta.url).pathname));
const SCANNED = ["tests", "scripts", "bench", "examples", ".ci"];
const TEXT = /\.(ts|mts|js|mjs|cjs|json|sh|md|html|toml)$|^run$/;
const SKIPPED_DIRS = new Set(["node_modules", ".tools", ".artifacts", "vectors"]);

/** One reference to a place outside the repository. */
interface Outside {
  file: string;
  line: number;
  text: string;
}

/**
 * Finds the paths a file names that lead outside `root`: relative paths that
 * climb above it (resolved from the file's own folder, as `import` and
 * `new URL(…, import.meta.url)` resolve them, and from the root, as tasks and
 * CI steps run), and absolute paths into this machine's work folders.
 */
function outsideReferences(root: string, file: string, text: string): Outside[] {
  const found: Outside[] = [];
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    for (const match of line.matchAll(/(?:\.\.\/)+[\w.@-]*/g)) {
      const fromFile = resolve(dirname(file), match[0]);
      const fromRoot = resolve(root, match[0]);
      const escapes = (target: string) => relative(root, target).startsWith("..");
      // A path is fine when either reading keeps it inside: `../../src/x.ts`
      // from tests/a/ is inside, and so is `./x` from the root.
      if (escapes(fromFile) && escapes(fromRoot)) {
        found.push({ file: relative(root, file), line: index + 1, text: match[0] });
      }
    }
    for (const match of line.matchAll(/(?:file:\/\/)?\/(?:work|root)\/[\w./-]+/g)) {
      found.push({ file: relative(root, file), line: index + 1, text: match[0] });
    }
    if (/(?:^|[^\w])shared\/(?:vectors|protocols|specs|DESIGN\.md)/.test(line)) {
      found.push({ file: relative(root, file), line: index + 1, text: line.trim() });
    }
  });
  return found;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      if (!SKIPPED_DIRS.has(entry.name)) yield* walk(path);
    } else if (entry.isFile && TEXT.test(entry.name)) {
      yield path;
    }
  }
}

Deno.test("the check flags a test that reads the vectors beside the repository", () => {
  const file = join(ROOT, "tests/honch/example_test.ts");
  const text =
    // Built from parts so this file does not itself name the sibling folder it refuses
    `await Deno.readTextFile(new URL("${"../../../"}${"shared"}/vectors/a.json", import.meta.url));`;
  assert.deepEqual(outsideReferences(ROOT, file, text).map((o) => o.line), [1, 1]);
  assert.deepEqual(
    outsideReferences(ROOT, join(ROOT, ".ci/run"), "cat /work/shared/DESIGN.md").length,
    2,
  );
  assert.deepEqual(
    outsideReferences(ROOT, file, 'import { x } from "../../src/core/errors.ts";'),
    [],
  );
});

Deno.test("no test, script, benchmark, example or CI step names a path outside the repository", async () => {
  const found: Outside[] = [];
  let scanned = 0;
  for (const top of SCANNED) {
    for await (const file of walk(join(ROOT, top))) {
      // This file's own examples of what is refused are not references.
      if (file === join(ROOT, "tests/repository_test.ts")) continue;
      scanned++;
      found.push(...outsideReferences(ROOT, file, await Deno.readTextFile(file)));
    }
  }
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  for (const [name, task] of Object.entries(config.tasks as Record<string, string>)) {
    found.push(
      ...outsideReferences(ROOT, join(ROOT, "deno.json"), task).map((o) => ({
        ...o,
        file: `deno.json task ${name}`,
      })),
    );
  }
  assert.ok(scanned > 50, `only ${scanned} files were scanned`);
  assert.deepEqual(found, []);
});

Deno.test("every vector file the fixtures README lists is in the repository, with its source", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "tests/fixtures/README.md"));
  const listed = [...readme.matchAll(/^\| `([\w.]+\.json)`/gm)].map((m) => m[1]);
  const present: string[] = [];
  for await (const entry of Deno.readDir(join(ROOT, "tests/fixtures/vectors"))) {
    present.push(entry.name);
  }
  assert.deepEqual([...new Set(listed)].sort(), present.sort());
  for (const name of present) {
    const vectors = JSON.parse(
      await Deno.readTextFile(join(ROOT, "tests/fixtures/vectors", name)),
    );
    assert.equal(typeof vectors.source, "object", `${name} has no source block`);
  }
});
