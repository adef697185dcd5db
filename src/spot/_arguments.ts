/**
 * The checks of `SpotClient`'s arguments that name what is wrong: a
 * `sendTo` target and sender endpoint, and a handler's endpoint. Addresses
 * and endpoints are not secret, so the errors show them.
 *
 * @module
 */

import { invalidArgument } from "../core/validate.ts";

/**
 * Checks the target and the `from` endpoint of `sendTo`.
 *
 * @param target The peer's address.
 * @param from The sender endpoint, if any.
 * @returns Nothing.
 * @throws {InvalidArgumentError} When the target is not a `k.` address or `from` does not start with `/`.
 *
 * @example
 * ```ts
 * import { checkSendTarget } from "./_arguments.ts";
 *
 * checkSendTarget(`k.${"A".repeat(43)}/inbox`, "/me");
 * ```
 */
export function checkSendTarget(target: unknown, from: unknown): void {
  if (typeof target !== "string" || !target.startsWith("k.")) {
    throw invalidArgument("send Spot message", "target", "a k.<hash>/<endpoint> address", target, {
      reveal: true,
    });
  }
  if (from !== undefined && !String(from).startsWith("/")) {
    throw invalidArgument("send Spot message", "from", "an endpoint starting with '/'", from, {
      reveal: true,
    });
  }
}

/**
 * Checks a handler's endpoint: not empty, without `/`.
 *
 * @param endpoint The endpoint.
 * @returns Nothing.
 * @throws {InvalidArgumentError} When it is empty, holds `/` or is not a string.
 *
 * @example
 * ```ts
 * import { checkEndpoint } from "./_arguments.ts";
 *
 * checkEndpoint("echo");
 * ```
 */
export function checkEndpoint(endpoint: unknown): asserts endpoint is string {
  if (typeof endpoint !== "string" || endpoint === "" || endpoint.includes("/")) {
    throw invalidArgument(
      "set Spot handler",
      "endpoint",
      "a non-empty string without '/'",
      endpoint,
      {
        reveal: true,
      },
    );
  }
}
