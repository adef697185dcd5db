/**
 * A CLI that tracks itself with migas and then ends the way MIGAS_TEST_MODE
 * says: normally, with an uncaught error, or by waiting for a signal. The
 * final breadcrumb comes from the default process lifecycle alone.
 *
 * @module
 */

import { setup, track } from "../../src/migas/mod.ts";

setup({ endpoint: Deno.env.get("MIGAS_TEST_ENDPOINT"), protocol: "rest" });
const run = track("nipreps/fmriprep", "24.1.0");
await run.started;
console.log("started");
const mode = Deno.env.get("MIGAS_TEST_MODE");
if (mode === "error") throw new TypeError("disk full");
if (mode === "signal") await new Promise((resolve) => setTimeout(resolve, 30_000));
