/**
 * The mkStats heartbeat: the plugin loop that pings, flushes queued events
 * and waits, carrying on past failed iterations until it runs its
 * iterations out or its signal aborts.
 *
 * @module
 */

import { delay } from "../core/delay.ts";
import { AbortedError } from "../core/errors.ts";
import { integer, positiveNumber } from "../core/validate.ts";
import type { MkStatsResponse } from "./options.ts";

/** Options of {@linkcode MkStatsClient.heartbeat}. */
export interface HeartbeatOptions {
  /**
   * Seconds between iterations.
   *
   * @default 1500
   */
  intervalSeconds?: number;
  /**
   * How many iterations to run before resolving.
   *
   * @default unlimited: until `signal` aborts
   */
  iterations?: number;
  /**
   * Whether each iteration also flushes events queued with `queueEvent()`.
   *
   * @default true
   */
  flushBufferedEvents?: boolean;
  /**
   * Stops the loop; the heartbeat then resolves with what it did so far.
   *
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * Told of each failed iteration; the loop carries on regardless.
   *
   * @default undefined
   */
  onError?: (error: unknown) => void;
}

/** What a heartbeat did, once it ends. */
export interface HeartbeatReport {
  /** Iterations started. */
  iterations: number;
  /** Pings the server accepted. */
  pings: number;
  /** Iterations that failed. */
  errors: number;
  /** Whether the loop ran its iterations out or was aborted. */
  stopped: "completed" | "aborted";
}

/** What one heartbeat iteration calls: the client's ping and flush. */
export interface HeartbeatTarget {
  /** Sends the daily ping; `{}` means nothing was accepted. */
  sendPing(): Promise<MkStatsResponse>;
  /** Sends the queued events. */
  flushEvents(): Promise<boolean>;
}

/**
 * Runs the heartbeat loop against a client (see `MkStatsClient.heartbeat`).
 *
 * @param target The client's ping and flush.
 * @param options Interval, iteration count, flushing and the stop signal.
 * @returns What the loop did, once it completes its iterations or is aborted.
 * @throws {InvalidArgumentError} When `intervalSeconds` is not positive or
 * `iterations` is not a positive integer.
 *
 * @example
 * ```ts
 * import { runHeartbeat } from "./heartbeat.ts";
 *
 * const report = await runHeartbeat(
 *   { sendPing: () => Promise.resolve({ ok: true }), flushEvents: () => Promise.resolve(true) },
 *   { iterations: 1 },
 * );
 * console.log(report.pings); // 1
 * ```
 */
export async function runHeartbeat(
  target: HeartbeatTarget,
  options: HeartbeatOptions = {},
): Promise<HeartbeatReport> {
  const action = "start heartbeat";
  const intervalSeconds = positiveNumber(action, "intervalSeconds", options.intervalSeconds, 1500);
  // Infinity, the default, runs until the signal aborts
  const iterations = options.iterations === Infinity
    ? Infinity
    : integer(action, "iterations", options.iterations, Infinity);
  const { signal } = options;
  const report: HeartbeatReport = { iterations: 0, pings: 0, errors: 0, stopped: "completed" };
  while (report.iterations < iterations) {
    if (signal?.aborted) {
      report.stopped = "aborted";
      break;
    }
    report.iterations++;
    try {
      const answer = await target.sendPing();
      if (Object.keys(answer).length > 0) report.pings++;
      if (options.flushBufferedEvents ?? true) await target.flushEvents();
    } catch (error) {
      report.errors++;
      options.onError?.(error);
    }
    if (report.iterations >= iterations) break;
    try {
      await delay(intervalSeconds * 1000, { signal });
    } catch (error) {
      if (!(error instanceof AbortedError)) throw error;
      report.stopped = "aborted";
      break;
    }
  }
  return report;
}
