/**
 * What `npm run build` bundles for Node into `dist/edgewire.mjs`: the
 * reference server and its SQLite store (`@edgewire/sdk/server` and
 * `@edgewire/sdk/server/sqlite` once the package is installed from JSR) and
 * the settings module `deno task serve` uses, so `server.mjs` reads the same
 * `EDGEWIRE_*` variables; and what it needs to carry MQTT from the `ws`
 * package's sockets and a TCP port to the Emitter broker.
 *
 * @module
 */

export {
  attachWebSocket,
  createServer,
  selectMqttSubprotocol,
  serveMqttTcp,
} from "../../src/server/mod.ts";
export { SqliteStore } from "../../src/server/sqlite/mod.ts";
export {
  databaseProblem,
  dataDirectory,
  readServeConfig,
  ServeConfigError,
  serverOptions,
} from "../_serve_config.ts";
export { formatBanner } from "../_serve_banner.ts";
