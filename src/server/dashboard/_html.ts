/**
 * The dashboard's one escape helper: `markup` is a tagged template that
 * escapes every interpolated value unless it is already {@linkcode SafeHtml}
 * (another `markup` result), so text from the store (plugin names, event
 * names, crash messages, channels) always renders as text. Arrays are
 * joined, `undefined` and `null` render as nothing.
 *
 * @module
 */

/** Markup that is safe to place as is: built by {@linkcode html} from escaped parts. */
export class SafeHtml {
  /** The markup. */
  readonly value: string;

  /**
   * Wraps markup; only this module's helpers should call it.
   *
   * @param value Markup already escaped.
   */
  constructor(value: string) {
    this.value = value;
  }

  /**
   * The markup.
   *
   * @returns The markup as a string.
   */
  toString(): string {
    return this.value;
  }
}

/** What `markup` accepts between its parts. */
export type HtmlValue =
  | SafeHtml
  | string
  | number
  | boolean
  | undefined
  | null
  | readonly HtmlValue[];

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for an HTML element or a quoted attribute.
 *
 * @param text Any text.
 * @returns The text with `& < > " '` replaced by entities.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]);
}

function render(value: HtmlValue): string {
  if (value === undefined || value === null) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/**
 * Builds markup from a template, escaping every value placed in it.
 *
 * @param strings The template's literal parts, trusted.
 * @param values The values, escaped unless they are {@linkcode SafeHtml}.
 * @returns The markup.
 */
export function markup(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}
