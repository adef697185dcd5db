/**
 * The mkStats install handshake and the install token it yields: one
 * handshake at a time, the proof-of-work solved when the server asks for
 * one, the token kept in storage, forgotten when the server revokes it. A
 * storage that fails only leaves the token in memory. Errors the handshake
 * threw are remembered so delivery treats them as retries, never refusals.
 *
 * @module
 */

import { solvePow } from "../pow/solve.ts";
import { commonFields, type InstallIdentity } from "./_identity.ts";
import { postMkStats } from "./_post.ts";
import type { MkStatsSettings } from "./_settings.ts";
import { MkStatsBackoffError, MkStatsProtocolError } from "./errors.ts";

const TOKEN_KEY = "install_token";

/** The install token of one client, and the handshake that gets it. */
export class InstallSession {
  readonly #settings: MkStatsSettings;
  readonly #identity: Promise<InstallIdentity>;
  readonly #errors = new WeakSet<object>();
  #token: string | undefined;
  #loaded = false;
  #handshaking: Promise<string> | undefined;

  /**
   * @param settings The client's settings.
   * @param identity The install's hashes, resolved once.
   */
  constructor(settings: MkStatsSettings, identity: Promise<InstallIdentity>) {
    this.#settings = settings;
    this.#identity = identity;
  }

  /** The fields every request carries, once the identity is known. */
  async common(): Promise<Record<string, string>> {
    return commonFields(this.#settings, await this.#identity);
  }

  /** The kept token, loaded from storage on first use; `undefined` before a handshake. */
  async token(): Promise<string | undefined> {
    if (!this.#loaded) {
      // A storage that cannot be read leaves the token in memory only: a handshake, not a crash
      this.#token = await Promise.resolve()
        .then(() => this.#settings.storage.get(this.#key()))
        .catch(() => undefined);
      this.#loaded = true;
    }
    return this.#token;
  }

  /** Performs the handshake; concurrent calls share one. */
  handshake(signal?: AbortSignal): Promise<string> {
    this.#handshaking ??= this.#handshake(signal).finally(() => {
      this.#handshaking = undefined;
    });
    return this.#handshaking;
  }

  /** The kept token, or a fresh one from a handshake whose errors are marked. */
  async tokenOrHandshake(): Promise<string> {
    return (await this.token()) ?? await this.handshakeMarked();
  }

  /** A handshake whose failure {@linkcode isHandshakeError} recognises. */
  async handshakeMarked(): Promise<string> {
    try {
      return await this.handshake();
    } catch (error) {
      if (typeof error === "object" && error !== null) this.#errors.add(error);
      throw error;
    }
  }

  /** Whether `error` came from a handshake started by a send. */
  isHandshakeError(error: unknown): boolean {
    return typeof error === "object" && error !== null && this.#errors.has(error);
  }

  /** Forgets a revoked token, unless a concurrent request already replaced it. */
  async forget(token: string): Promise<void> {
    if (this.#token !== token) return;
    this.#token = undefined;
    await Promise.resolve()
      .then(() => this.#settings.storage.delete(this.#key()))
      .catch(() => {});
  }

  #key(): string {
    return this.#settings.prefix + TOKEN_KEY;
  }

  async #handshake(signal?: AbortSignal): Promise<string> {
    const { gate, powMaxMs, storage } = this.#settings;
    const remaining = gate.remainingMs();
    if (remaining > 0) {
      throw new MkStatsBackoffError(
        `Cannot handshake while backing off after a failure: retry in ${
          Math.ceil(remaining / 1000)
        } s`,
        remaining,
      );
    }
    const payload = await this.common();
    let answer = (await postMkStats(this.#settings, "/handshake", payload, signal)).body;
    if (typeof answer?.install_token !== "string" && answer?.pow_required) {
      const challenge = answer.pow_challenge;
      const difficulty = Number(answer.pow_difficulty);
      if (typeof challenge !== "string" || challenge === "" || !Number.isInteger(difficulty)) {
        throw new MkStatsProtocolError(
          "Cannot solve the handshake's proof-of-work as the answer lacks 'pow_challenge' or an integer 'pow_difficulty'",
        );
      }
      const { nonce } = await solvePow(challenge, difficulty, { maxMs: powMaxMs, signal });
      const solved = { ...payload, pow_challenge: challenge, pow_nonce: nonce };
      answer = (await postMkStats(this.#settings, "/handshake", solved, signal)).body;
    }
    const token = answer?.install_token;
    if (typeof token !== "string" || token === "") {
      throw new MkStatsProtocolError(
        "Cannot finish the handshake as the answer has no 'install_token'",
      );
    }
    this.#token = token;
    this.#loaded = true;
    gate.succeeded();
    await Promise.resolve()
      .then(() => storage.set(this.#key(), token))
      .catch(() => {});
    return token;
  }
}
