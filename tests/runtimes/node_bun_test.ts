import assert from "node:assert/strict";
import { ADMIN_KEY, startServer } from "../e2e/_server.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const REQUIRED = Deno.env.get("EDGEWIRE_REQUIRE_RUNTIMES") === "1";

function which(candidates: string[]): string | undefined {
  for (const candidate of candidates) {
    try {
      const { success } = new Deno.Command(candidate, {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      })
        .outputSync();
      if (success) return candidate;
    } catch {
      // not installed under that name
    }
  }
  return undefined;
}

const runtimes = {
  node: which(["node"]),
  bun: which([`${ROOT}.tools/node_modules/.bin/bun`, "bun"]),
};

let bundle: Promise<string> | undefined;

// One browser-platform bundle serves both: it proves the client needs no Deno API
function bundled(): Promise<string> {
  bundle ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "edgewire-smoke-" });
    const output = `${dir}/smoke.mjs`;
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "-o",
        output,
        `${ROOT}tests/runtimes/_mkstats_smoke.ts`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(result.success, new TextDecoder().decode(result.stderr));
    return output;
  })();
  return bundle;
}

for (const [name, binary] of Object.entries(runtimes)) {
  Deno.test({
    name: `the mkStats client runs unchanged under ${name} against the reference server`,
    ignore: binary === undefined && !REQUIRED,
    sanitizeResources: false,
    async fn() {
      assert.ok(binary, `${name} is not installed; .ci/run installs it`);
      await using running = startServer({ now: Date.now });
      const script = await bundled();
      const child = await new Deno.Command(binary, {
        args: [script],
        env: { MKSTATS_API_URL: `${running.base}/api` },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(child.stdout).trim();
      assert.ok(child.success, `${name} failed: ${new TextDecoder().decode(child.stderr)}`);
      const report = JSON.parse(stdout.split("\n").at(-1)!);
      assert.equal(report.runtime.name, name);
      assert.notEqual(report.runtime.version, "");
      assert.equal(report.apiUrl, `${running.base}/api/v1`);
      assert.deepEqual(report.ping, { ok: true });
      assert.deepEqual(report.event, { ok: true });
      // The proof-of-work kernel is chosen by measuring on each runtime
      assert.equal(
        report.rates[report.kernel],
        Math.max(...Object.values(report.rates) as number[]),
      );
      console.log(`${name}: kernel ${report.kernel}, hashes/ms ${JSON.stringify(report.rates)}`);
      const stats = await (await fetch(`${running.base}/api/v1/stats/runtime_smoke`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      })).json();
      assert.equal(stats.installs, 1);
      assert.deepEqual(stats.events.map((e: { event: string }) => e.event), [`ran_on_${name}`]);
    },
  });
}
