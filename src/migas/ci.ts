/**
 * Continuous-integration detection with ci-info's 52 vendor signatures, the
 * source of migas' `is_ci`. Like ci-info, a bare `CI` variable is not
 * enough: a vendor's own variables must be there.
 *
 * @module
 */

import { readEnv } from "../core/runtime/mod.ts";
import { type EnvReader, matchesEnv, matchesPr } from "./_ci_rules.ts";
import { CI_VENDORS } from "./_ci_vendors.ts";

/**
 * What {@linkcode detectCi} found.
 *
 * @example
 * ```ts
 * import { detectCi, type CiInfo } from "@edgewire/sdk/migas";
 *
 * const info: CiInfo = detectCi((name) => ({ GITHUB_ACTIONS: "true" } as Record<string, string>)[name]);
 * console.log(info.name); // "GitHub Actions"
 * ```
 */
export interface CiInfo {
  /** The vendor's name as ci-info spells it, or `null` outside CI. */
  name: string | null;
  /** Whether a vendor's signature matched. */
  isCi: boolean;
  /** Whether the build is for a pull request; `null` outside CI or when the vendor cannot tell. */
  isPr: boolean | null;
}

/**
 * Tells whether the process runs under a CI service, trying ci-info's
 * vendors in its order; the first whose signature matches wins.
 *
 * @param env Reads one environment variable.
 * @returns The vendor, whether it is CI, and whether the build is a pull request.
 *
 * @example
 * ```ts
 * import { detectCi } from "@edgewire/sdk/migas";
 *
 * const env: Record<string, string> = { JENKINS_URL: "https://ci", BUILD_ID: "7" };
 * const { name, isCi } = detectCi((name) => env[name]);
 * console.log(name, isCi); // "Jenkins" true
 * ```
 */
export function detectCi(env: (name: string) => string | undefined = readEnv): CiInfo {
  const read: EnvReader = (name) => {
    try {
      return env(name);
    } catch {
      // An unreadable variable is an unset one, as readEnv treats denied permissions
      return undefined;
    }
  };
  for (const vendor of CI_VENDORS) {
    if (!matchesEnv(vendor.env, read)) continue;
    return {
      name: vendor.name,
      isCi: true,
      isPr: vendor.pr === null ? null : matchesPr(vendor.pr, read),
    };
  }
  return { name: null, isCi: false, isPr: null };
}
