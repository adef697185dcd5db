/**
 * One `instanceof EdgewireError` catches every failure the package throws:
 * every class deriving from `Error` that any entry point exports (and the
 * server's request-rejection error, `RequestRejection`, which routes throw
 * and the app turns into an answer) is an `EdgewireError` subclass, and no
 * two different classes share a name, so `InvalidArgumentError` and
 * `StorageError` exist once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EdgewireError } from "../../src/core/errors.ts";
import { ERROR_MODULES } from "./_error_modules.ts";

/** A class whose instances are errors. */
type ErrorClass = abstract new (...args: never[]) => Error;

/** Every exported class deriving from Error, with the entry points exporting it. */
function exportedErrorClasses(): Map<ErrorClass, string[]> {
  const classes = new Map<ErrorClass, string[]>();
  for (const [entry, namespace] of Object.entries(ERROR_MODULES)) {
    for (const [name, value] of Object.entries(namespace)) {
      if (typeof value !== "function" || !(value.prototype instanceof Error)) continue;
      const constructor = value as ErrorClass;
      classes.set(constructor, [...classes.get(constructor) ?? [], `${entry} ${name}`]);
    }
  }
  return classes;
}

Deno.test("every error class any entry point exports derives from EdgewireError", () => {
  const classes = exportedErrorClasses();
  assert.ok(classes.size >= 15, `only ${classes.size} error classes found`);
  for (const [constructor, where] of classes) {
    assert.ok(
      constructor === EdgewireError || constructor.prototype instanceof EdgewireError,
      `${where.join(", ")} is not an EdgewireError`,
    );
  }
});

Deno.test("no two different exported error classes share a name", () => {
  const byName = new Map<string, Set<ErrorClass>>();
  for (const constructor of exportedErrorClasses().keys()) {
    byName.set(constructor.name, (byName.get(constructor.name) ?? new Set()).add(constructor));
  }
  const duplicated = [...byName].filter(([, set]) => set.size > 1).map(([name]) => name);
  assert.deepEqual(duplicated, [], "each error name is one class");
});
