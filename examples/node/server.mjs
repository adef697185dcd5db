// The Edgewire reference server on Node, behind @hono/node-server.
//
// Needs Node 22.5 or newer: the SQLite store is node:sqlite, which Node 20
// lacks. From this directory:
//
//   npm install      # @hono/node-server and ws, for this example only
//   npm run build    # bundles the server for Node into dist/ (needs deno)
//   npm start        # the same EDGEWIRE_* variables as `deno task serve`
//
// In your own Node project, install the package from JSR instead
// (`npx jsr add @edgewire/sdk`) and import createServer from
// "@edgewire/sdk/server" and SqliteStore from "@edgewire/sdk/server/sqlite";
// "#edgewire" below is this directory's bundle of them, plus the settings
// module of `deno task serve`.
//
// Node's HTTP server upgrades WebSockets outside `fetch`, on its `upgrade`
// event: the `ws` package answers it, echoing the MQTT subprotocol the client
// offered, and attachWebSocket hands each socket to the Emitter broker.

import { mkdirSync } from "node:fs";
import process from "node:process";
import { serve } from "@hono/node-server";
import { WebSocketServer } from "ws";
import {
  attachWebSocket,
  createServer,
  databaseProblem,
  dataDirectory,
  formatBanner,
  readServeConfig,
  selectMqttSubprotocol,
  ServeConfigError,
  serveMqttTcp,
  serverOptions,
  SqliteStore,
} from "#edgewire";

function quit(lines) {
  for (const line of lines) console.error(line);
  process.exit(2);
}

const env = (name) => process.env[name];
const os = process.platform === "win32" ? "windows" : process.platform;
const reason = (error) => (error instanceof Error ? error.message : String(error));

let config;
try {
  config = readServeConfig(env, { os });
} catch (error) {
  if (!(error instanceof ServeConfigError)) throw error;
  quit(["Cannot start the Edgewire reference server:", ...error.problems.map((p) => `  - ${p}`)]);
}

let store;
try {
  if (config.storeIsDefault) mkdirSync(dataDirectory(env, os), { recursive: true });
  store = new SqliteStore(config.store);
} catch (error) {
  quit([databaseProblem(`open the database ${config.store}`, error)]);
}

const server = createServer({
  store,
  ...serverOptions(config),
  // Rate limits are per client address; on Node it is on the incoming socket
  clientAddress: (_request, bindings) => bindings?.incoming?.socket?.remoteAddress,
});

const hostOf = (address) => (address.includes(":") ? `[${address}]` : address);

// Plain MQTT over TCP first, so the banner can name its address
let mqtt;
if (config.mqttPort !== undefined) {
  try {
    mqtt = await serveMqttTcp(server.emitter, { hostname: config.hostname, port: config.mqttPort });
  } catch (error) {
    await server.close();
    quit([
      `Cannot listen for MQTT on ${config.hostname}:${config.mqttPort} (${reason(error)}): ` +
      "stop what uses that port, or set EDGEWIRE_MQTT_PORT to another (0 picks a free one)",
    ]);
  }
}

const http = serve(
  { fetch: server.fetch, hostname: config.hostname, port: config.port },
  ({ address, port }) => {
    const mqttUrl = mqtt && `mqtt://${hostOf(mqtt.hostname)}:${mqtt.port}`;
    console.log(formatBanner(config, `http://${hostOf(address)}:${port}`, mqttUrl).join("\n"));
  },
);
// Node enforces these itself (408 and close): the whole head within 10 s and
// the whole request within 30 s, instead of its defaults of 60 s and 300 s.
// The app's own `bodyTimeoutMs` (10 s) still answers a slow body first.
http.headersTimeout = 10_000;
http.requestTimeout = 30_000;

// MQTT over WebSocket on any path, as the real broker: the first MQTT
// subprotocol the client offered is echoed (none offered: none answered)
const sockets = new WebSocketServer({
  noServer: true,
  handleProtocols: (offered) => selectMqttSubprotocol(offered) ?? false,
});
http.on("upgrade", (request, socket, head) => {
  const address = request.socket.remoteAddress ?? "unknown";
  sockets.handleUpgrade(request, socket, head, (ws) => {
    attachWebSocket(server.emitter, ws, address);
  });
});
http.on("error", async (error) => {
  await server.close();
  const advice = error.code === "EADDRINUSE"
    ? "stop what uses that port, or set EDGEWIRE_PORT to another (0 picks a free one)"
    : "check EDGEWIRE_HOST and EDGEWIRE_PORT";
  quit([`Cannot listen on ${config.hostname}:${config.port} (${reason(error)}): ${advice}`]);
});

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping`);
    // MQTT connections end now (they would hold the HTTP server open); then
    // the requests in flight finish, and the store closes last
    for (const ws of sockets.clients) ws.terminate();
    mqtt?.close();
    http.close(async () => {
      await server.close();
      console.log("Stopped");
      process.exit(0);
    });
    http.closeIdleConnections?.();
  });
}
