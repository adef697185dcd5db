/**
 * How every store turns Honch values into rows and back: event properties as
 * JSON text (a uint64 beyond 2^53 as its decimal string, since a JSON number
 * would lose digits) and a partial upload's frames joined into one array.
 *
 * @module
 */

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * Serialises an event's properties for a row.
 *
 * @param properties The properties.
 * @returns JSON text, bigints as decimal strings.
 */
export function propertiesToJson(properties: Record<string, unknown>): string {
  return JSON.stringify(properties, jsonReplacer);
}

/**
 * Reads an event's properties back from a row.
 *
 * @param text What {@linkcode propertiesToJson} wrote.
 * @returns The properties.
 */
export function propertiesFromJson(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Joins byte arrays in order.
 *
 * @param parts The arrays.
 * @returns One new array holding them all.
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}
