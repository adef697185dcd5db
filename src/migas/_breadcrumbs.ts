/**
 * Building and sending one breadcrumb: migas-py 0.5's REST body
 * (`POST /api/breadcrumb`) or migas-py 0.4's GraphQL `add_breadcrumb`
 * mutation, with the run's environment, user and session, each new
 * breadcrumb under a fresh `Idempotency-Key`, through the queue and
 * backoff of {@linkcode BreadcrumbDelivery}.
 *
 * @module
 */

import { newIdempotencyKey } from "../core/delivery/idempotency.ts";
import type { BreadcrumbDelivery, QueuedCrumb } from "./_breadcrumb_delivery.ts";
import { GqlEnum, operation } from "./_graphql.ts";
import { filterResponse, GENERIC_ERROR } from "./_request.ts";
import type { RunContext } from "./_run_context.ts";
import type { MigasSettings } from "./_settings.ts";
import { type BreadcrumbOptions, QUEUED_MESSAGE } from "./options.ts";
import type { BreadcrumbResult } from "./results.ts";

/** The breadcrumbs of one client. */
export class Breadcrumbs {
  readonly #settings: MigasSettings;
  readonly #context: RunContext;
  readonly #delivery: BreadcrumbDelivery;

  /**
   * @param settings The client's settings.
   * @param context The run's environment, user and session.
   * @param delivery The queue, backoff and engine that send them.
   */
  constructor(settings: MigasSettings, context: RunContext, delivery: BreadcrumbDelivery) {
    this.#settings = settings;
    this.#context = context;
    this.#delivery = delivery;
  }

  /** Sends one breadcrumb over the client's protocol; never rejects. */
  async send(
    project: string,
    version: string,
    options: BreadcrumbOptions,
  ): Promise<BreadcrumbResult> {
    const fallback: BreadcrumbResult = { success: false, message: GENERIC_ERROR };
    const environment = await this.#context.environment();
    const ctx = {
      user_id: await this.#context.user(),
      session_id: this.#context.session(),
      user_type: environment.user_type,
      platform: environment.platform,
      container: environment.container,
      is_ci: environment.is_ci,
    };
    const proc = {
      status: options.status ?? "R",
      status_desc: options.statusDesc,
      error_type: options.errorType,
      error_desc: options.errorDesc,
    };
    if (this.#settings.protocol === "rest") {
      const body = {
        project,
        project_version: version,
        language: environment.language,
        language_version: environment.language_version,
        ctx,
        proc,
      };
      const path = `/api/breadcrumb${options.wait ? "?wait=true" : ""}`;
      // JSON.stringify drops undefined fields, as migas-py filters out None
      return this.deliver({ path, body: JSON.stringify(body), operation: "" }, fallback);
    }
    const query = operation("mutation", "add_breadcrumb", [
      ["project", project],
      ["project_version", version],
      ["language", environment.language],
      ["language_version", environment.language_version],
      ["ctx", [
        ["session_id", ctx.session_id],
        ["user_id", ctx.user_id],
        ["user_type", new GqlEnum(ctx.user_type)],
        ["platform", ctx.platform],
        ["container", new GqlEnum(ctx.container)],
        ["is_ci", ctx.is_ci],
      ]],
      ["proc", [
        ["status", new GqlEnum(proc.status)],
        ["status_desc", proc.status_desc],
        ["error_type", proc.error_type],
        ["error_desc", proc.error_desc],
      ]],
    ], ["success"]);
    const crumb = {
      path: "/graphql",
      body: JSON.stringify({ query }),
      operation: "add_breadcrumb",
    };
    return this.deliver(crumb, fallback);
  }

  /**
   * Delivers a recording request under a new idempotency key, or queues it;
   * answers migas' filtered answer, or the fallback saying it was queued.
   */
  async deliver<T extends { success: boolean; message?: string }>(
    crumb: Omit<QueuedCrumb, "key">,
    fallback: T,
  ): Promise<T & { errors?: { message: string }[] }> {
    const response = await this.#delivery.deliver(
      { ...crumb, key: newIdempotencyKey() },
      this.#settings.timeoutMs,
    );
    if (response === undefined) {
      return { ...fallback, message: QUEUED_MESSAGE, errors: [{ message: QUEUED_MESSAGE }] };
    }
    return filterResponse(response.body, crumb.operation, fallback);
  }
}
