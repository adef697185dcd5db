/**
 * How {@linkcode PostgresStore} keeps a text that holds a NUL: PostgreSQL's
 * `text` refuses U+0000, so NUL and U+0001 are written as two-character
 * escapes starting with U+0001, and read back as they were. Text without
 * either character (nearly all of it) passes unchanged. The escape keeps
 * equality and the byte order `COLLATE "C"` sorts by, so keys holding a NUL
 * stay distinct and sorted as SQLite and the memory store keep them.
 *
 * @module
 */

const NUL = "\u0000";
const ONE = "\u0001";

/**
 * Turns a string into what a `text` column can hold.
 *
 * @param value Any string.
 * @returns `value`, with NUL as U+0001 U+0001 and U+0001 as U+0001 U+0002.
 */
export function toText(value: string): string {
  if (!value.includes(NUL) && !value.includes(ONE)) return value;
  let text = "";
  for (const char of value) {
    text += char === NUL ? ONE + ONE : char === ONE ? ONE + "\u0002" : char;
  }
  return text;
}

/**
 * Reads back what {@linkcode toText} wrote.
 *
 * @param value A column's text.
 * @returns The string it was made from.
 */
export function fromText(value: string): string {
  if (!value.includes(ONE)) return value;
  let text = "";
  for (let index = 0; index < value.length; index++) {
    const char = value[index];
    if (char !== ONE) {
      text += char;
      continue;
    }
    index++;
    text += value[index] === ONE ? NUL : ONE;
  }
  return text;
}

/**
 * Like {@linkcode toText}, keeping `undefined` and `null` as SQL `NULL`.
 *
 * @param value A string or nothing.
 * @returns The column's text, or `null`.
 */
export function toNullableText(value: string | null | undefined): string | null {
  return value === undefined || value === null ? null : toText(value);
}

/**
 * Like {@linkcode fromText}, keeping SQL `NULL` as `undefined`.
 *
 * @param value A column's text or `null`.
 * @returns The string, or `undefined`.
 */
export function fromNullableText(value: string | null): string | undefined {
  return value === null ? undefined : fromText(value);
}
