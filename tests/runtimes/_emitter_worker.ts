/**
 * A Cloudflare Worker (ES module format) that runs the Emitter client once,
 * through `exerciseEmitter` of `_emitter_exercise.ts`, over the Worker's own
 * `WebSocket`, and answers the report as JSON, with the non-standard globals
 * (`Deno`, `Bun`, `process`, `Buffer`) it found. The broker's URL and master
 * key come from the `URL` and `SECRET` bindings. A failure answers 500 with
 * the error's message and stack.
 *
 * @module
 */

import { exerciseEmitter } from "./_emitter_exercise.ts";

/** The Worker's bindings. */
interface Env {
  URL?: string;
  SECRET?: string;
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    if (!env.URL || !env.SECRET) {
      return new Response("Bind the broker's URL and master key as URL and SECRET", {
        status: 400,
      });
    }
    try {
      const report = await exerciseEmitter(env.URL, env.SECRET, "workerd");
      const g = globalThis as Record<string, unknown>;
      const nonStandard = ["Deno", "Bun", "process", "Buffer"].filter((name) => name in g);
      return Response.json({ report, nonStandard });
    } catch (error) {
      const e = error as Error;
      return new Response(`${e?.name}: ${e?.message}\n${e?.stack ?? ""}`, { status: 500 });
    }
  },
};
