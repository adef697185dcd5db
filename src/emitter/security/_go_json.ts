/**
 * Reads a JSON request body the way Go's `encoding/json` fills a struct, so
 * the broker accepts and refuses the same bodies as the real one: `null`
 * leaves every field at its zero value, names match case-insensitively
 * (an exact match first), unknown names are ignored, a field of the wrong type
 * or a body that is not an object is an error. Internal.
 *
 * @module
 */

/** The Go type of one field. */
export type GoFieldType = "string" | "int32" | "uint16" | "bool";

type GoValue<T extends GoFieldType> = T extends "string" ? string
  : T extends "bool" ? boolean
  : number;

/** The zero-valued result for a field table. */
export type GoStruct<F extends Record<string, GoFieldType>> = { [K in keyof F]: GoValue<F[K]> };

const ZERO = { string: "", int32: 0, uint16: 0, bool: false } as const;
const RANGE = { int32: [-(2 ** 31), 2 ** 31 - 1], uint16: [0, 65535] } as const;

/**
 * Decodes a body into the fields named, or `undefined` where Go's decoder
 * would return an error.
 *
 * @param body The request payload.
 * @param fields Each JSON field name and its Go type.
 * @returns The values (zero where missing), or `undefined` for a bad body.
 * @throws Never.
 * @example
 * ```ts
 * import { readGoJson } from "./_go_json.ts";
 *
 * console.log(readGoJson('{"Key":"k","ttl":5}', { key: "string", ttl: "int32" })); // { key: "k", ttl: 5 }
 * ```
 */
export function readGoJson<F extends Record<string, GoFieldType>>(
  body: string | Uint8Array,
  fields: F,
): GoStruct<F> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(fields)) out[name] = ZERO[type];
  if (parsed === null) return out as GoStruct<F>;
  if (typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  const names = Object.keys(record);
  for (const [name, type] of Object.entries(fields)) {
    const found = name in record ? name : names.find((n) => n.toLowerCase() === name.toLowerCase());
    if (found === undefined) continue;
    const value = record[found];
    if (value === null) continue;
    if (type === "string" || type === "bool") {
      const kind = typeof value;
      if (kind !== "string" && kind !== "boolean") return undefined;
      if ((kind === "boolean") !== (type === "bool")) return undefined;
    } else {
      const [min, max] = RANGE[type];
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        return undefined;
      }
    }
    out[name] = value;
  }
  return out as GoStruct<F>;
}
