/**
 * A module Worker that is the reference server: `createServer` with its
 * default in-memory store, built on the first request (Workers refuse random
 * numbers at module scope) and kept for the isolate's life. Bundled for the
 * browser platform by `workerd_server_test.ts`, so nothing but web standards
 * can reach it.
 *
 * @module
 */

import { createServer, type EdgewireServer } from "../../src/server/mod.ts";

/** The bindings the test gives the Worker. */
interface Env {
  ADMIN_KEY: string;
  HONCH_KEY: string;
}

let server: EdgewireServer | undefined;

/** What workerd passes as a handler's third argument; only `waitUntil` is used. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    server ??= createServer({
      adminKey: env.ADMIN_KEY,
      difficulty: 3,
      honch: { projectKeys: [env.HONCH_KEY] },
      // Workers have no remote address in `env`; the test is the only caller.
      clientAddress: () => "workerd-test",
    });
    // The context keeps a pruning pass a request started alive after the answer
    return server.fetch(request, env, ctx);
  },
};
