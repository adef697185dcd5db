/**
 * The HTML of the `/keygen` form: a labelled form with the fields the real
 * broker's page posts (`key`, `channel`, `ttl` and one checkbox per right),
 * the outcome of the last request in a live region, one stylesheet whose
 * hash the `Content-Security-Policy` names, and no script at all. The secret
 * key is never written back into the page. Internal.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { base64 } from "@scure/base";

/** The form's checkboxes: the field name the real page posts, its letter in `type`, its label. */
export const KEYGEN_RIGHTS: ReadonlyArray<readonly [name: string, letter: string, label: string]> =
  [
    ["sub", "r", "Read: subscribe to the channel"],
    ["pub", "w", "Write: publish to the channel"],
    ["store", "s", "Store: keep published messages"],
    ["load", "l", "Load: read stored messages"],
    ["presence", "p", "Presence: see who is subscribed"],
    ["extend", "e", "Extend: make keys for private sub-channels"],
  ];

const STYLE = "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;" +
  "padding:0 1rem}label,legend{display:block;font-weight:600}" +
  "input[type=text],input[type=password],input[type=number]{width:100%;padding:.4rem;" +
  "box-sizing:border-box;margin-bottom:1rem}fieldset{margin-bottom:1rem}" +
  "fieldset label{font-weight:400}button{padding:.5rem 1rem}" +
  "dd{word-break:break-all;font-family:monospace;margin:0 0 .5rem}" +
  ".error{color:#a00000;font-weight:600}";

/** The `Content-Security-Policy` of the page: nothing but its own stylesheet, posting only to itself. */
export const KEYGEN_PAGE_POLICY: string = `default-src 'none'; style-src 'sha256-${
  base64.encode(sha256(new TextEncoder().encode(STYLE)))
}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

/** What the page shows: the fields to fill in again (never the key) and the last outcome. */
export interface KeygenPageState {
  /** The target channel to show in its field. */
  readonly channel: string;
  /** The time to live, in seconds, to show in its field. */
  readonly ttl: string;
  /** The letters of the rights to tick. */
  readonly type: string;
  /** The outcome of a request, absent before the first one. */
  readonly outcome?:
    | { readonly ok: true; readonly key: string; readonly channel: string }
    | { readonly ok: false; readonly message: string };
}

/**
 * Escapes text for an HTML element or a quoted attribute.
 *
 * @param text Any text.
 * @returns The text with `& < > " '` as character references.
 */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function outcomeHtml(outcome: KeygenPageState["outcome"]): string {
  if (outcome === undefined) return "";
  if (!outcome.ok) return `<p class="error">${escapeHtml(outcome.message)}</p>`;
  return `<dl><dt>Channel</dt><dd>${escapeHtml(outcome.channel)}</dd>` +
    `<dt>Key</dt><dd>${escapeHtml(outcome.key)}</dd></dl>`;
}

/**
 * Writes the page.
 *
 * @param state The fields to fill in again and the last outcome.
 * @returns The HTML document.
 */
export function keygenPage(state: KeygenPageState): string {
  const rights = KEYGEN_RIGHTS.map(([name, letter, label]) =>
    `<label><input type="checkbox" name="${name}"${
      state.type.includes(letter) ? " checked" : ""
    }> ${label}</label>`
  ).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Emitter key generation</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Emitter key generation</h1>
<p>Make a channel key from the secret key of this broker's license.</p>
<form method="post">
<label for="keygen-key">Secret key</label>
<input type="password" id="keygen-key" name="key" required autocomplete="off" spellcheck="false">
<label for="keygen-channel">Target channel</label>
<input type="text" id="keygen-channel" name="channel" required spellcheck="false" value="${
    escapeHtml(state.channel)
  }" aria-describedby="keygen-channel-help">
<p id="keygen-channel-help">Such as <code>chat/</code>, <code>chat/+/news/</code> or <code>chat/#/</code>.</p>
<label for="keygen-ttl">Time to live, in seconds (0 for never)</label>
<input type="number" id="keygen-ttl" name="ttl" inputmode="numeric" step="1" value="${
    escapeHtml(state.ttl)
  }">
<fieldset>
<legend>Rights</legend>
${rights}
</fieldset>
<button type="submit">Generate key</button>
</form>
<section aria-live="polite" aria-label="Result">
${outcomeHtml(state.outcome)}
</section>
</main>
</body>
</html>
`;
}
