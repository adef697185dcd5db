/**
 * Finds the error classes among a module's exports and makes one of each, so
 * a test can compare every instance's `name` with the name it should have.
 * Shared by the error-name test and the entry it bundles with minification.
 *
 * @module
 */

/** One error class found among a module's exports, with an instance of it. */
export interface FoundError {
  /** The entry point it was found in, such as `"@edgewire/sdk/honch"`. */
  entry: string;
  /** The name it is exported under (`HonchStorageError` for an alias). */
  exportName: string;
  /** The class's own name as the running code sees it (renamed when minified). */
  className: string;
  /** The `name` of an instance. */
  instanceName: string;
  /** Whether the instance is an `Error`. */
  isError: boolean;
}

/** Argument lists tried in turn until the constructor accepts one. */
const ARGUMENT_LISTS: unknown[][] = [
  ["Cannot run the example: try again", {}],
  ["Cannot run the example: try again", 1000, {}],
  ["field", "Cannot run the example: try again"],
  [400, { error: "invalid_request" }],
];

function construct(constructor: new (...args: unknown[]) => unknown): unknown {
  let failure: unknown;
  for (const args of ARGUMENT_LISTS) {
    try {
      return new constructor(...args);
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}

/**
 * Lists the exported subclasses of `Error` of each module namespace, with an
 * instance of each.
 *
 * @param modules Module namespaces by entry point name.
 * @returns One record per exported error class, in export order.
 */
export function findErrors(modules: Record<string, Record<string, unknown>>): FoundError[] {
  const found: FoundError[] = [];
  for (const [entry, namespace] of Object.entries(modules)) {
    for (const [exportName, value] of Object.entries(namespace)) {
      if (typeof value !== "function" || !(value.prototype instanceof Error)) continue;
      const instance = construct(value as new (...args: unknown[]) => unknown);
      found.push({
        entry,
        exportName,
        className: value.name,
        instanceName: (instance as Error).name,
        isError: instance instanceof Error,
      });
    }
  }
  return found;
}
