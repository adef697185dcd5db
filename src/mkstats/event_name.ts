/**
 * Event-name normalisation for mkStats: a name starts with a letter or `_`,
 * continues with letters, digits, `_`, `.`, `:` or `-`, and is at most 100
 * characters, so the server never rejects a name the client accepted.
 *
 * @module
 */

import { invalidArgument } from "../core/validate.ts";

/** The longest event name mkStats stores. */
export const MAX_EVENT_NAME_LENGTH = 100;

const ACTION = "use the event name";
const INVALID_RUN = /[^A-Za-z0-9_.:-]+/;
const COMBINING_MARKS = /[\u0300-\u036f]/g;

/**
 * Turns any string into a valid mkStats event name: accents are folded
 * (`é` → `e`), each run of other characters becomes one `_` between the
 * parts it separated (and disappears at either end), a leading digit, `.`,
 * `:` or `-` gets a `_` in front, and the result is cut to 100 characters.
 *
 * @param name The name the caller gave.
 * @returns The normalised name.
 * @throws {InvalidArgumentError} When `name` is not a string, or nothing of it survives.
 *
 * @example
 * ```ts
 * import { normalizeEventName } from "@edgewire/sdk/mkstats";
 *
 * console.log(normalizeEventName("Feature clicked!")); // "Feature_clicked"
 * console.log(normalizeEventName("2fa.enabled")); // "_2fa.enabled"
 * ```
 */
export function normalizeEventName(name: string): string {
  if (typeof name !== "string") {
    throw invalidArgument(ACTION, "event", "a string", name);
  }
  const folded = name.normalize("NFKD").replace(COMBINING_MARKS, "");
  let result = folded.split(INVALID_RUN).filter((part) => part !== "").join("_");
  if (result !== "" && !/^[A-Za-z_]/.test(result)) result = "_" + result;
  result = result.slice(0, MAX_EVENT_NAME_LENGTH);
  if (result === "") {
    throw invalidArgument(
      ACTION,
      "event",
      'a name with a letter, digit or one of _.:- (such as "feature_clicked")',
      name,
      { reveal: true },
    );
  }
  return result;
}
