/**
 * The token-bearing mkStats requests: the daily ping and one counted event.
 * A revoked token (`401 invalid_install_token`) leads to one fresh handshake
 * and one retry; an event the server cannot count before a ping
 * (`409 metric_not_initialized`) leads to one ping and one retry. Direct
 * calls go through {@linkcode MkStatsRequests.guard}, which shares the
 * client's backoff; the flush goes through {@linkcode MkStatsRequests.deliver},
 * which reads every outcome as the delivery engine's answer.
 *
 * @module
 */

import { httpOutcome } from "../core/delivery/http_outcome.ts";
import { newIdempotencyKey } from "../core/delivery/idempotency.ts";
import type { SendOutcome } from "../core/delivery/outcome.ts";
import { HttpError } from "../core/errors.ts";
import type { EventBatch } from "./_event_source.ts";
import type { InstallSession } from "./_handshake.ts";
import { EVENT_POLICY } from "./_policy.ts";
import { postMkStats } from "./_post.ts";
import type { MkStatsSettings } from "./_settings.ts";
import { MkStatsBackoffError } from "./errors.ts";
import type { MkStatsResponse } from "./options.ts";

function isCode(error: unknown, status: number, code: string): boolean {
  return error instanceof HttpError && error.status === status && error.code === code;
}

/** The ping and event requests of one client. */
export class MkStatsRequests {
  readonly #settings: MkStatsSettings;
  readonly #session: InstallSession;

  /**
   * @param settings The client's settings.
   * @param session The install token and handshake.
   */
  constructor(settings: MkStatsSettings, session: InstallSession) {
    this.#settings = settings;
    this.#session = session;
  }

  /** `POST /data`, with one idempotency key kept by its retry after a re-handshake. */
  ping(installToken?: string, timestamp?: number): Promise<MkStatsResponse> {
    const key = newIdempotencyKey();
    return this.#withToken(installToken, async (token) => {
      const body = {
        ...await this.#session.common(),
        install_token: token,
        timestamp: timestamp ?? this.#seconds(),
      };
      return (await postMkStats(this.#settings, "/data", body, undefined, key)).body ?? {};
    });
  }

  /** `POST /event` for one count the server accepts, under `key`. */
  event(
    installToken: string | undefined,
    event: string,
    count: number,
    timestamp: number | undefined,
    key: string,
  ): Promise<MkStatsResponse> {
    return this.#withToken(installToken, async (token) => {
      const body = {
        ...await this.#session.common(),
        install_token: token,
        event,
        count,
        timestamp: timestamp ?? this.#seconds(),
      };
      try {
        return (await postMkStats(this.#settings, "/event", body, undefined, key)).body ?? {};
      } catch (error) {
        if (!isCode(error, 409, "metric_not_initialized")) throw error;
        await this.ping(token);
        return (await postMkStats(this.#settings, "/event", body, undefined, key)).body ?? {};
      }
    });
  }

  /**
   * Runs a direct call under the shared backoff. While backing off it
   * answers `{}` as the original does; every retryable failure starts (or
   * extends) the backoff, and a 429 then also answers `{}`; anything else is
   * thrown so the caller knows. With `keep`, what could not be sent is handed
   * to it (to queue) whenever the call answers `{}` or fails in a way a retry
   * may fix, and the call answers `{}` instead of throwing: the event is not
   * lost, and a caller has no reason to retry (which would count it twice).
   */
  async guard(
    send: () => Promise<MkStatsResponse>,
    keep?: () => void,
  ): Promise<MkStatsResponse> {
    const { gate } = this.#settings;
    if (gate.remainingMs() > 0) {
      keep?.();
      return {};
    }
    try {
      const answer = await send();
      gate.succeeded();
      return answer;
    } catch (error) {
      if (error instanceof MkStatsBackoffError) {
        keep?.();
        return {};
      }
      const outcome = this.#classify(error);
      if (outcome.kind === "retry" && outcome.reason !== "aborted") {
        gate.failed(outcome.retryAfterMs);
        if (keep !== undefined) {
          keep();
          return {};
        }
        if (outcome.status === 429) return {};
      }
      throw error;
    }
  }

  /** The engine's send: one `POST /event` (after a handshake or ping when needed). */
  async deliver(batch: EventBatch): Promise<SendOutcome> {
    try {
      const answer = await this.event(undefined, batch.event, batch.count, undefined, batch.key);
      return httpOutcome({
        answer: { status: 200, headers: new Headers(), body: answer, retryAfterMs: undefined },
      }, EVENT_POLICY);
    } catch (error) {
      return this.#classify(error);
    }
  }

  #classify(error: unknown): SendOutcome {
    if (this.#session.isHandshakeError(error)) {
      return { kind: "retry", reason: "handshake", error };
    }
    return httpOutcome({ error }, EVENT_POLICY);
  }

  // Sends one token-bearing request; a 401 invalid_install_token leads to one
  // fresh handshake and one retry, never a loop
  async #withToken(
    given: string | undefined,
    send: (token: string) => Promise<MkStatsResponse>,
  ): Promise<MkStatsResponse> {
    const token = given ?? await this.#session.tokenOrHandshake();
    try {
      return await send(token);
    } catch (error) {
      if (!isCode(error, 401, "invalid_install_token")) throw error;
      await this.#session.forget(token);
      return await send(await this.#session.handshakeMarked());
    }
  }

  #seconds(): number {
    return Math.floor(this.#settings.now() / 1000);
  }
}
