/**
 * The server's WebSocket upgrade, on any path as the real broker has it
 * (but `/_websocket`, which the Spot relay's `spotUpgrade` takes first): a
 * request with `Upgrade: websocket` becomes an MQTT connection to the broker,
 * echoing the first MQTT subprotocol the client offered (the `ws` library of
 * the official JavaScript SDK drops a connection whose subprotocol is not
 * echoed). Where the runtime cannot upgrade inside `fetch` (Node, whose
 * adapter upgrades on the HTTP `upgrade` event instead), it answers 426.
 *
 * @module
 */

import type { Context, MiddlewareHandler, Next } from "hono";
import { upgradeWebSocket } from "../../core/runtime/websocket_upgrade.ts";
import { attachWebSocket, type BrokerAcceptor, selectMqttSubprotocol } from "./websocket_link.ts";

/**
 * Tells whether a request asks for a WebSocket upgrade.
 *
 * @param request The request.
 * @returns Whether its `Upgrade` header names `websocket`.
 */
export function isWebSocketUpgrade(request: Request): boolean {
  const upgrade = request.headers.get("upgrade");
  return upgrade !== null &&
    upgrade.split(",").some((token) => token.trim().toLowerCase() === "websocket");
}

/**
 * The Hono middleware that upgrades WebSocket requests on every path and
 * passes every other request on.
 *
 * @param broker The broker each connection is attached to.
 * @param clientAddress The caller's address, for the broker's per-address limit.
 * @param globals Where the runtime's upgrade is looked for; tests pass fakes.
 * @returns The middleware, to install before any other.
 */
export function websocketUpgrade(
  broker: () => BrokerAcceptor,
  clientAddress: (request: Request, env: unknown) => string,
  globals: object = globalThis,
): MiddlewareHandler {
  return async (c: Context, next: Next) => {
    const request = c.req.raw;
    if (!isWebSocketUpgrade(request)) return await next();
    const protocol = selectMqttSubprotocol(request.headers.get("sec-websocket-protocol"));
    // Read before upgrading: Deno forgets a request's remote address once it is upgraded
    const address = clientAddress(request, c.env);
    const target = broker();
    const response = upgradeWebSocket(request, c.env, {
      protocol,
      onSocket: (socket) => attachWebSocket(target, socket, address),
    }, globals);
    return response ?? c.json({ error: "websocket_unsupported" }, 426);
  };
}
