/**
 * Turns an HTTP request into a server-side WebSocket on the runtime at hand:
 * `Deno.upgradeWebSocket`, a Workers `WebSocketPair`, or Bun's
 * `server.upgrade` (the server Bun passes as `fetch`'s second argument, with
 * the handlers of {@linkcode bunWebSocketHandlers} given to `Bun.serve`).
 * Node's HTTP server upgrades outside `fetch` (the `ws` package on the
 * `upgrade` event), so there {@linkcode upgradeWebSocket} answers `undefined`.
 * Every socket handed over looks like a standard, EventTarget-style
 * {@linkcode UpgradedWebSocket}.
 *
 * @module
 */

import { isObject } from "./_globals.ts";

/**
 * The part of a standard server-side `WebSocket` the server uses: Deno's,
 * the Workers `WebSocketPair` server end, the Node `ws` package's, and the
 * Bun adapter of {@linkcode bunWebSocketHandlers} all have it.
 *
 * @example
 * ```ts
 * import type { UpgradedWebSocket } from "./websocket_upgrade.ts";
 *
 * const useSocket = (socket: UpgradedWebSocket) => socket.send(new Uint8Array([0xd0, 0]));
 * console.log(typeof useSocket); // "function"
 * ```
 */
export interface UpgradedWebSocket {
  /** How binary messages arrive; set to `"arraybuffer"`. */
  binaryType: string;
  /** Bytes given to `send` and not yet written to the network. */
  readonly bufferedAmount: number;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /**
   * Sends one binary message.
   *
   * @param data The message.
   */
  send(data: Uint8Array): void;
  /**
   * Starts the closing handshake.
   *
   * @param code The close code.
   * @param reason A short reason.
   */
  close(code?: number, reason?: string): void;
  /**
   * Listens for `message`, `close` and `error` events.
   *
   * @param type The event type.
   * @param listener Called with the event; a `message` event has `data`.
   */
  addEventListener(type: string, listener: (event: Event) => void): void;
}

/** Options of {@linkcode upgradeWebSocket}. */
export interface WebSocketUpgradeOptions {
  /**
   * The subprotocol to answer with in `Sec-WebSocket-Protocol`, one the
   * client offered.
   *
   * @default undefined (no subprotocol header)
   */
  protocol?: string;
  /**
   * Receives the server end of the socket: at once under Deno and Workers,
   * when the socket opens under Bun.
   *
   * @param socket The socket.
   */
  onSocket(socket: UpgradedWebSocket): void;
}

interface DenoUpgrade {
  upgradeWebSocket?: (
    request: Request,
    options?: { protocol?: string },
  ) => { socket: UpgradedWebSocket; response: Response };
}

interface UpgradeGlobals {
  Response?: typeof Response;
  Deno?: DenoUpgrade;
  WebSocketPair?: new () => Record<0 | 1, UpgradedWebSocket & { accept(): void }>;
}

/** What `server.upgrade` of Bun takes: the response headers and per-socket data. */
interface BunUpgradeServer {
  upgrade(
    request: Request,
    options: { headers?: Record<string, string>; data: BunSocketData },
  ): boolean;
}

interface BunSocketData {
  onSocket(socket: UpgradedWebSocket): void;
  adapter?: BunSocketAdapter;
}

/**
 * Upgrades `request` to a WebSocket, on Bun (when `env` is Bun's server),
 * Deno or Workers, in that order.
 *
 * @param request A request with `Upgrade: websocket`.
 * @param env The second argument the runtime passed to `fetch` (Bun's server).
 * @param options The subprotocol to echo and where the socket goes.
 * @param globals Where to look for `Deno`, `WebSocketPair` and its `Response`; tests pass fakes.
 * @returns The response to answer with (101, or whatever the runtime made of
 * a bad handshake), or `undefined` when this runtime cannot upgrade in `fetch`.
 * @throws Never; a refused handshake is the runtime's own 400 response.
 *
 * @example
 * ```ts
 * import { upgradeWebSocket } from "./websocket_upgrade.ts";
 *
 * const handler = (request: Request, env: unknown) =>
 *   upgradeWebSocket(request, env, { protocol: "mqtt", onSocket: (socket) => socket.close() }) ??
 *     new Response("upgrade required", { status: 426 });
 * console.log(typeof handler); // "function"
 * ```
 */
export function upgradeWebSocket(
  request: Request,
  env: unknown,
  options: WebSocketUpgradeOptions,
  globals: object = globalThis,
): Response | undefined {
  const g = globals as UpgradeGlobals;
  const headers: Record<string, string> = options.protocol === undefined
    ? {}
    : { "sec-websocket-protocol": options.protocol };
  if (isObject(env) && typeof (env as Partial<BunUpgradeServer>).upgrade === "function") {
    const data: BunSocketData = { onSocket: options.onSocket };
    try {
      // Bun writes the 101 itself; whatever is returned after it is ignored
      if ((env as BunUpgradeServer).upgrade(request, { headers, data })) {
        return new Response(null);
      }
    } catch {
      // Not Bun's server after all: try the others
    }
  }
  const deno = g.Deno;
  if (typeof deno?.upgradeWebSocket === "function") {
    let upgraded: { socket: UpgradedWebSocket; response: Response };
    try {
      upgraded = deno.upgradeWebSocket(request, { protocol: options.protocol });
    } catch {
      // A malformed handshake (no Sec-WebSocket-Key, wrong version)
      return new Response(JSON.stringify({ error: "bad_websocket_handshake" }), {
        status: 400,
        headers: { "content-type": "application/json" },
      });
    }
    handOver(options, upgraded.socket);
    return upgraded.response;
  }
  if (typeof g.WebSocketPair === "function") {
    const pair = new g.WebSocketPair();
    const server = pair[1];
    server.accept();
    handOver(options, server);
    // Only workerd's Response takes status 101 with a `webSocket`
    const WorkersResponse = g.Response ?? Response;
    return new WorkersResponse(null, {
      status: 101,
      headers,
      webSocket: pair[0],
    } as ResponseInit);
  }
  return undefined;
}

/** Gives the socket to its owner; one that throws gets it closed, so no socket is left open. */
function handOver(
  options: { onSocket(socket: UpgradedWebSocket): void },
  socket: UpgradedWebSocket,
) {
  try {
    options.onSocket(socket);
  } catch {
    try {
      socket.close(1011);
    } catch {
      // Not open yet, or already closed
    }
  }
}

/** The part of Bun's `ServerWebSocket` the adapter uses. */
interface BunServerWebSocket {
  data: BunSocketData;
  readyState: number;
  binaryType?: string;
  send(data: Uint8Array | string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount?(): number;
}

/** A Bun `ServerWebSocket` seen as a standard EventTarget-style socket. */
class BunSocketAdapter extends EventTarget {
  binaryType = "arraybuffer";
  readonly #socket: BunServerWebSocket;

  constructor(socket: BunServerWebSocket) {
    super();
    this.#socket = socket;
  }

  get bufferedAmount(): number {
    return this.#socket.getBufferedAmount?.() ?? 0;
  }

  get readyState(): number {
    return this.#socket.readyState;
  }

  send(data: Uint8Array): void {
    this.#socket.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }
}

/**
 * The `websocket` handlers Bun's `Bun.serve` needs beside `fetch` for
 * {@linkcode upgradeWebSocket} to work there: each socket Bun opens is
 * wrapped as an {@linkcode UpgradedWebSocket} and handed to the `onSocket`
 * given at upgrade, and Bun's callbacks become `message` and `close` events.
 *
 * @returns The handlers, to pass as `Bun.serve({ fetch, websocket })`.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { bunWebSocketHandlers } from "./websocket_upgrade.ts";
 *
 * const websocket = bunWebSocketHandlers();
 * console.log(typeof websocket.message); // "function"
 * ```
 */
export function bunWebSocketHandlers(): {
  open(socket: unknown): void;
  message(socket: unknown, message: unknown): void;
  close(socket: unknown, code?: number, reason?: string): void;
} {
  return {
    open(socket) {
      const bun = socket as BunServerWebSocket;
      bun.binaryType = "uint8array";
      const adapter = new BunSocketAdapter(bun);
      bun.data.adapter = adapter;
      handOver(bun.data, adapter as UpgradedWebSocket);
    },
    message(socket, message) {
      const adapter = (socket as BunServerWebSocket).data.adapter;
      if (adapter === undefined) return;
      let data = message;
      if (ArrayBuffer.isView(message)) {
        // A copy, so the link owns its bytes whatever Bun does with its buffer
        data = new Uint8Array(message.buffer, message.byteOffset, message.byteLength).slice()
          .buffer;
      }
      adapter.dispatchEvent(new MessageEvent("message", { data }));
    },
    close(socket) {
      const adapter = (socket as BunServerWebSocket).data.adapter;
      adapter?.dispatchEvent(new Event("close"));
    },
  };
}
