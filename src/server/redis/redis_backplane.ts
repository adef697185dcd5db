/**
 * {@linkcode RedisBackplane}: the server's {@linkcode Backplane} on Redis,
 * with node-redis (`npm:redis`). Two connections: one for commands
 * (`PUBLISH`, the counters' script), one that only subscribes. Commands are
 * never queued while the connection is down, and each has a deadline, so an
 * outage answers a {@linkcode BackplaneError} at once rather than a hang;
 * the connections come back on their own with capped, jittered backoff, and
 * {@linkcode Backplane.onStatus} tells the server both ways.
 *
 * @module
 */

import { createClient } from "redis";
import { Backoff } from "../../core/backoff.ts";
import { Deadline } from "../../core/deadline.ts";
import { asNodeBuffer } from "../../core/runtime/node_buffer.ts";
import { integer, invalidArgument } from "../../core/validate.ts";
import {
  type Backplane,
  BackplaneError,
  type BackplaneHandler,
  type BackplaneStatus,
  type BackplaneSubscription,
} from "../backplane.ts";

/** Options of {@linkcode RedisBackplane.connect}. */
export interface RedisBackplaneOptions {
  /**
   * The Redis URL: `redis://[[user]:password@]host[:port][/db]`, or
   * `rediss://` for TLS. Its password never appears in an error.
   *
   * @default "redis://127.0.0.1:6379"
   */
  url?: string;
  /**
   * What every channel and counter name starts with, so several
   * deployments can share one Redis.
   *
   * @default "edgewire:"
   */
  keyPrefix?: string;
  /**
   * How long connecting may take, in milliseconds, before
   * {@linkcode RedisBackplane.connect} gives up.
   *
   * @default 5000
   */
  connectTimeoutMs?: number;
  /**
   * How long one command may take, in milliseconds, before it is answered
   * with a `backplane_timeout` error.
   *
   * @default 2000
   */
  commandTimeoutMs?: number;
  /**
   * The longest wait between two reconnection attempts, in milliseconds.
   *
   * @default 5000
   */
  maxReconnectDelayMs?: number;
}

type RedisClient = ReturnType<typeof createClient>;

const ACTION = "connect RedisBackplane";
/** Adds to a counter and sets its expiry when the addition created it. */
const INCREMENT_SCRIPT = "local v = redis.call('INCRBY', KEYS[1], ARGV[1]) " +
  "if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end " +
  "return v";

/**
 * A {@linkcode Backplane} on Redis. Give the same one (or one per process,
 * on the same Redis and `keyPrefix`) to every server process.
 *
 * @example Three lines in each process
 * ```ts ignore
 * import { createServer } from "@edgewire/sdk/server";
 * import { RedisBackplane } from "@edgewire/sdk/server/redis";
 *
 * const backplane = await RedisBackplane.connect({ url: "redis://127.0.0.1:6379" });
 * const server = createServer({ backplane, secret: "a shared secret of at least 32 characters" });
 * Deno.serve({ port: 8080 }, server.fetch);
 * ```
 */
export class RedisBackplane implements Backplane {
  readonly #commands: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #prefix: string;
  readonly #where: string;
  readonly #commandTimeoutMs: number;
  readonly #listeners = new Set<(status: BackplaneStatus, error?: BackplaneError) => void>();
  readonly #up = { commands: true, subscriber: true };
  #status: BackplaneStatus = "up";
  #closed = false;

  /**
   * Connects to Redis: both connections, or an error.
   *
   * @param options The URL, or the options.
   * @returns The backplane, connected.
   * @throws {InvalidArgumentError} When an option is out of range or the URL is not a Redis URL.
   * @throws {BackplaneError} When Redis cannot be reached within `connectTimeoutMs` (`backplane_unavailable`).
   * @example
   * ```ts ignore
   * import { RedisBackplane } from "@edgewire/sdk/server/redis";
   *
   * const backplane = await RedisBackplane.connect("redis://127.0.0.1:6379");
   * await backplane.close();
   * ```
   */
  static async connect(options: RedisBackplaneOptions | string = {}): Promise<RedisBackplane> {
    const o = typeof options === "string" ? { url: options } : options;
    if (typeof o !== "object" || o === null) {
      throw invalidArgument(ACTION, "options", "an object or a URL", o);
    }
    const url = o.url ?? "redis://127.0.0.1:6379";
    const where = redisHost(url);
    const prefix = o.keyPrefix ?? "edgewire:";
    if (typeof prefix !== "string") throw invalidArgument(ACTION, "keyPrefix", "a string", prefix);
    const connectTimeoutMs = integer(ACTION, "connectTimeoutMs", o.connectTimeoutMs, 5000, {
      min: 1,
      max: 2 ** 31 - 1,
    });
    const commandTimeoutMs = integer(ACTION, "commandTimeoutMs", o.commandTimeoutMs, 2000, {
      min: 1,
      max: 2 ** 31 - 1,
    });
    const maxDelay = integer(ACTION, "maxReconnectDelayMs", o.maxReconnectDelayMs, 5000, {
      min: 1,
      max: 2 ** 31 - 1,
    });
    const make = (): RedisClient => {
      const backoff = new Backoff({ initialMs: 50, maxMs: maxDelay });
      return createClient({
        url,
        disableOfflineQueue: true,
        socket: {
          connectTimeout: connectTimeoutMs,
          reconnectStrategy: (retries: number) => {
            if (retries === 0) backoff.reset();
            return backoff.next();
          },
        },
      });
    };
    const commands = make();
    const subscriber = make();
    const backplane = new RedisBackplane(commands, subscriber, prefix, where, commandTimeoutMs);
    const deadline = new Deadline(connectTimeoutMs, {
      onTimeout: () => unavailable(where, undefined),
    });
    try {
      await deadline.race(Promise.all([commands.connect(), subscriber.connect()]));
    } catch (error) {
      backplane.#closed = true;
      for (const client of [commands, subscriber]) {
        try {
          client.destroy();
        } catch {
          // Never connected
        }
      }
      throw error instanceof BackplaneError ? error : unavailable(where, error);
    } finally {
      deadline.end();
    }
    return backplane;
  }

  private constructor(
    commands: RedisClient,
    subscriber: RedisClient,
    prefix: string,
    where: string,
    commandTimeoutMs: number,
  ) {
    this.#commands = commands;
    this.#subscriber = subscriber;
    this.#prefix = prefix;
    this.#where = where;
    this.#commandTimeoutMs = commandTimeoutMs;
    this.#follow(commands, "commands");
    this.#follow(subscriber, "subscriber");
  }

  /**
   * Publishes bytes on a channel (`PUBLISH <keyPrefix><channel>`).
   *
   * @param channel The channel's name.
   * @param message The bytes.
   * @returns Once Redis has handed it to the subscribers.
   * @throws {BackplaneError} When Redis is unreachable, slow past `commandTimeoutMs`, or the backplane is closed.
   */
  publish(channel: string, message: Uint8Array): Promise<void> {
    return this.#run(() =>
      this.#commands.publish(this.#prefix + channel, asNodeBuffer(message) as never)
    ).then(() => {});
  }

  /**
   * Subscribes to a channel; every handler of the channel gets each message.
   *
   * @param channel The channel's name.
   * @param handler Called with each message's bytes.
   * @returns The subscription, once Redis confirmed it.
   * @throws {BackplaneError} When Redis is unreachable, slow past `commandTimeoutMs`, or the backplane is closed.
   */
  async subscribe(channel: string, handler: BackplaneHandler): Promise<BackplaneSubscription> {
    const name = this.#prefix + channel;
    const listener = (message: Uint8Array) => {
      try {
        handler(message);
      } catch {
        // A handler must not throw; one that does loses that message only
      }
    };
    await this.#run(() => this.#subscriber.subscribe(name, listener, true));
    let done = false;
    return {
      unsubscribe: async () => {
        if (done || this.#closed) return;
        done = true;
        await this.#subscriber.unsubscribe(name, listener, true).catch(() => {});
      },
    };
  }

  /**
   * Adds to a counter atomically, with an expiry set when it is created.
   *
   * @param key The counter's name (`<keyPrefix><key>` in Redis).
   * @param by What to add.
   * @param ttlMs How long a new counter lives, in milliseconds.
   * @returns The counter's value after the addition.
   * @throws {BackplaneError} When Redis is unreachable, slow past `commandTimeoutMs`, or the backplane is closed.
   */
  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    const value = await this.#run(() =>
      this.#commands.eval(INCREMENT_SCRIPT, {
        keys: [this.#prefix + key],
        arguments: [String(Math.trunc(by)), String(Math.max(1, Math.ceil(ttlMs)))],
      })
    );
    return Number(value);
  }

  /**
   * Follows the connections: `"down"` when either is lost, `"up"` when both are back.
   *
   * @param listener Called on each change.
   * @returns A function that stops the listener.
   */
  onStatus(listener: (status: BackplaneStatus, error?: BackplaneError) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Closes both connections; later calls reject with `backplane_closed`.
   *
   * @returns Once closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    for (const client of [this.#subscriber, this.#commands]) {
      try {
        if (client.isOpen) await client.close();
        else client.destroy();
      } catch {
        // Down already: nothing left to close
      }
    }
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    if (this.#closed) throw closed();
    const deadline = new Deadline(this.#commandTimeoutMs, {
      onTimeout: (ms) =>
        new BackplaneError(
          `Cannot use the backplane at ${this.#where} as it did not answer within ${ms} ms: check Redis`,
          "backplane_timeout",
        ),
    });
    try {
      return await deadline.race(command());
    } catch (error) {
      if (error instanceof BackplaneError) throw error;
      if (this.#closed) throw closed();
      throw unavailable(this.#where, error);
    } finally {
      deadline.end();
    }
  }

  #follow(client: RedisClient, which: "commands" | "subscriber"): void {
    // Without an `error` listener the client would throw into the event loop
    // An error while the connection still works (none is known, but) changes nothing
    client.on("error", (error: unknown) => this.#change(which, client.isReady, error));
    client.on("end", () => this.#change(which, false, undefined));
    client.on("ready", () => this.#change(which, true, undefined));
  }

  #change(which: "commands" | "subscriber", up: boolean, cause: unknown): void {
    if (this.#closed) return;
    this.#up[which] = up;
    const status: BackplaneStatus = this.#up.commands && this.#up.subscriber ? "up" : "down";
    if (status === this.#status) return;
    this.#status = status;
    const error = status === "down" ? unavailable(this.#where, cause) : undefined;
    for (const listener of [...this.#listeners]) {
      try {
        listener(status, error);
      } catch {
        // A listener must not throw
      }
    }
  }
}

/** The host and port of a Redis URL, never its password. */
function redisHost(url: unknown): string {
  if (typeof url !== "string") throw invalidArgument(ACTION, "url", "a redis:// URL", url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidArgument(ACTION, "url", "a redis:// or rediss:// URL", "a text that is not a URL");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw invalidArgument(ACTION, "url", "a redis:// or rediss:// URL", parsed.protocol);
  }
  return parsed.host === "" ? "127.0.0.1:6379" : parsed.host;
}

function unavailable(where: string, cause: unknown): BackplaneError {
  return new BackplaneError(
    `Cannot reach the backplane at ${where}: start Redis or check the URL`,
    "backplane_unavailable",
    cause,
  );
}

function closed(): BackplaneError {
  return new BackplaneError(
    "Cannot use the backplane as it is closed: connect a new one",
    "backplane_closed",
  );
}
