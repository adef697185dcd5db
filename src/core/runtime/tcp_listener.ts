/**
 * A plain TCP listener where the runtime can listen: `Deno.listen` under
 * Deno, `node:net` under Node (20.16+, 22.3+) and Bun, reached through
 * `process.getBuiltinModule` rather than an import, so this module loads in
 * browsers and Workers too. Each connection is handed over as a
 * {@linkcode TcpPeer} and answered with a {@linkcode TcpPeerHandler}; writes
 * are queued and the chunks sent together leave in one write (one promise,
 * one system call), and `bufferedBytes` counts the bytes not yet written, so
 * the caller can apply backpressure.
 *
 * @module
 */

import { afterTurn, busyTurn } from "../_after_turn.ts";
import { EdgewireError } from "../errors.ts";
import { unrefTimer } from "./timers.ts";

/** One accepted TCP connection, as the handler sees it. */
export interface TcpPeer {
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /**
   * Queues bytes to write; dropped once the connection is closing. The bytes
   * must not be changed afterwards.
   *
   * @param bytes The bytes.
   */
  send(bytes: Uint8Array): void;
  /**
   * Counts the bytes queued and not yet written to the network.
   *
   * @returns The count.
   */
  bufferedBytes(): number;
  /** Closes the connection once what is queued is written (at most 5 s later). */
  close(): void;
}

/** What receives one connection's bytes and its end. */
export interface TcpPeerHandler {
  /**
   * Receives bytes read from the connection; each chunk is a new buffer.
   *
   * @param chunk The bytes.
   */
  receive(chunk: Uint8Array): void;
  /** Called once when the connection has ended, whichever side ended it. */
  closed(): void;
}

/** Options of {@linkcode listenTcp}. */
export interface TcpListenOptions {
  /**
   * The address to listen on.
   *
   * @default "127.0.0.1"
   */
  hostname?: string;
  /**
   * The port; 0 lets the system choose a free one.
   *
   * @default 0
   */
  port?: number;
  /** Closes the listener and every connection when aborted. */
  signal?: AbortSignal;
}

/** A listening TCP socket. */
export interface TcpListener {
  /** The address it is bound to. */
  readonly hostname: string;
  /** The port it is bound to. */
  readonly port: number;
  /**
   * Stops listening and closes every connection it accepted.
   *
   * @returns Once the listener is closed.
   */
  close(): Promise<void>;
}

/** How long a closing connection may take to write what is queued, in milliseconds. */
const CLOSE_GRACE_MS = 5_000;
/** The least size of the buffer a connection joins its queued chunks in. */
const MIN_SCRATCH = 16_384;
/** A joining buffer larger than this is dropped after its write rather than kept. */
const MAX_SCRATCH = 262_144;

interface DenoConn {
  readonly remoteAddr: { hostname?: string };
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
}

interface DenoListener extends AsyncIterable<DenoConn> {
  readonly addr: { hostname: string; port: number };
  close(): void;
}

interface NodeSocket {
  remoteAddress?: string;
  writableLength: number;
  destroyed: boolean;
  write(bytes: Uint8Array): boolean;
  end(): void;
  destroy(): void;
  setNoDelay(noDelay?: boolean): void;
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  on(event: "close" | "error", listener: () => void): void;
}

interface NodeServer {
  listen(port: number, hostname: string, callback: () => void): void;
  once(event: "error", listener: (error: unknown) => void): void;
  address(): { address: string; port: number } | string | null;
  close(callback?: () => void): void;
}

interface NodeNet {
  createServer(listener: (socket: NodeSocket) => void): NodeServer;
}

interface TcpGlobals {
  Deno?: { listen?: (options: { hostname: string; port: number }) => DenoListener };
  process?: { getBuiltinModule?: (name: string) => unknown; versions?: { node?: unknown } };
}

/**
 * Tells whether {@linkcode listenTcp} can listen in this runtime.
 *
 * @param globals Where to look for `Deno` and `process`; tests pass fakes.
 * @returns `true` under Deno, Node (20.16+, 22.3+) and Bun; `false` in browsers and Workers.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { canListenTcp } from "./tcp_listener.ts";
 *
 * console.log(canListenTcp()); // true under Deno
 * ```
 */
export function canListenTcp(globals: object = globalThis): boolean {
  const g = globals as TcpGlobals;
  return typeof g.Deno?.listen === "function" || nodeNet(g) !== undefined;
}

/**
 * Listens on a TCP port and hands every connection to `accept`.
 *
 * @param options The address, the port and an abort signal.
 * @param accept Called once per connection with the peer; returns its handler.
 * @param globals Where to look for `Deno` and `process`; tests pass fakes.
 * @returns The bound address and a close function.
 * @throws {EdgewireError} `tcp_unsupported` when the runtime cannot listen (a
 * browser, Workers); `tcp_listen_failed` when the address cannot be bound, such
 * as a port in use.
 *
 * @example Listen on a free port, then stop
 * ```ts
 * import { listenTcp } from "./tcp_listener.ts";
 *
 * const listener = await listenTcp({ port: 0 }, (peer) => ({
 *   receive: (chunk) => peer.send(chunk), // echo
 *   closed: () => {},
 * }));
 * console.log(listener.port > 0); // true
 * await listener.close();
 * ```
 */
export async function listenTcp(
  options: TcpListenOptions,
  accept: (peer: TcpPeer) => TcpPeerHandler,
  globals: object = globalThis,
): Promise<TcpListener> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const g = globals as TcpGlobals;
  let listener: TcpListener;
  if (typeof g.Deno?.listen === "function") {
    listener = listenDeno(g.Deno.listen, hostname, port, accept);
  } else {
    const net = nodeNet(g);
    if (net === undefined) {
      throw new EdgewireError(
        "Cannot listen for TCP connections in this runtime: serve MQTT over WebSocket instead",
        { code: "tcp_unsupported" },
      );
    }
    listener = await listenNode(net, hostname, port, accept);
  }
  const signal = options.signal;
  if (signal !== undefined) {
    if (signal.aborted) await listener.close();
    else signal.addEventListener("abort", () => void listener.close(), { once: true });
  }
  return listener;
}

function listenFailed(hostname: string, port: number, cause: unknown): EdgewireError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new EdgewireError(
    `Cannot listen for TCP connections on ${hostname}:${port} (${reason}): ` +
      "choose another port, or 0 for any free one",
    { code: "tcp_listen_failed", cause },
  );
}

function listenDeno(
  listen: NonNullable<NonNullable<TcpGlobals["Deno"]>["listen"]>,
  hostname: string,
  port: number,
  accept: (peer: TcpPeer) => TcpPeerHandler,
): TcpListener {
  let server: DenoListener;
  try {
    server = listen({ hostname, port });
  } catch (error) {
    throw listenFailed(hostname, port, error);
  }
  const open = new Set<() => void>();
  let closing: Promise<void> | undefined;
  const loop = (async () => {
    try {
      for await (const conn of server) open.add(serveDenoConn(conn, accept, open));
    } catch {
      // The listener was closed
    }
  })();
  return {
    hostname: server.addr.hostname,
    port: server.addr.port,
    close() {
      closing ??= (async () => {
        try {
          server.close();
        } catch {
          // Already closed
        }
        await loop;
        for (const drop of [...open]) drop();
      })();
      return closing;
    },
  };
}

function serveDenoConn(
  conn: DenoConn,
  accept: (peer: TcpPeer) => TcpPeerHandler,
  open: Set<() => void>,
): () => void {
  // What `send` queued since the last write started; written together, in order
  let queue: Uint8Array[] = [];
  let spare: Uint8Array[] = [];
  let queued = 0;
  let writing = false;
  let closing = false;
  let done = false;
  let handler: TcpPeerHandler | undefined = undefined;
  let grace: ReturnType<typeof setTimeout> | undefined;
  // Reused for the joined chunks: a write is finished before the next one starts
  let scratch: Uint8Array | undefined;
  const writer = { turn: -1 };
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(grace);
    open.delete(finish);
    queue.length = 0;
    queued = 0;
    scratch = undefined;
    try {
      conn.close();
    } catch {
      // Already closed by the peer
    }
    handler?.closed();
  };
  /** Joins the queued chunks into one buffer, so they leave in one write. */
  const take = (): Uint8Array => {
    const chunks = queue;
    queue = spare;
    spare = chunks;
    if (chunks.length === 1) {
      const only = chunks[0];
      chunks.length = 0;
      return only;
    }
    let total = 0;
    for (let i = 0; i < chunks.length; i++) total += chunks[i].length;
    if (scratch === undefined || scratch.length < total) {
      scratch = new Uint8Array(Math.max(total, MIN_SCRATCH, (scratch?.length ?? 0) * 2));
    }
    let offset = 0;
    for (let i = 0; i < chunks.length; i++) {
      scratch.set(chunks[i], offset);
      offset += chunks[i].length;
    }
    chunks.length = 0;
    const joined = scratch.subarray(0, total);
    // A large buffer is not kept for an idle connection
    if (scratch.length > MAX_SCRATCH) scratch = undefined;
    return joined;
  };
  const pump = async () => {
    try {
      while (queue.length > 0 && !done) {
        let chunk = take();
        while (chunk.length > 0) {
          const written = await conn.write(chunk);
          chunk = chunk.subarray(written);
          queued -= written;
        }
      }
    } catch {
      finish();
    } finally {
      writing = false;
    }
    if (closing) finish();
  };
  const peer: TcpPeer = {
    remoteAddress: conn.remoteAddr.hostname ?? "unknown",
    send(bytes) {
      if (done || closing || bytes.length === 0) return;
      queue.push(bytes);
      queued += bytes.length;
      // Queued while a write is under way: joined into the next one
      if (writing) return;
      writing = true;
      // Written once this task is done (with what it sends after), or at the end of a busy turn
      if (busyTurn(writer)) afterTurn(pump);
      else queueMicrotask(pump);
    },
    bufferedBytes: () => queued,
    close() {
      if (done || closing) return;
      closing = true;
      if (!writing) return finish();
      grace = setTimeout(finish, CLOSE_GRACE_MS);
      unrefTimer(grace);
    },
  };
  try {
    conn.setNoDelay?.(true);
  } catch {
    // Not every transport has it
  }
  handler = accept(peer);
  void (async () => {
    try {
      while (!done) {
        // A new buffer per read: the MQTT decoder may keep views into it
        const buffer = new Uint8Array(16_384);
        const read = await conn.read(buffer);
        if (read === null) break;
        if (!done) handler.receive(buffer.subarray(0, read));
      }
    } catch {
      // Reset by the peer, or closed here
    }
    finish();
  })();
  return finish;
}

function nodeNet(g: TcpGlobals): NodeNet | undefined {
  try {
    // Node 20.16+, 22.3+ and Bun have it; no import, so bundles for the web stay clean
    const net = g.process?.getBuiltinModule?.("node:net") as NodeNet | undefined;
    return typeof net?.createServer === "function" ? net : undefined;
  } catch {
    return undefined;
  }
}

async function listenNode(
  net: NodeNet,
  hostname: string,
  port: number,
  accept: (peer: TcpPeer) => TcpPeerHandler,
): Promise<TcpListener> {
  const sockets = new Set<NodeSocket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let ended = false;
    const peer: TcpPeer = {
      remoteAddress: socket.remoteAddress ?? "unknown",
      send(bytes) {
        if (!ended && !socket.destroyed && bytes.length > 0) socket.write(bytes);
      },
      bufferedBytes: () => socket.writableLength,
      close() {
        if (ended) return;
        ended = true;
        socket.end();
        const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
        unrefTimer(timer);
      },
    };
    socket.setNoDelay(true);
    const handler = accept(peer);
    let closed = false;
    socket.on("data", (chunk) => {
      if (!ended) handler.receive(chunk);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      ended = true;
      sockets.delete(socket);
      if (closed) return;
      closed = true;
      handler.closed();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(listenFailed(hostname, port, error)));
    server.listen(port, hostname, resolve);
  });
  const address = server.address();
  const bound = typeof address === "object" && address !== null
    ? address
    : { address: hostname, port };
  let closing: Promise<void> | undefined;
  return {
    hostname: bound.address,
    port: bound.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
