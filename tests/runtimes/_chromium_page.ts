/**
 * The script of the Chromium test's page, bundled for browsers: it notes
 * whether the page may compile WebAssembly (and any Content Security Policy
 * violation), runs `exerciseClients` of `_all_clients.ts` against the
 * reference server named by `?base=` (another origin) with the label of
 * `?label=`, and writes the JSON report into `#report` and a readable summary
 * into `#summary`. `<body data-status>` becomes `done` or `failed`.
 *
 * @module
 */

import { type ClientsReport, exerciseClients } from "./_all_clients.ts";

/** What the page learnt about WebAssembly before the clients ran. */
export interface WasmProbe {
  /** Whether `WebAssembly.compile` accepted an empty module. */
  compiled: boolean;
  /** Why it did not, when it did not. */
  error?: string;
  /** The `effectiveDirective` of each `securitypolicyviolation` event seen. */
  violations: string[];
}

/** What the page writes into `#report`. */
export interface PageReport {
  wasm: WasmProbe;
  clients?: ClientsReport;
  error?: string;
}

/** The little of the DOM this script touches, typed here so it checks without the DOM library. */
interface Element {
  textContent: string | null;
  dataset: Record<string, string>;
}
interface PageGlobals {
  location: { search: string; origin: string };
  document: {
    body: Element;
    getElementById(id: string): Element | null;
    addEventListener(
      type: string,
      listener: (event: { effectiveDirective?: string }) => void,
    ): void;
  };
}

const page = globalThis as unknown as PageGlobals;
const violations: string[] = [];
page.document.addEventListener("securitypolicyviolation", (event) => {
  violations.push(event.effectiveDirective ?? "unknown");
});

// The smallest valid module: the magic number and version 1.
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

async function probeWasm(): Promise<WasmProbe> {
  try {
    await WebAssembly.compile(EMPTY_MODULE);
    return { compiled: true, violations };
  } catch (error) {
    return { compiled: false, error: String(error), violations };
  }
}

function write(id: string, text: string): void {
  const element = page.document.getElementById(id);
  if (element !== null) element.textContent = text;
}

function summarize(report: PageReport): string {
  const lines = [`WebAssembly: ${report.wasm.compiled ? "allowed" : "blocked by the page"}`];
  if (report.wasm.violations.length > 0) {
    lines.push(`CSP violations: ${report.wasm.violations.join(", ")}`);
  }
  const clients = report.clients;
  if (clients !== undefined) {
    lines.push(
      `Runtime: ${clients.runtime.name} (run ${clients.label})`,
      `mkStats: handshake solved, token of ${clients.mkstats.tokenLength} characters, ` +
        `kernel ${clients.mkstats.kernel}, ping ${JSON.stringify(clients.mkstats.ping)}, ` +
        `event ${JSON.stringify(clients.mkstats.event)}`,
      `Hashes per ms: ${
        Object.entries(clients.mkstats.rates).map(([name, rate]) => `${name} ${Math.round(rate)}`)
          .join(", ")
      }`,
      `Honch: ${clients.honch.sent} sent, ${clients.honch.remaining} remaining, ` +
        `${clients.honch.dropped} dropped`,
      `migas: breadcrumb ${clients.migas.breadcrumb.success ? "stored" : "refused"}, ` +
        `latest ${clients.migas.check.latest}`,
    );
  }
  if (report.error !== undefined) lines.push(`Failed: ${report.error}`);
  return lines.join("\n");
}

const params = new URLSearchParams(page.location.search);
const base = params.get("base") ?? "";
const label = params.get("label") ?? "";
write("page", `This page: ${page.location.origin}, reference server: ${base}`);
const report: PageReport = { wasm: await probeWasm() };
try {
  if (base === "" || label === "") throw new Error("Open this page with ?base=…&label=…");
  report.clients = await exerciseClients(base, label);
} catch (error) {
  report.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
write("summary", summarize(report));
write("report", JSON.stringify(report));
page.document.body.dataset.status = report.error === undefined ? "done" : "failed";
