/**
 * A D1 binding for tests that drive a D1 store from this process, reached
 * over HTTP: a Worker in workerd ({@linkcode D1_BRIDGE_WORKER}) prepares,
 * binds and runs each statement or batch on its real D1 binding and answers
 * with D1's own results, while statements are prepared and bound here,
 * locally. Miniflare's binding proxy instead makes a synchronous round trip
 * to workerd for every `prepare()` and `bind()` (about 12 ms together), so a
 * batch of 3,000 statements took 38 s through it and takes one request here.
 *
 * D1 itself carries rows as JSON (a BLOB as an array of byte values), so
 * JSON loses nothing of a result; bound values are tagged so that bytes,
 * `undefined`, big integers and non-finite numbers reach D1's `bind()` as
 * they were given, and D1 accepts or refuses them there as it would.
 *
 * @module
 */

import type {
  D1Database,
  D1PreparedStatement,
  D1Result,
  D1Value,
} from "../../src/server/d1/d1_database.ts";

/** One bound value as carried to the Worker: a tag and what it takes to rebuild it. */
type Carried =
  | ["value", string | number | boolean | null]
  | ["number", string]
  | ["undefined"]
  | ["bigint", string]
  | ["buffer", number[]]
  | ["view", number[]];

/** One statement as carried to the Worker: `params` absent when `bind()` was never called. */
interface CarriedStatement {
  sql: string;
  params?: Carried[];
}

/**
 * The bridge Worker's module: a POST of `{ binding, method, statements }`
 * runs the statements on `env[binding]`, one with `first`, `all` or `run`,
 * or all of them with `batch`, and answers `{ result }` or, when D1 threw,
 * `{ error }` with its name, message and cause's message.
 */
export const D1_BRIDGE_WORKER = `
const decode = ([tag, value]) => {
  switch (tag) {
    case "value": return value;
    case "number": return Number(value);
    case "undefined": return undefined;
    case "bigint": return BigInt(value);
    case "buffer": return new Uint8Array(value).buffer;
    case "view": return new Uint8Array(value);
  }
  throw new TypeError("Unknown tag " + tag);
};
export default {
  async fetch(request, env) {
    const { binding, method, statements } = await request.json();
    const db = env[binding];
    if (db === undefined) {
      return Response.json({ error: { name: "Error", message: "No D1 binding " + binding } });
    }
    try {
      const prepared = statements.map(({ sql, params }) => {
        const statement = db.prepare(sql);
        return params === undefined ? statement : statement.bind(...params.map(decode));
      });
      const result = method === "batch" ? await db.batch(prepared) : await prepared[0][method]();
      return Response.json({ result });
    } catch (error) {
      const cause = error?.cause instanceof Error ? error.cause.message : undefined;
      return Response.json({
        error: { name: error?.name ?? "Error", message: String(error?.message ?? error), cause },
      });
    }
  },
};
`;

function carry(value: D1Value): Carried {
  const unknownValue = value as unknown;
  switch (typeof unknownValue) {
    case "string":
    case "boolean":
      return ["value", unknownValue];
    case "number":
      return Number.isFinite(unknownValue) ? ["value", unknownValue] : ["number", String(value)];
    case "undefined":
      return ["undefined"];
    case "bigint":
      return ["bigint", String(unknownValue)];
  }
  if (value === null) return ["value", null];
  if (value instanceof ArrayBuffer) return ["buffer", Array.from(new Uint8Array(value))];
  if (ArrayBuffer.isView(value)) {
    return ["view", Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))];
  }
  throw new TypeError(
    `Cannot carry a value of type ${typeof value} to D1 over the test bridge: ` +
      `bind strings, numbers, null or bytes`,
  );
}

/** A statement prepared and bound in this process, run by the bridge Worker. */
class BridgedStatement implements D1PreparedStatement {
  readonly #bridge: D1Bridge;
  readonly carried: CarriedStatement;

  constructor(bridge: D1Bridge, carried: CarriedStatement) {
    this.#bridge = bridge;
    this.carried = carried;
  }

  bind(...values: D1Value[]): D1PreparedStatement {
    return new BridgedStatement(this.#bridge, { sql: this.carried.sql, params: values.map(carry) });
  }

  first(): Promise<Record<string, unknown> | null> {
    return this.#bridge.send("first", [this]);
  }

  all(): Promise<D1Result> {
    return this.#bridge.send("all", [this]);
  }

  run(): Promise<D1Result> {
    return this.#bridge.send("run", [this]);
  }
}

/**
 * One D1 database of a bridge Worker, as a {@linkcode D1Database}: what
 * `first()`, `all()`, `run()` and `batch()` return or throw is what the
 * Worker's binding returned or threw.
 *
 * @example
 * ```ts ignore
 * const db = new D1Bridge(workerUrl, "DB0");
 * console.log(await db.prepare("SELECT ? AS one").bind(1).first()); // { one: 1 }
 * ```
 */
export class D1Bridge implements D1Database {
  readonly #url: URL;
  readonly #binding: string;

  /**
   * Reaches one binding of a running bridge Worker.
   *
   * @param url Where the Worker answers.
   * @param binding The name of its D1 binding.
   */
  constructor(url: URL, binding: string) {
    this.#url = url;
    this.#binding = binding;
  }

  /**
   * Prepares a statement locally; nothing reaches D1 until it runs.
   *
   * @param query The SQL.
   * @returns The statement.
   */
  prepare(query: string): D1PreparedStatement {
    return new BridgedStatement(this, { sql: query });
  }

  /**
   * Runs statements as one D1 batch, in one request.
   *
   * @param statements Statements this bridge prepared.
   * @returns D1's results.
   * @throws {Error} What D1 threw, with its message, or a TypeError for a statement of another binding.
   */
  batch(statements: D1PreparedStatement[]): Promise<D1Result[]> {
    return this.send("batch", statements);
  }

  /**
   * Sends statements to the Worker and hands back D1's answer.
   *
   * @param method What to run.
   * @param statements The statements, this bridge's own.
   * @returns D1's result.
   * @throws {Error} What D1 threw, rebuilt with its name, message and cause.
   */
  async send<T>(method: string, statements: D1PreparedStatement[]): Promise<T> {
    const carried = statements.map((statement) => {
      if (!(statement instanceof BridgedStatement)) {
        throw new TypeError("Cannot run a statement another binding prepared over the D1 bridge");
      }
      return statement.carried;
    });
    const response = await fetch(this.#url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ binding: this.#binding, method, statements: carried }),
    });
    if (!response.ok) {
      throw new Error(`The D1 bridge Worker answered ${response.status}: ${await response.text()}`);
    }
    const answer = await response.json() as {
      result?: T;
      error?: { name: string; message: string; cause?: string };
    };
    if (answer.error !== undefined) {
      const { name, message, cause } = answer.error;
      const error = new Error(message, cause === undefined ? {} : { cause: new Error(cause) });
      error.name = name;
      throw error;
    }
    return answer.result as T;
  }
}
