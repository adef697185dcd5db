/**
 * Our Emitter broker in a process of its own for bench/broker_bench.ts:
 * `createServer()` under `Deno.serve` (MQTT over WebSocket on any path) and
 * the plain MQTT over TCP listener, both on 127.0.0.1 port 0, with the
 * license in EDGEWIRE_BENCH_LICENSE. Prints
 * `emitter ready ws=<port> tcp=<port>` and stops when its standard input
 * closes, so it never outlives the bench that started it.
 *
 * @module
 */

import { createServer } from "../src/server/mod.ts";
import { serveMqttTcp } from "../src/server/emitter/mqtt_tcp.ts";

const license = Deno.env.get("EDGEWIRE_BENCH_LICENSE");
if (license === undefined) {
  throw new Error("Cannot start the bench broker: set EDGEWIRE_BENCH_LICENSE");
}
const server = createServer({ emitter: { license } });
const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
const tcp = await serveMqttTcp(server.emitter, { hostname: "127.0.0.1", port: 0 });
console.log(`emitter ready ws=${http.addr.port} tcp=${tcp.port}`);

// Standard input closes when the bench is done (or gone)
for await (const _ of Deno.stdin.readable) {
  // Nothing is sent on it
}
await tcp.close();
await server.emitter.close();
await http.shutdown();
await server.close();
