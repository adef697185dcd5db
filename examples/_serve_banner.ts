/**
 * What `deno task serve` prints when it starts: the routes it answers, where,
 * and the keys it generated (once; keys the operator set are never printed).
 *
 * @module
 */

import type { ServeConfig } from "./_serve_config.ts";

/** The routes the reference server answers, grouped by module, for the startup banner. */
export const SERVE_ROUTES: readonly { module: string; route: string; access: string }[] = [
  { module: "health", route: "GET  /healthz", access: "open" },
  {
    module: "mkStats",
    route: "POST /api/v1/handshake, /api/v1/data, /api/v1/event (also under /api)",
    access: "proof-of-work, then install token",
  },
  { module: "mkStats", route: "GET  /api/v1/stats/{plugin_id}", access: "admin key" },
  {
    module: "Honch",
    route: "POST /capture (also /e, /chunks)",
    access: "X-Honch-Project-Key",
  },
  {
    module: "Honch",
    route: "GET  /api/honch/events?project_key={key}&limit={n}",
    access: "admin key",
  },
  {
    module: "migas",
    route: "POST /api/breadcrumb, POST /graphql, GET /api/usage/{owner/repo}?start={date}",
    access: "open, for registered projects",
  },
  { module: "migas", route: "POST /api/admin/register", access: "admin key" },
  {
    module: "Emitter",
    route: "MQTT over WebSocket on any path but /_websocket (subprotocol mqttv3.1, mqttv3 or mqtt)",
    access: "channel keys",
  },
  { module: "Emitter", route: "POST /presence", access: "channel key with presence" },
  { module: "Emitter", route: "GET  /keygen (form), POST /keygen", access: "master secret key" },
  { module: "Spot", route: "WebSocket /_websocket (relay)", access: "signed IDCard handshake" },
  { module: "Spot", route: "GET  /_special/rest/Spot:connect (discovery)", access: "open" },
];

/**
 * The startup banner of `deno task serve`: the settings, the keys generated
 * at this start (the only place they are ever shown), the routes, what to
 * give each client, and last the `Listening on <url>` line. Keys the
 * operator supplied are never printed.
 *
 * @param config The settings from `readServeConfig`.
 * @param url The origin the server listens on, such as `http://127.0.0.1:8787`.
 * @param mqttUrl The plain MQTT over TCP address, such as `mqtt://127.0.0.1:1883`, when it listens.
 * @returns The banner's lines.
 *
 * @example
 * ```ts
 * import { formatBanner } from "./_serve_banner.ts";
 * import { readServeConfig } from "./_serve_config.ts";
 *
 * const config = readServeConfig((name) => name === "EDGEWIRE_DB" ? ":memory:" : undefined);
 * console.log(formatBanner(config, "http://127.0.0.1:8787").join("\n"));
 * ```
 */
export function formatBanner(config: ServeConfig, url: string, mqttUrl?: string): string[] {
  const migas = config.migasProjects.map(({ project, latestVersion, badVersions }) =>
    [
      project,
      latestVersion === undefined ? "" : ` latest ${latestVersion}`,
      badVersions?.length ? `, flagged ${badVersions.join(" ")}` : "",
    ].join("")
  );
  const wsUrl = url.replace(/^http/, "ws");
  const lines = [
    "Edgewire reference server",
    `  database     ${config.store}${config.storeIsDefault ? " (default; set EDGEWIRE_DB)" : ""}`,
    ...(config.redisShown === undefined ? [] : [`  backplane    ${config.redisShown}`]),
    `  difficulty   ${config.difficulty}`,
    `  Honch keys   ${config.honchProjectKeys.length} accepted`,
    `  migas        ${migas.length === 0 ? "no projects" : migas.join("; ")}`,
    `  Emitter      ${wsUrl} (any path)${mqttUrl === undefined ? "" : `, ${mqttUrl}`}; license ${
      config.generated.emitterLicense === undefined ? "from EMITTER_LICENSE" : "generated"
    }`,
    `  Spot         ${wsUrl}/_websocket (relay)`,
  ];
  const { adminKey, honchProjectKey, emitterLicense, emitterSecret } = config.generated;
  if (adminKey !== undefined || honchProjectKey !== undefined || emitterLicense !== undefined) {
    lines.push(
      "",
      "Generated at this start and shown only now; export them to keep them across restarts:",
    );
    if (adminKey !== undefined) lines.push(`  EDGEWIRE_ADMIN_KEY=${adminKey}`);
    if (honchProjectKey !== undefined) {
      lines.push(`  EDGEWIRE_HONCH_PROJECT_KEYS=${honchProjectKey}`);
    }
    if (emitterLicense !== undefined) {
      lines.push(
        `  EMITTER_LICENSE=${emitterLicense}`,
        "The Emitter master secret key of that license (it makes channel keys at /keygen; keep it private):",
        `  ${emitterSecret}`,
      );
    }
  }
  lines.push("", "Routes:");
  for (const { module, route, access } of SERVE_ROUTES) {
    lines.push(`  ${module.padEnd(8)} ${route}  [${access}]`);
  }
  lines.push(
    "",
    "Clients:",
    `  mkStats  new MkStatsClient({ endpoint: "${url}/api", ... })`,
    `  Honch    new HonchClient({ endpoint: "${url}", apiKey: <a Honch key>, ... })`,
    `  migas    createMigas({ endpoint: "${url}" }), or MIGAS_ENDPOINT=${url}`,
    `  Emitter  new EmitterClient({ endpoint: "${wsUrl}" }), or any MQTT client at ${wsUrl}` +
      (mqttUrl === undefined ? "" : ` or ${mqttUrl}`),
    `  Spot     new SpotClient({ url: "${wsUrl}/_websocket" }), or { endpoint: "${url}" } to discover it`,
    "",
    `Listening on ${url} (Ctrl-C stops it)`,
  );
  return lines;
}
