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
  try {
    // Without a replacer first: calling one per value halves the speed, and bigints are rare.
    return JSON.stringify(properties);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return JSON.stringify(properties, jsonReplacer);
  }
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
