import assert from "node:assert/strict";
import { readServeConfig, ServeConfigError } from "../../examples/_serve_config.ts";
import { formatBanner } from "../../examples/_serve_banner.ts";

const env = (values: Record<string, string>) => (name: string) => values[name];

Deno.test("EDGEWIRE_REDIS_URL sets the backplane, shown in the banner without its password", () => {
  const config = readServeConfig(
    env({ EDGEWIRE_DB: ":memory:", EDGEWIRE_REDIS_URL: "redis://:hunter2@cache.example:6380/2" }),
  );
  assert.equal(config.redisUrl, "redis://:hunter2@cache.example:6380/2");
  assert.equal(config.redisShown, "redis://cache.example:6380/2");
  const banner = formatBanner(config, "http://127.0.0.1:8787", undefined).join("\n");
  assert.match(banner, /backplane +redis:\/\/cache\.example:6380\/2/);
  assert.doesNotMatch(banner, /hunter2/);
  const alone = readServeConfig(env({ EDGEWIRE_DB: ":memory:" }));
  assert.equal(alone.redisUrl, undefined);
  assert.doesNotMatch(
    formatBanner(alone, "http://127.0.0.1:8787", undefined).join("\n"),
    /backplane/,
  );
});

Deno.test("an EDGEWIRE_REDIS_URL that is not a redis:// URL stops the server, naming the variable", () => {
  assert.throws(
    () =>
      readServeConfig(env({ EDGEWIRE_DB: ":memory:", EDGEWIRE_REDIS_URL: "http://x:secret@h/" })),
    (error) =>
      error instanceof ServeConfigError &&
      error.problems.some((p) => p.startsWith("EDGEWIRE_REDIS_URL must be a redis://")) &&
      !error.problems.join(" ").includes("secret"),
  );
});
