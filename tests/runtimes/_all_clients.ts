/**
 * Exercises every client module against a running reference server, in
 * whatever runtime imports it: mkStats (a real proof-of-work handshake, a ping
 * and an event), Honch (an event delivered with a flush) and migas (a waited
 * breadcrumb and a version check). It names no runtime and no file, so the
 * same code runs bundled under Node and Bun, inside a workerd Worker and in a
 * Chromium page. The harness checks what the server recorded with
 * {@linkcode verifyRecorded} in `_reference.ts`.
 *
 * @module
 */

import { MkStatsClient } from "../../src/mkstats/mod.ts";
import { HonchClient } from "../../src/honch/mod.ts";
import { createMigas } from "../../src/migas/mod.ts";
import { MemoryStorage } from "../../src/core/storage.ts";
import { detectRuntime } from "../../src/core/runtime/mod.ts";
import { calibrate } from "../../src/pow/_select.ts";

/** The settings the reference server of `_reference.ts` is started with. */
export const SMOKE = {
  pluginId: "runtime_smoke",
  honchProjectKey: "phc_runtime_smoke",
  migasProject: "edgewire/runtime-smoke",
  migasLatest: "2.0.0",
  migasVersion: "1.0.0",
} as const;

/** What one run of every client reports back to its harness. */
export interface ClientsReport {
  /** The runtime, as the package itself detects it. */
  runtime: { name: string; version: string };
  /** The label the harness chose; the events recorded carry it. */
  label: string;
  mkstats: {
    endpoint: string;
    tokenLength: number;
    ping: unknown;
    event: unknown;
    /** The proof-of-work kernel the calibration chose, and each kernel's measured rate. */
    kernel: string;
    rates: Record<string, number>;
  };
  honch: { sent: number; remaining: number; dropped: number; error: string | null };
  migas: {
    breadcrumb: { success: boolean };
    check: { success: boolean; latest: string | null; flagged: boolean };
  };
}

/**
 * Runs every client once against the server at `base`.
 *
 * @param base The server's origin, such as `http://127.0.0.1:8787`.
 * @param label A name for this run (the runtime's, usually); events carry it.
 * @param fetchImpl The fetch to use; a Worker passes its own.
 * @returns What each client answered.
 */
export async function exerciseClients(
  base: string,
  label: string,
  fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<ClientsReport> {
  const mkstats = new MkStatsClient({
    pluginId: SMOKE.pluginId,
    pluginVersion: "1.0.0",
    endpoint: `${base}/api`,
    deviceId: `smoke-${label}`,
    fetch: fetchImpl,
    storage: new MemoryStorage(),
  });
  const token = await mkstats.handshake();
  const ping = await mkstats.sendPing();
  const event = await mkstats.trackEvent(`ran_on_${label}`);
  const { kernel, rates } = await calibrate();

  const honch = new HonchClient({
    apiKey: SMOKE.honchProjectKey,
    deviceId: `smoke-${label}`,
    deviceModel: "runtime-smoke",
    firmwareVersion: "1.0.0",
    endpoint: base,
    fetch: fetchImpl,
    storage: new MemoryStorage(),
  });
  honch.track(`ran_on_${label}`, { runtime: label });
  const flushed = await honch.flush({ deadlineMs: 10_000 });
  await honch.shutdown();

  const migas = createMigas({
    endpoint: base,
    protocol: "rest",
    userId: `smoke-${label}`,
    storage: new MemoryStorage(),
    env: () => undefined,
    fetch: fetchImpl,
  });
  const breadcrumb = await migas.addBreadcrumb(SMOKE.migasProject, SMOKE.migasVersion, {
    status: "C",
    wait: true,
  });
  const check = await migas.checkProject(SMOKE.migasProject, SMOKE.migasVersion);

  return {
    runtime: detectRuntime(),
    label,
    mkstats: {
      endpoint: mkstats.endpoint,
      tokenLength: token.length,
      ping,
      event,
      kernel: kernel.name,
      rates,
    },
    honch: {
      sent: flushed.sent,
      remaining: flushed.remaining,
      dropped: flushed.dropped,
      error: flushed.error?.message ?? null,
    },
    migas: {
      breadcrumb: { success: breadcrumb.success },
      check: "flagged" in check
        ? { success: check.success, latest: check.latest, flagged: check.flagged }
        : { success: false, latest: null, flagged: false },
    },
  };
}
