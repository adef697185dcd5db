/**
 * The dashboard's page shell: the document around every page (title, the
 * stylesheet, the navigation between the service pages and the logout
 * button, a POST form so no script is needed) and the login form. Nothing
 * here reads the store; pages hand in their body already escaped.
 *
 * @module
 */

import { type HtmlValue, markup, type SafeHtml } from "./_html.ts";

/** The pages, in navigation order: path below `/dashboard` and title. */
export const DASHBOARD_PAGES = [
  { path: "", title: "Overview" },
  { path: "/mkstats", title: "mkStats" },
  { path: "/honch", title: "Honch" },
  { path: "/migas", title: "migas" },
  { path: "/emitter", title: "Emitter" },
  { path: "/spot", title: "Spot" },
] as const;

/** A page path below `/dashboard`, `""` for the overview. */
export type DashboardPath = (typeof DASHBOARD_PAGES)[number]["path"];

function document(title: string, header: HtmlValue, body: HtmlValue): SafeHtml {
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · Edgewire dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/style.css">
</head>
<body>
${header}
<main>
${body}
</main>
</body>
</html>
`;
}

/**
 * A signed-in page: the navigation with `current` marked, a logout button, then `body`.
 *
 * @param current The page's path below `/dashboard`.
 * @param body The page's content, escaped.
 * @returns The whole document.
 */
export function dashboardPage(current: DashboardPath, body: HtmlValue): SafeHtml {
  const page = DASHBOARD_PAGES.find((candidate) => candidate.path === current);
  const links = DASHBOARD_PAGES.map((candidate) =>
    candidate.path === current
      ? markup`<a href="/dashboard${candidate.path}" aria-current="page">${candidate.title}</a>`
      : markup`<a href="/dashboard${candidate.path}">${candidate.title}</a>`
  );
  const header = markup`<header>
<span class="brand">Edgewire</span>
<nav>${links}</nav>
<form method="post" action="/dashboard/logout"><button type="submit">Log out</button></form>
</header>`;
  return document(page?.title ?? "Dashboard", header, body);
}

/**
 * The login form, with an error line when the last attempt failed.
 *
 * @param error What went wrong, shown above the form; none on a first visit.
 * @returns The whole document.
 */
export function loginPage(error?: string): SafeHtml {
  const body = markup`<form class="login" method="post" action="/dashboard/login">
<h1>Edgewire dashboard</h1>
${error === undefined ? "" : markup`<p class="error" role="alert">${error}</p>`}
<label for="key">Admin key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>`;
  return document("Log in", "", body);
}

/**
 * A row of headline figures, each with its label.
 *
 * @param figures Label and value pairs, in order.
 * @returns The `<dl>`; each value carries `data-figure` (its label) for tests and scrapers.
 */
export function figureCards(figures: readonly (readonly [string, HtmlValue])[]): SafeHtml {
  const cards = figures.map(([label, value]) =>
    markup`<div><dt>${label}</dt><dd data-figure="${label}">${value}</dd></div>`
  );
  return markup`<dl class="cards">${cards}</dl>`;
}
