/**
 * A TCP relay in front of a daemon (Redis, PostgreSQL) that a test can cut,
 * as an outage or a dropped network path would: it listens on 127.0.0.1,
 * port 0, pipes each connection to the daemon, and on `cut()` closes every
 * open connection at once and refuses new ones until `restore()`.
 *
 * @module
 */

/** A running relay. */
export interface TcpRelay {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** Closes every connection through it and refuses new ones. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  /** Cuts, stops listening, and resolves once the accepting loop ended. */
  close(): Promise<void>;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already
  }
}

/**
 * Starts a relay to `hostname:port`.
 *
 * @param target Where the daemon listens.
 * @returns The relay.
 * @example
 * ```ts ignore
 * const relay = startTcpRelay({ hostname: "127.0.0.1", port: 6379 });
 * relay.cut();
 * await relay.close();
 * ```
 */
export function startTcpRelay(target: { hostname: string; port: number }): TcpRelay {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let cut = false;
  const accepting = (async () => {
    for await (const inbound of listener) {
      if (cut) {
        inbound.close();
        continue;
      }
      const outbound = await Deno.connect(target);
      open.add(inbound).add(outbound);
      const pipe = (from: Deno.Conn, to: Deno.Conn) =>
        from.readable.pipeTo(to.writable).catch(() => {}).finally(() => {
          for (const conn of [from, to]) {
            closeQuietly(conn);
            open.delete(conn);
          }
        });
      void pipe(inbound, outbound);
      void pipe(outbound, inbound);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    cut() {
      cut = true;
      for (const conn of open) closeQuietly(conn);
      open.clear();
    },
    restore() {
      cut = false;
    },
    async close() {
      this.cut();
      listener.close();
      await accepting;
    },
  };
}
