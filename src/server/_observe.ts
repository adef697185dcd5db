/**
 * Operator visibility: one structured log entry per error or rejection (a
 * request id, method, route pattern, status and reason, never a key, token
 * or body), and the counters `GET /metrics` renders in the Prometheus text
 * format. Memory stays bounded: counters are keyed by route pattern, status
 * and reason code, all chosen by the server, never by the client.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { rejectionOf, RequestRejection } from "./_validate.ts";
import type { ServerLogEntry } from "./options.ts";

/** One gauge sample for {@linkcode ServerMetrics.render}. */
export interface Gauge {
  /** The metric name, `edgewire_` prefixed. */
  readonly name: string;
  /** What it measures. */
  readonly help: string;
  /** The value. */
  readonly value: number;
  /** Labels, server-chosen, such as `{ table: "honch_partials" }`; samples of one name go together. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** What {@linkcode ServerMetrics.snapshot} reads: the counters `/metrics` renders. */
export interface MetricsSnapshot {
  /** Requests answered, by method, route pattern and status. */
  readonly requests: readonly {
    readonly method: string;
    readonly route: string;
    readonly status: number;
    readonly count: number;
  }[];
  /** Requests refused or failed, by reason code. */
  readonly rejections: readonly { readonly reason: string; readonly count: number }[];
}

/** The most distinct counter series kept, so a misbehaving route cannot grow memory. */
const MAX_SERIES = 2000;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Request and rejection counters. */
export class ServerMetrics {
  readonly #requests = new Map<string, number>();
  readonly #rejections = new Map<string, number>();

  /**
   * Counts one answered request.
   *
   * @param method The HTTP method.
   * @param route The matched route pattern.
   * @param status The status answered.
   * @param reason The rejection code, for a 4xx or 5xx.
   */
  record(method: string, route: string, status: number, reason: string | undefined): void {
    bump(this.#requests, `${method}\u0000${route}\u0000${status}`);
    if (reason !== undefined) bump(this.#rejections, reason);
  }

  /**
   * Reads every counter, for the dashboard.
   *
   * @returns The request counts by method, route pattern and status, and the rejections by reason.
   */
  snapshot(): MetricsSnapshot {
    const requests = [...this.#requests].map(([key, count]) => {
      const [method, route, status] = key.split("\u0000");
      return { method, route, status: Number(status), count };
    });
    const rejections = [...this.#rejections].map(([reason, count]) => ({ reason, count }));
    return { requests, rejections };
  }

  /**
   * Renders every counter and the given gauges.
   *
   * @param gauges Point-in-time values, such as open connections.
   * @returns The Prometheus text exposition (version 0.0.4).
   */
  render(gauges: readonly Gauge[]): string {
    const lines = [
      "# HELP edgewire_http_requests_total Requests answered, by method, route pattern and status.",
      "# TYPE edgewire_http_requests_total counter",
    ];
    for (const [key, count] of this.#requests) {
      const [method, route, status] = key.split("\u0000");
      lines.push(
        `edgewire_http_requests_total{method="${escapeLabel(method)}",route="${
          escapeLabel(route)
        }",status="${status}"} ${count}`,
      );
    }
    lines.push(
      "# HELP edgewire_http_rejections_total Requests refused or failed, by reason code.",
      "# TYPE edgewire_http_rejections_total counter",
    );
    for (const [reason, count] of this.#rejections) {
      lines.push(`edgewire_http_rejections_total{reason="${escapeLabel(reason)}"} ${count}`);
    }
    let previous: string | undefined;
    for (const gauge of gauges) {
      // One HELP and TYPE per name: labelled samples of a name come one after another.
      if (gauge.name !== previous) {
        lines.push(`# HELP ${gauge.name} ${gauge.help}`, `# TYPE ${gauge.name} gauge`);
      }
      previous = gauge.name;
      const labels = Object.entries(gauge.labels ?? {})
        .map(([label, value]) => `${label}="${escapeLabel(value)}"`).join(",");
      lines.push(`${gauge.name}${labels === "" ? "" : `{${labels}}`} ${gauge.value}`);
    }
    return lines.join("\n") + "\n";
  }
}

function bump(map: Map<string, number>, key: string): void {
  const count = map.get(key);
  if (count !== undefined) map.set(key, count + 1);
  else if (map.size < MAX_SERIES) map.set(key, 1);
}

/**
 * The default `log`: 5xx entries to `console.error` as one JSON line; 4xx
 * rejections are counted in `/metrics` but not written.
 *
 * @param entry The entry.
 */
export function defaultLog(entry: ServerLogEntry): void {
  if (entry.status >= 500) console.error(JSON.stringify(entry));
}

function reasonOf(error: unknown, status: number): string | undefined {
  // The code the route chose; a body without one is counted by its status, never by its content.
  if (error instanceof RequestRejection) return error.code ?? `http_${status}`;
  if (error !== undefined) return rejectionOf(error).code;
  if (status === 404) return "not_found";
  if (status >= 400) return `http_${status}`;
  return undefined;
}

function patternOf(c: Context): string {
  const route = routePath(c, -1);
  // Only middleware matched: nothing answered this path.
  return route === "" || route === "*" || route === "/*" ? "unmatched" : route;
}

/**
 * Counts every request and logs each 4xx or 5xx answer once.
 *
 * @param metrics The counters.
 * @param log Where entries go.
 * @param now The clock, in milliseconds.
 * @returns The middleware, to install first.
 */
export function observe(
  metrics: ServerMetrics,
  log: (entry: ServerLogEntry) => void,
  now: () => number,
): MiddlewareHandler {
  return async (c, next) => {
    const started = now();
    await next();
    recordOutcome(metrics, log, now, {
      started,
      method: c.req.method,
      route: patternOf(c),
      response: c.res,
      error: c.error,
    });
  };
}

/** One answered request, as {@linkcode recordOutcome} counts and logs it. */
export interface Outcome {
  /** When the request arrived, by the server's clock. */
  readonly started: number;
  /** The request's method. */
  readonly method: string;
  /** The route pattern that answered, or `"unmatched"`. */
  readonly route: string;
  /** The answer; a 4xx or 5xx one gets its `X-Request-Id` here. */
  readonly response: Response;
  /** What the route threw, when it threw. */
  readonly error: unknown;
}

/**
 * Counts one answered request and logs it when it is a 4xx or 5xx: what
 * {@linkcode observe} does after each request, also called by the routes
 * the server serves without Hono's dispatch.
 *
 * @param metrics The counters.
 * @param log Where entries go.
 * @param now The clock, in milliseconds.
 * @param outcome The request and its answer.
 */
export function recordOutcome(
  metrics: ServerMetrics,
  log: (entry: ServerLogEntry) => void,
  now: () => number,
  outcome: Outcome,
): void {
  const { response, method, route } = outcome;
  const status = response.status;
  const reason = reasonOf(outcome.error, status);
  metrics.record(method, route, status, reason);
  if (status < 400) return;
  const id = crypto.randomUUID();
  const entry: ServerLogEntry = {
    time: new Date(outcome.started).toISOString(),
    level: status >= 500 ? "error" : "warn",
    requestId: id,
    method,
    route,
    status,
    reason: reason ?? `http_${status}`,
    durationMs: Math.max(0, now() - outcome.started),
  };
  if (outcome.error !== undefined && !(outcome.error instanceof RequestRejection)) {
    // The class only: a message may quote what the client sent.
    entry.error = outcome.error instanceof Error ? outcome.error.name : "Error";
  }
  try {
    response.headers.set("x-request-id", id);
  } catch {
    // Immutable headers (a runtime's own answer): the id is still logged.
  }
  try {
    log(entry);
  } catch {
    // A failing logger must not turn an answer into a 500.
  }
}
