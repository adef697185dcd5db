// The Edgewire reference server on Node, behind @hono/node-server.
//
// Needs Node 22.5 or newer: the SQLite store is node:sqlite, which Node 20
// lacks. From this directory:
//
//   npm install      # @hono/node-server, for this example only
//   npm run build    # bundles the server for Node into dist/ (needs deno)
//   npm start        # the same EDGEWIRE_* variables as `deno task serve`
//
// In your own Node project, install the package from JSR instead
// (`npx jsr add @edgewire/sdk`) and import createServer from
// "@edgewire/sdk/server" and SqliteStore from "@edgewire/sdk/server/sqlite";
// "#edgewire" below is this directory's bundle of them, plus the settings
// module of `deno task serve`.

import { mkdirSync } from "node:fs";
import process from "node:process";
import { serve } from "@hono/node-server";
import {
  createServer,
  databaseProblem,
  dataDirectory,
  formatBanner,
  readServeConfig,
  ServeConfigError,
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

const http = serve(
  { fetch: server.fetch, hostname: config.hostname, port: config.port },
  ({ address, port }) => {
    const host = address.includes(":") ? `[${address}]` : address;
    console.log(formatBanner(config, `http://${host}:${port}`).join("\n"));
  },
);
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
    // Finish the requests in flight, then close the store
    http.close(async () => {
      await server.close();
      console.log("Stopped");
      process.exit(0);
    });
    http.closeIdleConnections?.();
  });
}
