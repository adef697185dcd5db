/**
 * The `backoff` option every client takes (`{ initialMs, maxMs, jitter }`),
 * checked once and in one wording, so mkStats, Honch and migas agree on what
 * it accepts. Internal: the clients share it.
 *
 * @module
 */

import type { Jitter } from "./backoff.ts";
import { invalidArgument, optionalObject, positiveNumber } from "./validate.ts";

/** The `backoff` option as a client's options interface spells it. */
export interface BackoffOption {
  /** The first delay, in milliseconds. */
  initialMs?: number;
  /** The longest delay, in milliseconds. */
  maxMs?: number;
  /** `"full"`, or a ratio from 0 to 1 for ±ratio around the delay. */
  jitter?: Jitter;
}

/** The option with every field settled. */
export interface ResolvedBackoff {
  initialMs: number;
  maxMs: number;
  jitter: Jitter;
}

/**
 * Checks a client's `backoff` option and applies the defaults: 1 s, 5 min,
 * and the client's protocol jitter (full jitter unless it says otherwise).
 *
 * @param action What the client was doing, for the message (`"create HonchClient"`).
 * @param value The option as given.
 * @param jitter The protocol's jitter when the option names none.
 * @returns The settled option.
 * @throws {InvalidArgumentError} When a field is not usable; `argument` is `backoff.<field>`.
 */
export function resolveBackoffOption(
  action: string,
  value: unknown,
  jitter: Jitter = "full",
): ResolvedBackoff {
  const option = optionalObject<BackoffOption>(action, "backoff", value) ?? {};
  const initialMs = positiveNumber(action, "backoff.initialMs", option.initialMs, 1000);
  const maxMs = positiveNumber(action, "backoff.maxMs", option.maxMs, 300_000);
  if (maxMs < initialMs) {
    throw invalidArgument(
      action,
      "backoff.maxMs",
      `at least 'backoff.initialMs' (${initialMs})`,
      maxMs,
    );
  }
  const chosen = option.jitter ?? jitter;
  if (chosen !== "full" && !(typeof chosen === "number" && chosen >= 0 && chosen <= 1)) {
    throw invalidArgument(action, "backoff.jitter", '"full" or a number from 0 to 1', chosen, {
      reveal: true,
    });
  }
  return { initialMs, maxMs, jitter: chosen };
}
