/**
 * Every error class carries its own name as a literal, so errors still print
 * as `HttpError: …` once a minifier has renamed the classes: checked on the
 * source, and on a `deno bundle --minify` build run in a child process.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as root from "../../mod.ts";
import * as pow from "../../src/pow/mod.ts";
import * as mkstats from "../../src/mkstats/mod.ts";
import * as honch from "../../src/honch/mod.ts";
import * as migas from "../../src/migas/mod.ts";
import * as server from "../../src/server/mod.ts";
import * as validate from "../../src/server/_validate.ts";
import { findErrors, type FoundError } from "./_error_classes.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

const MODULES = {
  "@edgewire/sdk": root,
  "@edgewire/sdk/pow": pow,
  "@edgewire/sdk/mkstats": mkstats,
  "@edgewire/sdk/honch": honch,
  "@edgewire/sdk/migas": migas,
  "@edgewire/sdk/server": server,
  "server/_validate.ts": validate,
} as Record<string, Record<string, unknown>>;

/** The names of the classes declared in src/ that extend an error class. */
async function declaredErrorClasses(): Promise<Set<string>> {
  const names = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(path);
        for (const match of text.matchAll(/\bclass\s+(\w+)\s+extends\s+(\w*Error)\b/g)) {
          names.add(match[1]);
        }
      }
    }
  };
  await walk(`${ROOT}src`);
  return names;
}

function key(found: FoundError): string {
  return `${found.entry} ${found.exportName}`;
}

Deno.test("every exported error class names its instances after itself", async () => {
  const found = findErrors(MODULES);
  for (const error of found) {
    assert.ok(error.isError, `${key(error)} makes an Error`);
    assert.equal(error.instanceName, error.className, `${key(error)} instance name`);
  }
  const covered = new Set(found.map((error) => error.className));
  const declared = await declaredErrorClasses();
  assert.ok(declared.size >= 20, `only ${declared.size} error classes found in src/`);
  for (const name of declared) assert.ok(covered.has(name), `${name} is checked`);
});

Deno.test("every error class declares its name as its own literal, not the parent's", () => {
  // An instance of a subclass that forgot the literal would inherit the parent's name
  const names = findErrors(MODULES).map((error) => error.instanceName);
  assert.ok(names.includes("EdgewireError"));
  assert.ok(names.includes("HonchError"));
  assert.ok(names.includes("PowTimeoutError"), "a grandchild keeps its own name");
  assert.ok(names.includes("RequestRejection"));
  const thrown = new root.HttpError("POST /event answered 409", 409);
  assert.match(String(thrown), /^HttpError: POST \/event answered 409$/);
  assert.ok(Object.hasOwn(thrown, "name"));
});

Deno.test("error names survive a minified browser bundle", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgewire-error-names-" });
  try {
    const file = `${dir}/errors.mjs`;
    const bundled = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--minify",
        "--platform",
        "browser",
        "-o",
        file,
        `${ROOT}tests/core/_error_names_entry.ts`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(bundled.success, new TextDecoder().decode(bundled.stderr));
    const ran = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--quiet", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(ran.success, new TextDecoder().decode(ran.stderr));
    const minified: FoundError[] = JSON.parse(new TextDecoder().decode(ran.stdout));
    const expected = new Map(findErrors(MODULES).map((error) => [key(error), error.className]));
    assert.deepEqual(new Set(minified.map(key)), new Set(expected.keys()), "same classes");
    // The test means something only when the minifier did rename the classes
    const renamed = minified.filter((error) => error.className !== expected.get(key(error)));
    assert.ok(renamed.length > minified.length / 2, "the minifier renamed the classes");
    for (const error of minified) {
      assert.equal(error.instanceName, expected.get(key(error)), `${key(error)} after minify`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
