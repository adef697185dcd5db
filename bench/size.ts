/**
 * Bundle weight per entry point: `deno run -A bench/size.ts`. Each
 * `deno.json` export is bundled on its own for the browser, minified with
 * code splitting, and measured twice: what a page loads before any lazy
 * `import()` (the entry chunk and its static imports) and the lazy chunks
 * (the proof-of-work kernels). posthog-js-lite, bundled the same way, is the
 * yardstick. `tests/bench/size_test.ts` holds the entries to the budgets in
 * `bench/size_budgets.json`.
 *
 * @module
 */

/** Bytes of a set of bundle files, minified and gzip'd one by one. */
export interface ChunkSizes {
  /** The files' names, without their content hash. */
  files: string[];
  /** Their minified bytes. */
  bytes: number;
  /** The sum of each file's gzip'd bytes, as each is its own download. */
  gzip: number;
}

/** What one entry point weighs. */
export interface EntrySize {
  /** The entry chunk and every chunk it imports statically: what loads first. */
  initial: ChunkSizes;
  /** Every other chunk: loaded by `import()` when needed, if ever. */
  lazy: ChunkSizes;
}

/** Options of {@linkcode bundleEntry}. */
export interface BundleOptions {
  /** Bundle for the browser or for Deno (`"browser"`). */
  platform?: "browser" | "deno";
  /** Skip the project's deno.json, for an entry outside it such as an npm package (false). */
  noConfig?: boolean;
}

const ROOT = new URL("../", import.meta.url);
const STATIC_IMPORT = /(?:\bfrom|\bimport)\s*["'](\.\/[^"']+)["']/g;

/**
 * Bundles one entry point, minified with code splitting, into a new
 * temporary directory.
 *
 * @param entry The entry module's path or URL.
 * @param outdir Where the files go; the caller removes it.
 * @param options The platform and whether to use the project's config.
 * @returns The entry chunk's path.
 * @throws {Error} When `deno bundle` fails, with its output.
 *
 * @example
 * ```ts
 * import { bundleEntry } from "./size.ts";
 *
 * const dir = await Deno.makeTempDir();
 * console.log(await bundleEntry(new URL("../src/pow/worker.ts", import.meta.url), dir));
 * ```
 */
export async function bundleEntry(
  entry: string | URL,
  outdir: string,
  options: BundleOptions = {},
): Promise<string> {
  const path = entry instanceof URL ? decodeURIComponent(entry.pathname) : entry;
  const args = ["bundle", "--quiet", "--minify", "--code-splitting"];
  args.push("--platform", options.platform ?? "browser", "--outdir", outdir);
  if (options.noConfig) args.push("--no-config", "--no-lock");
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...args, path],
    cwd: decodeURIComponent(ROOT.pathname),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`deno bundle ${path} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  const name = path.slice(path.lastIndexOf("/") + 1).replace(/\.[cm]?[jt]sx?$/, "");
  return `${outdir}/${name}.js`;
}

/**
 * Measures a bundle: the entry chunk with its static imports, and the rest.
 *
 * @param main The entry chunk's path, in the directory of the bundle.
 * @returns The initial and lazy sizes.
 * @throws {Deno.errors.NotFound} When a chunk the entry imports is missing.
 *
 * @example
 * ```ts
 * import { bundleEntry, measureBundle } from "./size.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const { initial } = await measureBundle(await bundleEntry("src/pow/mod.ts", dir));
 * console.log(initial.gzip);
 * ```
 */
export async function measureBundle(main: string): Promise<EntrySize> {
  const dir = main.slice(0, main.lastIndexOf("/"));
  const initial = new Set<string>();
  const pending = [main.slice(dir.length + 1)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (initial.has(file)) continue;
    initial.add(file);
    const code = await Deno.readTextFile(`${dir}/${file}`);
    for (const [, target] of code.matchAll(STATIC_IMPORT)) pending.push(target.slice(2));
  }
  const lazy: string[] = [];
  for await (const { name, isFile } of Deno.readDir(dir)) {
    if (isFile && name.endsWith(".js") && !initial.has(name)) lazy.push(name);
  }
  return {
    initial: await sizes(dir, [...initial].sort()),
    lazy: await sizes(dir, lazy.sort()),
  };
}

/**
 * Bundles an entry into a temporary directory, measures it, and removes the directory.
 *
 * @param entry The entry module's path (relative to the project) or URL.
 * @param options The platform and whether to use the project's config.
 * @returns The initial and lazy sizes.
 * @throws {Error} When `deno bundle` fails.
 *
 * @example
 * ```ts
 * import { measureEntry } from "./size.ts";
 *
 * const { initial, lazy } = await measureEntry("src/mkstats/mod.ts");
 * console.log(initial.gzip, lazy.files);
 * ```
 */
export async function measureEntry(
  entry: string | URL,
  options: BundleOptions = {},
): Promise<EntrySize> {
  const dir = await Deno.makeTempDir({ prefix: "edgewire-size-" });
  try {
    return await measureBundle(await bundleEntry(entry, dir, options));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The package's entry points, as `deno.json` exports them.
 *
 * @returns Each export's name (such as `"./mkstats"`) and module path.
 *
 * @example
 * ```ts
 * import { entryPoints } from "./size.ts";
 *
 * console.log(Object.keys(await entryPoints()));
 * ```
 */
export async function entryPoints(): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return config.exports;
}

/**
 * The budgets: gzip'd bytes each entry may load before any lazy import;
 * `null` for an entry measured for information only.
 *
 * @returns The budget per export name.
 *
 * @example
 * ```ts
 * import { budgets } from "./size.ts";
 *
 * console.log((await budgets())["./mkstats"]);
 * ```
 */
export async function budgets(): Promise<Record<string, number | null>> {
  return JSON.parse(await Deno.readTextFile(new URL("bench/size_budgets.json", ROOT)));
}

/** The npm package measured beside ours, pinned so the figure is stable. */
export const POSTHOG = "npm:posthog-js-lite@4.12.1";

async function sizes(dir: string, files: string[]): Promise<ChunkSizes> {
  let bytes = 0;
  let gzip = 0;
  for (const file of files) {
    const data = await Deno.readFile(`${dir}/${file}`);
    bytes += data.length;
    gzip += await gzipLength(data);
  }
  return { files: files.map((file) => file.replace(/-[A-Z0-9]{8}\.js$/, ".js")), bytes, gzip };
}

async function gzipLength(data: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

async function measurePosthog(): Promise<EntrySize> {
  const dir = await Deno.makeTempDir({ prefix: "edgewire-size-posthog-" });
  try {
    const entry = `${dir}/posthog.ts`;
    await Deno.writeTextFile(
      entry,
      `export * from "${POSTHOG}";\nexport { default } from "${POSTHOG}";\n`,
    );
    const out = `${dir}/out`;
    return await measureBundle(await bundleEntry(entry, out, { noConfig: true }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const limits = await budgets();
  const rows: string[][] = [];
  const kb = (n: number) => (n / 1000).toFixed(1);
  const row = (name: string, size: EntrySize, budget: string) =>
    rows.push([
      name,
      kb(size.initial.bytes),
      kb(size.initial.gzip),
      budget,
      size.lazy.files.length === 0
        ? "-"
        : `${kb(size.lazy.bytes)} / ${kb(size.lazy.gzip)} (${size.lazy.files.join(", ")})`,
    ]);
  for (const [name, path] of Object.entries(await entryPoints())) {
    const limit = limits[name];
    try {
      row(name, await measureEntry(path), limit == null ? "info" : kb(limit));
    } catch {
      // The server entry needs Deno's APIs; measured for Deno instead
      row(`${name} (deno)`, await measureEntry(path, { platform: "deno" }), "info");
    }
  }
  row("posthog-js-lite 4.12.1", await measurePosthog(), "-");
  const header = ["entry", "min KB", "gzip KB", "budget", "lazy chunks min / gzip KB"];
  const table = [header, header.map(() => "---"), ...rows];
  for (const cells of table) console.log(`| ${cells.join(" | ")} |`);
}
