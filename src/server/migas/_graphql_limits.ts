/**
 * The bounds on one migas GraphQL request, checked on the parsed document
 * before validation or execution: aliases, nesting depth and a total cost in
 * which `get_usage` weighs more than a plain field. Fragments are counted each
 * time they are spread, so a fragment cannot hide work. The same walk counts
 * the recording mutations, which the rate limit charges one by one, and finds
 * a NUL in any string literal.
 *
 * @module
 */

import { type DocumentNode, Kind, type SelectionSetNode } from "graphql";

/** The limits, as `ServerOptions.migas.graphql` resolves them. */
export interface GraphqlLimits {
  /** How many aliased fields one request may hold. */
  readonly maxAliases: number;
  /** How deeply selections may nest; a root field is depth 1. */
  readonly maxDepth: number;
  /** The most one request may cost. */
  readonly maxCost: number;
  /** Whether introspection is answered. */
  readonly introspection: boolean;
}

/** What a field costs; `get_usage` reads aggregates over a range, so it weighs more. */
const FIELD_COST = 1;
const USAGE_COST = 10;
/** The mutations that store a breadcrumb, each charged to the rate limit. */
const RECORDING = new Set(["add_breadcrumb", "add_project"]);

/**
 * What {@linkcode measureDocument} found: the recording mutations, or the
 * reason code and message of the first limit passed.
 */
export type Measure =
  | { ok: true; items: number }
  | { ok: false; code: string; message: string };

interface Tally {
  aliases: number;
  cost: number;
  items: number;
  depth: number;
  nul: boolean;
}

/**
 * Measures a parsed document against the limits.
 *
 * @param document The parsed request.
 * @param limits The bounds.
 * @returns The recording mutations it holds, or why it is refused.
 */
export function measureDocument(document: DocumentNode, limits: GraphqlLimits): Measure {
  const fragments = new Map<string, SelectionSetNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition.selectionSet);
    }
  }
  const tally: Tally = { aliases: 0, cost: 0, items: 0, depth: 0, nul: false };
  // Stops as soon as a bound is passed, so a huge document costs no more than the limit.
  const over = (): boolean =>
    tally.aliases > limits.maxAliases || tally.cost > limits.maxCost ||
    tally.depth > limits.maxDepth;
  const walk = (set: SelectionSetNode, depth: number, root: boolean, spread: string[]): void => {
    for (const selection of set.selections) {
      if (over()) return;
      if (selection.kind === Kind.FIELD) {
        tally.depth = Math.max(tally.depth, depth);
        if (selection.alias !== undefined) tally.aliases++;
        const name = selection.name.value;
        tally.cost += name === "get_usage" ? USAGE_COST : FIELD_COST;
        if (root && RECORDING.has(name)) tally.items++;
        if (selection.selectionSet !== undefined) {
          walk(selection.selectionSet, depth + 1, false, spread);
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet, depth, root, spread);
      } else {
        const name = selection.name.value;
        const target = fragments.get(name);
        // A cycle is refused by validation; here it must only not loop.
        if (target !== undefined && !spread.includes(name)) {
          walk(target, depth, root, [...spread, name]);
        }
      }
    }
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) walk(definition.selectionSet, 1, true, []);
  }
  if (tally.aliases > limits.maxAliases) {
    return {
      ok: false,
      code: "graphql_too_many_aliases",
      message: `Query holds more than ${limits.maxAliases} aliased fields: send fewer per request`,
    };
  }
  if (tally.depth > limits.maxDepth) {
    return {
      ok: false,
      code: "graphql_too_deep",
      message: `Query nests deeper than ${limits.maxDepth} levels: flatten the selection`,
    };
  }
  if (tally.cost > limits.maxCost) {
    return {
      ok: false,
      code: "graphql_too_costly",
      message: `Query costs more than ${limits.maxCost}: split it into smaller requests`,
    };
  }
  return { ok: true, items: Math.max(1, tally.items) };
}

/**
 * Whether any string in a JSON value, or any string literal of a document,
 * holds a NUL character, which migas text fields refuse.
 *
 * @param value A parsed JSON value or a GraphQL document.
 * @returns `true` when a NUL was found.
 */
export function holdsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\0");
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some(holdsNul);
  // A document's `loc` links back to the source and tokens; skip it.
  return Object.entries(value).some(([key, item]) => key !== "loc" && holdsNul(item));
}
