/**
 * Writes GraphQL operations the way migas-py does: arguments in a fixed
 * order joined by `,` without spaces, text as JSON strings (non-ASCII
 * escaped, as Python's `json.dumps`), enums and booleans as bare literals,
 * nested inputs as `{...}`, and `undefined` arguments left out.
 *
 * @module
 */

/** An enum value, written bare. */
export class GqlEnum {
  constructor(readonly name: string) {}
}

/** An argument value. */
export type GqlValue = string | number | boolean | GqlEnum | GqlArgs | undefined;

/** Arguments in the order they are written. */
export type GqlArgs = [string, GqlValue][];

/** A string as Python's `json.dumps` writes it (ASCII only). */
export function pythonJsonString(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function value(item: GqlValue): string {
  if (item instanceof GqlEnum) return item.name;
  if (Array.isArray(item)) return `{${args(item)}}`;
  if (typeof item === "string") return pythonJsonString(item);
  return String(item);
}

/** The argument list, without parentheses. */
export function args(list: GqlArgs): string {
  return list.filter(([, item]) => item !== undefined).map(([name, item]) =>
    `${name}:${value(item)}`
  ).join(",");
}

/**
 * One operation: `query{name(args){fields}}` or, without fields (a JSON
 * result), `query{name(args)}`.
 */
export function operation(
  kind: "query" | "mutation",
  name: string,
  list: GqlArgs,
  fields?: string[],
): string {
  const selection = fields === undefined ? "" : `{${fields.join(",")}}`;
  return `${kind}{${name}(${args(list)})${selection}}`;
}
