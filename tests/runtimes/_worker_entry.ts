/**
 * A Cloudflare Worker (ES module format) that runs every client once,
 * through `exerciseClients` of `_all_clients.ts`, with the Worker's own
 * `fetch`, and answers the report as JSON. The reference server's origin
 * comes from the `BASE` binding or the `base` query parameter. Beside the
 * report it answers facts about the runtime for the harness: whether
 * compiling the WebAssembly kernel from bytes is refused, which non-standard
 * globals (`Deno`, `Bun`, `process`, `Buffer`) exist, and how finely the
 * clock moves while a request computes. A failure answers 500 with the
 * error's message and stack.
 *
 * @module
 */

import { exerciseClients } from "./_all_clients.ts";
import { wasmModuleBytes } from "../../src/pow/_kernel_wasm_module.ts";

/** The Worker's bindings. */
interface Env {
  BASE?: string;
}

/** Compiles the proof-of-work module from bytes, as the kernel would; the error's text when refused. */
async function wasmRefusal(): Promise<string | null> {
  try {
    await WebAssembly.compile(wasmModuleBytes());
    return null;
  } catch (error) {
    return String(error);
  }
}

/**
 * The smallest step `performance.now()` took over a few ticks while this
 * request computed, in milliseconds; `0` when it never moved (a frozen clock).
 */
function clockStepMs(): number {
  let step = Infinity;
  let ticks = 0;
  let last = performance.now();
  for (let i = 0; i < 5_000_000 && ticks < 4; i++) {
    const now = performance.now();
    if (now !== last) {
      step = Math.min(step, now - last);
      last = now;
      ticks++;
    }
  }
  return ticks === 0 ? 0 : step;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const base = env.BASE ?? new URL(request.url).searchParams.get("base");
    if (!base) return new Response("Pass the reference server's origin as BASE", { status: 400 });
    try {
      const wasmRefused = await wasmRefusal();
      const clockStep = clockStepMs();
      const report = await exerciseClients(base, "workerd", fetch);
      const g = globalThis as Record<string, unknown>;
      const nonStandard = ["Deno", "Bun", "process", "Buffer"].filter((name) => name in g);
      return Response.json({ report, wasmRefused, clockStepMs: clockStep, nonStandard });
    } catch (error) {
      const e = error as Error;
      return new Response(`${e?.name}: ${e?.message}\n${e?.stack ?? ""}`, { status: 500 });
    }
  },
};
