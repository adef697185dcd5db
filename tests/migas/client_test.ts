import assert from "node:assert/strict";
import { buildSchema, parse, print, validate } from "graphql";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { createMigas } from "../../src/migas/client.ts";
import type { MigasOptions } from "../../src/migas/options.ts";
import {
  envOf,
  fakeFetch,
  migasResponse,
  queryOf,
  type SeenRequest,
  SpyStorage,
  vectors,
} from "./_helpers.ts";

const schema = buildSchema(vectors.graphql.sdl_reconstructed.sdl);
const PROJECT = "owner/tool";
const ENVIRONMENT = {
  language_version: "2.0.0",
  platform: "linux",
  runtime: "deno" as const,
};

function client(
  options: MigasOptions & { answer?: (r: SeenRequest) => Response | Promise<Response> },
) {
  const { fetch, seen } = fakeFetch(options.answer);
  const storage = options.storage ?? new SpyStorage();
  const migas = createMigas({
    fileExists: () => false,
    endpoint: "http://migas.test",
    env: envOf({}),
    environment: ENVIRONMENT,
    userId: "user-1",
    sessionId: "session-1",
    fetch,
    logger: () => {},
    ...options,
    storage,
  });
  return { migas, seen, storage };
}

function assertValidGraphql(query: string): void {
  const errors = validate(schema, parse(query));
  assert.deepEqual(errors.map((error) => error.message), []);
}

for (
  const [name, env] of [
    ["MIGAS_OPTOUT", { MIGAS_OPTOUT: "1" }],
    ["DO_NOT_TRACK=1", { DO_NOT_TRACK: "1" }],
  ] as const
) {
  Deno.test(`with ${name} every call answers disabled, sends nothing and touches no storage`, async () => {
    const storage = new SpyStorage();
    const { migas, seen } = client({ env: envOf(env), storage, userId: undefined });
    const disabled = { success: false, errors: [{ message: "migas telemetry is disabled." }] };
    assert.deepEqual(await migas.addBreadcrumb(PROJECT, "1.0.0"), disabled);
    assert.deepEqual(await migas.addProject(PROJECT, "1.0.0"), disabled);
    assert.deepEqual(await migas.checkProject(PROJECT, "1.0.0"), disabled);
    assert.deepEqual(await migas.getUsage(PROJECT, "2024-01-01"), disabled);
    const run = migas.track(PROJECT, "1.0.0");
    assert.deepEqual(await run.started, disabled);
    assert.deepEqual(await run.finish(), disabled);
    assert.equal(seen.length, 0);
    assert.equal(storage.accesses, 0);
  });
}

Deno.test("DO_NOT_TRACK=0 and an empty MIGAS_OPTOUT leave telemetry on", () => {
  const { migas } = client({ env: envOf({ DO_NOT_TRACK: "0", MIGAS_OPTOUT: "" }) });
  assert.equal(migas.disabled(), false);
});

Deno.test("a REST breadcrumb posts migas-py's JSON body and headers to /api/breadcrumb", async () => {
  const { migas, seen } = client({
    answer: () => migasResponse({ success: true, message: "" }, 202),
  });
  const answer = await migas.addBreadcrumb(PROJECT, "1.0.0", { status: "C" });
  assert.deepEqual(answer, { success: true, message: "" });
  assert.equal(seen.length, 1);
  const [request] = seen;
  assert.equal(request.url, "http://migas.test/api/breadcrumb");
  assert.equal(request.method, "POST");
  assert.equal(request.headers.get("user-agent"), "migas-client/0.1.0");
  assert.equal(request.headers.get("accept"), "*/*");
  assert.equal(request.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(
    request.body,
    JSON.stringify({
      project: PROJECT,
      project_version: "1.0.0",
      language: "javascript",
      language_version: "2.0.0",
      ctx: {
        user_id: "user-1",
        session_id: "session-1",
        user_type: "general",
        platform: "linux",
        container: "unknown",
        is_ci: false,
      },
      proc: { status: "C" },
    }),
  );
});

Deno.test("a REST breadcrumb carries the example request's fields in the vectors' order", async () => {
  const example = vectors.rest.routes.find((route) => route.path === "/api/breadcrumb")!
    .example_request!;
  const { migas, seen } = client({ environment: { ...ENVIRONMENT, language_version: "3.11" } });
  await migas.addBreadcrumb("<owner/repo>", "1.0.0", { status: "C" });
  const sent = JSON.parse(seen[0].body);
  assert.deepEqual(Object.keys(sent), Object.keys(example));
  for (const key of ["project", "project_version", "language_version"]) {
    assert.equal(sent[key], example[key]);
  }
  const ctx = example.ctx as Record<string, unknown>;
  for (const key of Object.keys(ctx)) assert.equal(sent.ctx[key], ctx[key]);
  assert.deepEqual(sent.proc, example.proc);
});

Deno.test("a waited REST breadcrumb adds ?wait=true", async () => {
  const { migas, seen } = client({});
  await migas.addBreadcrumb(PROJECT, "1.0.0", { wait: true });
  assert.equal(seen[0].url, "http://migas.test/api/breadcrumb?wait=true");
});

Deno.test("a GraphQL breadcrumb sends migas-py's add_breadcrumb mutation, valid for the schema", async () => {
  const { migas, seen } = client({
    protocol: "graphql",
    endpoint: "http://migas.test/graphql/",
    answer: () => migasResponse({ data: { add_breadcrumb: { success: true } } }),
  });
  const answer = await migas.addBreadcrumb(PROJECT, "1.0.0", {
    status: "F",
    statusDesc: "Errored",
    errorType: "TypeError",
    errorDesc: 'bad "value" é',
  });
  assert.deepEqual(answer, { success: true });
  assert.equal(seen[0].url, "http://migas.test/graphql");
  const query = queryOf(seen[0]);
  assert.equal(
    query,
    'mutation{add_breadcrumb(project:"owner/tool",project_version:"1.0.0",language:"javascript",' +
      'language_version:"2.0.0",ctx:{session_id:"session-1",user_id:"user-1",user_type:general,' +
      'platform:"linux",container:unknown,is_ci:false},proc:{status:F,status_desc:"Errored",' +
      'error_type:"TypeError",error_desc:"bad \\"value\\" \\u00e9"}){success}}',
  );
  assertValidGraphql(query);
});

Deno.test("add_project sends the ProjectInput mutation, which reads like the vectors' example", async () => {
  const example = vectors.graphql.example_operations_from_tests.add_project;
  const { migas, seen } = client({
    protocol: "graphql",
    environment: { ...ENVIRONMENT, language: "python", language_version: "3.12" },
    answer: () =>
      migasResponse({
        data: {
          add_project: {
            bad_versions: ["0.5.0"],
            cached: true,
            latest_version: "0.6.0",
            message: "",
            success: true,
          },
        },
      }),
  });
  const answer = await migas.addProject("<TEST_PROJECT>", "0.5.0");
  assert.deepEqual(answer, {
    success: true,
    latest_version: "0.6.0",
    bad_versions: ["0.5.0"],
    cached: true,
    message: "",
    project: "<TEST_PROJECT>",
    project_version: "0.5.0",
  });
  const query = queryOf(seen[0]);
  assertValidGraphql(query);
  // Our mutation is the example's plus the context migas-py always sends
  const compact = example.replaceAll(/\s+/g, "").replace(/\}\)\}$/, "");
  assert.ok(query.startsWith(compact), `${query} should start with ${compact}`);
  assert.equal(
    print(parse(query)).includes('language_version: "3.12", is_ci: false, status: R'),
    true,
  );
});

Deno.test("a GraphQL add_project answer feeds the version check cache", async () => {
  const { migas, seen } = client({
    protocol: "graphql",
    answer: () =>
      migasResponse({
        data: {
          add_project: {
            bad_versions: [],
            cached: false,
            latest_version: "2.0.0",
            message: "",
            success: true,
          },
        },
      }),
  });
  await migas.addProject(PROJECT, "1.0.0");
  const check = await migas.checkProject(PROJECT, "1.0.0");
  assert.equal(seen.length, 1);
  assert.deepEqual(check, {
    success: true,
    flagged: false,
    latest: "2.0.0",
    message: "",
    project: PROJECT,
    project_version: "1.0.0",
    cached: true,
  });
});

Deno.test("a REST add_project waits for the breadcrumb and combines it with the version check", async () => {
  const { migas, seen } = client({
    answer: (request) =>
      request.url.endsWith("/graphql")
        ? migasResponse({
          data: { check_project: { success: true, flagged: true, latest: "1.1.0", message: "" } },
        })
        : migasResponse({ success: true, message: "" }),
  });
  const answer = await migas.addProject(PROJECT, "1.0.0");
  assert.deepEqual(seen.map((request) => request.url), [
    "http://migas.test/api/breadcrumb?wait=true",
    "http://migas.test/graphql",
  ]);
  assert.deepEqual(answer, {
    success: true,
    latest_version: "1.1.0",
    bad_versions: ["1.0.0"],
    cached: false,
    message: "",
    project: PROJECT,
    project_version: "1.0.0",
  });
});

Deno.test("check_project sends migas-py's query with its selection, valid for the schema", async () => {
  const { migas, seen } = client({
    answer: () =>
      migasResponse({
        data: { check_project: { success: true, flagged: false, latest: "1.2.0", message: "" } },
      }),
  });
  const answer = await migas.checkProject(PROJECT, "1.0.0");
  const query = queryOf(seen[0]);
  assert.equal(
    query,
    'query{check_project(project:"owner/tool",project_version:"1.0.0"){success,flagged,latest,message}}',
  );
  assertValidGraphql(query);
  assert.deepEqual(answer, {
    success: true,
    flagged: false,
    latest: "1.2.0",
    message: "",
    project: PROJECT,
    project_version: "1.0.0",
  });
});

Deno.test("get_usage sends migas-py's query, which reads like the vectors' example", async () => {
  const { migas, seen } = client({
    answer: () =>
      migasResponse({ data: { get_usage: { hits: 3, message: "", unique: true, success: true } } }),
  });
  const answer = await migas.getUsage(
    "<TEST_PROJECT>",
    "2024-01-01",
    new Date(Date.UTC(2024, 1, 1, 12)),
    { unique: true },
  );
  const query = queryOf(seen[0]);
  assert.equal(
    query,
    'query{get_usage(project:"<TEST_PROJECT>",start:"2024-01-01",end:"2024-02-01T12:00:00Z",unique:true)}',
  );
  assertValidGraphql(query);
  const example = vectors.graphql.example_operations_from_tests.get_usage.replaceAll(/\s+/g, "");
  assert.ok(query.startsWith(example.replace(/\)\}$/, "")));
  assert.deepEqual(answer, { hits: 3, message: "", unique: true, success: true });
});

Deno.test("a request that outlives the timeout answers migas-py's 408 message", async () => {
  const { migas } = client({
    timeoutMs: 20,
    answer: () => new Promise<Response>(() => {}),
  });
  const started = Date.now();
  const answer = await migas.addBreadcrumb(PROJECT, "1.0.0");
  assert.ok(Date.now() - started < 1000);
  assert.deepEqual(answer, {
    success: false,
    message: "Connection to server timed out.",
    errors: [{ message: "Connection to server timed out." }],
  });
});

Deno.test("an unreachable server answers migas-py's 503 message", async () => {
  const { migas } = client({
    answer: () => Promise.reject(new TypeError("connection refused")),
  });
  assert.deepEqual(await migas.checkProject(PROJECT, "1.0.0"), {
    success: false,
    flagged: false,
    latest: null,
    message: "Could not connect to server.",
    errors: [{ message: "Could not connect to server." }],
    project: PROJECT,
    project_version: "1.0.0",
  });
});

Deno.test("a REST error body's detail becomes the answer's message", async () => {
  const { migas } = client({
    answer: () => migasResponse({ detail: "Project is not registered." }, 400),
  });
  assert.deepEqual(await migas.addBreadcrumb(PROJECT, "1.0.0"), {
    success: false,
    message: "Project is not registered.",
  });
});

Deno.test("a GraphQL error's message becomes the answer's message", async () => {
  const { migas } = client({
    answer: () =>
      migasResponse(
        { data: null, errors: [{ message: "Too many requests, wait a minute." }] },
        429,
      ),
  });
  const answer = await migas.getUsage(PROJECT, "2024-01-01");
  assert.deepEqual(answer, {
    success: false,
    hits: 0,
    unique: false,
    message: "Too many requests, wait a minute.",
    errors: [{ message: "Too many requests, wait a minute." }],
  });
});

Deno.test("an answer without X-Backend-Server is used, with a warning", async () => {
  const lines: string[] = [];
  const { migas } = client({
    logger: (level, message) => lines.push(`${level} ${message}`),
    answer: () => new Response(JSON.stringify({ success: true, message: "" }), { status: 202 }),
  });
  assert.deepEqual(await migas.addBreadcrumb(PROJECT, "1.0.0"), { success: true, message: "" });
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^WARNING .*X-Backend-Server/);
});

Deno.test("MIGAS_LOG_LEVEL=ERROR silences the warning", async () => {
  const lines: string[] = [];
  const { migas } = client({
    env: envOf({ MIGAS_LOG_LEVEL: "ERROR" }),
    logger: (level, message) => lines.push(`${level} ${message}`),
    answer: () => new Response(JSON.stringify({ success: true, message: "" })),
  });
  await migas.addBreadcrumb(PROJECT, "1.0.0");
  assert.deepEqual(lines, []);
});

Deno.test("MIGAS_TIMEOUT sets the timeout in seconds unless timeoutMs is given", () => {
  assert.equal(client({ env: envOf({ MIGAS_TIMEOUT: "1.5" }) }).migas.timeoutMs, 1500);
  assert.equal(
    client({ env: envOf({ MIGAS_TIMEOUT: "1.5" }), timeoutMs: 200 }).migas.timeoutMs,
    200,
  );
  assert.equal(client({}).migas.timeoutMs, 3000);
});

Deno.test("an unusable MIGAS_TIMEOUT is ignored rather than breaking the tool", () => {
  assert.equal(client({ env: envOf({ MIGAS_TIMEOUT: "soon" }) }).migas.timeoutMs, 3000);
  assert.equal(client({ env: envOf({ MIGAS_TIMEOUT: "-1" }) }).migas.timeoutMs, 3000);
});

Deno.test("unusable options are refused once, at creation", () => {
  assert.throws(() => client({ timeoutMs: 0 }), InvalidArgumentError);
  assert.throws(() => client({ endpoint: "not a url" }), InvalidArgumentError);
  assert.throws(
    () => client({ protocol: "soap" as unknown as "rest" }),
    /'protocol' must be "rest" or "graphql": current value is "soap"/,
  );
  assert.throws(() => client({ checkIntervalMs: -1 }), InvalidArgumentError);
});

Deno.test("the user id is generated once, kept in storage and reused by a later client", async () => {
  const storage = new SpyStorage();
  let made = 0;
  const first = client({ storage, userId: undefined, randomUUID: () => `uuid-${++made}` });
  await first.migas.addBreadcrumb(PROJECT, "1.0.0");
  await first.migas.addBreadcrumb(PROJECT, "1.0.0");
  const second = client({ storage, userId: undefined, randomUUID: () => `uuid-${++made}` });
  await second.migas.addBreadcrumb(PROJECT, "1.0.0");
  const ids = [...first.seen, ...second.seen].map((r) => JSON.parse(r.body).ctx.user_id);
  assert.deepEqual(ids, ["uuid-1", "uuid-1", "uuid-1"]);
  assert.equal(storage.map.get("migas:user_id"), "uuid-1");
});

Deno.test("a refused endpoint or backoff is named without echoing the URL, which may hold credentials", () => {
  assert.throws(() => client({ endpoint: "ftp://user:s3cret@migas.test" }), (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError);
    assert.equal(error.argument, "endpoint");
    assert.match(
      error.message,
      /^Cannot set up migas as 'endpoint' must be an absolute http or https URL/,
    );
    assert.doesNotMatch(error.message, /s3cret/);
    return true;
  });
  assert.throws(() => client({ backoff: { initialMs: 0 } }), { argument: "backoff.initialMs" });
  assert.throws(() => client({ maxQueuedEvents: 0 }), { argument: "maxQueuedEvents" });
});
