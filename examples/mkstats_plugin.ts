/**
 * A plugin using mkStats: handshake once (the token is kept in a file-backed
 * storage between runs, `mkstats_plugin.json` in the examples' data
 * directory, `~/.local/share/edgewire` by default, never the current one),
 * ping, count a feature, and run the heartbeat until Ctrl-C. Start the
 * server first with `deno task serve`, then:
 * `deno run -A examples/mkstats_plugin.ts http://127.0.0.1:8787/api`.
 *
 * @module
 */

import { MkStatsClient } from "../src/mkstats/mod.ts";
import { MemoryStorage, type Storage } from "../src/core/storage.ts";
import { dataDirectory } from "./_serve_config.ts";

/** A tiny JSON-file storage: enough for a CLI; browsers would use WebStorage. */
class FileStorage implements Storage {
  constructor(readonly path: string) {}
  async #read(): Promise<Record<string, string>> {
    try {
      return JSON.parse(await Deno.readTextFile(this.path));
    } catch {
      return {};
    }
  }
  async get(key: string) {
    return (await this.#read())[key];
  }
  async set(key: string, value: string) {
    await Deno.writeTextFile(this.path, JSON.stringify({ ...await this.#read(), [key]: value }));
  }
  async delete(key: string) {
    const data = await this.#read();
    delete data[key];
    await Deno.writeTextFile(this.path, JSON.stringify(data));
  }
}

// Kept where `deno task serve` keeps its database, so nothing is written into a checkout
const directory = dataDirectory((name) => Deno.env.get(name), Deno.build.os);
if (directory !== undefined) await Deno.mkdir(directory, { recursive: true });
const client = new MkStatsClient({
  pluginId: "my_plugin",
  pluginVersion: "1.0.0",
  endpoint: Deno.args[0] ?? "http://127.0.0.1:8787/api",
  storage: directory === undefined
    ? new MemoryStorage()
    : new FileStorage(`${directory}/mkstats_plugin.json`),
});

await client.sendPing();
await client.trackEvent("plugin_started");
const controller = new AbortController();
// Listening before saying so: a Ctrl-C right after the message still stops cleanly
Deno.addSignalListener("SIGINT", () => controller.abort());
console.log("Pinged and counted plugin_started; heartbeat every 60 s until Ctrl-C");
const report = await client.heartbeat({
  intervalSeconds: 60,
  signal: controller.signal,
  onError: (error) => console.error("heartbeat:", error),
});
await client.flushEvents(true);
console.log("Heartbeat stopped", report);
