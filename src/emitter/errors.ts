/**
 * The errors the Emitter client raises for answers of the broker that are
 * MQTT-level refusals: {@linkcode EmitterConnectError} for a CONNACK that is
 * not 0, {@linkcode EmitterSubscribeError} for a SUBACK of `0x80`. Refusals
 * the broker words itself arrive as `EmitterError` from the security module;
 * timeouts, aborts and lost connections are the core's `TimeoutError`,
 * `AbortedError` and `NetworkError`.
 *
 * @module
 */

import { EdgewireError } from "../core/errors.ts";

const CONNACK_MEANING: Readonly<Record<number, string>> = Object.freeze({
  1: "it does not accept MQTT 3.1.1",
  2: "it rejected the client identifier",
  3: "it is unavailable",
  4: "it rejected the user name or password",
  5: "the client is not authorized",
});

/**
 * The broker answered CONNECT with a CONNACK return code other than 0.
 *
 * @example
 * ```ts
 * import { EmitterConnectError } from "./errors.ts";
 *
 * const error = new EmitterConnectError(5);
 * console.log(error.returnCode, error.code); // 5 "connack_5"
 * ```
 */
export class EmitterConnectError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "EmitterConnectError";

  /** The CONNACK return code, 1 to 5. */
  readonly returnCode: number;

  /**
   * Creates the error.
   *
   * @param returnCode The CONNACK return code.
   */
  constructor(returnCode: number) {
    super(
      `Cannot connect to the Emitter broker as it answered CONNACK ${returnCode} (${
        CONNACK_MEANING[returnCode] ?? "an unknown code"
      }): check the endpoint and the credentials`,
      { code: `connack_${returnCode}` },
    );
    this.returnCode = returnCode;
  }
}

/**
 * The broker refused a subscription (SUBACK return code `0x80`), usually
 * because the key may not read the channel.
 *
 * @example
 * ```ts
 * import { EmitterSubscribeError } from "./errors.ts";
 *
 * const error = new EmitterSubscribeError("chat/");
 * console.log(error.channel, error.code); // "chat/" "subscribe_refused"
 * ```
 */
export class EmitterSubscribeError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "EmitterSubscribeError";

  /** The channel refused, without its key. */
  readonly channel: string;

  /**
   * Creates the error.
   *
   * @param channel The channel refused, without its key (never put a key in an error).
   */
  constructor(channel: string) {
    super(
      `Cannot subscribe to '${channel}' as the broker refused it: check that the key may read the channel`,
      { code: "subscribe_refused" },
    );
    this.channel = channel;
  }
}
