/**
 * Exercises the Emitter client against a running broker, in whatever runtime
 * imports it, with two clients over the runtime's own `WebSocket`: the first
 * makes keys from the master key with `keygen` (one for the channel, one for
 * its share group), the second subscribes in the share group, the first
 * subscribes plainly and publishes to itself at QoS 1 with a time to live;
 * both read the message, the first reads it back with `history`, and both
 * disconnect. (A broker sends a message once per connection, so the share
 * group's member has a connection of its own.) It names no runtime and no file, so the same code
 * runs bundled under Node and Bun, inside a workerd Worker and in a Chromium
 * page; each harness prints or answers the report as JSON.
 *
 * @module
 */

import { EmitterClient, type EmitterSubscription } from "../../src/emitter/mod.ts";
import { detectRuntime } from "../../src/core/runtime/mod.ts";

/** How long one step may take before the run fails. */
const STEP_MS = 10_000;

/** One message as a subscription or history gave it. */
export interface ReceivedMessage {
  channel: string;
  text: string;
}

/** What one run reports back to its harness. */
export interface EmitterReport {
  /** The runtime, as the package itself detects it. */
  runtime: { name: string; version: string };
  /** The label the harness chose; the channel is named after it. */
  label: string;
  /** The channel used, `matrix/<label>/`. */
  channel: string;
  /** The channels keygen granted: the channel's, then its share group's. */
  granted: string[];
  /** What the plain subscription received. */
  plain: ReceivedMessage;
  /** What the share-group subscription received. */
  grouped: ReceivedMessage;
  /** What history returned, with the ids' count. */
  history: { ids: number; messages: ReceivedMessage[] };
  /** Messages of the clients' `error` events, which should stay empty. */
  errors: string[];
}

async function next(subscription: EmitterSubscription, what: string): Promise<ReceivedMessage> {
  const iterator = subscription[Symbol.asyncIterator]();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No message on ${what} in ${STEP_MS} ms`)), STEP_MS);
  });
  try {
    const result = await Promise.race([iterator.next(), late]);
    if (result.done) throw new Error(`The ${what} subscription ended without a message`);
    return { channel: result.value.channel, text: result.value.asString() };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the Emitter client once against the broker at `endpoint`.
 *
 * @param endpoint The broker's WebSocket URL, such as `ws://127.0.0.1:8080/`.
 * @param secret The broker license's master key.
 * @param label A name for this run (the runtime's, usually); the channel carries it.
 * @returns What the client saw.
 */
export async function exerciseEmitter(
  endpoint: string,
  secret: string,
  label: string,
): Promise<EmitterReport> {
  const errors: string[] = [];
  const clients = [1, 2].map(() => {
    const client = new EmitterClient({ endpoint, timeoutMs: STEP_MS });
    client.on("error", (error) => errors.push(error.message));
    return client;
  });
  const [publisher, worker] = clients;
  try {
    for (const client of clients) await client.connect();
    const channel = `matrix/${label}/`;
    const group = "workers";
    const own = await publisher.keygen({ key: secret, channel, type: "rwsl", ttl: 600 });
    const share = await publisher.keygen({
      key: secret,
      channel: `$share/${group}/${channel}`,
      type: "r",
      ttl: 600,
    });
    const grouped = await worker.subscribeWithGroup({ key: share.key, channel, group });
    const plain = await publisher.subscribe({ key: own.key, channel });
    const message = JSON.stringify({ label, hello: "emitter" });
    await publisher.publish({ key: own.key, channel, message, ttl: 60, qos: 1 });
    const report: EmitterReport = {
      runtime: detectRuntime(),
      label,
      channel,
      granted: [own.channel, share.channel],
      plain: await next(plain, "the plain"),
      grouped: await next(grouped, "the share group's"),
      history: { ids: 0, messages: [] },
      errors,
    };
    const history = await publisher.history({ key: own.key, channel, last: 5 });
    report.history = {
      ids: new Set(history.map((m) => m.id)).size,
      messages: history.map((m) => ({ channel: m.channel, text: m.asString() })),
    };
    await publisher.unsubscribe({ key: own.key, channel });
    await worker.unsubscribe({ key: share.key, channel, group });
    return report;
  } finally {
    for (const client of clients) await client.disconnect();
  }
}
