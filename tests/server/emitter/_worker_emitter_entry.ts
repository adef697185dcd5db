/**
 * A module Worker that is the reference server with its Emitter broker on a
 * license the test gives as a binding, so the test holds the master key.
 * Bundled for the browser platform by `transport_workerd_test.ts`.
 *
 * @module
 */

import { createServer, type EdgewireServer } from "../../../src/server/mod.ts";

let server: EdgewireServer | undefined;

export default {
  fetch(request: Request, env: { LICENSE: string }): Promise<Response> {
    server ??= createServer({ emitter: { license: env.LICENSE }, clientAddress: () => "workerd" });
    return server.fetch(request, env);
  },
};
