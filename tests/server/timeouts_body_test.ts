/**
 * The request body deadline, tested against a real `Deno.serve` on
 * 127.0.0.1 with raw TCP clients that send their headers and half a body and
 * then stall: each must get 408 `request_timeout` with `Connection: close`
 * within the bound, and a few hundred of them must not make the server's
 * memory grow without limit (finding of issue 12: 3,000 such connections
 * stayed open for 45 s and took the server from 59 MB to 620 MB).
 * `Deno.serve` 2.x keeps the socket itself open after the 408 (a body read it
 * has pending holds the connection), which no handler can change; the
 * README's deployment section shows the proxy setting that closes it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createServer } from "../../src/server/mod.ts";

const TIMEOUT_MS = 300;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A real server answering with the app, on a free port. */
function listen(bodyTimeoutMs: number) {
  const server = createServer({
    difficulty: 1,
    bodyTimeoutMs,
    rateLimit: { address: { capacity: Infinity }, install: { capacity: Infinity } },
  });
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => server.fetch(request),
  );
  return {
    port: http.addr.port,
    async close(): Promise<void> {
      await http.shutdown();
      await server.close();
    },
  };
}

/**
 * Sends headers promising `length` bytes and only the first half of the body. A
 * small body is read whole, a large one in pieces: both must time out.
 */
async function stallHalfway(port: number, length = 200): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = "POST /api/v1/handshake HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
    `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
  await conn.write(encoder.encode(head + '{"unique_user_id":"' + "a".repeat(length / 2 - 20)));
  return conn;
}

/** Reads the answer head up to its JSON body's end. */
async function readAnswer(conn: Deno.TcpConn): Promise<{ text: string; answeredAt: number }> {
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!text.includes("}")) {
    const count = await conn.read(buffer);
    if (count === null) break;
    text += decoder.decode(buffer.subarray(0, count));
  }
  return { text, answeredAt: performance.now() };
}

function rssBytes(): number {
  return Deno.memoryUsage().rss;
}

Deno.test("a client stalling halfway through its body gets 408 with Connection: close within the bound", async () => {
  const server = listen(TIMEOUT_MS);
  try {
    const started = performance.now();
    const conn = await stallHalfway(server.port);
    const { text, answeredAt } = await readAnswer(conn);
    const elapsed = answeredAt - started;
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(text, /\r\nconnection: close\r\n/i);
    assert.match(text, /"error":"request_timeout"/);
    assert.ok(elapsed >= TIMEOUT_MS - 20, `answered after ${elapsed} ms, before the deadline`);
    assert.ok(elapsed < TIMEOUT_MS + 2000, `answered after ${elapsed} ms, past the bound`);
    conn.close();
  } finally {
    await server.close();
  }
});

Deno.test("a client stalling halfway through a body read in pieces gets 408 too", async () => {
  const server = listen(TIMEOUT_MS);
  try {
    const started = performance.now();
    // Past the size read whole, under the 16 KiB limit
    const conn = await stallHalfway(server.port, 12_000);
    const { text, answeredAt } = await readAnswer(conn);
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(text, /"error":"request_timeout"/);
    assert.ok(answeredAt - started >= TIMEOUT_MS - 20);
    conn.close();
  } finally {
    await server.close();
  }
});

Deno.test("a client sending its whole body in time is answered as usual", async () => {
  const server = listen(TIMEOUT_MS);
  try {
    const response = await fetch(`http://127.0.0.1:${server.port}/api/v1/handshake`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "[]",
    });
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error, "invalid_request");
  } finally {
    await server.close();
  }
});

Deno.test("a few hundred stalled bodies are all answered 408 within the deadline", async () => {
  const COUNT = 300;
  const server = listen(TIMEOUT_MS);
  try {
    const before = rssBytes();
    const started = performance.now();
    const conns: Deno.TcpConn[] = [];
    for (let i = 0; i < COUNT; i++) conns.push(await stallHalfway(server.port));
    const answers = await Promise.all(conns.map(readAnswer));
    const held = rssBytes();
    const last = Math.max(...answers.map((a) => a.answeredAt)) - started;
    const timedOut = answers.filter((a) => /^HTTP\/1\.1 408 /.test(a.text)).length;
    for (const conn of conns) conn.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = rssBytes();
    console.log(
      `${COUNT} stalled bodies: RSS ${(before / 2 ** 20).toFixed(1)} MB before, ` +
        `${(held / 2 ** 20).toFixed(1)} MB once all were answered 408 (in ${
          last.toFixed(0)
        } ms), ` +
        `${(after / 2 ** 20).toFixed(1)} MB after the clients hung up`,
    );
    assert.equal(timedOut, COUNT);
    assert.ok(last < TIMEOUT_MS + 5000, `the last answer came after ${last} ms`);
    // RSS is printed, not asserted: it is the whole test process's and moves with the rest of
    // the suite (issue 12's memory figure under this attack belongs in a bench script)
  } finally {
    await server.close();
  }
});
