/**
 * Replays each migas finding of the attack on the reference server, over
 * real HTTP on 127.0.0.1, and asserts the bounded answer: the aliased
 * `get_usage` amplification over a large table, aliased `add_breadcrumb`
 * past the rate limit, a malformed `%` escape, NUL in text fields, simple
 * cross-site bodies, introspection, and the database file's mode.
 *
 * @module
 */

import { crumb } from "./_contract_fixtures.ts";
import assert from "node:assert/strict";
import { MemoryStore } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { startServer } from "../e2e/_server.ts";

const PROJECT = "acme/tool";
const SEEDED = 200_000;

function post(url: string, body: unknown, type = "application/json"): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": type },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The finding's request: `count` aliased add_breadcrumb in one body within migas' 2,500 bytes. */
function aliasedCrumbs(count: number): string {
  const fields = Array.from(
    { length: count },
    (_, i) =>
      `b${i}:add_breadcrumb(project:$p,project_version:$v,language:$l,language_version:$v,` +
      `ctx:{},proc:{}){success}`,
  ).join(" ");
  const body = JSON.stringify({
    query: `mutation($p:String!,$v:String!,$l:String!){${fields}}`,
    variables: { p: PROJECT, v: "1.0.0", l: "python" },
  });
  assert.ok(body.length <= 2500, `the request fits migas' body limit (${body.length} bytes)`);
  return body;
}

const MIGAS = { projects: [{ project: PROJECT, latestVersion: "1.2.0" }] };

Deno.test("51 aliased unique get_usage over a 200k-breadcrumb table are refused at once and block no route", async () => {
  const dir = await Deno.makeTempDir();
  const store = new SqliteStore(`${dir}/migas.db`);
  const clock = Date.parse("2026-11-22T12:00:00Z");
  await store.registerMigasProject({ project: PROJECT, now: clock });
  const seedStarted = performance.now();
  for (let offset = 0; offset < SEEDED; offset += 20_000) {
    await store.addMigasBreadcrumbs(
      Array.from(
        { length: 20_000 },
        (_, i) => crumb(`user-${offset + i}`, clock - (offset + i), PROJECT),
      ),
    );
  }
  const seedMs = performance.now() - seedStarted;
  await using running = startServer({ store, migas: MIGAS });
  const fields = Array.from(
    { length: 51 },
    (_, i) => `a${i}:get_usage(project:$p,start:$s,unique:true)`,
  ).join(" ");
  const body = JSON.stringify({
    query: `query($p:String!,$s:DateTime!){${fields}}`,
    variables: { p: PROJECT, s: "2020-01-01" },
  });
  assert.ok(body.length <= 2500, `the attack fits migas' body limit (${body.length} bytes)`);

  const started = performance.now();
  const attack = post(`${running.base}/graphql`, body);
  const health = fetch(`${running.base}/healthz`).then(async (response) => {
    await response.body?.cancel();
    return { status: response.status, ms: performance.now() - started };
  });
  const answer = await attack;
  const attackMs = performance.now() - started;
  const payload = await answer.json();
  const healthAnswer = await health;
  console.log(
    `seeded ${SEEDED} in ${seedMs.toFixed(0)} ms; attack answered ${answer.status} in ${
      attackMs.toFixed(0)
    } ms; /healthz in ${healthAnswer.ms.toFixed(0)} ms`,
  );
  assert.equal(answer.status, 400);
  assert.equal(payload.data, null);
  assert.match(payload.errors[0].message, /aliased fields|costs more than/);
  assert.ok(attackMs < 1000, `the attack was answered in ${attackMs.toFixed(0)} ms`);
  assert.equal(healthAnswer.status, 200);
  assert.ok(healthAnswer.ms < 1000, `/healthz waited ${healthAnswer.ms.toFixed(0)} ms`);

  // What the limits allow is answered from the aggregates, with the exact total.
  const allowedStarted = performance.now();
  const allowed = await post(`${running.base}/graphql`, {
    query: `query($p:String!,$s:DateTime!){
      all:get_usage(project:$p,start:$s) users:get_usage(project:$p,start:$s,unique:true)}`,
    variables: { p: PROJECT, s: "2020-01-01" },
  });
  const usage = (await allowed.json()).data;
  const allowedMs = performance.now() - allowedStarted;
  console.log(`two get_usage over ${SEEDED} breadcrumbs answered in ${allowedMs.toFixed(0)} ms`);
  assert.ok(allowedMs < 1000, `the allowed query took ${allowedMs.toFixed(0)} ms`);
  assert.equal(allowed.status, 200);
  assert.equal(usage.all.hits, SEEDED);
  assert.ok(Math.abs(usage.users.hits - SEEDED) < SEEDED * 0.1, `${usage.users.hits} users`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("each aliased add_breadcrumb counts as one request against the rate limit", async () => {
  const options = {
    migas: { ...MIGAS, rateLimit: { maxRequests: 10 }, graphql: { maxAliases: 50, maxCost: 100 } },
  };
  {
    const store = new MemoryStore();
    await using running = startServer({ ...options, store });
    const answer = await post(`${running.base}/graphql`, aliasedCrumbs(22));
    assert.equal(answer.status, 429);
    await answer.body?.cancel();
    // The refused batch stored nothing.
    const stored = await store.countMigasUsage({
      project: PROJECT,
      start: 0,
      end: running.clock.now,
      unique: false,
    });
    assert.equal(stored, 0);
  }
  {
    await using running = startServer(options);
    for (const status of [200, 200]) {
      const batch = await post(`${running.base}/graphql`, aliasedCrumbs(5));
      assert.equal(batch.status, status);
      const { data } = await batch.json();
      assert.equal(
        Object.values(data).filter((field) => (field as { success: boolean }).success).length,
        5,
      );
    }
    // Two batches of five were ten requests: the eleventh is refused.
    const single = await post(`${running.base}/graphql`, aliasedCrumbs(1));
    assert.equal(single.status, 429);
    await single.body?.cancel();
  }
});

Deno.test("with the default limits, 22 aliased add_breadcrumb are refused before any is stored", async () => {
  await using running = startServer({ migas: MIGAS });
  const answer = await post(`${running.base}/graphql`, aliasedCrumbs(22));
  assert.equal(answer.status, 400);
  assert.match((await answer.json()).errors[0].message, /aliased fields/);
  const usage = await fetch(`${running.base}/api/usage/${PROJECT}?start=2020-01-01`);
  assert.equal((await usage.json()).hits, 0);
});

Deno.test("a query nested past the depth limit or over the cost is refused with 400", async () => {
  await using running = startServer({ migas: { ...MIGAS, graphql: { maxDepth: 2, maxCost: 5 } } });
  const deep = await post(`${running.base}/graphql`, {
    query: `{check_project(project:"${PROJECT}",project_version:"1"){... on CheckProjectResult{` +
      `__typename ... F}}} fragment F on CheckProjectResult{latest}`,
  });
  assert.equal(deep.status, 200, "depth 2 is within the limit");
  await deep.body?.cancel();
  const costly = await post(`${running.base}/graphql`, {
    query: `{get_usage(project:"${PROJECT}",start:"2020-01-01")}`,
  });
  assert.equal(costly.status, 400);
  assert.match((await costly.json()).errors[0].message, /costs more than 5/);
  const nested = await post(`${running.base}/graphql`, {
    query: '{__type(name:"Query"){fields{type{name}}}}',
  });
  assert.equal(nested.status, 400);
  assert.match((await nested.json()).errors[0].message, /deeper than 2/);
});

Deno.test("a malformed percent escape in the usage path answers 400, not 500", async () => {
  await using running = startServer({ migas: MIGAS });
  for (const path of ["acme%2Ftool%E0%A4%A", "acme/%", "%ZZ/tool"]) {
    const answer = await fetch(`${running.base}/api/usage/${path}?start=2020-01-01`);
    assert.equal(answer.status, 400, path);
    assert.match((await answer.json()).detail, /percent escape/);
  }
});

Deno.test("a NUL in any migas text field is refused with 400 and nothing is stored", async () => {
  await using running = startServer({ migas: MIGAS });
  const rest = [
    { project: PROJECT, project_version: "1.0.0", proc: { error_desc: "cut\u0000here" } },
    { project: PROJECT, project_version: "1.0.0", ctx: { user_id: "u\u0000" } },
    { project: PROJECT, project_version: "1.0.0", language: "py\u0000thon" },
  ];
  for (const body of rest) {
    const answer = await post(`${running.base}/api/breadcrumb?wait=true`, body);
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.match((await answer.json()).detail, /NUL/);
  }
  const literal = await post(`${running.base}/graphql`, {
    query: `mutation{add_breadcrumb(project:"${PROJECT}",project_version:"1",language:"py",` +
      `language_version:"3",ctx:{},proc:{error_desc:"cut\\u0000here"}){success}}`,
  });
  assert.equal(literal.status, 400);
  assert.match((await literal.json()).errors[0].message, /NUL/);
  const variable = await post(`${running.base}/graphql`, {
    query: `mutation($d:SafeStr){add_breadcrumb(project:"${PROJECT}",project_version:"1",` +
      `language:"py",language_version:"3",ctx:{},proc:{error_desc:$d}){success}}`,
    variables: { d: "cut\u0000here" },
  });
  assert.equal(variable.status, 400);
  await variable.body?.cancel();
  const path = await fetch(`${running.base}/api/usage/acme%00/tool?start=2020-01-01`);
  assert.equal(path.status, 400);
  await path.body?.cancel();
  const usage = await fetch(`${running.base}/api/usage/${PROJECT}?start=2020-01-01`);
  assert.equal((await usage.json()).hits, 0);
});

Deno.test("breadcrumb and GraphQL routes refuse text/plain and form bodies with 415", async () => {
  await using running = startServer({ migas: MIGAS });
  const crumbBody = JSON.stringify({ project: PROJECT, project_version: "1.0.0" });
  const query = JSON.stringify({
    query: `mutation{add_breadcrumb(project:"${PROJECT}",project_version:"1",language:"py",` +
      `language_version:"3",ctx:{},proc:{}){success}}`,
  });
  for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]) {
    for (const [path, body] of [["/api/breadcrumb", crumbBody], ["/graphql", query]]) {
      const answer = await post(`${running.base}${path}`, body, type);
      assert.equal(answer.status, 415, `${path} ${type}`);
      await answer.body?.cancel();
    }
  }
  const bare = await fetch(`${running.base}/api/breadcrumb`, { method: "POST", body: crumbBody });
  assert.equal(bare.status, 415, "a body without a type is not JSON either");
  await bare.body?.cancel();
  const usage = await fetch(`${running.base}/api/usage/${PROJECT}?start=2020-01-01`);
  assert.equal((await usage.json()).hits, 0);
  const json = await post(`${running.base}/api/breadcrumb`, crumbBody, "application/json");
  assert.equal(json.status, 202);
  await json.body?.cancel();
});

Deno.test("GraphQL introspection is off by default and on when the option says so", async () => {
  const query = { query: "{__schema{queryType{name}}}" };
  {
    await using running = startServer({ migas: MIGAS });
    const answer = await post(`${running.base}/graphql`, query);
    const body = await answer.json();
    assert.equal(body.data, null);
    assert.match(body.errors[0].message, /introspection/i);
  }
  {
    await using running = startServer({ migas: { ...MIGAS, graphql: { introspection: true } } });
    const answer = await post(`${running.base}/graphql`, query);
    assert.deepEqual((await answer.json()).data, { __schema: { queryType: { name: "Query" } } });
  }
});

Deno.test({
  name: "the SQLite database file and its -wal and -shm are created readable by the owner only",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/server.db`;
    const store = new SqliteStore(path);
    await store.setMeta("secret", "s");
    for (const suffix of ["", "-wal", "-shm"]) {
      const mode = (await Deno.stat(`${path}${suffix}`)).mode! & 0o777;
      assert.equal(mode & 0o077, 0, `${suffix || "the database"} has mode ${mode.toString(8)}`);
    }
    await store.close();
    await Deno.remove(dir, { recursive: true });
  },
});
