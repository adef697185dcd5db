/**
 * Runs the reference server alone, for every module: `deno task serve`.
 * Settings come from `EDGEWIRE_*` environment variables (the table is in
 * the README and in `_serve_config.ts`); an admin key, a Honch project key
 * and an Emitter license (with its master secret key) are generated when
 * unset and printed once. The Emitter broker answers MQTT over WebSocket on
 * the HTTP port, and plain MQTT over TCP on `EDGEWIRE_MQTT_PORT` when it is
 * set. A value it cannot use
 * stops it with exit code 2 and a line naming the variable. SIGINT (Ctrl-C)
 * and SIGTERM stop it cleanly: the HTTP server first, then the store.
 *
 * @module
 */

import {
  createServer,
  type MqttTcpServer,
  serveMqttTcp,
  type ServerStore,
} from "../src/server/mod.ts";
import { SqliteStore } from "../src/server/sqlite/mod.ts";
import { PostgresStore } from "../src/server/postgres/mod.ts";
import { RedisBackplane } from "../src/server/redis/mod.ts";
import {
  databaseProblem,
  dataDirectory,
  readServeConfig,
  type ServeConfig,
  ServeConfigError,
  serverOptions,
} from "./_serve_config.ts";
import { formatBanner } from "./_serve_banner.ts";

function quit(lines: string[]): never {
  for (const line of lines) console.error(line);
  Deno.exit(2);
}

const reason = (error: unknown) => error instanceof Error ? error.message : String(error);

let config: ServeConfig;
try {
  config = readServeConfig((name) => Deno.env.get(name), { os: Deno.build.os });
} catch (error) {
  if (!(error instanceof ServeConfigError)) throw error;
  quit(["Cannot start the Edgewire reference server:", ...error.problems.map((p) => `  - ${p}`)]);
}

// The default database lives in the user's data directory, never in the current one
if (config.storeIsDefault) {
  const directory = dataDirectory((name) => Deno.env.get(name), Deno.build.os)!;
  try {
    await Deno.mkdir(directory, { recursive: true });
  } catch (error) {
    quit([databaseProblem(`create ${directory} for the database`, error)]);
  }
}

// Opened now rather than at the first request, so a bad path is reported at start
let store: ServerStore;
try {
  store = config.databaseUrl === undefined
    ? new SqliteStore(config.store)
    : await PostgresStore.open({ url: config.databaseUrl });
} catch (error) {
  quit([
    config.databaseUrl === undefined
      ? databaseProblem(`open the database ${config.store}`, error)
      : `Cannot open the database ${config.store} (${
        reason(error)
      }): check EDGEWIRE_DATABASE_URL and that PostgreSQL is running`,
  ]);
}

// EDGEWIRE_REDIS_URL: the processes on that Redis act as one server (Emitter, Spot, rate limits)
let backplane: RedisBackplane | undefined;
if (config.redisUrl !== undefined) {
  try {
    backplane = await RedisBackplane.connect(config.redisUrl);
  } catch (error) {
    await store.close();
    quit([
      `Cannot reach Redis at ${config.redisShown} (${reason(error)}): ` +
      "start it, or check EDGEWIRE_REDIS_URL",
    ]);
  }
}

const server = createServer({ store, backplane, ...serverOptions(config) });

const controller = new AbortController();
// Listening for signals before the banner says the server is up, so none is missed
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  try {
    Deno.addSignalListener(signal, () => {
      if (controller.signal.aborted) return;
      console.log(`\n${signal}: stopping`);
      controller.abort();
    });
  } catch {
    // Windows has no SIGTERM listener; Ctrl-C still works there
  }
}

const hostOf = (hostname: string) => hostname.includes(":") ? `[${hostname}]` : hostname;

// Plain MQTT over TCP first, so the banner can name its address
let mqtt: MqttTcpServer | undefined;
if (config.mqttPort !== undefined) {
  try {
    mqtt = await serveMqttTcp(server.emitter, {
      hostname: config.hostname,
      port: config.mqttPort,
      signal: controller.signal,
    });
  } catch (error) {
    await server.close();
    quit([
      `Cannot listen for MQTT on ${config.hostname}:${config.mqttPort} (${reason(error)}): ` +
      "stop what uses that port, or set EDGEWIRE_MQTT_PORT to another (0 picks a free one)",
    ]);
  }
}

let http: Deno.HttpServer<Deno.NetAddr>;
try {
  // Deno.serve has no header or connection timeout of its own: the app
  // answers a slow body 408 after `bodyTimeoutMs`, and a reverse proxy's
  // `client_header_timeout` / `client_body_timeout` closes slow sockets.
  http = Deno.serve({
    hostname: config.hostname,
    port: config.port,
    signal: controller.signal,
    onListen: ({ hostname, port }) => {
      const mqttUrl = mqtt && `mqtt://${hostOf(mqtt.hostname)}:${mqtt.port}`;
      console.log(formatBanner(config, `http://${hostOf(hostname)}:${port}`, mqttUrl).join("\n"));
    },
  }, server.fetch);
} catch (error) {
  await mqtt?.close();
  await server.close();
  const advice = error instanceof Deno.errors.AddrInUse
    ? "stop what uses that port, or set EDGEWIRE_PORT to another (0 picks a free one)"
    : "check EDGEWIRE_HOST and EDGEWIRE_PORT";
  quit([`Cannot listen on ${config.hostname}:${config.port} (${reason(error)}): ${advice}`]);
}

await http.finished;
await mqtt?.close();
await server.close();
await backplane?.close();
console.log("Stopped");
// The signal listeners would keep the process alive
Deno.exit(0);
