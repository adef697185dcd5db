/**
 * The reference server as every runtime test starts it (Deno, 127.0.0.1,
 * port 0, real clock, real proof-of-work difficulty) and the check of what
 * it recorded after a runtime ran `exerciseClients` from `_all_clients.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createServer, type ServerOptions } from "../../src/server/mod.ts";
import { type ClientsReport, SMOKE } from "./_all_clients.ts";

export const ADMIN_KEY = "admin-key-for-runtime-tests";

/** A reference server for runtime tests. */
export interface Reference extends AsyncDisposable {
  /** Its origin, `http://127.0.0.1:<port>`. */
  base: string;
}

/** The server options every runtime's server uses, so Bun's server is configured alike. */
export const REFERENCE_OPTIONS: ServerOptions = {
  difficulty: 4,
  adminKey: ADMIN_KEY,
  honch: { projectKeys: [SMOKE.honchProjectKey] },
  migas: { projects: [{ project: SMOKE.migasProject, latestVersion: SMOKE.migasLatest }] },
};

/**
 * Starts the reference server on 127.0.0.1, port 0.
 *
 * @param options Overrides of {@linkcode REFERENCE_OPTIONS}.
 * @returns The running server; dispose of it to stop.
 */
export function startReference(options: ServerOptions = {}): Reference {
  const server = createServer({ ...REFERENCE_OPTIONS, ...options });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  return {
    base: `http://127.0.0.1:${http.addr.port}`,
    async [Symbol.asyncDispose]() {
      await http.shutdown();
      await server.close();
    },
  };
}

async function admin(base: string, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${path}`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  assert.equal(response.status, 200, `${path} answered ${response.status}`);
  return await response.json();
}

/**
 * Checks a runtime's report and what the server at `base` recorded from it:
 * one mkStats install with the run's event, the run's Honch event, and the
 * run's migas breadcrumb, each exactly once.
 *
 * @param base The server's origin.
 * @param report What `exerciseClients` answered in the runtime under test.
 * @param runs How many runs (labels) the server has seen in all, for the install count.
 */
export async function verifyRecorded(
  base: string,
  report: ClientsReport,
  runs = 1,
): Promise<void> {
  const label = report.label;
  assert.equal(report.mkstats.endpoint, `${base}/api/v1`);
  assert.ok(report.mkstats.tokenLength > 0);
  assert.deepEqual(report.mkstats.ping, { ok: true });
  assert.deepEqual(report.mkstats.event, { ok: true });
  // The proof-of-work kernel is chosen by measuring in each runtime
  const rates = Object.values(report.mkstats.rates);
  assert.equal(report.mkstats.rates[report.mkstats.kernel], Math.max(...rates));
  // $device_boot comes first, then the run's own event
  assert.deepEqual(report.honch, { sent: 2, remaining: 0, dropped: 0, error: null });
  assert.deepEqual(report.migas, {
    breadcrumb: { success: true },
    check: { success: true, latest: SMOKE.migasLatest, flagged: false },
  });

  const stats = await admin(base, `/api/v1/stats/${SMOKE.pluginId}`);
  assert.equal(stats.installs, runs);
  const events = (stats.events as { event: string; count: number }[])
    .filter((e) => e.event === `ran_on_${label}`);
  assert.deepEqual(events.map((e) => e.count), [1]);

  const honch = await admin(
    base,
    `/api/honch/events?project_key=${SMOKE.honchProjectKey}&limit=1000`,
  );
  const captured = (honch.events as { event: string }[]).filter((e) =>
    e.event === `ran_on_${label}`
  );
  assert.equal(captured.length, 1, JSON.stringify(honch.events));

  const usage = await admin(base, `/api/usage/${SMOKE.migasProject}?start=2000-01-01`);
  assert.equal(usage.success, true);
  assert.ok((usage.hits as number) >= 1);
}
