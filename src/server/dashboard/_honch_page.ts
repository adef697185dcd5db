/**
 * The Honch page: for each project key the server accepts, the newest
 * events (up to 1000, what `listHonchEvents` reads at most for the admin
 * route too) over time, by hour when they span two days or less, else by
 * day: events, distinct sessions (`$session_id`) and crashes (`$crash`),
 * then the latest crash reports and the coredumps `listHonchBlobs` keeps.
 * The store knows a project by its key's SHA-256 only, so that names it.
 *
 * @module
 */

import { hex } from "@scure/base";
import { barChart, type ChartPoint } from "./_svg_chart.ts";
import { markup, type SafeHtml } from "./_html.ts";
import { bucketer, formatBytes, table, utcTime } from "./_format.ts";
import { figureCards } from "./_layout.ts";
import type { DashboardSources } from "./_sources.ts";
import type { HonchEventRecord } from "../honch/store.ts";

/** How many of a project's newest events the page reads. */
export const HONCH_EVENT_WINDOW = 1000;
/** How many crash reports and coredumps the page lists. */
const LATEST = 10;
/** The event a crash is reported as. */
const CRASH_EVENT = "$crash";

function text(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function firstFrame(value: unknown): string {
  const frames = Array.isArray(value) ? value.map(text) : text(value).split("\n");
  return frames.find((frame) => frame.trim() !== "")?.trim() ?? "";
}

/** The per-bucket counts of a project's events. */
function overTime(events: readonly HonchEventRecord[]): {
  hourly: boolean;
  events: ChartPoint[];
  sessions: ChartPoint[];
  crashes: ChartPoint[];
} {
  const bucket = bucketer(events.map((event) => event.timestamp));
  const counts = new Map<string, { events: number; sessions: Set<string>; crashes: number }>();
  for (const event of [...events].sort((a, b) => a.timestamp - b.timestamp)) {
    const name = bucket.of(event.timestamp);
    let entry = counts.get(name);
    if (entry === undefined) {
      entry = { events: 0, sessions: new Set(), crashes: 0 };
      counts.set(name, entry);
    }
    entry.events++;
    const session = event.properties.$session_id;
    if (typeof session === "string" && session !== "") entry.sessions.add(session);
    if (event.event === CRASH_EVENT) entry.crashes++;
  }
  const points = [...counts];
  return {
    hourly: bucket.hourly,
    events: points.map(([label, entry]) => ({ label, value: entry.events })),
    sessions: points.map(([label, entry]) => ({ label, value: entry.sessions.size })),
    crashes: points.map(([label, entry]) => ({ label, value: entry.crashes })),
  };
}

async function projectSection(sources: DashboardSources, keyHash: Uint8Array): Promise<SafeHtml> {
  const store = await sources.store();
  const hash = hex.encode(keyHash);
  const events = await store.listHonchEvents(hash, HONCH_EVENT_WINDOW);
  const blobs = await store.listHonchBlobs(hash, LATEST);
  const sessions = new Set<string>();
  const devices = new Set<string>();
  for (const event of events) {
    const session = event.properties.$session_id;
    if (typeof session === "string" && session !== "") sessions.add(session);
    const device = event.properties.$device_id;
    if (typeof device === "string" && device !== "") devices.add(device);
  }
  const crashes = events.filter((event) => event.event === CRASH_EVENT);
  const series = overTime(events);
  const unit = series.hourly ? "UTC hour" : "UTC day";
  const latest = crashes.slice(-LATEST).reverse();
  return markup`<section data-project="${hash}">
<h2>Project sha256:${hash.slice(0, 16)}…</h2>
${
    figureCards([
      ["Events", events.length],
      ["Sessions", sessions.size],
      ["Devices", devices.size],
      ["Crashes", crashes.length],
      ["Coredumps", blobs.length],
    ])
  }
<p class="note">The newest ${HONCH_EVENT_WINDOW} events at most, by the time each event happened.</p>
${barChart(series.events, { title: `Events per ${unit}` })}
${barChart(series.sessions, { title: `Sessions per ${unit}`, series: "series-2" })}
${barChart(series.crashes, { title: `Crashes per ${unit}`, series: "series-3" })}
<h3>Latest crash reports</h3>
${
    table(
      `honch-crashes-${hash}`,
      [["Time"], ["Device"], ["Error"], ["Message"], ["Where"]],
      latest.map((event) => [
        utcTime(event.timestamp),
        text(event.properties.$device_id),
        text(event.properties.name),
        markup`<pre>${text(event.properties.message)}</pre>`,
        markup`<pre>${firstFrame(event.properties.backtrace)}</pre>`,
      ]),
    )
  }
<h3>Coredumps</h3>
${
    table(
      `honch-coredumps-${hash}`,
      [["Received"], ["Stream"], ["Message id", true], ["Size", true]],
      [...blobs].reverse().map((blob) => [
        utcTime(blob.receivedAt),
        blob.key.streamId,
        blob.key.messageId,
        formatBytes(blob.bytes.length),
      ]),
    )
  }
</section>`;
}

/**
 * Renders the Honch page.
 *
 * @param sources Where figures come from.
 * @returns The page's body.
 */
export async function honchPage(sources: DashboardSources): Promise<SafeHtml> {
  const keys = sources.honchProjectKeyHashes;
  if (keys.length === 0) {
    return markup`
      <h1>Honch</h1>
      <p
        class="note">Capture is closed: the server accepts no project key (see the <code>honch.projectKeys</code> option).</p>
    `;
  }
  const sections = [];
  for (const key of keys) sections.push(await projectSection(sources, key));
  return markup`<h1>Honch</h1>${sections}`;
}
