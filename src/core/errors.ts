/**
 * The error classes every Edgewire module throws. Each one extends
 * {@linkcode EdgewireError}, so one `instanceof` check catches anything the
 * package raises, and each carries fields a caller can branch on instead of
 * parsing messages. No message ever contains a key or a token.
 *
 * @module
 */

/** Options shared by every {@linkcode EdgewireError} constructor. */
export interface EdgewireErrorOptions {
  /** The error that led to this one. */
  cause?: unknown;
  /** A machine-readable code, such as the `error` field of a JSON answer. */
  code?: string;
}

/**
 * The base class of every error Edgewire throws.
 *
 * @example Catch anything the package raises
 * ```ts
 * import { EdgewireError } from "@edgewire/sdk";
 *
 * try {
 *   throw new EdgewireError("Cannot reach the server");
 * } catch (error) {
 *   if (error instanceof EdgewireError) console.log(error.code ?? error.message);
 * }
 * ```
 */
export class EdgewireError extends Error {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "EdgewireError";

  /** A machine-readable code, when the cause has one. */
  readonly code: string | undefined;

  /**
   * Creates an error.
   *
   * @param message What went wrong and what to do about it.
   * @param options The cause and a machine-readable code.
   */
  constructor(message: string, options: EdgewireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
  }
}

/**
 * An argument or an option has a value the operation cannot use. Thrown
 * synchronously, once, where the value is first seen.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError } from "@edgewire/sdk";
 *
 * const error = new InvalidArgumentError("timeoutMs", "Cannot create client as 'timeoutMs' must be positive: current value is 0");
 * console.log(error.argument); // "timeoutMs"
 * ```
 */
export class InvalidArgumentError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "InvalidArgumentError";

  /** The name of the argument or option at fault. */
  readonly argument: string;

  /**
   * Creates an error about one argument.
   *
   * @param argument The name of the argument or option at fault.
   * @param message What is wrong with it and what to do.
   */
  constructor(argument: string, message: string) {
    super(message, { code: "invalid_argument" });
    this.argument = argument;
  }
}

/**
 * An operation did not finish within its deadline.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "@edgewire/sdk";
 *
 * const error = new TimeoutError("Cannot finish POST /data within 10000 ms", 10000);
 * console.log(error.timeoutMs); // 10000
 * ```
 */
export class TimeoutError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "TimeoutError";

  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * Creates a timeout error.
   *
   * @param message What timed out.
   * @param timeoutMs The deadline that passed, in milliseconds.
   * @param options The cause.
   */
  constructor(message: string, timeoutMs: number, options: EdgewireErrorOptions = {}) {
    super(message, { code: "timeout", ...options });
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The caller aborted the operation through its `AbortSignal`.
 *
 * @example
 * ```ts
 * import { AbortedError } from "@edgewire/sdk";
 *
 * const error = new AbortedError("Heartbeat stopped as its signal was aborted");
 * console.log(error.code); // "aborted"
 * ```
 */
export class AbortedError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "AbortedError";

  /**
   * Creates an abort error.
   *
   * @param message What was aborted.
   * @param options The abort reason as `cause`.
   */
  constructor(message: string, options: EdgewireErrorOptions = {}) {
    super(message, { code: "aborted", ...options });
  }
}

/**
 * The request never got an HTTP answer: DNS, connection refused, reset, TLS.
 *
 * @example
 * ```ts
 * import { NetworkError } from "@edgewire/sdk";
 *
 * const error = new NetworkError("Cannot reach http://127.0.0.1:1/data: connection refused");
 * console.log(error.code); // "network"
 * ```
 */
export class NetworkError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "NetworkError";

  /**
   * Creates a network error.
   *
   * @param message What could not be reached.
   * @param options The underlying error as `cause`.
   */
  constructor(message: string, options: EdgewireErrorOptions = {}) {
    super(message, { code: "network", ...options });
  }
}

/** Fields of an {@linkcode HttpError} beyond its message. */
export interface HttpErrorOptions extends EdgewireErrorOptions {
  /** How long the server asked the client to wait, from `Retry-After`. */
  retryAfterMs?: number;
  /** The decoded body of the answer: JSON when it parsed, text otherwise. */
  body?: unknown;
}

/**
 * The server answered with a status outside 200–299. `code` holds the JSON
 * `error` field of the answer when there is one.
 *
 * @example Branch on the status
 * ```ts
 * import { HttpError } from "@edgewire/sdk";
 *
 * const error = new HttpError("POST /event answered 409", 409, { code: "metric_not_initialized" });
 * if (error.status === 409 && error.code === "metric_not_initialized") console.log("ping first");
 * ```
 */
export class HttpError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "HttpError";

  /** The HTTP status code. */
  readonly status: number;
  /** How long the server asked the client to wait, from `Retry-After`. */
  readonly retryAfterMs: number | undefined;
  /** The decoded body of the answer: JSON when it parsed, text otherwise. */
  readonly body: unknown;

  /**
   * Creates an HTTP error.
   *
   * @param message Which request failed and how.
   * @param status The HTTP status code.
   * @param options The `error` code, `Retry-After` and body of the answer.
   */
  constructor(message: string, status: number, options: HttpErrorOptions = {}) {
    super(message, options);
    this.status = status;
    this.retryAfterMs = options.retryAfterMs;
    this.body = options.body;
  }
}

/** The storage operation a {@linkcode StorageError} comes from. */
export type StorageOperation = "get" | "set" | "delete";

/** Fields of a {@linkcode StorageError} beyond its message. */
export interface StorageErrorOptions extends EdgewireErrorOptions {
  /** The key the failed operation was about. */
  key: string;
  /** The operation that failed. */
  operation: StorageOperation;
}

/**
 * A storage operation failed. `code` is `"storage_quota"` when the store is
 * full and `"storage"` otherwise; `cause` holds the underlying error. The
 * message never contains the value being stored.
 *
 * @example Tell a full store apart
 * ```ts
 * import { StorageError, WebStorage } from "@edgewire/sdk";
 *
 * try {
 *   await new WebStorage().set("queue", "[]");
 * } catch (error) {
 *   if (error instanceof StorageError && error.code === "storage_quota") console.log("full");
 * }
 * ```
 */
export class StorageError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "StorageError";

  /** The key the failed operation was about. */
  readonly key: string;
  /** The operation that failed. */
  readonly operation: StorageOperation;

  /**
   * Creates a storage error.
   *
   * @param message What failed and what to do about it.
   * @param options The key, the operation, the cause and the code (default `"storage"`).
   */
  constructor(message: string, options: StorageErrorOptions) {
    super(message, { cause: options.cause, code: options.code ?? "storage" });
    this.key = options.key;
    this.operation = options.operation;
  }
}
