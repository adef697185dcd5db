/**
 * The small text rules every HTTP caller in the package shares: how a URL is
 * named in a message (origin and path only, as a query string may carry a
 * key), how a thrown value becomes a message, and how an answer's body is
 * read (JSON when it is JSON, else the text, `undefined` when empty).
 *
 * @module
 */

/**
 * Names a URL in a message without its query string or fragment.
 *
 * @param url The URL.
 * @param fallback What to say when it does not parse.
 * @returns `origin + pathname`, or `fallback`.
 */
export function describeUrl(url: string, fallback = "the given URL"): string {
  try {
    const parsed = new URL(url);
    return parsed.origin + parsed.pathname;
  } catch {
    return fallback;
  }
}

/**
 * The message of a thrown value.
 *
 * @param error Anything thrown.
 * @returns Its `message`, or its string form.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads an answer's body: text that is JSON (by content type, or because it
 * starts as an object or array) is parsed; other text is kept; an empty body
 * is `undefined`. A body that is not text (a transport may answer bytes or an
 * object) is kept as it is.
 *
 * @param body The body as received.
 * @param contentType The answer's `Content-Type`, when known.
 * @returns The decoded body.
 */
export function decodeBody(body: unknown, contentType?: string | null): unknown {
  if (typeof body !== "string") return body;
  if (body === "") return undefined;
  if (contentType?.includes("json") || /^\s*[{[]/.test(body)) {
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  }
  return body;
}
