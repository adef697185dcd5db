import assert from "node:assert/strict";
import { serveTask, serveTaskFails, tempDir } from "../../examples/_served.ts";
import { newLicense } from "../../../src/emitter/security/license.ts";
import { readServeConfig, ServeConfigError } from "../../../examples/_serve_config.ts";
import { issuedKey, requestKey, roundTrip, tcpPeer, websocketPeer } from "./_mqtt_peer.ts";

const serve = (env: Record<string, string>) => serveTask({ EDGEWIRE_PORT: "0", ...env });

Deno.test({
  name: "without EMITTER_LICENSE, serve prints a new license and its secret once, and they work",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using served = await serve({
      EDGEWIRE_DB: `${dir.path}/serve.db`,
      EDGEWIRE_MQTT_PORT: "0",
    });
    const license = served.banner.match(/^ {2}EMITTER_LICENSE=(\S+:3)$/m)?.[1];
    const secret = served.banner.match(/master secret key .*:\n {2}(\S+)$/m)?.[1];
    assert.ok(license && secret, served.banner);
    assert.match(served.banner, /export them to keep them across restarts/);
    const ws = served.base.replace(/^http/, "ws");
    assert.ok(served.banner.includes(`Emitter      ${ws} (any path)`), served.banner);
    const mqttPort = Number(served.banner.match(/mqtt:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
    assert.ok(mqttPort > 0, "the MQTT port is printed, not 0");

    const key = await issuedKey(served.base, secret, "news/");
    {
      await using peer = await websocketPeer(`${ws}/mqtt`, ["mqttv3.1"]);
      await roundTrip(peer, key, "news/", "served");
    }
    {
      await using peer = await tcpPeer(mqttPort);
      await roundTrip(peer, key, "news/", "served");
    }

    const { code, stdout } = await served.stop("SIGTERM");
    assert.equal(code, 0);
    assert.equal(stdout.split(license).length, 2, "the license is printed exactly once");
    assert.equal(stdout.split(secret).length, 2, "the secret is printed exactly once");
  },
});

Deno.test({
  name: "with EMITTER_LICENSE set, serve uses it and prints neither it nor a secret",
  sanitizeResources: false,
  async fn() {
    const ours = newLicense();
    const other = newLicense();
    await using served = await serve({
      EDGEWIRE_DB: ":memory:",
      EMITTER_LICENSE: ours.license.toString(),
    });
    assert.ok(!served.banner.includes(ours.license.toString()), served.banner);
    assert.doesNotMatch(served.banner, /EMITTER_LICENSE=|master secret key of|mqtt:\/\//);
    assert.match(served.banner, /license from EMITTER_LICENSE/);

    // Our license's secret makes keys (the broker runs on it); another license's does not
    const key = await issuedKey(served.base, ours.secret, "news/");
    const refused = await requestKey(served.base, other.secret, "news/");
    assert.notEqual(refused.status, 200, "another license's secret does not make keys");
    await using peer = await websocketPeer(served.base.replace(/^http/, "ws"), ["mqtt"]);
    await roundTrip(peer, key, "news/", "served");
  },
});

Deno.test("a bad EMITTER_LICENSE or EDGEWIRE_MQTT_PORT stops serve with code 2, naming the variable but not the value", async () => {
  const { code, stderr: text } = await serveTaskFails({
    EDGEWIRE_DB: ":memory:",
    EMITTER_LICENSE: "not-a-license-at-all",
    EDGEWIRE_MQTT_PORT: "70000",
  });
  assert.equal(code, 2);
  assert.match(text, /EMITTER_LICENSE must be an Emitter license.*20 characters/);
  assert.match(text, /EDGEWIRE_MQTT_PORT must be an integer in 0\.\.65535/);
  assert.ok(!text.includes("not-a-license-at-all"));
  assert.doesNotMatch(text, /\n\s+at /, "no stack trace");
});

Deno.test("EDGEWIRE_MQTT_PORT unset means no TCP listener, and an EMITTER_LICENSE is generated", () => {
  const config = readServeConfig((name) =>
    ({ EDGEWIRE_DB: ":memory:" } as Record<string, string>)[name]
  );
  assert.equal(config.mqttPort, undefined);
  assert.equal(config.generated.emitterLicense, config.emitterLicense);
  assert.equal(typeof config.generated.emitterSecret, "string");
  assert.throws(
    () => readServeConfig((name) => name === "EDGEWIRE_MQTT_PORT" ? "-1" : ":memory:"),
    ServeConfigError,
  );
});
