/**
 * The Spot relay's HTTP side: discovery, `GET /_special/rest/Spot:connect`
 * (the address of this relay in the real service's JSON shape), and the
 * WebSocket upgrade of `/_websocket` handed to the relay. Installed before
 * the Emitter broker's upgrade, which keeps every other path.
 *
 * @module
 */

import type { Context, MiddlewareHandler, Next } from "hono";
import { upgradeWebSocket } from "../../core/runtime/websocket_upgrade.ts";
import { isWebSocketUpgrade } from "../emitter/_websocket_upgrade.ts";
import type { SpotRelay } from "./relay.ts";

/** The path clients dial, as in `wss://<host>/_websocket`. */
export const SPOT_WEBSOCKET_PATH = "/_websocket";

/** The discovery path of the real service. */
export const SPOT_DISCOVERY_PATH = "/_special/rest/Spot:connect";

/**
 * The middleware that upgrades `/_websocket` to a Spot connection; a plain
 * request there is answered 426, any other path is passed on.
 *
 * @param relay The relay, made on first use.
 * @param globals Where the runtime's upgrade is looked for; tests pass fakes.
 * @param clientAddress The client's address for a request (the server's,
 * which buckets IPv6 by /64), held to `maxConnectionsPerAddress`; without it
 * connections are not counted per address.
 * @returns The middleware, to install before the Emitter upgrade.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { MemoryStore } from "../memory/memory_store.ts";
 * import { SpotRelay } from "./relay.ts";
 * import { spotUpgrade } from "./routes.ts";
 *
 * const relay = new SpotRelay({ store: new MemoryStore() });
 * const app = new Hono().use("*", spotUpgrade(() => relay));
 * console.log((await app.fetch(new Request("http://x/_websocket"))).status); // 426
 * ```
 */
export function spotUpgrade(
  relay: () => SpotRelay,
  globals: object = globalThis,
  clientAddress?: (request: Request, env: unknown) => string | undefined,
): MiddlewareHandler {
  return async (c: Context, next: Next) => {
    if (c.req.path !== SPOT_WEBSOCKET_PATH) return await next();
    const request = c.req.raw;
    if (!isWebSocketUpgrade(request)) {
      return c.json({ error: "upgrade_required" }, 426, { upgrade: "websocket" });
    }
    const target = relay();
    const address = clientAddress?.(request, c.env);
    const response = upgradeWebSocket(request, c.env, {
      onSocket: (socket) => target.accept(socket, address),
    }, globals);
    return response ?? c.json({ error: "websocket_unsupported" }, 426);
  };
}

/**
 * Answers discovery.
 *
 * @param relay The relay, made on first use.
 * @returns The handler of `GET /_special/rest/Spot:connect`.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { MemoryStore } from "../memory/memory_store.ts";
 * import { SpotRelay } from "./relay.ts";
 * import { SPOT_DISCOVERY_PATH, spotDiscovery } from "./routes.ts";
 *
 * const relay = new SpotRelay({ store: new MemoryStore() });
 * const app = new Hono().get(SPOT_DISCOVERY_PATH, spotDiscovery(() => relay));
 * const answer = await app.fetch(new Request("http://relay.example:8080" + SPOT_DISCOVERY_PATH));
 * console.log((await answer.json()).data.urls); // [ "ws://relay.example:8080/_websocket" ]
 * ```
 */
export function spotDiscovery(relay: () => SpotRelay): (c: Context) => Response {
  return (c: Context) => c.json(relay().discovery(c.req.raw));
}
