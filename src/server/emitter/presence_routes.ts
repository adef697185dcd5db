/**
 * `POST /presence`: who is subscribed to a channel, over HTTP, as the real
 * Emitter broker's presence handler answers it. The body is JSON
 * `{key, channel}`; the key needs the presence permission. The answer is
 * `{status, time, event: "status", channel, who: [{id, username?}]}`; a body
 * that is not such JSON answers a bare 400, a refused key a bare 401, as the
 * real broker does.
 *
 * @module
 */

import { Hono } from "hono";
import { readGoJson } from "../../emitter/security/_go_json.ts";
import { readBody, RequestRejection } from "../_validate.ts";
import type { EmitterBroker } from "./broker.ts";

/** The largest presence request body read, in bytes. */
const MAX_BODY_BYTES = 65_536;

/**
 * Makes the Hono sub-app that answers `POST /presence` from a broker's
 * subscriptions. Mount it on the server's app with `app.route("/", …)`.
 *
 * @param broker The broker whose subscribers are reported.
 * @returns The sub-app.
 * @throws Never.
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { EmitterBroker } from "./broker.ts";
 * import { presenceRoutes } from "./presence_routes.ts";
 *
 * const broker = new EmitterBroker();
 * const app = new Hono().route("/", presenceRoutes(broker));
 * const answer = await app.request("/presence", { method: "POST", body: "{}" });
 * console.log(answer.status); // 400: no channel
 * await broker.close();
 * ```
 */
export function presenceRoutes(broker: EmitterBroker): Hono {
  const app = new Hono();
  app.post("/presence", async (c) => {
    let bytes: Uint8Array;
    try {
      // Checked while streaming: a chunked body is cut off past the limit, not buffered whole
      bytes = await readBody(c.req.raw, MAX_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof RequestRejection)) throw error;
      return c.body(null, error.status === 413 ? 413 : 400);
    }
    const request = readGoJson(bytes, { key: "string", channel: "string" });
    if (request === undefined || request.channel === "") return c.body(null, 400);
    const answer = broker.presenceOf(request.key, request.channel);
    if ("status" in answer) return c.body(null, answer.status === 401 ? 401 : 400);
    return c.json({ status: 200, ...answer });
  });
  return app;
}
