/**
 * Emitter key permissions: the bit of each right in the key's permission
 * byte, and the `rwslpex` letters a keygen request names them with.
 *
 * @module
 */

/**
 * The permission bits of a key, as the real broker numbers them. A key whose
 * byte is exactly `master` is a master (secret) key.
 *
 * @example
 * ```ts
 * import { PERMISSION } from "./permissions.ts";
 *
 * console.log(PERMISSION.read | PERMISSION.write); // 6
 * ```
 */
export const PERMISSION: {
  readonly none: 0;
  readonly master: 1;
  readonly read: 2;
  readonly write: 4;
  readonly store: 8;
  readonly load: 16;
  readonly presence: 32;
  readonly extend: 64;
  readonly execute: 128;
  readonly all: 254;
} = Object.freeze({
  none: 0,
  master: 1,
  read: 2,
  write: 4,
  store: 8,
  load: 16,
  presence: 32,
  extend: 64,
  execute: 128,
  all: 254,
});

const LETTERS: ReadonlyArray<readonly [string, number]> = [
  ["r", PERMISSION.read],
  ["w", PERMISSION.write],
  ["s", PERMISSION.store],
  ["l", PERMISSION.load],
  ["p", PERMISSION.presence],
  ["e", PERMISSION.extend],
  ["x", PERMISSION.execute],
];

/**
 * Reads a keygen `type` string: each of `r w s l p e x` adds its right; any
 * other character is ignored, as the real broker ignores it.
 *
 * @param type The letters, such as `"rwslpex"` or `"rw"`.
 * @returns The permission byte.
 * @throws Never.
 * @example
 * ```ts
 * import { parsePermissions } from "./permissions.ts";
 *
 * console.log(parsePermissions("rwslpex")); // 254
 * ```
 */
export function parsePermissions(type: string): number {
  let bits = 0;
  for (const char of type) {
    for (const [letter, bit] of LETTERS) if (char === letter) bits |= bit;
  }
  return bits;
}

/**
 * Writes a permission byte as its letters, in `rwslpex` order (the master bit
 * has no letter).
 *
 * @param bits The permission byte.
 * @returns The letters, such as `"rw"`.
 * @throws Never.
 * @example
 * ```ts
 * import { formatPermissions } from "./permissions.ts";
 *
 * console.log(formatPermissions(18)); // "rl"
 * ```
 */
export function formatPermissions(bits: number): string {
  return LETTERS.filter(([, bit]) => (bits & bit) === bit).map(([letter]) => letter).join("");
}
