/**
 * The discovery answer of `GET /_special/rest/Spot:connect`: `{hosts,
 * min_conn}`, bare or wrapped as the REST layer answers it (`{data: …}` or
 * `{result: "success", data: …}`). spotlib dials at most the first 10 hosts
 * and keeps `min_conn` connections, all of them when it is 0 or absent.
 *
 * @module
 */

import { SpotProtocolError } from "./errors.ts";

/** The most hosts a client dials, as spotlib. */
export const MAX_DISCOVERY_HOSTS = 10;

/** A parsed discovery answer. */
export interface DiscoveryAnswer {
  /** The relays to dial (`wss://<host>/_websocket`), at most 10, in the answer's order. */
  hosts: string[];
  /**
   * How many connections to keep: `min_conn`, or every host when it is 0 or absent,
   * and never more than `hosts.length` (spotlib would keep redialling for the rest).
   */
  minConn: number;
}

// A host name, an IPv4 address or a bracketed IPv6 one, with an optional port: nothing that
// could change the URL it is put in
const HOST = /^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * Parses a discovery answer.
 *
 * @param answer The answer's JSON, parsed or as text.
 * @returns The hosts and the number of connections to keep.
 * @throws {SpotProtocolError} With code `invalid_discovery` when the answer is not JSON,
 * reports an error, has no non-empty `hosts` array, holds a host that is not a host
 * name or address (with an optional port), or a `min_conn` that is not an integer in
 * 0..2^32 - 1.
 *
 * @example
 * ```ts
 * import { parseDiscoveryAnswer } from "./discovery.ts";
 *
 * const answer = parseDiscoveryAnswer({ result: "success", data: { hosts: ["a.example", "b.example"], min_conn: 1 } });
 * console.log(answer); // { hosts: [ "a.example", "b.example" ], minConn: 1 }
 * ```
 */
export function parseDiscoveryAnswer(answer: unknown): DiscoveryAnswer {
  let value = answer;
  if (typeof answer === "string") {
    try {
      value = JSON.parse(answer);
    } catch (cause) {
      throw new SpotProtocolError(
        "invalid_discovery",
        `Cannot parse Spot discovery answer of ${answer.length} characters as it is not JSON: retry later`,
        { cause },
      );
    }
  }
  if (isRecord(value) && !("hosts" in value)) {
    if (value.result === "error" || ("error" in value && !("data" in value))) {
      const said = typeof value.error === "string"
        ? JSON.stringify(value.error.slice(0, 100))
        : "no reason";
      throw bad(`it reports an error (${said})`);
    }
    if ("data" in value) value = value.data;
  }
  if (!isRecord(value)) throw bad("it is not an object");
  const hosts = value.hosts;
  if (!Array.isArray(hosts) || hosts.length === 0) throw bad("it has no non-empty 'hosts' array");
  hosts.forEach((host, index) => {
    if (typeof host !== "string" || host.length > 261 || !HOST.test(host)) {
      throw bad(`hosts[${index}] is not a host name or address with an optional port`);
    }
  });
  const kept = (hosts as string[]).slice(0, MAX_DISCOVERY_HOSTS);
  const minConn = value.min_conn ?? 0;
  if (
    typeof minConn !== "number" || !Number.isInteger(minConn) || minConn < 0 || minConn > 0xffffffff
  ) {
    throw bad("'min_conn' is not an integer in 0..4294967295");
  }
  return { hosts: kept, minConn: minConn === 0 ? kept.length : Math.min(minConn, kept.length) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function bad(why: string): SpotProtocolError {
  return new SpotProtocolError(
    "invalid_discovery",
    `Cannot use Spot discovery answer as ${why}: retry later`,
  );
}
