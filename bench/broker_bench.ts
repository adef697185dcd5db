/**
 * Our Emitter broker against two real MQTT brokers in one run: Debian's
 * mosquitto (C) and aedes on Node 20 (bench/node/, `npm ci --prefix bench/node`
 * first). One MQTT.js publisher sends 100-byte messages to one topic, `N`
 * MQTT.js subscribers receive them; the figure is messages delivered per
 * second (deliveries to all subscribers together), at QoS 0 and QoS 1 (the
 * publisher's QoS; subscribers subscribe at QoS 0 everywhere, as Emitter
 * delivers at QoS 0 only). Each broker runs in its own process, the clients
 * share this one, and every broker gets the same load, broker after broker,
 * over the same transport: plain MQTT over TCP when our server listens on TCP,
 * and MQTT over WebSocket.
 *
 * `deno run -A bench/broker_bench.ts [--quick]`; the ratios ours/mosquitto and
 * ours/aedes are the result. On a small machine the clients, not the
 * brokers, may set the pace, so a second table gives each broker process's
 * own CPU time per delivery (Linux /proc). The publisher keeps at most a
 * window of messages not yet delivered to every subscriber, so no broker has
 * to drop or buffer without bound; every run is bounded in messages and in
 * time, and a run that ran out of time says so. `--quick` runs fewer loads,
 * once each.
 *
 * @module
 */

import { Buffer } from "node:buffer";
// Named here rather than in deno.json: only this bench and the peer tests need MQTT.js
// deno-lint-ignore no-import-prefix
import mqtt from "npm:mqtt@5";
import { keygen, newLicense, singleContractProvider } from "../src/emitter/security/mod.ts";
import { startChild, type StartedChild } from "../tests/_helpers/runtimes.ts";

const BENCH = new URL("./", import.meta.url);
const QUICK = Deno.args.includes("--quick");
/** Subscriber counts. */
const FAN_OUT = QUICK ? [1, 10] : [1, 10, 50];
/** Deliveries aimed at per run: messages = this / subscribers. */
const DELIVERIES = QUICK ? 20_000 : 100_000;
/** Messages sent but not yet delivered to every subscriber. */
const WINDOW = 128;
/** A run that is not done by then stops and reports what it delivered. */
const RUN_MS = 15_000;
/** Each load runs this many times per broker, rounds interleaved; the best rate counts. */
const ROUNDS = QUICK ? 1 : 2;
const PAYLOAD_BYTES = 100;
const START_MS = 20_000;

type Transport = "tcp" | "ws";

/** A broker started for the bench. */
interface Broker {
  name: string;
  /** Its MQTT URL per transport it serves. */
  urls: Partial<Record<Transport, string>>;
  /** The topic every run uses. */
  topic: string;
  /** Its process id, whose CPU time is read from /proc. */
  pid: number;
  stop(): Promise<void>;
}

/** What one run measured. */
interface RunResult {
  /** CPU the broker process spent in the measured part, in ms, when /proc tells. */
  cpuMs: number | undefined;
  delivered: number;
  expected: number;
  seconds: number;
  timedOut: boolean;
}

/** CPU time (user and system) a process has used, in ms, from /proc; undefined elsewhere. */
function cpuMs(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15, in clock ticks of 10 ms on Linux
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** A port that was free a moment ago. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function accepting(port: number, until: number): Promise<void> {
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** Debian's mosquitto with a plain and a WebSocket listener (2.0.11 needs the plain one). */
async function startMosquitto(topic: string): Promise<Broker> {
  const dir = await Deno.makeTempDir({ prefix: "edgewire-bench-mosquitto-" });
  const tcp = freePort();
  const ws = freePort();
  const config = `${dir}/mosquitto.conf`;
  await Deno.writeTextFile(
    config,
    [
      "allow_anonymous true",
      "persistence false",
      "log_dest none",
      `listener ${tcp} 127.0.0.1`,
      `listener ${ws} 127.0.0.1`,
      "protocol websockets",
      "",
    ].join("\n"),
  );
  const child = new Deno.Command("/usr/sbin/mosquitto", {
    args: ["-c", config],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const until = Date.now() + START_MS;
  await accepting(tcp, until);
  await accepting(ws, until);
  const version = new TextDecoder().decode(
    (await new Deno.Command("/usr/sbin/mosquitto", { args: ["-h"], stdout: "piped" }).output())
      .stdout,
  ).match(/mosquitto version (\S+)/)?.[1];
  return {
    name: `mosquitto ${version ?? "?"}`,
    urls: { tcp: `mqtt://127.0.0.1:${tcp}`, ws: `ws://127.0.0.1:${ws}/` },
    topic,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Stops a child that ends when its standard input closes. */
async function closeInput(started: StartedChild): Promise<void> {
  await started.child.stdin.close();
  const timer = setTimeout(() => started.child.kill("SIGKILL"), 5000);
  await started.ended.finally(() => clearTimeout(timer));
}

/** Aedes on Node 20, installed in bench/node. */
async function startAedes(topic: string): Promise<Broker> {
  const script = decodeURIComponent(new URL("node/aedes_broker.mjs", BENCH).pathname);
  const version = JSON.parse(
    await Deno.readTextFile(new URL("node/node_modules/aedes/package.json", BENCH)),
  ).version;
  const started = await startChild("node", [script], {
    ready: /aedes ready tcp=(\d+) ws=(\d+)/,
    stdin: "piped",
    timeoutMs: START_MS,
  });
  const [, tcp, ws] = started.ready;
  return {
    name: `aedes ${version}`,
    urls: { tcp: `mqtt://127.0.0.1:${tcp}`, ws: `ws://127.0.0.1:${ws}/` },
    topic,
    pid: started.child.pid,
    stop: () => closeInput(started),
  };
}

/** Our broker in its own Deno process (bench/_emitter_broker.ts), with the bench's license. */
async function startOurs(topic: string, license: string): Promise<Broker> {
  const script = decodeURIComponent(new URL("_emitter_broker.ts", BENCH).pathname);
  const started = await startChild(Deno.execPath(), ["run", "-A", script], {
    ready: /emitter ready ws=(\d+) tcp=(\d+|none)/,
    stdin: "piped",
    env: { EDGEWIRE_BENCH_LICENSE: license },
    timeoutMs: START_MS,
  });
  const [, ws, tcp] = started.ready;
  return {
    name: "ours (Deno)",
    urls: {
      ws: `ws://127.0.0.1:${ws}/`,
      ...(tcp === "none" ? {} : { tcp: `mqtt://127.0.0.1:${tcp}` }),
    },
    topic,
    pid: started.child.pid,
    stop: () => closeInput(started),
  };
}

/** Waits for `promise` at most `ms`, then fails naming `what`. */
function bounded<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function connect(url: string, name: string): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: name,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    keepalive: 60,
  });
}

/** One publisher, `subscribers` subscribers, `messages` messages at `qos`. */
async function run(
  broker: Broker,
  url: string,
  qos: 0 | 1,
  subscribers: number,
  messages: number,
): Promise<RunResult> {
  const { topic } = broker;
  const clients: mqtt.MqttClient[] = [];
  try {
    const subs: mqtt.MqttClient[] = [];
    for (let i = 0; i < subscribers; i++) {
      const client = await connect(url, `bench-sub-${i}`);
      clients.push(client);
      subs.push(client);
      await bounded(client.subscribeAsync(topic, { qos: 0 }), "SUBACK");
    }
    const publisher = await connect(url, "bench-pub");
    clients.push(publisher);

    // Deliveries per message; a message is complete once every subscriber has it
    const warmup = 32;
    const total = warmup + messages;
    const counts = new Uint16Array(total);
    let published = 0;
    let completed = 0;
    let delivered = 0;
    let acked = 0;
    let wake: (() => void) | undefined;
    const payload = Buffer.alloc(PAYLOAD_BYTES, 0x61);
    for (const sub of subs) {
      sub.on("message", (_topic, body) => {
        const seq = body.readUInt32BE(0);
        if (seq >= warmup) delivered++;
        if (++counts[seq] === subscribers) {
          completed++;
          wake?.();
        }
      });
    }
    const publishUpTo = (limit: number) => {
      while (published < limit && published - completed < WINDOW) {
        const body = Buffer.from(payload);
        body.writeUInt32BE(published++, 0);
        publisher.publish(topic, body, { qos }, (error) => {
          if (error !== undefined && error !== null) return;
          acked++;
          // A PUBACK may come after the last delivery
          if (qos === 1) wake?.();
        });
      }
    };
    const drive = (limit: number, deadline: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          wake = undefined;
          resolve(false);
        }, deadline - Date.now());
        wake = () => {
          publishUpTo(limit);
          if (completed >= limit && (qos === 0 || acked >= limit)) {
            clearTimeout(timer);
            wake = undefined;
            resolve(true);
          }
        };
        publishUpTo(limit);
      });
    if (!await drive(warmup, Date.now() + 5000)) {
      return {
        cpuMs: undefined,
        delivered: 0,
        expected: messages * subscribers,
        seconds: 0,
        timedOut: true,
      };
    }
    const cpuBefore = cpuMs(broker.pid);
    const start = performance.now();
    const done = await drive(total, Date.now() + RUN_MS);
    const seconds = (performance.now() - start) / 1000;
    const cpuAfter = cpuMs(broker.pid);
    return {
      cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
      delivered,
      expected: messages * subscribers,
      seconds,
      timedOut: !done,
    };
  } finally {
    await Promise.all(
      clients.map((client) => bounded(client.endAsync(true), "end").catch(() => {})),
    );
  }
}

function format(rate: number): string {
  return Math.round(rate).toLocaleString("en-US");
}

async function main(): Promise<void> {
  const { license, secret } = newLicense();
  const made = keygen({
    cipher: license.cipher(),
    contracts: singleContractProvider(license),
    connectionId: "bench",
  }, { key: secret, channel: "bench/", type: "rw", ttl: 0 });
  if (!made.ok) throw new Error(`Cannot make the bench key: ${made.error.message}`);
  const topic = `${made.key}/bench/`;

  const brokers: Broker[] = [];
  try {
    brokers.push(await startOurs(topic, license.toString()));
    brokers.push(await startMosquitto(topic));
    brokers.push(await startAedes(topic));
    const [ours, ...others] = brokers;
    const transports: Transport[] = ours.urls.tcp === undefined ? ["ws"] : ["tcp", "ws"];
    console.log(
      `${PAYLOAD_BYTES}-byte messages, one MQTT.js ${mqttVersion()} publisher, N subscribers at QoS 0, window ${WINDOW}, ~${DELIVERIES} deliveries a run, best of ${ROUNDS}; ` +
        `brokers: ${
          brokers.map((b) => b.name).join(", ")
        }; ${Deno.build.os} ${navigator.hardwareConcurrency} cores`,
    );
    const header = [
      "transport",
      "QoS",
      "N",
      ...brokers.map((b) => `${b.name} msg/s`),
      ...others.map((b) => `ours/${b.name.split(" ")[0]}`),
    ];
    const rows: string[][] = [header];
    const cpuRows: string[][] = [
      ["transport", "QoS", "N", ...brokers.map((b) => `${b.name} µs`)],
    ];
    for (const transport of transports) {
      for (const qos of [0, 1] as const) {
        for (const subscribers of FAN_OUT) {
          const messages = Math.ceil(DELIVERIES / subscribers);
          const best: (RunResult & { rate: number })[] = [];
          // The broker's CPU µs per delivery, the least over the rounds
          const leanest: (number | undefined)[] = [];
          for (let round = 0; round < ROUNDS; round++) {
            for (const [index, broker] of brokers.entries()) {
              const url = broker.urls[transport]!;
              const result = await run(broker, url, qos, subscribers, messages);
              const rate = result.seconds > 0 ? result.delivered / result.seconds : 0;
              if (best[index] === undefined || rate > best[index].rate) {
                best[index] = { ...result, rate };
              }
              const cpu = result.cpuMs === undefined || result.delivered === 0
                ? undefined
                : result.cpuMs * 1000 / result.delivered;
              if (cpu !== undefined) leanest[index] = Math.min(leanest[index] ?? Infinity, cpu);
            }
          }
          const rates = best.map((result) => result.rate);
          const cells = best.map((result) =>
            format(result.rate) +
            (result.timedOut ? ` (timed out, ${result.delivered}/${result.expected})` : "")
          );
          const load = [transport === "ws" ? "WebSocket" : "TCP", String(qos), String(subscribers)];
          cpuRows.push([...load, ...brokers.map((_, i) => leanest[i]?.toFixed(1) ?? "n/a")]);
          rows.push([
            ...load,
            ...cells,
            ...rates.slice(1).map((rate) => rate > 0 ? (rates[0] / rate).toFixed(2) : "n/a"),
          ]);
          console.error(`done: ${rows.at(-1)!.join(" | ")}`);
        }
      }
    }
    printTable(rows);
    console.log(
      "\nCPU time of the broker process per delivery (µs, the least of the rounds; from /proc in 10 ms ticks):",
    );
    printTable(cpuRows);
  } finally {
    for (const broker of brokers) await broker.stop().catch(() => {});
  }
}

/** The MQTT.js version Deno resolved, from its folder in node_modules/.deno. */
function mqttVersion(): string {
  try {
    for (const entry of Deno.readDirSync(new URL("../node_modules/.deno/", import.meta.url))) {
      const version = /^mqtt@(5\.[^_]+)$/.exec(entry.name)?.[1];
      if (version !== undefined) return version;
    }
  } catch {
    // No node_modules folder: Deno keeps npm packages in its cache instead
  }
  return "5";
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  for (const [index, row] of rows.entries()) {
    console.log(
      row.map((cell, column) =>
        column < 3 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])
      )
        .join("  "),
    );
    if (index === 0) console.log(widths.map((width) => "-".repeat(width)).join("  "));
  }
}

if (import.meta.main) await main();
