/**
 * The durability test's load and check, for the test files that disturb
 * the reference server while every client sends to it: the server runs as
 * its own process (`deno task serve`'s script, `examples/ingest_server.ts`)
 * and, at seeded moments, is killed with SIGKILL and restarted on the same
 * port, or disturbed some other way and left running (see
 * {@linkcode Disturbance}). Once the clients have drained their queues the
 * server is killed once more and restarted, and what it stored, read back
 * through its admin and read APIs, must hold every event a client was told
 * was accepted, and none twice. Emitter's QoS 1 is at-least-once by the
 * MQTT protocol: for it, duplicates are counted, not refused.
 *
 * `DURABILITY_SEED` replays another seed; `DURABILITY_VERBOSE=1` prints the counts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MemoryStorage } from "../../src/core/storage.ts";
import { EmitterClient } from "../../src/emitter/client.ts";
import { newLicense } from "../../src/emitter/security/license.ts";
import { HonchClient } from "../../src/honch/client.ts";
import { createMigas } from "../../src/migas/client.ts";
import { MkStatsClient } from "../../src/mkstats/client.ts";
import { SpotClient } from "../../src/spot/client.ts";
import { type Served, serveTask, tempDir } from "../examples/_served.ts";
import { seededRandom } from "./_fault_proxy.ts";

const SEED = Number(Deno.env.get("DURABILITY_SEED") ?? 0xd0_4ab1e);
const VERBOSE = Deno.env.get("DURABILITY_VERBOSE") === "1";
/** How many times the server is killed (or disturbed) while the clients send. */
const KILLS = 4;
/** The kill comes this long after the server listens again (or the last disturbance), plus up to KILL_SPREAD_MS. */
const KILL_AFTER_MS = 500;
const KILL_SPREAD_MS = 900;
/** How long the load goes on after the last restart before the clients drain. */
const TAIL_MS = 400;
const ADMIN_KEY = "durability-admin-key";
const HONCH_KEY = "phc_durability";
const PLUGIN = "durable_plugin";
const MIGAS_PROJECTS = Array.from({ length: 60 }, (_, i) => `acme/durable-${i}`);
const BACKOFF = { initialMs: 10, maxMs: 150 };
const TIMEOUT_MS = 2000;
/** The caps on each client's load, whatever the timing: below every read API's page size. */
const MAX = { mkstats: 300, honch: 600, emitter: 600, spot: 120 };
/** Drain rounds and restart attempts before the test gives up. */
const MAX_ROUNDS = 300;
/** How long each client's drain may take at most. */
const DRAIN_MS = 8000;
const MAX_STARTS = 10;

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The server process, killed and restarted on the port of its first start. */
class CrashingServer {
  #served: Served;
  #env: Record<string, string>;
  readonly base: string;
  readonly port: string;
  crashes = 0;
  /** What each ended life of the server printed on stderr. */
  readonly stderr: string[] = [];

  private constructor(served: Served, env: Record<string, string>) {
    this.#served = served;
    this.#env = env;
    this.base = served.base;
    this.port = new URL(served.base).port;
  }

  static async start(env: Record<string, string>): Promise<CrashingServer> {
    return new CrashingServer(await serveTask({ ...env, EDGEWIRE_PORT: "0" }), env);
  }

  /** SIGKILL, then the same command on the same port (retried while the port is still taken). */
  async crashAndRestart(): Promise<void> {
    const { code, stderr } = await this.#served.stop("SIGKILL");
    this.stderr.push(stderr);
    assert.notEqual(code, 0, "the server died of the SIGKILL");
    this.crashes++;
    for (let attempt = 1;; attempt++) {
      try {
        this.#served = await serveTask({ ...this.#env, EDGEWIRE_PORT: this.port });
        assert.equal(this.#served.base, this.base);
        return;
      } catch (error) {
        if (attempt >= MAX_STARTS) throw error;
        await pause(50 * attempt);
      }
    }
  }

  async stop(): Promise<void> {
    this.stderr.push((await this.#served.stop("SIGTERM")).stderr);
  }

  /** Whether the process answers `GET /healthz`. */
  async healthy(): Promise<boolean> {
    const response = await fetch(`${this.base}/healthz`).catch(() => undefined);
    await response?.body?.cancel();
    return response?.status === 200;
  }

  async adminGet(path: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.base}${path}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    assert.equal(response.status, 200, `GET ${path} answered ${response.status}`);
    return await response.json();
  }
}

/** What one client was told the server accepted, and what problems the check found. */
interface Ledger {
  /** How many events the client was told the server accepted. */
  acked: number;
  /** Events sent whose acknowledgement never came (allowed to be stored or not). */
  unacked: number;
  /** Sends the crashes disturbed: failed requests, queued calls, lost connections. */
  disturbed: number;
  /** The acknowledged events the server does not hold. */
  lost: string[];
  /** The events the server holds more than once. */
  duplicated: string[];
  /** A queue left undrained, or events dropped. */
  problems: string[];
  /** The answers other than 2xx by status and error code, "network" when none came. */
  answers: Record<string, number>;
}

const ledger = (): Ledger => ({
  acked: 0,
  unacked: 0,
  disturbed: 0,
  lost: [],
  duplicated: [],
  problems: [],
  answers: {},
});

/** The global fetch, counting the answers other than 2xx into `target`. */
function countingFetch(target: Ledger): typeof fetch {
  const count = (what: string) => target.answers[what] = (target.answers[what] ?? 0) + 1;
  return async (input, init) => {
    try {
      const response = await fetch(input, init);
      if (response.status >= 300) {
        // The service's error code, when its answer has one, tells a 409 of an idempotency
        // key still held apart from mkStats' first event before its ping
        const body = await response.clone().json().catch(() => undefined);
        const said = body?.error ?? body?.detail;
        const code = typeof said === "string" ? ` ${said.slice(0, 60)}` : "";
        count(`${response.status}${code}`);
      }
      return response;
    } catch (error) {
      count("network");
      throw error;
    }
  };
}

/** Flushes until nothing is left, bounded in rounds and time; answers what is left. */
async function drain(flush: () => Promise<number>): Promise<number> {
  const deadline = Date.now() + DRAIN_MS;
  let left = await flush();
  for (let round = 1; round < MAX_ROUNDS && left > 0 && Date.now() < deadline; round++) {
    await pause(20);
    left = await flush();
  }
  return left;
}

/** Counts the occurrences of each item. */
function tally<T>(items: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

/** Compares acknowledged ids with the stored copies: one each, none of anything else twice. */
function checkOnce(target: Ledger, acked: Iterable<string>, stored: Map<string, number>): void {
  for (const id of acked) {
    target.acked++;
    if ((stored.get(id) ?? 0) === 0) target.lost.push(id);
  }
  for (const [id, copies] of stored) if (copies > 1) target.duplicated.push(`${id} ×${copies}`);
}

/**
 * What happens at each seeded moment of the load instead of a SIGKILL: the
 * server is left running, and must stay up.
 */
export interface Disturbance {
  /** What it does, as the test's name says it: "PostgreSQL ending …". */
  name: string;
  /** Disturbs the server; resolves with whether it caught one of its requests in flight. */
  disturb(): Promise<boolean>;
}

/** How {@linkcode crashTest} runs for one store. */
export interface CrashTestOptions {
  /** How the store is named in the test's name, or `""` for SQLite. */
  on: string;
  /** Whether the store's database is missing. */
  ignore: boolean;
  /** The variables that choose the store, given the test's temporary folder. */
  storeEnv: (dir: string) => Promise<Record<string, string>> | Record<string, string>;
  /** What disturbs the server while the clients send; a SIGKILL and restart when absent. */
  disturbance?: Disturbance;
}

/**
 * Registers the crash test for one store of `deno task serve`: while every
 * client sends, the server is killed and restarted (or disturbed and left
 * running) at seeded moments, then killed once more before what it stored
 * is read back.
 *
 * @param options The store, and what disturbs the server.
 */
export function crashTest({ on, ignore, storeEnv, disturbance }: CrashTestOptions): void {
  Deno.test({
    name: `every event a client was told was accepted survives ${
      disturbance?.name ?? "repeated kill -9 of the server"
    }, once${on}`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const random = seededRandom(SEED);
      await using dir = await tempDir();
      const { license, secret } = newLicense();
      const server = await CrashingServer.start({
        ...await storeEnv(dir.path),
        EDGEWIRE_ADMIN_KEY: ADMIN_KEY,
        EDGEWIRE_DIFFICULTY: "1",
        EDGEWIRE_HONCH_PROJECT_KEYS: HONCH_KEY,
        EDGEWIRE_MIGAS_PROJECTS: MIGAS_PROJECTS.join(","),
        EMITTER_LICENSE: license.toString(),
        XDG_DATA_HOME: dir.path,
      });
      const wsBase = server.base.replace(/^http/, "ws");
      const results = {
        mkstats: ledger(),
        honch: ledger(),
        migas: ledger(),
        spot: ledger(),
        emitter: ledger(),
      };

      const mkstats = new MkStatsClient({
        pluginId: PLUGIN,
        pluginVersion: "1.0.0",
        endpoint: `${server.base}/api`,
        deviceId: "durable-device",
        storage: new MemoryStorage(),
        timeoutMs: TIMEOUT_MS,
        backoff: BACKOFF,
        random: seededRandom(SEED + 1),
        fetch: countingFetch(results.mkstats),
      });
      const honch = new HonchClient({
        apiKey: HONCH_KEY,
        deviceId: "dev_durable",
        deviceModel: "Durable-Board",
        firmwareVersion: "1.0.0",
        endpoint: server.base,
        storage: new MemoryStorage(),
        timeoutMs: TIMEOUT_MS,
        backoff: BACKOFF,
        batchSize: 8,
        flushMinIntervalMs: 0xFFFFFFFF,
        random: seededRandom(SEED + 2),
        fetch: countingFetch(results.honch),
      });
      const migas = createMigas({
        endpoint: server.base,
        timeoutMs: TIMEOUT_MS,
        backoff: BACKOFF,
        random: seededRandom(SEED + 3),
        fetch: countingFetch(results.migas),
        storage: new MemoryStorage(),
        env: () => undefined,
        fileExists: () => Promise.resolve(false),
        lifecycle: {},
        logger: () => {},
      });
      const emitter = new EmitterClient({
        endpoint: `${wsBase}/`,
        timeoutMs: 10_000,
        backoff: BACKOFF,
        random: seededRandom(SEED + 4),
      });
      const spot = new SpotClient({
        url: `${wsBase}/_websocket`,
        timeoutMs: TIMEOUT_MS,
        backoff: BACKOFF,
        random: seededRandom(SEED + 5),
      });

      emitter.on("disconnect", () => void results.emitter.disturbed++);
      try {
        await emitter.connect();
        const { key: channelKey } = await emitter.keygen({
          key: secret,
          channel: "durable/",
          type: "rwsl",
          ttl: 0,
        });
        await spot.waitOnline();
        await mkstats.handshake();

        // The load: each client sends until told to stop, bounded in count
        let stopped = false;
        const mkstatsSent = new Map<string, number>();
        const mkstatsOk = new Map<string, number>();
        // A server only disturbed keeps its per-install limit (30 requests, then one per 2 s)
        // for the whole run, where a restart starts it afresh: fewer events, further apart
        const [mkstatsMax, mkstatsPause] = disturbance === undefined
          ? [MAX.mkstats, 80]
          : [16, 300];
        const mkstatsLoad = (async () => {
          for (let i = 0; i < mkstatsMax && !stopped; i++) {
            // A few names, so the counts of retried requests add up on the same rows
            const name = `durable_${i % 5}`;
            const count = 1 + (i % 3);
            mkstatsSent.set(name, (mkstatsSent.get(name) ?? 0) + count);
            // {ok: true} is sent now; {} is queued (under its Idempotency-Key) for a flush
            const sent = await mkstats.trackEvent(name, count);
            if ("ok" in sent) mkstatsOk.set(name, (mkstatsOk.get(name) ?? 0) + count);
            else results.mkstats.disturbed++;
            if (i % 4 === 3) await mkstats.flushEvents();
            // Well under the server's per-install limit (30 at once) in one life of the server
            await pause(mkstatsPause);
          }
        })();
        let honchTracked = 0;
        const honchLoad = (async () => {
          for (; honchTracked < MAX.honch && !stopped; honchTracked++) {
            honch.track("durable_event", { i: honchTracked });
            if (honchTracked % 4 === 3) await honch.flush({ deadlineMs: 1000 });
            await pause(10);
          }
        })();
        const migasAcked = new Set<string>();
        let migasSent = 0;
        const migasLoad = (async () => {
          for (; migasSent < MIGAS_PROJECTS.length && !stopped; migasSent++) {
            const project = MIGAS_PROJECTS[migasSent];
            const result = await migas.addBreadcrumb(project, "1.0.0");
            // A breadcrumb that could not be delivered is queued, and acknowledged by a flush
            if (result.success) migasAcked.add(project);
            else results.migas.disturbed++;
            await pause(120);
          }
        })();
        const emitterAcked = new Set<string>();
        const emitterPublishes: Promise<void>[] = [];
        const emitterLoad = (async () => {
          for (let i = 0; i < MAX.emitter && !stopped; i++) {
            const message = `m${i}`;
            emitterPublishes.push(
              emitter.publish({ key: channelKey, channel: "durable/", message, ttl: 3600, qos: 1 })
                .then(() => void emitterAcked.add(message), () => {}),
            );
            // At most 8 publishes waiting for their PUBACK at once
            if (emitterPublishes.length >= 8) await Promise.race(emitterPublishes.slice(-8));
            await pause(15);
          }
        })();
        const spotAcked = new Set<string>();
        let spotPut = 0;
        const spotLoad = (async () => {
          for (; spotPut < MAX.spot && !stopped; spotPut++) {
            const key = `blob-${spotPut}`;
            // A put that failed is put again, the same key and value, until the relay confirms
            for (let attempt = 0; attempt < 20; attempt++) {
              try {
                await spot.storeBlob(key, `value of ${key}`, { timeoutMs: TIMEOUT_MS });
                spotAcked.add(key);
                break;
              } catch {
                results.spot.disturbed++;
                await pause(20);
              }
            }
            await pause(40);
          }
        })();

        // The crashes (or disturbances), at seeded moments while the load runs
        let caught = 0;
        for (let kill = 0; kill < KILLS; kill++) {
          await pause(KILL_AFTER_MS + Math.floor(random() * KILL_SPREAD_MS));
          if (disturbance === undefined) await server.crashAndRestart();
          else if (await disturbance.disturb()) caught++;
        }
        await pause(TAIL_MS);
        stopped = true;
        await Promise.all([mkstatsLoad, honchLoad, migasLoad, emitterLoad, spotLoad]);

        // Drain every queue: what is delivered now is acknowledged
        const mkstatsLeft = await drain(async () =>
          await mkstats.flushEvents() ? 0 : mkstats.queueStats().queued
        );
        const honchLeft = await drain(async () =>
          (await honch.flush({ deadlineMs: 1000 })).remaining
        );
        const migasLeft = await drain(async () => (await migas.flush()).queued);
        await Promise.all(emitterPublishes);
        results.honch.disturbed = honch.queueStats().retries;
        const queues = [
          ["mkstats", mkstatsLeft, mkstats.queueStats()],
          ["honch", honchLeft, honch.queueStats()],
          ["migas", migasLeft, migas.queueStats()],
        ] as const;
        for (const [client, left, stats] of queues) {
          // A key held by a request the crash cut short answers 409 until its lease ends
          if (left > 0) results[client].problems.push(`${left} still queued after the drain`);
          if (stats.dropped > 0) {
            results[client].problems.push(`dropped ${JSON.stringify(stats.droppedByReason)}`);
          }
        }

        // Disturbed, the server is still the process first started, and answers
        const survived = disturbance === undefined ||
          (server.crashes === 0 && await server.healthy());
        // Acknowledged means stored for good: one more crash before anything is read
        await server.crashAndRestart();

        // mkStats: each name's count is what was acknowledged, no retry counted twice. Drained,
        // everything was; else at least what trackEvent answered {ok: true} for
        const stats = await server.adminGet(`/api/v1/stats/${PLUGIN}`);
        const stored = new Map<string, number>();
        for (const row of stats.events as { event: string; count: number }[]) {
          stored.set(row.event, (stored.get(row.event) ?? 0) + row.count);
        }
        for (const [name, sent] of mkstatsSent) {
          const acked = mkstatsLeft === 0 ? sent : mkstatsOk.get(name) ?? 0;
          results.mkstats.acked += acked;
          results.mkstats.unacked += sent - acked;
          const kept = stored.get(name) ?? 0;
          if (kept < acked) results.mkstats.lost.push(`${name}: ${kept} of ${acked}`);
          if (kept > sent) results.mkstats.duplicated.push(`${name}: ${kept} for ${sent}`);
        }

        // Honch: every tracked index once. Batches go in order, so what is still queued is
        // at most the newest events
        const { events } = await server.adminGet(
          `/api/honch/events?project_key=${HONCH_KEY}&limit=1000`,
        ) as { events: { event: string; properties: { i: number } }[] };
        const honchStored = tally(
          events.filter((e) => e.event === "durable_event").map((e) => `i=${e.properties.i}`),
        );
        const honchAcked = Math.max(0, honchTracked - honchLeft);
        results.honch.unacked = honchTracked - honchAcked;
        checkOnce(
          results.honch,
          Array.from({ length: honchAcked }, (_, i) => `i=${i}`),
          honchStored,
        );

        // migas: one breadcrumb per project, so each acknowledged project has one hit. Drained,
        // every breadcrumb sent was acknowledged
        if (migasLeft === 0) MIGAS_PROJECTS.slice(0, migasSent).forEach((p) => migasAcked.add(p));
        const hits = new Map<string, number>();
        for (const project of MIGAS_PROJECTS) {
          const response = await fetch(`${server.base}/api/usage/${project}?start=2000-01-01`);
          assert.equal(response.status, 200, `usage of ${project}`);
          hits.set(project, (await response.json()).hits);
        }
        results.migas.unacked = migasSent - migasAcked.size;
        checkOnce(results.migas, migasAcked, hits);

        // Spot: every confirmed blob reads back whole
        await spot.waitOnline();
        results.spot.unacked = spotPut - spotAcked.size;
        for (const key of spotAcked) {
          results.spot.acked++;
          let value: string | undefined;
          for (let attempt = 0; attempt < 5 && value === undefined; attempt++) {
            value = await spot.fetchBlob(key, { timeoutMs: TIMEOUT_MS }).then(
              (bytes) => new TextDecoder().decode(bytes),
              () => undefined,
            );
          }
          if (value !== `value of ${key}`) results.spot.lost.push(`${key}: ${value ?? "absent"}`);
        }

        // Emitter: every PUBACKed message is stored; copies counted (QoS 1 is at least once)
        const history = await emitter.history({ key: channelKey, channel: "durable/", last: 1000 });
        const emitterStored = tally(history.map((message) => message.asString()));
        results.emitter.unacked = emitterPublishes.length - emitterAcked.size;
        checkOnce(results.emitter, emitterAcked, emitterStored);

        const summary = Object.entries(results).map(([client, r]) =>
          `${client}: ${r.acked} acknowledged, ${r.unacked} unacknowledged, ` +
          `${r.disturbed} disturbed, ` +
          `${r.lost.length} lost [${r.lost.slice(0, 8).join(", ")}], ` +
          `${r.duplicated.length} duplicated [${r.duplicated.slice(0, 8).join(", ")}]` +
          (r.problems.length > 0 ? `; ${r.problems.join("; ")}` : "") +
          (Object.keys(r.answers).length > 0 ? `; answers ${JSON.stringify(r.answers)}` : "")
        ).join("\n  ");
        if (VERBOSE) console.log(`seed ${SEED}, ${server.crashes} crashes:\n  ${summary}`);

        if (disturbance === undefined) {
          assert.equal(server.crashes, KILLS + 1);
          // The crashes reached the clients: the broker's socket closed, HTTP requests failed
          assert.ok(results.emitter.disturbed > 0, summary);
          const { mkstats: m, honch: h, migas: g, spot: p } = results;
          assert.ok(m.disturbed + h.disturbed + g.disturbed + p.disturbed > 0, summary);
        } else {
          assert.ok(survived, `the server went down under ${disturbance.name}: ${summary}`);
          assert.equal(server.crashes, 1);
          // A request was in flight at least once, or the disturbance proved nothing
          assert.ok(caught > 0, `no disturbance caught a request in flight: ${summary}`);
        }
        for (const [client, r] of Object.entries(results)) {
          assert.ok(r.acked > 0, `${client} had nothing acknowledged (seed ${SEED})`);
        }
        const failures = Object.entries(results).flatMap(([client, r]) => [
          ...r.lost.length > 0 ? [`${client} lost acknowledged events`] : [],
          // MQTT QoS 1 resends an unacknowledged PUBLISH after a reconnection: at least once
          ...r.duplicated.length > 0 && client !== "emitter" ? [`${client} stored duplicates`] : [],
          ...r.problems.length > 0 ? [`${client} did not drain`] : [],
        ]);
        assert.deepEqual(failures, [], `seed ${SEED}:\n  ${summary}`);
        await honch.shutdown({ deadlineMs: 2000 });
      } finally {
        await emitter.disconnect().catch(() => {});
        spot.close();
        await server.stop();
        if (VERBOSE) {
          console.log(server.stderr.join("").trim() || "(the server printed nothing on stderr)");
        }
      }
    },
  });
}
