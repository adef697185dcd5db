/**
 * Client addresses as rate limits see them: IPv6 bucketed by /64, IPv4
 * whole, IPv4-mapped IPv6 as IPv4; a proxy's forwarded address trusted only
 * with `trustProxy`; the mkStats handshake limit keyed per address and
 * plugin, not on the client's `user_hash`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { addressKey, forwardedAddress } from "../../src/server/_client_address.ts";
import { createServer, type EdgewireServer, type ServerOptions } from "../../src/server/mod.ts";
import { COMMON, makeServer, post } from "./_mkstats_routes_fixtures.ts";

function env(hostname: string): { remoteAddr: { hostname: string } } {
  return { remoteAddr: { hostname } };
}

function health(
  server: EdgewireServer,
  peer: string,
  headers: Record<string, string> = {},
): Promise<number> {
  return server.fetch(new Request("http://x/api/honch/events", { headers }), env(peer))
    .then(async (response) => {
      await response.body?.cancel();
      return response.status;
    });
}

/** A server whose per-address bucket holds two requests and never refills within a test. */
function tight(options: ServerOptions = {}): EdgewireServer {
  return createServer({
    now: () => 0,
    rateLimit: { address: { capacity: 2, refillPerSecond: 0.001 } },
    ...options,
  });
}

Deno.test("IPv6 addresses are keyed by their /64 and IPv4 addresses whole", () => {
  assert.equal(addressKey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:0DB8:0001:0002:ffff::1"), "2001:db8:1:2::/64");
  assert.equal(addressKey("[2001:db8:1:2::9]:443"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:db8::1%eth0"), "2001:db8:0:0::/64");
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
  assert.equal(addressKey("203.0.113.7"), "203.0.113.7");
  assert.equal(addressKey("203.0.113.7:8080"), "203.0.113.7");
  assert.equal(addressKey("::ffff:203.0.113.7"), "203.0.113.7");
  assert.equal(addressKey("::ffff:cb00:7107"), "203.0.113.7");
  assert.notEqual(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:3::1"));
  // Not an address: kept as the operator's resolver returned it.
  assert.equal(addressKey("unknown"), "unknown");
  assert.equal(addressKey("1:2:3:4:5:6:7:8:9"), "1:2:3:4:5:6:7:8:9");
  assert.equal(addressKey("999.0.0.1"), "999.0.0.1");
});

Deno.test("two hosts of one IPv6 /64 share a rate-limit bucket while another /64 does not", async () => {
  const server = tight();
  assert.equal(await health(server, "2001:db8:aa:1::1"), 403);
  assert.equal(await health(server, "2001:db8:aa:1:ffff:ffff:ffff:fffe"), 403);
  assert.equal(await health(server, "2001:db8:aa:1::77"), 429);
  assert.equal(await health(server, "2001:db8:aa:2::1"), 403);
  await server.close();
});

Deno.test("an IPv4-mapped IPv6 peer shares the bucket of its IPv4 address", async () => {
  const server = tight();
  assert.equal(await health(server, "198.51.100.4"), 403);
  assert.equal(await health(server, "::ffff:198.51.100.4"), 403);
  assert.equal(await health(server, "198.51.100.4"), 429);
  assert.equal(await health(server, "198.51.100.5"), 403);
  await server.close();
});

Deno.test("without trustProxy a forwarded address is ignored", async () => {
  const server = tight();
  const peer = "192.0.2.10";
  assert.equal(await health(server, peer, { "x-forwarded-for": "203.0.113.1" }), 403);
  assert.equal(await health(server, peer, { "x-forwarded-for": "203.0.113.2" }), 403);
  assert.equal(await health(server, peer, { "x-forwarded-for": "203.0.113.3" }), 429);
  await server.close();
});

Deno.test("with trustProxy one hop, the address the proxy appended is charged", async () => {
  const server = tight({ trustProxy: { hops: 1 } });
  const proxy = "10.0.0.2";
  // A client-written entry left of the proxy's is not believed.
  const spoofed = (n: number) => ({ "x-forwarded-for": `198.51.100.${n}, 203.0.113.9` });
  assert.equal(await health(server, proxy, spoofed(1)), 403);
  assert.equal(await health(server, proxy, spoofed(2)), 403);
  assert.equal(await health(server, proxy, spoofed(3)), 429);
  // Another real client behind the same proxy has its own bucket.
  assert.equal(await health(server, proxy, { "x-forwarded-for": "203.0.113.10" }), 403);
  await server.close();
});

Deno.test("trusted forwarded addresses walk back hops and stop at anything not an address", () => {
  const peer = "10.0.0.2";
  const xff = (value: string) =>
    new Request("http://x/", { headers: { "x-forwarded-for": value } });
  const two = { hops: 2, header: "x-forwarded-for" } as const;
  assert.equal(forwardedAddress(xff("203.0.113.5, 10.0.0.1"), peer, two), "203.0.113.5");
  assert.equal(forwardedAddress(xff("9.9.9.9, 203.0.113.5, 10.0.0.1"), peer, two), "203.0.113.5");
  // Fewer entries than hops: the leftmost one the proxies wrote.
  assert.equal(forwardedAddress(xff("10.0.0.1"), peer, two), "10.0.0.1");
  assert.equal(forwardedAddress(xff("junk, 10.0.0.1"), peer, two), "10.0.0.1");
  assert.equal(forwardedAddress(xff("nonsense"), peer, two), peer);
  assert.equal(forwardedAddress(new Request("http://x/"), peer, two), peer);
  const forwarded = new Request("http://x/", {
    headers: { forwarded: 'for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711";by=10.0.0.1' },
  });
  const one = { hops: 1, header: "forwarded" } as const;
  assert.equal(forwardedAddress(forwarded, peer, one), "2001:db8:cafe::17");
  assert.equal(forwardedAddress(forwarded, peer, { ...one, hops: 2 }), "192.0.2.60");
  const unknownFor = new Request("http://x/", { headers: { forwarded: "for=unknown" } });
  assert.equal(forwardedAddress(unknownFor, peer, one), peer);
});

Deno.test("trustProxy with the Forwarded header buckets the forwarded IPv6 by /64", async () => {
  const server = tight({ trustProxy: { header: "forwarded" } });
  const via = (address: string) => ({ forwarded: `for="[${address}]"` });
  assert.equal(await health(server, "10.0.0.2", via("2001:db8:5:6::1")), 403);
  assert.equal(await health(server, "10.0.0.2", via("2001:db8:5:6::2")), 403);
  assert.equal(await health(server, "10.0.0.2", via("2001:db8:5:6::3")), 429);
  assert.equal(await health(server, "10.0.0.2", via("2001:db8:5:7::1")), 403);
  await server.close();
});

Deno.test("trustProxy options out of range are refused naming the field", () => {
  assert.throws(() => createServer({ trustProxy: { hops: 0 } }), /trustProxy\.hops/);
  assert.throws(
    // @ts-expect-error: a header the server does not read
    () => createServer({ trustProxy: { header: "x-real-ip" } }),
    /trustProxy\.header/,
  );
});

Deno.test("the handshake limit holds per address and plugin whatever user_hash is sent", async () => {
  const { server } = makeServer({
    rateLimit: { install: { capacity: 2, refillPerSecond: 0.001 } },
  });
  const handshake = async (userHash: string, peer: string, plugin = COMMON.plugin_id) => {
    const body = { ...COMMON, plugin_id: plugin, user_hash: userHash };
    const response = await server.fetch(
      new Request("http://x/api/v1/handshake", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
      env(peer),
    );
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(await handshake("1".repeat(64), "192.0.2.1"), 200);
  assert.equal(await handshake("2".repeat(64), "192.0.2.1"), 200);
  const refused = await handshake("3".repeat(64), "192.0.2.1");
  assert.equal(refused, 429);
  // Another plugin from that address, and the same plugin elsewhere, are separate.
  assert.equal(await handshake("4".repeat(64), "192.0.2.1", "other_plugin"), 200);
  assert.equal(await handshake("5".repeat(64), "192.0.2.2"), 200);
  // The fixture's helper posts without a peer, which is "unknown" and limited alike.
  assert.equal((await post(server, "/api/v1/handshake", COMMON)).status, 200);
  await server.close();
});

Deno.test("addressKey() keys an address the same when met again, past its cache and beyond it", () => {
  const first = addressKey("2001:db8:1:2::9");
  // More addresses than the cache keeps, so it is emptied at least once
  for (let i = 0; i < 3000; i++) addressKey(`10.${i >> 8}.${i & 255}.1`);
  assert.equal(addressKey("2001:db8:1:2::9"), first);
  assert.equal(addressKey("10.11.184.1"), "10.11.184.1");
  // Text longer than any address is keyed as it is, never kept
  const long = `${"a".repeat(70)}`;
  assert.equal(addressKey(long), long);
});
