import assert from "node:assert/strict";
import {
  dataDirectory,
  defaultStorePath,
  readServeConfig,
  SERVE_VARIABLES,
  ServeConfigError,
  serverOptions,
} from "../../examples/_serve_config.ts";
import { formatBanner } from "../../examples/_serve_banner.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];
/** A random source that makes every generated key predictable. */
const counting = (bytes: Uint8Array) => bytes.map((_, i) => i);

function problemsOf(vars: Record<string, string>): readonly string[] {
  try {
    readServeConfig(envOf({ HOME: "/home/ada", ...vars }));
  } catch (error) {
    assert.ok(error instanceof ServeConfigError);
    return error.problems;
  }
  assert.fail("the configuration was accepted");
}

Deno.test("with nothing set, the defaults apply and both keys are generated", () => {
  const config = readServeConfig(envOf({ HOME: "/home/ada" }), { randomBytes: counting });
  assert.equal(config.hostname, "127.0.0.1");
  assert.equal(config.port, 8787);
  assert.equal(config.difficulty, 4);
  assert.equal(config.store, "/home/ada/.local/share/edgewire/edgewire.db");
  assert.equal(config.storeIsDefault, true);
  assert.deepEqual(config.migasProjects, []);
  assert.equal(config.adminKey, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
  assert.equal(config.generated.adminKey, config.adminKey);
  assert.equal(config.generated.honchProjectKey, "phc_000102030405060708090a0b0c0d0e0f");
  assert.deepEqual(config.honchProjectKeys, [config.generated.honchProjectKey]);
});

Deno.test("generated keys differ from one start to the next with the real random source", () => {
  const env = envOf({ EDGEWIRE_DB: ":memory:" });
  const [a, b] = [readServeConfig(env), readServeConfig(env)];
  assert.notEqual(a.adminKey, b.adminKey);
  assert.notEqual(a.honchProjectKeys[0], b.honchProjectKeys[0]);
  assert.match(a.adminKey, /^[A-Za-z0-9_-]{43}$/);
  assert.match(a.honchProjectKeys[0], /^phc_[0-9a-f]{32}$/);
});

Deno.test("every variable is read, trimmed, and given keys are neither generated nor replaced", () => {
  const config = readServeConfig(envOf({
    EDGEWIRE_HOST: " 0.0.0.0 ",
    EDGEWIRE_PORT: "0",
    EDGEWIRE_DB: ":memory:",
    EDGEWIRE_ADMIN_KEY: "operator-admin-key",
    EDGEWIRE_DIFFICULTY: "16",
    EDGEWIRE_HONCH_PROJECT_KEYS: "phc_one, phc_two,phc_one",
    EDGEWIRE_MIGAS_PROJECTS: "nipreps/fmriprep@24.1.0, owner/tool ,x/y@v2.0.0",
    EDGEWIRE_MIGAS_BAD_VERSIONS: "nipreps/fmriprep@23.0.0,nipreps/fmriprep@23.1.0, owner/tool@0.1",
    EMITTER_LICENSE: " zT83oDV0DWY5_JysbSTPTDr8KB0AAAAAAAAAAAAAAAI:1 ",
    EDGEWIRE_MQTT_PORT: "1883",
  }));
  assert.equal(config.hostname, "0.0.0.0");
  assert.equal(config.emitterLicense, "zT83oDV0DWY5_JysbSTPTDr8KB0AAAAAAAAAAAAAAAI:1");
  assert.equal(config.mqttPort, 1883);
  assert.equal(config.port, 0);
  assert.equal(config.store, ":memory:");
  assert.equal(config.storeIsDefault, false);
  assert.equal(config.adminKey, "operator-admin-key");
  assert.equal(config.difficulty, 16);
  assert.deepEqual(config.honchProjectKeys, ["phc_one", "phc_two"]);
  assert.deepEqual(config.generated, {});
  assert.deepEqual(config.migasProjects, [
    {
      project: "nipreps/fmriprep",
      latestVersion: "24.1.0",
      badVersions: ["23.0.0", "23.1.0"],
    },
    { project: "owner/tool", latestVersion: undefined, badVersions: ["0.1"] },
    { project: "x/y", latestVersion: "v2.0.0", badVersions: [] },
  ]);
});

Deno.test("an empty variable counts as unset", () => {
  const config = readServeConfig(
    envOf({ HOME: "/h", EDGEWIRE_PORT: "", EDGEWIRE_ADMIN_KEY: " ", EDGEWIRE_DB: "" }),
  );
  assert.equal(config.port, 8787);
  assert.equal(config.store, "/h/.local/share/edgewire/edgewire.db");
  assert.ok(config.generated.adminKey);
});

Deno.test("each bad value is reported with its variable and what to do, all in one error", () => {
  const problems = problemsOf({
    EDGEWIRE_HOST: "http://example.com",
    EDGEWIRE_PORT: "65536",
    EDGEWIRE_DIFFICULTY: "0",
  });
  assert.equal(problems.length, 3);
  assert.match(problems[0], /^EDGEWIRE_HOST must be a host name .* such as 127\.0\.0\.1/);
  assert.match(problems[1], /^EDGEWIRE_PORT must be an integer in 0\.\.65535.*"65536"$/);
  assert.match(problems[2], /^EDGEWIRE_DIFFICULTY must be an integer in 1\.\.16.*"0"$/);
});

Deno.test("EDGEWIRE_BODY_TIMEOUT_MS sets the server's body deadline, 10 s unless set", () => {
  const unset = readServeConfig(envOf({ HOME: "/home/ada" }), { randomBytes: counting });
  assert.equal(serverOptions(unset).bodyTimeoutMs, 10_000);
  const set = readServeConfig(envOf({ HOME: "/home/ada", EDGEWIRE_BODY_TIMEOUT_MS: "2500" }));
  assert.equal(serverOptions(set).bodyTimeoutMs, 2500);
  assert.match(
    problemsOf({ EDGEWIRE_BODY_TIMEOUT_MS: "50" })[0],
    /^EDGEWIRE_BODY_TIMEOUT_MS must be an integer in 100\.\.600000, such as 10000: current value is "50"$/,
  );
});

for (const port of ["-1", "80a", "1e3", "8787.5", "0x50"]) {
  Deno.test(`EDGEWIRE_PORT=${port} is refused`, () => {
    assert.match(problemsOf({ EDGEWIRE_PORT: port })[0], /^EDGEWIRE_PORT must be an integer/);
  });
}

Deno.test("a key with whitespace is refused by its length, never by its value", () => {
  const admin = problemsOf({ EDGEWIRE_ADMIN_KEY: "secret admin" });
  assert.match(admin[0], /^EDGEWIRE_ADMIN_KEY must contain no whitespace: .*12 characters/);
  assert.doesNotMatch(admin[0], /secret/);
  const honch = problemsOf({ EDGEWIRE_HONCH_PROJECT_KEYS: "phc_ok,phc_hidden value,,phc_x" });
  assert.equal(honch.length, 2);
  assert.match(honch[0], /position 2 \(16 characters\) contains whitespace/);
  assert.match(honch[1], /empty key at position 3: remove the extra comma/);
  assert.doesNotMatch(honch.join(" "), /hidden/);
});

Deno.test("migas entries that are not owner/repo[@version] are refused with an example", () => {
  const problems = problemsOf({
    EDGEWIRE_MIGAS_PROJECTS: "fmriprep,a/b@,c/d@1 2,a/b/c,e/f,e/f@2",
  });
  assert.deepEqual(problems.map((p) => p.match(/entry (\d)/)?.[1]), ["1", "2", "3", "4", "6"]);
  assert.match(problems[0], /must be owner\/repo or owner\/repo@latest.*"fmriprep"$/);
  assert.match(problems[1], /must name a version after @, such as a\/b@1\.2\.0/);
  assert.match(problems[4], /repeats e\/f: list each project once/);
});

Deno.test("a bad version must name a project EDGEWIRE_MIGAS_PROJECTS lists, with a version", () => {
  const problems = problemsOf({
    EDGEWIRE_MIGAS_PROJECTS: "a/b@2.0.0",
    EDGEWIRE_MIGAS_BAD_VERSIONS: "a/b@1.0.0,c/d@1.0.0,a/b",
  });
  assert.equal(problems.length, 2);
  assert.match(problems[0], /entry 2 names c\/d, which EDGEWIRE_MIGAS_PROJECTS does not list/);
  assert.match(problems[1], /entry 3 must be owner\/repo@version.*"a\/b"$/);
});

Deno.test("the default database is in the user's data directory, never the current one", () => {
  assert.equal(
    defaultStorePath(envOf({ XDG_DATA_HOME: "/data/", HOME: "/home/ada" }), "linux"),
    "/data/edgewire/edgewire.db",
  );
  assert.equal(
    defaultStorePath(envOf({ XDG_DATA_HOME: "relative", HOME: "/home/ada" }), "darwin"),
    "/home/ada/.local/share/edgewire/edgewire.db",
    "a relative XDG_DATA_HOME is ignored, as the XDG spec says",
  );
  assert.equal(
    defaultStorePath(envOf({ LOCALAPPDATA: "C:\\Users\\ada\\AppData\\Local" }), "windows"),
    "C:\\Users\\ada\\AppData\\Local\\edgewire\\edgewire.db",
  );
  assert.equal(dataDirectory(envOf({}), "linux"), undefined);
  const [problem] = problemsOf({ HOME: "" });
  assert.match(problem, /^EDGEWIRE_DB must be set .*: set it to a file path, or to :memory:/);
});

Deno.test("the banner hands over generated keys once and never prints a supplied key", () => {
  const url = "http://127.0.0.1:8787";
  const generated = readServeConfig(envOf({ EDGEWIRE_DB: ":memory:" }));
  const text = formatBanner(generated, url).join("\n");
  assert.ok(text.includes(`EDGEWIRE_ADMIN_KEY=${generated.adminKey}`));
  assert.ok(text.includes(`EDGEWIRE_HONCH_PROJECT_KEYS=${generated.honchProjectKeys[0]}`));
  assert.equal(formatBanner(generated, url).at(-1), `Listening on ${url} (Ctrl-C stops it)`);

  const supplied = readServeConfig(envOf({
    EDGEWIRE_DB: ":memory:",
    EDGEWIRE_ADMIN_KEY: "operator-admin-key",
    EDGEWIRE_HONCH_PROJECT_KEYS: "phc_operator",
    EDGEWIRE_MIGAS_PROJECTS: "a/b@2.0.0",
    EDGEWIRE_MIGAS_BAD_VERSIONS: "a/b@1.0.0",
    EMITTER_LICENSE: "zT83oDV0DWY5_JysbSTPTDr8KB0AAAAAAAAAAAAAAAI:1",
  }));
  const banner = formatBanner(supplied, url).join("\n");
  assert.doesNotMatch(banner, /operator-admin-key|phc_operator|zT83oDV0|Generated/);
  assert.match(banner, /migas +a\/b latest 2\.0\.0, flagged 1\.0\.0/);
  for (const route of ["/api/v1/handshake", "/capture", "/api/honch/events", "/api/breadcrumb"]) {
    assert.ok(banner.includes(route), route);
  }
});

Deno.test("the documented variables are exactly the ones read", async () => {
  const source = await Deno.readTextFile(
    new URL("../../examples/_serve_config.ts", import.meta.url),
  );
  const read = new Set(
    [...source.matchAll(/(?:read|integer)\(\s*"((?:EDGEWIRE|EMITTER)_[A-Z_]+)"/g)].map((match) =>
      match[1]
    ),
  );
  assert.equal(read.size, 13);
  assert.deepEqual(new Set(SERVE_VARIABLES.map((v) => v.name)), read);
});

Deno.test("EDGEWIRE_DATABASE_URL picks PostgreSQL, shown without its password, and never beside EDGEWIRE_DB", () => {
  const env = (values: Record<string, string>) => (name: string) => values[name];
  const config = readServeConfig(
    env({
      EDGEWIRE_DATABASE_URL: "postgres://ada:hunter2@db.example:5433/edgewire?sslmode=require",
    }),
  );
  assert.equal(
    config.databaseUrl,
    "postgres://ada:hunter2@db.example:5433/edgewire?sslmode=require",
  );
  assert.equal(config.store, "postgres://db.example:5433/edgewire");
  assert.equal(config.storeIsDefault, false);
  assert.equal(readServeConfig(env({ EDGEWIRE_DB: ":memory:" })).databaseUrl, undefined);
  for (
    const [values, pattern] of [
      [{ EDGEWIRE_DATABASE_URL: "mysql://ada:hunter2@h/db" }, /must be a postgres:\/\//],
      [{ EDGEWIRE_DATABASE_URL: "postgres://h/db", EDGEWIRE_DB: "x.db" }, /both set/],
    ] as const
  ) {
    assert.throws(() => readServeConfig(env(values)), (error: unknown) => {
      assert.ok(error instanceof ServeConfigError);
      assert.match(error.problems.join("\n"), pattern);
      assert.doesNotMatch(error.problems.join("\n"), /hunter2/);
      return true;
    });
  }
});
