/**
 * The Emitter page: the broker's live connections and subscriptions, its
 * message counters and rates (since the server started, and between views
 * of this page), the license contract's stored messages and bytes
 * (`emitterContractUsage`), the channels holding stored messages (the newest
 * 1000 read with `queryEmitterMessages`), the channels with live
 * subscribers on this broker (their count and the busiest 20, from the
 * broker's `liveChannels`), and the banned keys (`listEmitterKeyBans`). A
 * broker nothing has used yet is not started by this page.
 *
 * @module
 */

import { barChart } from "./_svg_chart.ts";
import { markup, type SafeHtml } from "./_html.ts";
import { formatBytes, table, utcTime } from "./_format.ts";
import { figureCards } from "./_layout.ts";
import type { RateSamples } from "./_rate_samples.ts";
import type { DashboardSources } from "./_sources.ts";

/** How many stored messages the channel table reads, the store's own cap. */
export const EMITTER_MESSAGE_WINDOW = 1000;
/** How many channels with live subscribers the page lists, busiest first. */
export const EMITTER_LIVE_CHANNELS = 20;

function perSecond(value: number): string {
  return value.toFixed(2);
}

/**
 * Renders the Emitter page, taking a rate sample.
 *
 * @param sources Where figures come from.
 * @param samples The samples of earlier views.
 * @returns The page's body.
 */
export async function emitterPage(
  sources: DashboardSources,
  samples: RateSamples,
): Promise<SafeHtml> {
  const broker = sources.emitter();
  if (broker === undefined) {
    return markup`<h1>Emitter</h1>
${figureCards([["Connections", 0], ["Subscriptions", 0], ["Channels with live subscribers", 0]])}
<p class="note">The broker has not started: no client has connected since the server started.</p>`;
  }
  const now = sources.now();
  const stats = broker.stats();
  const live = broker.liveChannels(EMITTER_LIVE_CHANNELS);
  samples.add({ time: now, messagesIn: stats.messagesIn, messagesOut: stats.messagesOut });
  const store = await sources.store();
  const contract = broker.license.contract;
  const usage = await store.emitterContractUsage(contract, now);
  const stored = await store.queryEmitterMessages({
    ssid: [contract],
    from: 0,
    until: now,
    limit: EMITTER_MESSAGE_WINDOW,
    now,
  });
  const bans = await store.listEmitterKeyBans();
  const channels = new Map<string, { messages: number; bytes: number; latest: number }>();
  for (const message of stored) {
    const entry = channels.get(message.channel) ?? { messages: 0, bytes: 0, latest: 0 };
    entry.messages++;
    entry.bytes += message.id.length + message.payload.length;
    entry.latest = Math.max(entry.latest, message.time);
    channels.set(message.channel, entry);
  }
  const uptime = Math.max(1, now - sources.startedAt) / 1000;
  const rates = samples.rates();
  const counters: [string, number][] = [
    ["Connections closed as slow", stats.slowClosed],
    ["Connections refused", stats.refusedConnections],
    ["Malformed packets", stats.malformedPackets],
    ["Idle connections closed", stats.idleClosed],
    ["Store failures", stats.storeFailures],
    ["Messages not stored (quota)", stats.storeRefused],
    ["Prunes", stats.prunes],
  ];
  return markup`<h1>Emitter</h1>
${
    figureCards([
      ["Connections", stats.connections],
      ["Subscriptions", stats.subscriptions],
      ["Channels with live subscribers", live.channels],
      ["Messages in", stats.messagesIn],
      ["Messages out", stats.messagesOut],
      ["In per second since start", perSecond(stats.messagesIn / uptime)],
      ["Out per second since start", perSecond(stats.messagesOut / uptime)],
      ["Stored messages", usage.messages],
      ["Stored bytes", usage.bytes],
      ["Channels with stored messages", channels.size],
      ["Banned keys", bans.length],
    ])
  }
${
    barChart(rates.map((rate) => ({ label: utcTime(rate.time), value: rate.inPerSecond })), {
      title: "Messages in per second, between views of this page",
      empty: "Shown from the second view of this page.",
    })
  }
${
    barChart(rates.map((rate) => ({ label: utcTime(rate.time), value: rate.outPerSecond })), {
      title: "Messages out per second, between views of this page",
      series: "series-2",
      empty: "Shown from the second view of this page.",
    })
  }
<h2>Channels with live subscribers</h2>
<p class="note">On this broker; the ${EMITTER_LIVE_CHANNELS} with the most subscribers at most.</p>
${
    table(
      "emitter-live-channels",
      [["Channel"], ["Subscribers", true]],
      live.top.map((entry) => [entry.channel, entry.subscribers]),
    )
  }
<h2>Channels with stored messages</h2>
<p class="note">Contract ${contract}; the newest ${EMITTER_MESSAGE_WINDOW} stored messages at most.</p>
${
    table(
      "emitter-channels",
      [["Channel"], ["Messages", true], ["Bytes", true], ["Latest"]],
      [...channels].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([channel, entry]) => [
        channel,
        entry.messages,
        formatBytes(entry.bytes),
        utcTime(entry.latest),
      ]),
    )
  }
<h2>Counters</h2>
${table("emitter-counters", [["Counter"], ["Value", true]], counters)}`;
}
