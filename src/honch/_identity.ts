/**
 * Who the Honch client's events belong to: the distinct id (the device id
 * until `identify()`, persisted under `honch:distinct_id`) and the running
 * session with its `sess_` id. Events tracked before the persisted id is
 * read are marked so the client can give them the restored id.
 *
 * @module
 */

import type { Storage } from "../core/storage.ts";
import { nonEmptyString } from "../core/validate.ts";
import { MAX_DISTINCT_ID_BYTES } from "./_properties.ts";

/** Where the identified distinct id persists. */
export const KEY_DISTINCT_ID = "honch:distinct_id";

/** The distinct id and the session of the events being tracked. */
export class Identity {
  readonly #deviceId: string;
  readonly #storage: Storage;
  readonly #random: () => number;
  #distinctId: string;
  #known = false;
  #sessionId: string | undefined;

  /**
   * Starts with the device id as distinct id, not yet known to be final.
   *
   * @param deviceId The device id.
   * @param storage Where the identified id persists.
   * @param random Uniform numbers in [0, 1) for session ids.
   */
  constructor(deviceId: string, storage: Storage, random: () => number) {
    this.#deviceId = deviceId;
    this.#storage = storage;
    this.#random = random;
    this.#distinctId = deviceId;
  }

  /** The distinct id later events get. */
  get distinctId(): string {
    return this.#distinctId;
  }

  /** The running session's id, if any. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** Whether the distinct id is final: restored from storage, identified or reset. */
  get known(): boolean {
    return this.#known;
  }

  /**
   * Takes the persisted id read at start, unless `identify()` or `reset()` came first.
   *
   * @param storedId What storage held, if anything.
   * @returns The distinct id events tracked before the start should get.
   */
  restore(storedId: string | undefined): string {
    if (!this.#known && typeof storedId === "string" && storedId !== "") {
      this.#distinctId = storedId;
    }
    this.#known = true;
    return this.#distinctId;
  }

  /**
   * Switches to a new distinct id, checked with {@linkcode checkDistinctId}.
   *
   * @param distinctId The user's id.
   * @returns The previous distinct id, for `$anon_distinct_id`.
   */
  identify(distinctId: string): string {
    const previous = this.#distinctId;
    this.#distinctId = distinctId;
    this.#known = true;
    return previous;
  }

  /** Persists the distinct id in the background; a failed write is not retried. */
  persist(): void {
    this.#storage.set(KEY_DISTINCT_ID, this.#distinctId).catch(() => {});
  }

  /** Goes back to the device id with no session, and forgets the persisted id. */
  reset(): void {
    this.#distinctId = this.#deviceId;
    this.#known = true;
    this.#sessionId = undefined;
    this.#storage.delete(KEY_DISTINCT_ID).catch(() => {});
  }

  /**
   * Makes a new session id (`sess_` and 32 hex digits) the running one.
   *
   * @returns The new id.
   */
  startSession(): string {
    let id = "sess_";
    for (let i = 0; i < 4; i++) {
      id += (Math.floor(this.#random() * 0x1_0000_0000) >>> 0).toString(16).padStart(8, "0");
    }
    this.#sessionId = id;
    return id;
  }

  /** Ends the running session: later events carry no session id. */
  endSession(): void {
    this.#sessionId = undefined;
  }
}

/**
 * Checks a distinct id given to `identify()`: a string of 1..256 bytes.
 *
 * @param distinctId What the caller passed.
 * @throws {InvalidArgumentError} When it is empty, too long or not a string.
 */
export function checkDistinctId(distinctId: unknown): void {
  nonEmptyString("identify", "distinctId", distinctId, undefined, {
    maxBytes: MAX_DISTINCT_ID_BYTES,
  });
}
