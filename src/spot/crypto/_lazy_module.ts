/**
 * A module loaded with `import()` on first use and kept, so a bundle puts it
 * in a chunk of its own that a runtime fetches only when it needs it. A
 * failed load (a bundle deployed without the chunk, a network error) becomes
 * a {@linkcode SpotKeyError} naming the package, is not kept, and so a later
 * call tries again.
 *
 * @module
 */

import { SpotKeyError } from "./errors.ts";

const LOAD = "load ";

/**
 * A loader that imports a module once and shares the promise.
 *
 * @param name The package, for the error, such as `"@noble/curves"`.
 * @param load Imports the module; pass `() => import("specifier")` with a
 * string literal so bundlers and `deno publish` see the specifier.
 * @returns The loader.
 */
export function lazyModule<T>(name: string, load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((cause) => {
      loading = undefined;
      throw new SpotKeyError(
        `${LOAD}${name}`,
        `Cannot load ${name} (${
          (cause as Error)?.name ?? "error"
        }): deploy the bundle's lazy chunks beside its entry`,
        { cause },
      );
    });
    return loading;
  };
}

/**
 * Whether an error is a failed {@linkcode lazyModule} load, which callers
 * that turn errors into "no result" must let through.
 *
 * @param error The caught value.
 * @returns True for a load failure.
 */
export function isLoadFailure(error: unknown): boolean {
  return error instanceof SpotKeyError && error.operation.startsWith(LOAD);
}
