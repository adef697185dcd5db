// The aedes MQTT broker on Node, a baseline for bench/broker_bench.ts: plain
// MQTT on node:net and MQTT over WebSocket (ws), both on 127.0.0.1 port 0.
// Prints "aedes ready tcp=<port> ws=<port>" and stops when its standard input
// closes, so it never outlives the bench that started it.
import { createServer } from "node:net";
import { Aedes } from "aedes";
import { createWebSocketStream, WebSocketServer } from "ws";

const broker = await Aedes.createBroker();
const tcp = createServer(broker.handle);
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
wss.on("connection", (socket) => broker.handle(createWebSocketStream(socket)));

await Promise.all([
  new Promise((resolve) => tcp.listen(0, "127.0.0.1", resolve)),
  new Promise((resolve) => wss.on("listening", resolve)),
]);
console.log(`aedes ready tcp=${tcp.address().port} ws=${wss.address().port}`);

process.stdin.resume();
process.stdin.on("end", () => {
  tcp.close();
  wss.close();
  broker.close(() => process.exit(0));
});
