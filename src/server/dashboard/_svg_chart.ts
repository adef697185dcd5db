/**
 * Server-rendered SVG charts for the dashboard: a bar chart of labelled
 * values (one bar per day, hour or sample), drawn with classes the
 * dashboard's stylesheet colours, since the page's Content Security Policy
 * allows no inline style. Each bar carries a `<title>` with its exact value,
 * which the browser shows on hover without any script.
 *
 * @module
 */

import { markup, type SafeHtml } from "./_html.ts";

/** One bar: its label (a day, an hour) and value. */
export interface ChartPoint {
  /** What the bar stands for, such as `2026-11-25`. */
  readonly label: string;
  /** Its value, 0 or more. */
  readonly value: number;
}

/** How a chart is drawn. */
export interface ChartOptions {
  /** What the chart shows, read by screen readers and shown above it. */
  readonly title: string;
  /** A class for the bars' colour, such as `series-1`. */
  readonly series?: string;
  /** What to say when there are no points. */
  readonly empty?: string;
}

const WIDTH = 640;
const HEIGHT = 180;
const LEFT = 48;
const BOTTOM = 24;
const TOP = 8;
const MAX_BAR = 40;

/** Rounds for the axis: whole numbers stay whole, others keep two decimals. */
function shortNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/**
 * Draws a bar chart.
 *
 * @param points The bars, left to right.
 * @param options The title and colour.
 * @returns The `<figure>` holding the SVG, or a note when there is nothing to draw.
 */
export function barChart(points: readonly ChartPoint[], options: ChartOptions): SafeHtml {
  if (points.length === 0) {
    return markup`<figure class="chart"><figcaption>${options.title}</figcaption>
<p class="empty">${options.empty ?? "No data yet."}</p></figure>`;
  }
  const max = Math.max(...points.map((point) => point.value), 0);
  const plotWidth = WIDTH - LEFT - 8;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = plotWidth / points.length;
  // A few bars stay bars, not blocks
  const barWidth = Math.min(MAX_BAR, Math.max(1, slot * 0.8));
  const series = options.series ?? "series-1";
  const bars = points.map((point, index) => {
    const height = max === 0 ? 0 : (point.value / max) * plotHeight;
    const x = (LEFT + index * slot + (slot - barWidth) / 2).toFixed(1);
    const y = (TOP + plotHeight - height).toFixed(1);
    const width = barWidth.toFixed(1);
    const title = `${point.label}: ${shortNumber(point.value)}`;
    return markup`<rect class="bar ${series}" x="${x}" y="${y}" width="${width}" height="${
      height.toFixed(1)
    }"><title>${title}</title></rect>
`;
  });
  const baseline = TOP + plotHeight;
  const first = points[0].label;
  const last = points[points.length - 1].label;
  const right = WIDTH - 8;
  const lastTick = points.length > 1
    ? markup`<text class="tick" x="${right}" y="${HEIGHT - 6}" text-anchor="end">${last}</text>`
    : "";
  return markup`<figure class="chart"><figcaption>${options.title}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${options.title}">
<line class="axis" x1="${LEFT}" y1="${baseline}" x2="${right}" y2="${baseline}"/>
<line class="axis" x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${baseline}"/>
<text class="tick" x="${LEFT - 6}" y="${TOP + 10}" text-anchor="end">${shortNumber(max)}</text>
<text class="tick" x="${LEFT - 6}" y="${baseline}" text-anchor="end">0</text>
${bars}<text class="tick" x="${LEFT}" y="${HEIGHT - 6}">${first}</text>
${lastTick}
</svg></figure>`;
}
