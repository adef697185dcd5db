/**
 * How the dashboard names times and sizes, and lays out a table: UTC days
 * and hours as the store keeps them, byte sizes in binary units, numbers as
 * plain digits (so what a page shows is exactly what the store holds).
 *
 * @module
 */

import { type HtmlValue, markup, type SafeHtml } from "./_html.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * The UTC day of a time.
 *
 * @param ms A time, in milliseconds.
 * @returns `YYYY-MM-DD`.
 */
export function utcDay(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The UTC hour of a time.
 *
 * @param ms A time, in milliseconds.
 * @returns `YYYY-MM-DD HH:00`.
 */
export function utcHour(ms: number): string {
  return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13).replace(
    "T",
    " ",
  ) + ":00";
}

/**
 * A time as the dashboard prints it.
 *
 * @param ms A time, in milliseconds.
 * @returns `YYYY-MM-DD HH:MM:SS UTC`, or `-` for a time no date can hold.
 */
export function utcTime(ms: number): string {
  const date = new Date(ms);
  if (!Number.isFinite(date.getTime())) return "-";
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/**
 * The UTC days ending with the one `end` falls in.
 *
 * @param end A time in the last day, in milliseconds.
 * @param count How many days.
 * @returns The days, oldest first, each with its start in milliseconds.
 */
export function lastDays(end: number, count: number): { day: string; start: number }[] {
  const last = Math.floor(end / DAY_MS) * DAY_MS;
  const days = [];
  for (let i = count - 1; i >= 0; i--) {
    const start = last - i * DAY_MS;
    days.push({ day: utcDay(start), start });
  }
  return days;
}

/**
 * Buckets times by hour when they span two days or less, else by day.
 *
 * @param times The times, in milliseconds.
 * @returns The name of each time's bucket (a function), and whether buckets are hours.
 */
export function bucketer(
  times: readonly number[],
): { of: (ms: number) => string; hourly: boolean } {
  if (times.length === 0) return { of: utcDay, hourly: false };
  const span = Math.max(...times) - Math.min(...times);
  return span <= 2 * DAY_MS ? { of: utcHour, hourly: true } : { of: utcDay, hourly: false };
}

/**
 * A byte count in binary units.
 *
 * @param bytes A count of bytes.
 * @returns Such as `512 B` or `12.5 KiB`.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** One column: its heading, and whether it holds numbers (aligned right). */
export type Column = readonly [heading: string, numeric?: boolean];

/**
 * A table.
 *
 * @param columns The headings.
 * @param rows The cells, escaped as they are placed.
 * @param rowClass A class for some rows, such as `flagged`.
 * @param label Names the table for tests and screen readers (`data-table`, `aria-label`).
 * @returns The `<table>`, or a note when there are no rows.
 */
export function table(
  label: string,
  columns: readonly Column[],
  rows: readonly (readonly HtmlValue[])[],
  rowClass?: (index: number) => string | undefined,
): SafeHtml {
  if (rows.length === 0) return markup`<p class="empty">Nothing recorded yet.</p>`;
  const numeric = (index: number) => columns[index]?.[1] === true;
  const head = columns.map(([heading], index) =>
    numeric(index) ? markup`<th class="num">${heading}</th>` : markup`<th>${heading}</th>`
  );
  const body = rows.map((row, index) => {
    const cells = row.map((cell, column) =>
      numeric(column) ? markup`<td class="num">${cell}</td>` : markup`<td>${cell}</td>`
    );
    const kind = rowClass?.(index);
    return kind === undefined
      ? markup`<tr>${cells}</tr>\n`
      : markup`<tr class="${kind}">${cells}</tr>\n`;
  });
  return markup`<table data-table="${label}" aria-label="${label}">
<thead><tr>${head}</tr></thead>
<tbody>
${body}</tbody>
</table>`;
}
