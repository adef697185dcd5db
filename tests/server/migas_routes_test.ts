import assert from "node:assert/strict";
import fc from "fast-check";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { createServer, type EdgewireServer, type ServerOptions } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";

const ADMIN = "admin-key-for-tests";
const PROJECT = "nipreps/migas-py";
const DAY = "2024-05-01";
const DAY_MS = Date.UTC(2024, 4, 1, 12);

function server(options: ServerOptions = {}): EdgewireServer {
  return createServer({
    adminKey: ADMIN,
    now: () => DAY_MS,
    migas: { projects: [{ project: PROJECT, latestVersion: "v0.4.0", badVersions: ["0.3.1"] }] },
    ...options,
  });
}

function post(
  target: EdgewireServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  env?: unknown,
): Promise<Response> {
  return target.fetch(
    new Request(`http://x${path}`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
    env,
  );
}

async function gql(target: EdgewireServer, query: string, headers: Record<string, string> = {}) {
  const response = await post(target, "/graphql", { query }, headers);
  return { status: response.status, body: await response.json(), response };
}

const CRUMB = {
  project: PROJECT,
  project_version: "0.4.0",
  language: "javascript",
  language_version: "2.1.0",
  ctx: { user_id: "u1", session_id: "s1", platform: "linux", container: "unknown", is_ci: false },
  proc: { status: "C", status_desc: "Completed" },
};

Deno.test("a breadcrumb is accepted with 202, or 200 with wait=true, and names the backend", async () => {
  const s = server();
  const accepted = await post(s, "/api/breadcrumb", CRUMB);
  assert.equal(accepted.status, 202);
  assert.deepEqual(await accepted.json(), { success: true, message: "" });
  assert.equal(accepted.headers.get("x-backend-server"), "migas@0.9");
  const waited = await post(s, "/api/breadcrumb?wait=true", CRUMB);
  assert.equal(waited.status, 200);
  assert.deepEqual(await waited.json(), { success: true, message: "" });
  const usage = await gql(s, `query{get_usage(project:"${PROJECT}",start:"${DAY}")}`);
  assert.equal(usage.body.data.get_usage.hits, 2);
  await s.close();
});

Deno.test("a breadcrumb with a malformed or unregistered project gets migas' 400 details", async () => {
  const s = server();
  const malformed = await post(s, "/api/breadcrumb", { ...CRUMB, project: "noslash" });
  assert.equal(malformed.status, 400);
  assert.deepEqual(await malformed.json(), {
    detail: "Invalid project format (expected owner/repo).",
  });
  assert.equal(malformed.headers.get("x-backend-server"), "migas@0.9");
  const unknown = await post(s, "/api/breadcrumb", { ...CRUMB, project: "someone/else" });
  assert.equal(unknown.status, 400);
  assert.deepEqual(await unknown.json(), { detail: "Project is not registered." });
  await s.close();
});

Deno.test("breadcrumb bodies failing the model get a 422 listing each field", async () => {
  const s = server();
  const missing = await post(s, "/api/breadcrumb", {
    proc: { status: "X" },
    ctx: { is_ci: "maybe" },
  });
  assert.equal(missing.status, 422);
  assert.deepEqual(await missing.json(), {
    detail: [
      { type: "missing", loc: ["body", "project"], msg: "Field required" },
      { type: "missing", loc: ["body", "project_version"], msg: "Field required" },
      { type: "bool_type", loc: ["body", "ctx", "is_ci"], msg: "Input should be a valid boolean" },
      {
        type: "enum",
        loc: ["body", "proc", "status"],
        msg: "Input should be 'R', 'C', 'F' or 'S'",
      },
    ],
  });
  const badJson = await post(s, "/api/breadcrumb", "{not json");
  assert.equal(badJson.status, 422);
  assert.deepEqual(await badJson.json(), {
    detail: [{ type: "json_invalid", loc: ["body", 0], msg: "JSON decode error" }],
  });
  const notObject = await post(s, "/api/breadcrumb", [1, 2]);
  assert.equal(notObject.status, 422);
  await s.close();
});

Deno.test("versions outside migas' alphabet are stored as unknown and valid ones kept", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  try {
    const s = server({ store: new SqliteStore(path) });
    await post(s, "/api/breadcrumb?wait=true", { project: PROJECT, project_version: "1.0 beta" });
    await post(s, "/api/breadcrumb?wait=true", {
      project: PROJECT,
      project_version: "2.0.0rc1+local.1",
      language_version: "v8/12",
    });
    const answer = await gql(
      s,
      `mutation{add_breadcrumb(project:"${PROJECT}",project_version:"<script>",language:"javascript",language_version:"2.1.0+deno",ctx:{},proc:{}){success}}`,
    );
    assert.deepEqual(answer.body, { data: { add_breadcrumb: { success: true } } });
    await s.close();
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path);
    const rows = db.prepare(
      "SELECT project_version, language, language_version FROM migas_breadcrumbs ORDER BY id",
    ).all().map((row) => ({ ...row }));
    db.close();
    assert.deepEqual(rows, [
      { project_version: "unknown", language: "python", language_version: "0.0.0" },
      { project_version: "2.0.0rc1+local.1", language: "python", language_version: "unknown" },
      { project_version: "unknown", language: "javascript", language_version: "2.1.0+deno" },
    ]);
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
  }
});

Deno.test("a body over 2500 bytes gets 413 on REST and GraphQL", async () => {
  const s = server();
  const big = { ...CRUMB, proc: { status: "C", error_desc: "x".repeat(2600) } };
  const rest = await post(s, "/api/breadcrumb", big);
  assert.equal(rest.status, 413);
  const size = new TextEncoder().encode(JSON.stringify(big)).byteLength;
  assert.deepEqual(await rest.json(), {
    detail: `Request body (${size}) exceeds maximum size (2500)`,
  });
  assert.equal(rest.headers.get("x-backend-server"), "migas@0.9");
  const query = `query{get_usage(project:"${"a".repeat(2600)}",start:"${DAY}")}`;
  const graph = await gql(s, query);
  assert.equal(graph.status, 413);
  const graphSize = new TextEncoder().encode(JSON.stringify({ query })).byteLength;
  assert.deepEqual(graph.body, {
    data: null,
    errors: [{ message: `Request body (${graphSize}) exceeds maximum size (2500)` }],
  });
  await s.close();
});

Deno.test("past the per-address window requests get 429 until the window slides on", async () => {
  let time = DAY_MS;
  const s = server({
    now: () => time,
    migas: { projects: [{ project: PROJECT }], rateLimit: { windowMs: 60_000, maxRequests: 3 } },
  });
  const env = { remoteAddr: { hostname: "192.0.2.1" } };
  const other = { remoteAddr: { hostname: "192.0.2.2" } };
  for (let i = 0; i < 3; i++) {
    assert.equal((await post(s, "/api/breadcrumb", CRUMB, {}, env)).status, 202);
  }
  const refused = await post(s, "/api/breadcrumb", CRUMB, {}, env);
  assert.equal(refused.status, 429);
  assert.deepEqual(await refused.json(), { detail: "Too many requests, wait a minute." });
  const graph = await post(s, "/graphql", { query: "query{get_projects}" }, {}, env);
  assert.equal(graph.status, 429);
  assert.deepEqual(await graph.json(), {
    data: null,
    errors: [{ message: "Too many requests, wait a minute." }],
  });
  assert.equal((await post(s, "/api/breadcrumb", CRUMB, {}, other)).status, 202);
  time += 59_999;
  assert.equal((await post(s, "/api/breadcrumb", CRUMB, {}, env)).status, 429);
  time += 60_001;
  assert.equal((await post(s, "/api/breadcrumb", CRUMB, {}, env)).status, 202);
  await s.close();
});

Deno.test("register requires the admin key and answers new or already registered", async () => {
  const s = server();
  const body = { project: "acme/tool", latest_version: "2.0.0", bad_versions: ["1.9.9"] };
  const missing = await post(s, "/api/admin/register", body);
  assert.equal(missing.status, 401);
  assert.deepEqual(await missing.json(), { detail: "Missing or malformed Authorization header." });
  const wrong = await post(s, "/api/admin/register", body, { authorization: "Bearer nope" });
  assert.equal(wrong.status, 401);
  assert.deepEqual(await wrong.json(), { detail: "Invalid or insufficient token." });
  const auth = { authorization: `Bearer ${ADMIN}` };
  const created = await post(s, "/api/admin/register", body, auth);
  assert.equal(created.status, 200);
  assert.deepEqual(await created.json(), { success: true, message: "Project is now registered." });
  const again = await post(s, "/api/admin/register", { project: "acme/tool" }, auth);
  assert.deepEqual(await again.json(), {
    success: true,
    message: "Project is already registered.",
  });
  const check = await gql(
    s,
    'query{check_project(project:"acme/tool",project_version:"1.9.9"){success,flagged,latest,message}}',
  );
  assert.deepEqual(check.body.data.check_project, {
    success: true,
    flagged: true,
    latest: "2.0.0",
    message: "",
  });
  const badFormat = await post(s, "/api/admin/register", { project: "tool" }, auth);
  assert.equal(badFormat.status, 400);
  assert.deepEqual(await badFormat.json(), {
    detail: "Invalid project format (expected owner/repo).",
  });
  const badTypes = await post(s, "/api/admin/register", { project: 1, bad_versions: "x" }, auth);
  assert.equal(badTypes.status, 422);
  await s.close();
});

Deno.test("register without an admin key configured is refused", async () => {
  const s = createServer({});
  const response = await post(s, "/api/admin/register", { project: "a/b" }, {
    authorization: "Bearer anything",
  });
  assert.equal(response.status, 403);
  await s.close();
});

Deno.test("add_breadcrumb with migas-py 0.4.0's query string records the breadcrumb", async () => {
  const s = server();
  const query =
    `mutation{add_breadcrumb(project:"${PROJECT}",project_version:"0.4.0",language:"javascript",language_version:"2.1.0",ctx:{session_id:"s1",user_id:"u1",user_type:general,platform:"linux",container:docker,is_ci:false},proc:{status:R,status_desc:"Started",error_type:"",error_desc:""}){success}}`;
  const answer = await gql(s, query);
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body, { data: { add_breadcrumb: { success: true } } });
  assert.equal(answer.response.headers.get("x-backend-server"), "migas@0.9");
  const noSlash = await gql(
    s,
    'mutation{add_breadcrumb(project:"x",project_version:"1",language:"js",language_version:"1",ctx:{},proc:{}){success,message}}',
  );
  assert.deepEqual(noSlash.body.data.add_breadcrumb, { success: false, message: "" });
  const unregistered = await gql(
    s,
    'mutation{add_breadcrumb(project:"a/b",project_version:"1",language:"js",language_version:"1",ctx:{},proc:{}){success,message}}',
  );
  assert.deepEqual(unregistered.body.data.add_breadcrumb, {
    success: false,
    message: "Project is not yet registered.",
  });
  await s.close();
});

Deno.test("every Status spelling, deprecated aliases included, is accepted", async () => {
  const s = server();
  for (
    const status of [
      "R",
      "running",
      "C",
      "completed",
      "F",
      "failed",
      "S",
      "suspended",
      "pending",
      "success",
      "error",
    ]
  ) {
    const answer = await gql(
      s,
      `mutation{add_breadcrumb(project:"${PROJECT}",project_version:"1",language:"js",language_version:"1",ctx:{user_type:dev,container:apptainer},proc:{status:${status},error_type:28,error_desc:true}){success}}`,
    );
    assert.deepEqual(answer.body, { data: { add_breadcrumb: { success: true } } }, status);
  }
  const wrong = await gql(
    s,
    `mutation{add_breadcrumb(project:"${PROJECT}",project_version:"1",language:"js",language_version:"1",ctx:{},proc:{status:done}){success}}`,
  );
  assert.equal(wrong.body.data, null);
  assert.match(wrong.body.errors[0].message, /Value "done" does not exist in "Status" enum/);
  await s.close();
});

Deno.test("add_project with migas-py's legacy query answers the registered version facts", async () => {
  const s = server();
  const query =
    `mutation{add_project(p:{project:"${PROJECT}",project_version:"0.3.1",language:"javascript",language_version:"2.1.0",is_ci:true,status:R,status_desc:"Started",error_type:"",error_desc:"",user_id:"u1",session_id:"s1",container:docker,platform:"linux"})}`;
  const answer = await gql(s, query);
  assert.deepEqual(answer.body, {
    data: {
      add_project: {
        bad_versions: ["0.3.1"],
        cached: true,
        latest_version: "0.4.0",
        message: "",
        success: true,
      },
    },
  });
  const unregistered = await gql(
    s,
    'mutation { add_project(p: {project: "a/b", project_version: "0.5.0", language: "python", language_version: "3.12"}) }',
  );
  assert.deepEqual(unregistered.body, { data: { add_project: { success: false } } });
  await s.close();
});

Deno.test("check_project with migas-py's query answers latest, flagged and success", async () => {
  const s = server();
  const flagged = await gql(
    s,
    `query{check_project(project:"${PROJECT}",project_version:"0.3.1"){success,flagged,latest,message}}`,
  );
  assert.deepEqual(flagged.body, {
    data: { check_project: { success: true, flagged: true, latest: "0.4.0", message: "" } },
  });
  const unknown = await gql(
    s,
    'query{check_project(project:"a/b",project_version:"1.0"){success,flagged,latest,message}}',
  );
  assert.deepEqual(unknown.body.data.check_project, {
    success: false,
    flagged: false,
    latest: "unknown",
    message: "",
  });
  await s.close();
});

Deno.test("get_usage counts hits and unique users over a date range, over GraphQL and REST", async () => {
  let time = Date.UTC(2024, 0, 10, 8);
  const s = server({ now: () => time });
  const send = (user: string) =>
    post(s, "/api/breadcrumb", { ...CRUMB, ctx: { ...CRUMB.ctx, user_id: user } });
  await send("u1");
  await send("u1");
  await send("u2");
  time = Date.UTC(2024, 1, 10, 8);
  await send("u3");
  time = Date.UTC(2024, 2, 1);
  const january = await gql(
    s,
    `query{get_usage(project:"${PROJECT}",start:"2024-01-01",end:"2024-01-31T23:59:59Z",unique:false)}`,
  );
  assert.deepEqual(january.body.data.get_usage, {
    hits: 3,
    message: "",
    unique: false,
    success: true,
  });
  const unique = await gql(
    s,
    `query{get_usage(project:"${PROJECT}",start:"2024-01-01",end:"2024-01-31",unique:true)}`,
  );
  assert.equal(unique.body.data.get_usage.hits, 2);
  const toNow = await gql(
    s,
    `query{get_usage(project:"${PROJECT}",start:"2024-01-01",unique:true)}`,
  );
  assert.equal(toNow.body.data.get_usage.hits, 3);
  const rest = await s.fetch(
    new Request(`http://x/api/usage/${PROJECT}?start=2024-02-01&end=2024-02-28&unique=true`),
  );
  assert.equal(rest.status, 200);
  assert.equal(rest.headers.get("x-backend-server"), "migas@0.9");
  assert.deepEqual(await rest.json(), { hits: 1, message: "", unique: true, success: true });
  const untracked = await gql(s, 'query{get_usage(project:"a/b",start:"2024-01-01")}');
  assert.deepEqual(untracked.body.data.get_usage, {
    hits: 0,
    message: 'Project "a/b" is not being tracked',
    unique: false,
    success: false,
  });
  const badDate = await s.fetch(new Request(`http://x/api/usage/${PROJECT}?start=2024-02-31`));
  assert.equal(badDate.status, 422);
  const noStart = await s.fetch(new Request(`http://x/api/usage/${PROJECT}`));
  assert.equal(noStart.status, 422);
  assert.deepEqual(await noStart.json(), {
    detail: [{ type: "missing", loc: ["query", "start"], msg: "Field required" }],
  });
  const gqlBadDate = await gql(s, `query{get_usage(project:"${PROJECT}",start:"yesterday")}`);
  assert.equal(gqlBadDate.body.data, null);
  assert.equal(gqlBadDate.body.errors.length, 1);
  await s.close();
});

Deno.test("register_project and get_projects work over GraphQL, root only", async () => {
  const s = server();
  const denied = await gql(s, 'mutation{register_project(project:"acme/x")}');
  assert.deepEqual(denied.body.errors.map((e: { message: string }) => e.message), [
    "User is not authenticated",
  ]);
  const auth = { authorization: `Bearer ${ADMIN}` };
  const created = await gql(s, 'mutation{register_project(project:"acme/x")}', auth);
  assert.deepEqual(created.body.data.register_project, {
    success: true,
    message: "Project is now registered.",
  });
  const list = await gql(s, "query { get_projects }");
  assert.deepEqual(list.body, { data: { get_projects: ["acme/x", PROJECT] } });
  await s.close();
});

Deno.test("malformed GraphQL requests get migas' errors in the standard shape", async () => {
  const s = server();
  const syntax = await gql(s, "query{get_projects");
  assert.equal(syntax.status, 200);
  assert.equal(syntax.body.data, null);
  assert.match(syntax.body.errors[0].message, /^Syntax Error/);
  const unknownField = await gql(s, "query{nope}");
  assert.match(unknownField.body.errors[0].message, /Cannot query field "nope" on type "Query"/);
  const missingArg = await gql(s, `mutation { add_breadcrumb(project: "${PROJECT}") { success } }`);
  assert.equal(missingArg.body.data, null);
  assert.ok(missingArg.body.errors.length > 0);
  const notJson = await post(s, "/graphql", "{query");
  assert.equal(notJson.status, 400);
  assert.deepEqual(await notJson.json(), {
    data: null,
    errors: [{ message: "Unable to parse request body as JSON" }],
  });
  const noQuery = await post(s, "/graphql", { variables: {} });
  assert.equal(noQuery.status, 400);
  assert.deepEqual(await noQuery.json(), {
    data: null,
    errors: [{ message: "No GraphQL query found in the request" }],
  });
  await s.close();
});

Deno.test("random REST and GraphQL bodies never get a 500", async () => {
  const s = server({
    migas: { projects: [{ project: PROJECT }], rateLimit: { maxRequests: Infinity } },
  });
  const bodies = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc.record({
      project: fc.oneof(fc.constant(PROJECT), fc.string(), fc.integer()),
      project_version: fc.oneof(fc.string(), fc.constant(null)),
      ctx: fc.oneof(fc.jsonValue(), fc.record({ is_ci: fc.jsonValue(), container: fc.string() })),
      proc: fc.oneof(fc.jsonValue(), fc.record({ status: fc.string() })),
    }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
    fc.record({ query: fc.oneof(fc.string(), fc.jsonValue()), variables: fc.jsonValue() }, {
      requiredKeys: [],
    }).map((value) => JSON.stringify(value)),
  );
  await fc.assert(
    fc.asyncProperty(
      bodies,
      fc.constantFrom("/api/breadcrumb", "/graphql", "/api/admin/register"),
      async (body, path) => {
        const response = await post(s, path, body, { authorization: `Bearer ${ADMIN}` });
        assert.ok(response.status < 500, `${path} ${response.status} for ${body}`);
        await response.body?.cancel();
      },
    ),
    { numRuns: 300 },
  );
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 200 }), async (query) => {
      const response = await post(s, "/graphql", { query });
      assert.ok(response.status < 500, `${response.status} for ${query}`);
      const body = await response.json();
      assert.ok("data" in body);
    }),
    { numRuns: 200 },
  );
  await s.close();
});

Deno.test("invalid migas options are refused when the server is created", () => {
  assert.throws(
    () => createServer({ migas: { projects: [{ project: "noslash" }] } }),
    InvalidArgumentError,
  );
  assert.throws(
    () => createServer({ migas: { rateLimit: { maxRequests: 0 } } }),
    InvalidArgumentError,
  );
  assert.throws(() => createServer({ migas: { maxRequestBytes: 0 } }), InvalidArgumentError);
  assert.throws(
    () => createServer({ migas: { projects: [{ project: "a/b", badVersions: [1 as never] }] } }),
    InvalidArgumentError,
  );
});
