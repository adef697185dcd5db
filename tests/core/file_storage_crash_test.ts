/**
 * `privateFileStorage` writes atomically: a Deno child queues thousands of
 * events into a `BoundedQueue` over it and is killed with SIGKILL at
 * moments a seeded generator picks, forty times, and every event it had
 * acknowledged as persisted is found on restore, in a file that is never
 * empty or unparseable. Staged files a killed process leaves are removed at
 * the next open once they are a minute old.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BoundedQueue } from "../../src/core/queue.ts";
import { privateFileStorage } from "../../src/core/runtime/mod.ts";

const TRIES = 40;
const WRITER = new URL("./_file_storage_writer.ts", import.meta.url);

/** A small seeded generator (mulberry32), so the kill moments are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the writer until it has been running `killAfterMs` past `ready`, then SIGKILLs it. */
async function runAndKill(
  folder: string,
  path: string,
  killAfterMs: number,
): Promise<{ acked: number; killed: boolean }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-lock",
      `--allow-read=${folder}`,
      `--allow-write=${folder}`,
      "--allow-env=EDGEWIRE_STATE",
      WRITER.href,
    ],
    env: { EDGEWIRE_STATE: path, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let acked = 0;
  let done = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let killed = false;
  let buffer = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    for (const line of lines) {
      if (line === "ready" && timer === undefined) {
        timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
            killed = true;
          } catch {
            // It already ended
          }
        }, killAfterMs);
      } else if (line.startsWith("acked ")) {
        acked = Math.max(acked, Number(line.slice(6)));
      } else if (line === "done") {
        done = true;
      }
    }
  }
  clearTimeout(timer);
  const status = await child.status;
  assert.ok(killed || (done && status.success), `the writer failed with code ${status.code}`);
  return { acked, killed: killed && !done };
}

Deno.test("every acknowledged event survives a SIGKILL at any moment of a file storage write", async () => {
  const random = seeded(0x5eed);
  const root = await Deno.makeTempDir({ prefix: "edgewire-crash-" });
  let killedMidway = 0;
  let ackedAndKilled = 0;
  try {
    for (let attempt = 0; attempt < TRIES; attempt++) {
      const folder = `${root}/${attempt}`;
      const path = `${folder}/state.json`;
      await Deno.mkdir(folder);
      const { acked, killed } = await runAndKill(folder, path, Math.floor(random() * 600));
      if (killed) killedMidway++;
      if (acked > 0 && killed) ackedAndKilled++;
      let text: string | undefined;
      try {
        text = await Deno.readTextFile(path);
      } catch (error) {
        assert.ok(error instanceof Deno.errors.NotFound, String(error));
      }
      if (text === undefined) {
        assert.equal(acked, 0, `try ${attempt}: no file, yet ${acked} events were acknowledged`);
        continue;
      }
      assert.notEqual(text.length, 0, `try ${attempt}: the file is empty`);
      assert.doesNotThrow(() => JSON.parse(text), `try ${attempt}: the file does not parse`);
      const queue = new BoundedQueue<{ id: number }>({
        maxItems: 1_000_000,
        maxBytes: 64 * 1024 * 1024,
        storage: privateFileStorage(path)!,
        storageKey: "events",
      });
      await queue.restore();
      // Restoring writes the merged state back; let it land before the folder goes
      await queue.persisted();
      assert.equal(queue.stats().persistErrors, 0, `try ${attempt}: the state did not restore`);
      const ids = queue.peek().map((event) => event.id);
      assert.ok(ids.length >= acked, `try ${attempt}: ${ids.length} restored of ${acked} acked`);
      // Events are queued in order, so the first `acked` restored ids must be exactly 0..acked-1
      for (let id = 0; id < acked; id++) assert.equal(ids[id], id, `try ${attempt}: event ${id}`);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
  // The test means something only when most writers were killed before they finished
  assert.ok(killedMidway >= TRIES / 2, `only ${killedMidway} of ${TRIES} writers were killed`);
  assert.ok(ackedAndKilled >= TRIES / 4, `only ${ackedAndKilled} writers were killed after an ack`);
});

Deno.test("opening a file storage removes staged files over a minute old and keeps fresh ones", async () => {
  const folder = await Deno.makeTempDir({ prefix: "edgewire-stale-" });
  const path = `${folder}/state.json`;
  const stale = [`${path}.0123456789abcdef.tmp`, `${path}.tmp`];
  const fresh = `${path}.fedcba9876543210.tmp`;
  const unrelated = `${folder}/other.json.0123456789abcdef.tmp`;
  try {
    await Deno.writeTextFile(path, JSON.stringify({ kept: "1" }));
    const old = new Date(Date.now() - 120_000);
    for (const file of [...stale, fresh, unrelated]) await Deno.writeTextFile(file, "{");
    for (const file of [...stale, unrelated]) await Deno.utime(file, old, old);
    const storage = privateFileStorage(path)!;
    const left = new Set<string>();
    for await (const entry of Deno.readDir(folder)) left.add(`${folder}/${entry.name}`);
    assert.deepEqual(left, new Set([path, fresh, unrelated]));
    assert.equal(await storage.get("kept"), "1");
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
