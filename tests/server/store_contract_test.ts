import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createServer, MemoryStore } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { runStoreContract } from "./store_contract.ts";

async function removeDatabase(path: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm"]) {
    await Deno.remove(`${path}${suffix}`).catch(() => {});
  }
}

runStoreContract(
  "MemoryStore",
  () => Promise.resolve({ store: new MemoryStore(), dispose: () => Promise.resolve() }),
);

runStoreContract(
  "SqliteStore in memory",
  () => Promise.resolve({ store: new SqliteStore(":memory:"), dispose: () => Promise.resolve() }),
);

runStoreContract("SqliteStore in a file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  const fixture = {
    store: new SqliteStore(path),
    async reopen() {
      await fixture.store.close();
      return new SqliteStore(path);
    },
    dispose: () => removeDatabase(path),
  };
  return fixture;
});

Deno.test("a SQLite file runs in WAL mode", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  try {
    await new SqliteStore(path).close();
    const raw = new DatabaseSync(path);
    const mode = raw.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    raw.close();
    assert.equal(mode.journal_mode, "wal");
  } finally {
    await removeDatabase(path);
  }
});

Deno.test("SqliteStore refuses an empty path, naming it", () => {
  assert.throws(() => new SqliteStore(""), (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError);
    assert.equal(error.argument, "path");
    return true;
  });
});

Deno.test("createServer keeps its state in a MemoryStore when given no store", async () => {
  const server = createServer({
    adminKey: "admin",
    migas: { projects: [{ project: "acme/tool" }] },
  });
  const answer = await server.fetch(
    new Request("http://x/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer admin" },
      body: JSON.stringify({ query: "{ get_projects }" }),
    }),
  );
  assert.deepEqual(await answer.json(), { data: { get_projects: ["acme/tool"] } });
  await server.close();
});
