/**
 * Client addresses as rate limits and quotas see them: IPv4 whole, IPv6 by
 * its /64 (one host is usually handed a whole /64, so exact addresses rotate
 * past any per-address limit), IPv4-mapped IPv6 as IPv4; and the forwarded
 * address of a trusted reverse proxy, read only when the operator says so.
 *
 * @module
 */

/** Which forwarded address to trust, resolved from `ServerOptions.trustProxy`. */
export interface TrustProxySettings {
  /** How many proxies in front of the server append to the header. */
  readonly hops: number;
  /** The header they write. */
  readonly header: "x-forwarded-for" | "forwarded";
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

function ipv4Octets(text: string): number[] | undefined {
  const match = IPV4.exec(text);
  if (match === null) return undefined;
  const octets = match.slice(1).map(Number);
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

/** Parses IPv6 text into its eight 16-bit groups, or `undefined`. */
function ipv6Groups(text: string): number[] | undefined {
  let value = text.toLowerCase();
  const zone = value.indexOf("%");
  if (zone !== -1) value = value.slice(0, zone);
  const lastColon = value.lastIndexOf(":");
  if (lastColon !== -1 && value.includes(".", lastColon)) {
    // An embedded IPv4 tail (`::ffff:192.0.2.1`) is its last two groups.
    const octets = ipv4Octets(value.slice(lastColon + 1));
    if (octets === undefined) return undefined;
    const high = ((octets[0] << 8) | octets[1]).toString(16);
    const low = ((octets[2] << 8) | octets[3]).toString(16);
    value = `${value.slice(0, lastColon + 1)}${high}:${low}`;
  }
  const halves = value.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups = part.split(":");
    if (!groups.every((group) => HEX_GROUP.test(group))) return undefined;
    return groups.map((group) => parseInt(group, 16));
  };
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if (head === undefined || rest === undefined) return undefined;
  const known = head.length + rest.length;
  if (halves.length === 2) {
    if (known > 7) return undefined;
    return [...head, ...new Array<number>(8 - known).fill(0), ...rest];
  }
  return known === 8 ? head : undefined;
}

/**
 * Strips what may surround an address in a header or a runtime's answer:
 * brackets, a port, quotes and spaces.
 */
function bareAddress(text: string): string {
  let value = text.trim();
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
    value = value.slice(1, -1).trim();
  }
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    return end === -1 ? value : value.slice(1, end);
  }
  // One colon means IPv4 with a port; IPv6 has at least two.
  const colon = value.indexOf(":");
  if (colon !== -1 && value.indexOf(":", colon + 1) === -1) return value.slice(0, colon);
  return value;
}

/**
 * The key an address is rate limited under: IPv4 as is, IPv4-mapped IPv6 as
 * its IPv4 address, other IPv6 as its /64 (`2001:db8:1:2::/64`). Anything
 * else (a name an operator's `clientAddress` returned, `unknown`) is kept.
 *
 * @param address The address, possibly with brackets or a port.
 * @returns The key.
 */
export function addressKey(address: string): string {
  // Only address-sized text is kept: a forwarded header may carry anything
  if (address.length > 64) return computeAddressKey(address);
  let key = knownKeys.get(address);
  if (key === undefined) {
    // Dropped whole when full: the bound matters, not which addresses stay
    if (knownKeys.size >= KNOWN_KEYS) knownKeys.clear();
    knownKeys.set(address, key = computeAddressKey(address));
  }
  return key;
}

/** The keys of addresses met lately: parsing one per request cost more than its two limits. */
const knownKeys = new Map<string, string>();
const KNOWN_KEYS = 1024;

function computeAddressKey(address: string): string {
  const bare = bareAddress(address);
  const v4 = ipv4Octets(bare);
  if (v4 !== undefined) return v4.join(".");
  const groups = ipv6Groups(bare);
  if (groups === undefined) return address;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join(".");
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(":")}::/64`;
}

/**
 * Whether text is an IPv4 or IPv6 address (brackets and a port allowed).
 *
 * @param text The text.
 * @returns Whether it is an address.
 */
export function isIpAddress(text: string): boolean {
  const bare = bareAddress(text);
  return ipv4Octets(bare) !== undefined || ipv6Groups(bare) !== undefined;
}

function forwardedFor(header: string): string[] {
  const addresses: string[] = [];
  for (const element of header.split(",")) {
    let found = "";
    for (const pair of element.split(";")) {
      const equals = pair.indexOf("=");
      if (equals === -1) continue;
      if (pair.slice(0, equals).trim().toLowerCase() === "for") found = pair.slice(equals + 1);
    }
    addresses.push(found);
  }
  return addresses;
}

/**
 * The client's address behind `hops` trusted proxies: walking from the
 * connection's peer back through the addresses the proxies appended, it
 * stops at the `hops`-th one, or earlier at the first entry that is missing
 * or not an address (a client may write anything left of what the proxies
 * appended, so only their entries are believed).
 *
 * @param request The request.
 * @param peer The connection's peer address, as the runtime reports it.
 * @param trust The number of proxies and their header.
 * @returns The address to charge the request to.
 */
export function forwardedAddress(
  request: Request,
  peer: string,
  trust: TrustProxySettings,
): string {
  const header = request.headers.get(trust.header);
  if (header === null) return peer;
  const chain = trust.header === "forwarded"
    ? forwardedFor(header)
    : header.split(",").map((entry) => entry.trim());
  let address = peer;
  for (let hop = 0; hop < trust.hops && chain.length > 0; hop++) {
    const next = chain.pop() as string;
    if (!isIpAddress(next)) break;
    address = bareAddress(next);
  }
  return address;
}
