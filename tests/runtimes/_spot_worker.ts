/**
 * A Cloudflare Worker (ES module format) that runs the Spot clients once,
 * through `exerciseSpot` of `_spot_exercise.ts`, over the Worker's own
 * `WebSocket`, and answers the report as JSON, with the non-standard globals
 * (`Deno`, `Bun`, `process`, `Buffer`) it found. The relay's URL comes from
 * the `URL` binding. A failure answers 500 with the error's message and stack.
 *
 * @module
 */

import { exerciseSpot } from "./_spot_exercise.ts";

/** The Worker's bindings. */
interface Env {
  URL?: string;
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    if (!env.URL) {
      return new Response("Bind the relay's WebSocket URL as URL", { status: 400 });
    }
    try {
      const report = await exerciseSpot(env.URL, "workerd");
      const g = globalThis as Record<string, unknown>;
      const nonStandard = ["Deno", "Bun", "process", "Buffer"].filter((name) => name in g);
      return Response.json({ report, nonStandard });
    } catch (error) {
      const e = error as Error;
      return new Response(`${e?.name}: ${e?.message}\n${e?.stack ?? ""}`, { status: 500 });
    }
  },
};
