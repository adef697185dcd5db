/**
 * Runs the reference server inside Cloudflare's workerd: `createServer` with
 * the in-memory store, bundled for the browser platform (so no `node:sqlite`
 * and no Deno API can be in it) and served by real workerd through Miniflare 4
 * with no compatibility flags. From Deno, the test completes a mkStats
 * proof-of-work handshake (solved with `solvePow`), a ping, and a Honch
 * capture in three frames, then reads both back through the admin routes.
 * Ignored when Miniflare cannot load, failed when EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hex } from "@scure/base";
import { encodeFrames } from "../../src/honch/frames.ts";
import { solvePow } from "../../src/pow/solve.ts";
import { serveWorker, WORKERD_TEST } from "../_helpers/workerd.ts";

const ADMIN_KEY = "admin-key-for-the-workerd-server";
const HONCH_KEY = "phc_workerd_server";
const COMMON = {
  plugin_id: "workerd_plugin",
  version: "1.0.0",
  client_name: "exteraGram",
  client_version: "12.3.1",
  user_hash: "a".repeat(64),
  device_fingerprint: "b".repeat(64),
};

interface WireFixture {
  name: string;
  compact_message_hex: string;
  input: { message_id: number };
  fixture: { expanded_event_json: unknown[] };
}

const vectors = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/honch_wire_v2.json", import.meta.url)),
) as { wire_v2_fixtures: WireFixture[] };

async function json(response: Response, status: number): Promise<Record<string, unknown>> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return JSON.parse(text);
}

Deno.test({
  name: "the server runs inside workerd on its memory store: a handshake and a Honch capture",
  ...WORKERD_TEST,
  async fn() {
    await using worker = await serveWorker(
      new URL("./_worker_server_entry.ts", import.meta.url),
      { ADMIN_KEY, HONCH_KEY },
    );
    // The server entry must not drag the SQLite store in: workerd has no node:sqlite
    assert.ok(!worker.script.includes("node:sqlite"), "the bundle names node:sqlite");
    const call = (path: string, init: RequestInit = {}) =>
      fetch(new URL(path, worker.url), { ...init, signal: AbortSignal.timeout(30_000) });
    const post = (path: string, body: unknown) =>
      call(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const admin = { authorization: `Bearer ${ADMIN_KEY}` };

    assert.deepEqual(await json(await call("/healthz"), 200), { ok: true });

    // mkStats: challenge, solve, token, ping, stats
    const issued = await json(await post("/api/v1/handshake", COMMON), 200);
    assert.equal(issued.pow_required, true);
    const solution = await solvePow(
      issued.pow_challenge as string,
      issued.pow_difficulty as number,
    );
    const solved = () =>
      post("/api/v1/handshake", {
        ...COMMON,
        pow_challenge: issued.pow_challenge,
        pow_nonce: solution.nonce,
      });
    const granted = await json(await solved(), 200);
    assert.equal(typeof granted.install_token, "string");
    const replay = await json(await solved(), 403);
    assert.deepEqual(replay, { error: "invalid_pow", reason: "replayed" });
    await json(
      await post("/api/v1/data", {
        ...COMMON,
        install_token: granted.install_token,
        timestamp: Math.floor(Date.now() / 1000),
      }),
      200,
    );
    const stats = await json(
      await call(`/api/v1/stats/${COMMON.plugin_id}`, { headers: admin }),
      200,
    );
    assert.equal(stats.installs, 1);
    assert.equal((stats.daily_actives as unknown[]).length, 1);

    // Honch: one message in three frames, the middle one sent twice
    const entry = vectors.wire_v2_fixtures.find((item) =>
      item.name === "single-custom-properties"
    )!;
    const message = hex.decode(entry.compact_message_hex);
    const frames = encodeFrames(message, { messageId: entry.input.message_id, cuts: [30, 60] });
    const statuses: number[] = [];
    for (const frame of [frames[0], frames[1], frames[1], frames[2]]) {
      const response = await call("/capture", {
        method: "POST",
        headers: {
          "content-type": "application/vnd.honch.chunk",
          "x-honch-project-key": HONCH_KEY,
          "x-honch-stream-id": "workerd-stream",
        },
        body: new Uint8Array(frame),
      });
      await response.body?.cancel();
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [202, 202, 202, 204]);
    const events = await json(
      await call(`/api/honch/events?project_key=${HONCH_KEY}`, { headers: admin }),
      200,
    );
    assert.deepEqual(events.events, entry.fixture.expanded_event_json);
  },
});
