import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

async function listing(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("deno task demo runs every client module and shows what the server recorded for each", async () => {
  const before = await listing(ROOT);
  const started = performance.now();
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "examples/demo.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.ok(performance.now() - started < 30_000, "the demo finishes in seconds");

  // The tour of each client
  assert.match(text, /handshake \(proof-of-work solved\) +token of \d+ chars/);
  assert.match(text, /caught RangeError: Disk is full, \$crash uploaded/);
  assert.match(
    text,
    /A newer version 1\.2\.0 of edgewire\/demo-tool is available \(you have 1\.1\.0\)/,
  );
  assert.match(text, /Version 1\.0\.0 of edgewire\/demo-tool is flagged: upgrade to 1\.2\.0/);
  assert.match(text, /keygen\('demo\/', type 'rwsl'\) +a 32-char channel key/);
  assert.match(text, /subscribe\(\) +demo\/ "hello, subscriber"/);
  assert.match(text, /history\(\{ last: 5 \}\) +\["hello, subscriber"\]/);
  assert.match(text, /two keys, two IDCards, handshakes +alice k\.[A-Za-z0-9_-]{43}\n/);
  assert.match(text, /greet', 'alice'\) +"hello alice, from bob \(it came encrypted\)"/);
  assert.match(text, /storeBlob, fetchBlob\('notes'\) +"only alice can read this"/);

  // What the server recorded, read back through its own routes
  const recorded = text.slice(text.indexOf("What the server recorded"));
  assert.match(recorded, /mkStats +GET \/api\/v1\/stats\/demo_plugin: 1 install, 1 active on/);
  assert.match(recorded, /feature_clicked v1\.0\.0 ×2/);
  assert.match(recorded, /export_done v1\.0\.0 ×3/);
  assert.match(recorded, /Honch +GET \/api\/honch\/events: \d+ events/);
  assert.match(recorded, /export_clicked \(format csv, rows 42\)/);
  assert.match(recorded, /\$crash \(RangeError: Disk is full\)/);
  assert.match(recorded, /migas +GET \/api\/usage\/edgewire\/demo-tool: 2 breadcrumbs from 1 user/);
  assert.match(
    recorded,
    /Emitter +server\.emitter\.stats\(\): 3 PUBLISH packets in .*, 1 delivery out/,
  );
  assert.match(
    recorded,
    /Spot +server\.spot: 2 IDCards seen; alice's blob "notes" is \d+ bytes of bottle \(sealed\)/,
  );
  assert.match(text, /Server stopped, temporary store removed\.\n$/);

  // Its store was a temporary directory, removed; nothing was written into the checkout
  const dir = text.match(/SQLite in (\S+), removed/)?.[1];
  assert.ok(dir, text);
  await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
  assert.ok(!dir.startsWith(ROOT), `${dir} is outside the repository`);
  assert.deepEqual(await listing(ROOT), before);
});
