/**
 * Which implementation does Ed25519 and X25519: WebCrypto when the runtime
 * has the algorithm (Deno, Node 20+, Bun, Chromium 137+, workerd), else
 * `@noble/curves`. Each algorithm is probed once, by generating a throwaway
 * key, and the answer kept for the life of the process.
 *
 * @module
 */

/** Where an algorithm runs. */
export type Backend = "webcrypto" | "noble";

const probes = new Map<string, Promise<Backend>>();
let forced: Backend | undefined;

/**
 * The backend for Ed25519 or X25519, probed on first use.
 *
 * @param algorithm `"Ed25519"` or `"X25519"`.
 * @returns `"webcrypto"` when `crypto.subtle` generates such a key, else `"noble"`.
 */
export function backendFor(algorithm: "Ed25519" | "X25519"): Promise<Backend> {
  if (forced !== undefined) return Promise.resolve(forced);
  let probe = probes.get(algorithm);
  if (probe === undefined) {
    const usages: KeyUsage[] = algorithm === "Ed25519" ? ["sign", "verify"] : ["deriveBits"];
    probe = crypto.subtle.generateKey({ name: algorithm }, false, usages).then(
      () => "webcrypto" as const,
      () => "noble" as const,
    );
    probes.set(algorithm, probe);
  }
  return probe;
}

/**
 * Makes every Ed25519 and X25519 operation use one backend, for tests of the
 * fallback; `undefined` restores probing.
 *
 * @param backend The backend to use, or undefined.
 */
export function forceBackend(backend: Backend | undefined): void {
  forced = backend;
}
