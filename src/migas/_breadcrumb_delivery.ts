/**
 * Delivery of migas breadcrumbs through the core engine. A breadcrumb is
 * sent at once; when it cannot be delivered (a 5xx, 408, 429, timeout,
 * network error, or an answer that is not migas') it is queued in storage,
 * the backoff starts, and it goes out with a later call, in this run or the
 * next, carrying the same `Idempotency-Key`. Only migas' own refusal (a
 * FastAPI `detail` or GraphQL `errors` answer marked `X-Backend-Server`, or
 * a mutation answering `success: false`) drops it, counted.
 *
 * @module
 */

import { BackoffGate, type Jitter } from "../core/backoff.ts";
import { DeliveryEngine } from "../core/delivery/engine.ts";
import { httpOutcome, type HttpOutcomePolicy } from "../core/delivery/http_outcome.ts";
import type { SendOutcome } from "../core/delivery/outcome.ts";
import type { HttpAnswer } from "../core/http.ts";
import { BoundedQueue } from "../core/queue.ts";
import type { Storage } from "../core/storage.ts";
import { filterResponse, type MigasResponse } from "./_request.ts";
import type { MigasQueueStats } from "./results.ts";

/** One breadcrumb request, as queued: the path under the endpoint, the body, its key. */
export interface QueuedCrumb {
  /** `/api/breadcrumb`, `/api/breadcrumb?wait=true` or `/graphql`. */
  path: string;
  /** The JSON body, as sent. */
  body: string;
  /** The GraphQL mutation's name, `""` over REST. */
  operation: string;
  /** The idempotency key, the same on every try. */
  key: string;
}

/** Settings of a {@linkcode BreadcrumbDelivery}. */
export interface BreadcrumbDeliveryOptions {
  storage: Storage;
  maxQueued: number;
  backoff?: { initialMs?: number; maxMs?: number; jitter?: Jitter };
  now: () => number;
  random?: () => number;
  /** Sends one breadcrumb; never rejects. */
  post: (crumb: QueuedCrumb, timeoutMs?: number) => Promise<MigasResponse>;
}

const QUEUE_KEY = "migas:queue";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** migas' verdicts on a breadcrumb, told apart from proxies and portals. */
function policyFor(operation: string): HttpOutcomePolicy {
  return {
    refusal: (answer) => {
      const body = answer.body;
      if (!isRecord(body)) return undefined;
      const ok = answer.status >= 200 && answer.status <= 299;
      // A mutation that answers success: false is migas saying no (an unregistered project)
      const result = operation === ""
        ? body
        : isRecord(body.data)
        ? body.data[operation]
        : undefined;
      if (ok && isRecord(result) && result.success === false) return "rejected";
      // FastAPI's and strawberry's refusals: only from a server that says it is migas
      if (!answer.headers.has("x-backend-server")) return undefined;
      if (![400, 413, 422].includes(answer.status)) return undefined;
      const graphqlErrors = Array.isArray(body.errors) && body.errors.length > 0;
      return body.detail !== undefined || graphqlErrors ? "rejected" : undefined;
    },
    accepted: (answer) =>
      filterResponse(answer.body, operation, { success: false as boolean }).success === true,
  };
}

/** Reads one migas answer, real or synthesised, as a delivery outcome. */
export function crumbOutcome(response: MigasResponse, operation: string): SendOutcome {
  if (response.failure !== undefined) return { kind: "retry", reason: response.failure };
  const answer: HttpAnswer = {
    status: response.status,
    headers: response.headers ?? new Headers(),
    body: response.body,
    retryAfterMs: response.retryAfterMs,
  };
  return httpOutcome({ answer }, policyFor(operation));
}

/** The queue, the backoff and the engine of one migas client. */
export class BreadcrumbDelivery {
  readonly #queue: BoundedQueue<QueuedCrumb>;
  readonly #gate: BackoffGate;
  readonly #engine: DeliveryEngine<QueuedCrumb>;
  readonly #post: BreadcrumbDeliveryOptions["post"];
  #restored: Promise<void> | undefined;
  #sent = 0;
  #refused = 0;
  readonly #refusedByReason = new Map<string, number>();
  #timeoutMs: number | undefined;

  constructor(options: BreadcrumbDeliveryOptions) {
    this.#post = options.post;
    this.#queue = new BoundedQueue<QueuedCrumb>({
      maxItems: options.maxQueued,
      storage: options.storage,
      storageKey: QUEUE_KEY,
    });
    this.#gate = new BackoffGate({
      initialMs: options.backoff?.initialMs,
      maxMs: options.backoff?.maxMs,
      jitter: options.backoff?.jitter,
      now: options.now,
      random: options.random,
    });
    this.#engine = new DeliveryEngine<QueuedCrumb>({
      gate: this.#gate,
      source: {
        next: () => this.#queue.peek(1)[0],
        settle: (crumb, outcome) => {
          if (this.#queue.peek(1)[0]?.key !== crumb.key) return;
          if (outcome.kind === "dropped") this.#queue.drop(1, outcome.reason);
          else {
            this.#queue.shift(1);
            this.#sent++;
          }
        },
      },
      send: async (crumb) =>
        crumbOutcome(await this.#post(crumb, this.#timeoutMs), crumb.operation),
    });
  }

  /** Reads the stored queue once; only called when telemetry is on. */
  restore(): Promise<void> {
    this.#restored ??= this.#queue.restore();
    return this.#restored;
  }

  /**
   * Sends one new breadcrumb, or queues it while backing off or when it
   * cannot be delivered; after a delivery, sends queued ones within `budgetMs`.
   * Answers migas' answer, or `undefined` when nothing was sent.
   */
  async deliver(crumb: QueuedCrumb, budgetMs: number): Promise<MigasResponse | undefined> {
    const started = Date.now();
    await this.restore();
    if (this.#gate.remainingMs() > 0) {
      await this.#keep(crumb);
      return undefined;
    }
    const response = await this.#post(crumb);
    const outcome = crumbOutcome(response, crumb.operation);
    if (outcome.kind === "retry") {
      this.#gate.failed(outcome.retryAfterMs);
      await this.#keep(crumb);
      return response;
    }
    this.#gate.succeeded();
    if (outcome.kind === "sent") this.#sent++;
    else {
      this.#refused++;
      this.#refusedByReason.set(
        outcome.reason,
        (this.#refusedByReason.get(outcome.reason) ?? 0) + 1,
      );
    }
    if (this.#queue.length > 0) await this.flush(budgetMs - (Date.now() - started));
    return response;
  }

  /** Sends queued breadcrumbs until done, backing off, or `budgetMs` is spent. */
  async flush(budgetMs?: number): Promise<void> {
    await this.restore();
    if (this.#queue.length === 0) return;
    if (budgetMs !== undefined && budgetMs <= 0) return;
    const controller = new AbortController();
    const timer = budgetMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(), budgetMs);
    this.#timeoutMs = budgetMs;
    try {
      await this.#engine.drain({ signal: controller.signal });
    } finally {
      clearTimeout(timer);
      this.#timeoutMs = undefined;
      await this.#queue.persisted();
    }
  }

  /** The queue's counters, refusals of direct sends included. */
  stats(): MigasQueueStats {
    const stats = this.#queue.stats();
    const droppedByReason = { ...stats.droppedByReason };
    for (const [reason, n] of this.#refusedByReason) {
      droppedByReason[reason] = (droppedByReason[reason] ?? 0) + n;
    }
    return {
      ...stats,
      dropped: stats.dropped + this.#refused,
      droppedByReason,
      sent: this.#sent,
      backoffRemainingMs: this.#gate.remainingMs(),
    };
  }

  async #keep(crumb: QueuedCrumb): Promise<void> {
    this.#queue.push(crumb);
    // A CLI may exit right after this call: the write must have landed
    await this.#queue.persisted();
  }
}
