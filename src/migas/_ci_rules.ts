/**
 * The shapes of ci-info's vendor signatures and the rules that match them
 * against an environment, kept apart from the generated table so the table
 * stays data.
 *
 * @module
 */

/** Reads one environment variable; `undefined` when it is unset. */
export type EnvReader = (name: string) => string | undefined;

/** How a vendor's environment signature is matched. */
export type CiEnvSignature =
  | { kind: "present"; vars: string[] }
  | { kind: "all_present"; vars: string[] }
  | { kind: "any_present"; vars: string[] }
  | { kind: "var_includes_substring"; var: string; substring: string }
  | { kind: "equals"; values: Record<string, string> };

/** How a vendor tells a pull-request build. */
export type CiPrRule =
  | { kind: "truthy"; var: string }
  | { kind: "truthy_and_not_equal"; var: string; not: string }
  | { kind: "value_in"; var: string; values: string[] }
  | { kind: "any_truthy"; vars: string[] }
  | { kind: "all_equal"; values: Record<string, string> };

/** One row of the vendor table. */
export interface CiVendor {
  name: string;
  constant: string;
  env: CiEnvSignature;
  pr: CiPrRule | null;
}

const isSet = (env: EnvReader, name: string): boolean => env(name) !== undefined;
const truthy = (env: EnvReader, name: string): boolean => (env(name) ?? "") !== "";

/** Whether the environment carries the vendor's signature. */
export function matchesEnv(signature: CiEnvSignature, env: EnvReader): boolean {
  switch (signature.kind) {
    case "present":
    case "all_present":
      return signature.vars.every((name) => isSet(env, name));
    case "any_present":
      return signature.vars.some((name) => isSet(env, name));
    case "var_includes_substring":
      return env(signature.var)?.includes(signature.substring) ?? false;
    case "equals":
      return Object.entries(signature.values).some(([name, value]) => env(name) === value);
  }
}

/** Whether the build is a pull request by the vendor's rule. */
export function matchesPr(rule: CiPrRule, env: EnvReader): boolean {
  switch (rule.kind) {
    case "truthy":
      return truthy(env, rule.var);
    case "truthy_and_not_equal":
      return truthy(env, rule.var) && env(rule.var) !== rule.not;
    case "value_in":
      return rule.values.includes(env(rule.var) ?? "\u0000");
    case "any_truthy":
      return rule.vars.some((name) => truthy(env, name));
    case "all_equal":
      return Object.entries(rule.values).every(([name, value]) => env(name) === value);
  }
}
