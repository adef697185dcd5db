/**
 * The dashboard's one stylesheet, served at `/dashboard/style.css`: the
 * page's Content Security Policy allows styles from the server only
 * (`style-src 'self'`), so no page carries a `<style>` element or a `style`
 * attribute, and the charts are coloured by class here.
 *
 * @module
 */

/** The stylesheet's text. */
export const DASHBOARD_CSS = `:root {
  color-scheme: light;
  --ink: #1d232b;
  --muted: #5b6673;
  --line: #d8dee6;
  --panel: #f5f7fa;
  --accent: #2f6fdd;
  --warn: #b3261e;
}
* { box-sizing: border-box; }
body {
  margin: 0;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--ink);
  background: #fff;
}
header {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 1em;
  padding: 0.6em 1.5em;
  border-bottom: 1px solid var(--line);
  background: var(--panel);
}
header .brand { font-weight: 600; }
nav { display: flex; flex-wrap: wrap; gap: 0.9em; flex: 1; }
nav a { color: var(--accent); text-decoration: none; }
nav a[aria-current="page"] { color: var(--ink); font-weight: 600; }
header form { margin: 0; }
main { padding: 1em 1.5em 3em; max-width: 72em; }
h1 { font-size: 1.5em; margin: 0.4em 0 0.6em; }
h2 { font-size: 1.15em; margin: 1.6em 0 0.5em; }
.note, .empty { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 0.8em; margin: 0.5em 0 1em; padding: 0; }
.cards div {
  list-style: none;
  min-width: 10em;
  padding: 0.6em 0.9em;
  border: 1px solid var(--line);
  border-radius: 6px;
  background: var(--panel);
}
.cards dt { color: var(--muted); font-size: 0.85em; }
.cards dd { margin: 0; font-size: 1.5em; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; margin: 0.4em 0 1em; }
th, td { padding: 0.3em 0.8em; border-bottom: 1px solid var(--line); text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flagged td { color: var(--warn); font-weight: 600; }
.badge {
  display: inline-block;
  padding: 0 0.45em;
  border-radius: 4px;
  font-size: 0.85em;
  background: var(--warn);
  color: #fff;
}
pre { white-space: pre-wrap; word-break: break-word; margin: 0; font-size: 0.85em; }
figure.chart { margin: 0.5em 0 1.2em; max-width: 40em; }
figure.chart figcaption { color: var(--muted); font-size: 0.9em; }
figure.chart svg { width: 100%; height: auto; display: block; }
.axis { stroke: var(--muted); stroke-width: 1; }
.tick { fill: var(--muted); font-size: 11px; }
.bar.series-1 { fill: var(--accent); }
.bar.series-2 { fill: #2e9e6a; }
.bar.series-3 { fill: var(--warn); }
.bar.series-4 { fill: #8a5cd1; }
form.login {
  max-width: 22em;
  margin: 4em auto;
  padding: 1.5em;
  border: 1px solid var(--line);
  border-radius: 8px;
  background: var(--panel);
}
form.login label { display: block; margin-bottom: 0.3em; }
form.login input { width: 100%; padding: 0.45em; font: inherit; margin-bottom: 0.9em; }
form.inline { display: flex; gap: 0.5em; align-items: center; margin: 0.5em 0 1em; }
form.inline input { padding: 0.35em; font: inherit; }
button {
  padding: 0.4em 1em;
  font: inherit;
  border: 1px solid var(--accent);
  border-radius: 5px;
  background: var(--accent);
  color: #fff;
  cursor: pointer;
}
header button { background: transparent; color: var(--accent); }
.error { color: var(--warn); font-weight: 600; }
`;
