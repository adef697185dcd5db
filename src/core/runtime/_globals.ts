/**
 * Small checks the runtime shim's files share for reading untrusted
 * globals. Internal: not exported from the package.
 *
 * @module
 */

/** The value when it is a non-empty string, else `undefined`. */
export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Whether the value is an object (not `null`). */
export function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}
