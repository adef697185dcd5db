/**
 * Every error class carries its own name as a literal, so errors still print
 * as `HttpError: …` once a minifier has renamed the classes: checked on the
 * source, and on a `deno bundle --minify` build run in a child process.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as root from "../../mod.ts";
import { findErrors, type FoundError } from "./_error_classes.ts";
import { ERROR_MODULES } from "./_error_modules.ts";
import { bundle, REPOSITORY_ROOT as ROOT, runChild } from "../_helpers/runtimes.ts";

const CHILD_MS = 60_000;

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
  const found = findErrors(ERROR_MODULES);
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
  const names = findErrors(ERROR_MODULES).map((error) => error.instanceName);
  assert.ok(names.includes("EdgewireError"));
  assert.ok(names.includes("HonchError"));
  assert.ok(names.includes("PowTimeoutError"), "a grandchild keeps its own name");
  assert.ok(names.includes("RequestRejection"));
  const thrown = new root.HttpError("POST /event answered 409", 409);
  assert.match(String(thrown), /^HttpError: POST \/event answered 409$/);
  assert.ok(Object.hasOwn(thrown, "name"));
});

Deno.test("error names survive a minified browser bundle", async () => {
  await using built = await bundle(new URL("./_error_names_entry.ts", import.meta.url), {
    platform: "browser",
    minify: true,
  });
  const ran = await runChild(Deno.execPath(), ["run", "--no-config", "--quiet", built.file], {
    timeoutMs: CHILD_MS,
  });
  assert.ok(ran.success, ran.stderr);
  const minified: FoundError[] = JSON.parse(ran.stdout);
  const expected = new Map(findErrors(ERROR_MODULES).map((error) => [key(error), error.className]));
  assert.deepEqual(new Set(minified.map(key)), new Set(expected.keys()), "same classes");
  // The test means something only when the minifier did rename the classes
  const renamed = minified.filter((error) => error.className !== expected.get(key(error)));
  assert.ok(renamed.length > minified.length / 2, "the minifier renamed the classes");
  for (const error of minified) {
    assert.equal(error.instanceName, expected.get(key(error)), `${key(error)} after minify`);
  }
});
