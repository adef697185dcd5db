import assert from "node:assert/strict";
import fc from "fast-check";
import { hex } from "@scure/base";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { encodeMessage, type WireBatch } from "../../src/honch/wire_v2.ts";
import { createServer, type EdgewireServer, type ServerOptions } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { sha256Hex } from "../../src/server/_context.ts";

interface WireFixture {
  name: string;
  input: { message_id: number; source_type: number; base_time_ms: number };
  compact_message_hex: string;
  fixture: {
    decoded_compact_message: {
      batch_context: Record<string, string>;
      events: { event: string; time_delta_ms: number; properties: Record<string, unknown>[] }[];
    };
    expanded_event_json: unknown[];
    expected_capture_response_code: number;
    frames: { hex: string; kind: string; offset?: number }[];
  };
}

interface CoredumpFixture {
  name: string;
  input: { message_id: number; stream_id: string };
  fixture: { blob_hex: string; frames: { hex: string; kind: string }[] };
}

interface JsonFixture {
  name: string;
  fixture: {
    request: { body: unknown };
    expected_ingest_status: number;
    expected_expanded_events?: unknown[];
    expected_accepted?: number;
    expected_rejected?: number;
    expected_error_codes?: string[];
  };
}

const vectors = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/honch_wire_v2.json", import.meta.url)),
) as {
  wire_v2_fixtures: WireFixture[];
  coredump_fixtures: CoredumpFixture[];
  json_ingest_fixtures: JsonFixture[];
  spec_tables: {
    conformance_fixture_expectations: { expected_capture_response_code: Record<string, number> };
  };
};

const KEY = "phc_test_project_key";
const ADMIN = "admin-key-for-tests";
const CHUNK = "application/vnd.honch.chunk";

class Clock {
  time = Date.UTC(2025, 0, 15, 12);
  readonly now = (): number => this.time;
}

function makeServer(options: ServerOptions = {}): { server: EdgewireServer; clock: Clock } {
  const clock = new Clock();
  const server = createServer({
    adminKey: ADMIN,
    now: clock.now,
    ...options,
    honch: { projectKeys: [KEY], ...options.honch },
  });
  return { server, clock };
}

function postFrame(
  server: EdgewireServer,
  frame: Uint8Array | string,
  headers: Record<string, string> = {},
  path = "/capture",
): Promise<Response> {
  const bytes = typeof frame === "string" ? hex.decode(frame) : frame;
  const body = new Uint8Array(bytes) as Uint8Array<ArrayBuffer>;
  return server.fetch(
    new Request(`http://x${path}`, {
      method: "POST",
      headers: { "content-type": CHUNK, "x-honch-project-key": KEY, ...headers },
      body,
    }),
  );
}

function postJson(
  server: EdgewireServer,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return server.fetch(
    new Request("http://x/capture", {
      method: "POST",
      headers: { "content-type": "application/json", "x-honch-project-key": KEY, ...headers },
      body: JSON.stringify(body),
    }),
  );
}

async function status(response: Response): Promise<number> {
  await response.body?.cancel();
  return response.status;
}

async function errorOf(response: Response, expected: number): Promise<Record<string, unknown>> {
  const body = await response.json();
  assert.equal(response.status, expected, JSON.stringify(body));
  return body;
}

async function storedEvents(server: EdgewireServer, key = KEY): Promise<unknown[]> {
  const response = await server.fetch(
    new Request(`http://x/api/honch/events?project_key=${encodeURIComponent(key)}&limit=1000`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    }),
  );
  assert.equal(response.status, 200);
  return (await response.json()).events;
}

// An independent frame builder and CRC, so these tests do not lean on the codec under test.
function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}

function uvarint(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

interface FrameSpec {
  messageId: number;
  sourceType?: number;
  continuation: boolean;
  more: boolean;
  offset?: number;
  totalLength?: number;
  payload: Uint8Array;
  crc?: number;
}

function frame(spec: FrameSpec): Uint8Array {
  const header = 2 | ((spec.sourceType ?? 0) << 2) | (spec.continuation ? 0x20 : 0) |
    (spec.more ? 0x40 : 0);
  const bytes = [header, ...uvarint(spec.messageId)];
  if (spec.continuation) bytes.push(...uvarint(spec.offset ?? 0));
  else if (spec.more) bytes.push(...uvarint(spec.totalLength ?? 0));
  bytes.push(...spec.payload);
  if (!spec.more) bytes.push((spec.crc ?? 0) & 0xff, (spec.crc ?? 0) >> 8);
  return new Uint8Array(bytes);
}

/** Splits a message into frames starting at `cuts`, the final one carrying the CRC. */
function chunk(message: Uint8Array, messageId: number, cuts: number[], sourceType = 0) {
  const starts = [0, ...cuts];
  const crc = crc16(message);
  return starts.map((start, index) => {
    const end = index + 1 < starts.length ? starts[index + 1] : message.length;
    const last = index === starts.length - 1;
    return frame({
      messageId,
      sourceType,
      continuation: index > 0,
      more: !last,
      offset: start,
      totalLength: message.length,
      payload: message.subarray(start, end),
      crc,
    });
  });
}

function fixture(name: string): WireFixture {
  const found = vectors.wire_v2_fixtures.find((entry) => entry.name === name);
  assert.ok(found, name);
  return found;
}

/** The canonical event of a fixture's one decoded event, built from its decoded fields. */
function expectedFromDecoded(entry: WireFixture): unknown[] {
  const decoded = entry.fixture.decoded_compact_message;
  const { distinct_id, ...promoted } = decoded.batch_context;
  return decoded.events.map((event) => ({
    event: event.event,
    distinct_id,
    timestamp: entry.input.base_time_ms + event.time_delta_ms,
    properties: Object.assign({}, promoted, ...event.properties),
  }));
}

function context(sdkVersion = "0.3.1"): WireBatch["context"] {
  return [
    "user-1",
    "device-1",
    "model-x",
    "1.0.0",
    "posix",
    sdkVersion,
    "production",
  ].map((value, index) => ({ id: index + 1, value: { type: "string", value } }));
}

async function removeDb(path: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
}

Deno.test("the frame builder of these tests reproduces the fixture frames", () => {
  const entry = fixture("duplicate-continuation");
  const message = hex.decode(entry.compact_message_hex);
  const frames = chunk(message, entry.input.message_id, [37, 74]);
  assert.equal(hex.encode(frames[0]), entry.fixture.frames[0].hex);
  assert.equal(hex.encode(frames[1]), entry.fixture.frames[1].hex);
  const single = fixture("single-required-context");
  const [only] = chunk(hex.decode(single.compact_message_hex), single.input.message_id, []);
  assert.equal(hex.encode(only), single.fixture.frames[0].hex);
});

for (const entry of vectors.wire_v2_fixtures) {
  Deno.test(`wire-v2 fixture '${entry.name}' answers its expected codes and stores its events`, async () => {
    const { server } = makeServer();
    const expected = entry.fixture.expected_capture_response_code;
    assert.equal(
      vectors.spec_tables.conformance_fixture_expectations.expected_capture_response_code[
        entry.name
      ],
      expected,
    );
    const frames = entry.fixture.frames;
    for (const [index, item] of frames.entries()) {
      const response = await postFrame(server, item.hex, { "x-honch-stream-id": "fixture-stream" });
      const want = index === frames.length - 1 ? expected : 202;
      if (want === 204) {
        assert.equal(response.status, 204, `${entry.name} frame ${index}`);
        assert.equal(await response.text(), "");
      } else {
        const body = await errorOf(response, want);
        if (want === 202) assert.equal(body.status, "chunk_stored");
      }
    }
    assert.deepEqual(await storedEvents(server), entry.fixture.expanded_event_json);
    await server.close();
  });
}

Deno.test("the duplicate continuation is taken once and the missing final frame completes the message", async () => {
  const entry = fixture("duplicate-continuation");
  const message = hex.decode(entry.compact_message_hex);
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "dup-stream" };
  const received: unknown[] = [];
  for (const item of entry.fixture.frames) {
    received.push((await errorOf(await postFrame(server, item.hex, headers), 202)).received);
  }
  // The duplicate appended nothing: the byte count stays where the first copy left it.
  assert.deepEqual(received, [37, 74, 74]);
  const final = chunk(message, entry.input.message_id, [37, 74])[2];
  assert.equal(await status(await postFrame(server, final, headers)), 204);
  assert.deepEqual(await storedEvents(server), expectedFromDecoded(entry));
  await server.close();
});

Deno.test("a duplicate frame with other bytes at a stored offset is answered 409", async () => {
  const entry = fixture("duplicate-continuation");
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "dup-stream" };
  await status(await postFrame(server, entry.fixture.frames[0].hex, headers));
  await status(await postFrame(server, entry.fixture.frames[1].hex, headers));
  const altered = hex.decode(entry.fixture.frames[1].hex);
  altered[altered.length - 1] ^= 0xff;
  const body = await errorOf(await postFrame(server, altered, headers), 409);
  assert.equal(body.error, "frame_conflict");
  await server.close();
});

Deno.test("the CRC failure fixture is refused with 400 before decoding and stores nothing", async () => {
  const entry = fixture("crc-failure");
  const { server } = makeServer();
  const body = await errorOf(await postFrame(server, entry.fixture.frames[0].hex), 400);
  assert.equal(body.error, "bad_crc");
  assert.deepEqual(await storedEvents(server), []);
  await server.close();
});

Deno.test("a multi-frame CRC failure drops the partial, so a retry from offset 0 succeeds", async () => {
  const entry = fixture("single-custom-properties");
  const message = hex.decode(entry.compact_message_hex);
  const frames = chunk(message, 77, [40, 90]);
  const corrupt = frames[2].slice();
  corrupt[corrupt.length - 1] ^= 0x01;
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "crc-stream" };
  assert.equal(await status(await postFrame(server, frames[0], headers)), 202);
  assert.equal(await status(await postFrame(server, frames[1], headers)), 202);
  assert.equal((await errorOf(await postFrame(server, corrupt, headers), 400)).error, "bad_crc");
  assert.deepEqual(await storedEvents(server), []);
  for (const [index, item] of frames.entries()) {
    assert.equal(await status(await postFrame(server, item, headers)), index < 2 ? 202 : 204);
  }
  assert.deepEqual(await storedEvents(server), entry.fixture.expanded_event_json);
  await server.close();
});

Deno.test("a bytes property is refused with 422 as the value-types fixture expects", async () => {
  const message = encodeMessage({
    baseTimeMs: 1_700_000_000_000,
    context: context(),
    events: [{
      name: "blob",
      timestampMs: 1_700_000_000_000,
      properties: [{ key: "raw", value: { type: "bytes", value: new Uint8Array([0xde, 0xad]) } }],
    }],
  });
  const { server } = makeServer();
  const [single] = chunk(message, 9, []);
  const body = await errorOf(await postFrame(server, single), 422);
  assert.equal(body.error, "invalid_message");
  assert.equal(
    vectors.spec_tables.conformance_fixture_expectations.expected_capture_response_code[
      "value-types"
    ],
    422,
  );
  assert.deepEqual(await storedEvents(server), []);
  await server.close();
});

Deno.test("a float and nested property message split across frames is stored as one event", async () => {
  const message = encodeMessage({
    baseTimeMs: 1_700_000_000_000,
    context: context(),
    events: [{
      name: "sample",
      timestampMs: 1_700_000_000_250,
      properties: [
        { key: "ratio", value: { type: "float64", value: 0.5 } },
        {
          key: "nested",
          value: {
            type: "map",
            entries: [{ key: "k", value: { type: "array", items: [{ type: "int", value: -3 }] } }],
          },
        },
      ],
    }],
  });
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "split-stream" };
  const frames = chunk(message, 12, [1, 50, message.length - 1]);
  for (const [index, item] of frames.entries()) {
    assert.equal(await status(await postFrame(server, item, headers)), index < 3 ? 202 : 204);
  }
  const [stored] = await storedEvents(server) as { event: string; properties: object }[];
  assert.equal(stored.event, "sample");
  assert.deepEqual(
    { ...stored.properties },
    {
      $device_id: "device-1",
      $device_model: "model-x",
      $environment: "production",
      $firmware_version: "1.0.0",
      $sdk_platform: "posix",
      $sdk_version: "0.3.1",
      ratio: 0.5,
      nested: { k: [-3] },
    },
  );
  await server.close();
});

for (const entry of vectors.json_ingest_fixtures) {
  Deno.test(`JSON ingest fixture '${entry.name}' answers ${entry.fixture.expected_ingest_status} and stores its events`, async () => {
    const { server } = makeServer();
    const response = await postJson(server, entry.fixture.request.body);
    const body = await response.json();
    const expectedStatus = entry.fixture.expected_ingest_status;
    assert.equal(response.status, expectedStatus, JSON.stringify(body));
    const events = entry.fixture.expected_expanded_events ?? [];
    if (expectedStatus === 200) {
      assert.equal(body.status, "ok");
      assert.equal(body.accepted, entry.fixture.expected_accepted ?? events.length);
      assert.equal(body.rejected, entry.fixture.expected_rejected ?? 0);
    }
    const codes = (body.errors as { code: string }[]).map((error) => error.code);
    assert.deepEqual(codes, entry.fixture.expected_error_codes ?? []);
    if (expectedStatus !== 200) assert.equal(body.error, codes[0]);
    assert.deepEqual(await storedEvents(server), events);
    await server.close();
  });
}

Deno.test("JSON ingest defaults a missing timestamp to the server clock and rejects bad shapes", async () => {
  const { server, clock } = makeServer();
  const base = vectors.json_ingest_fixtures[0].fixture.request.body as {
    context: Record<string, string>;
  };
  const ok = await errorOf(await postJson(server, { ...base, events: [{ event: "tick" }] }), 200);
  assert.equal(ok.accepted, 1);
  const [stored] = await storedEvents(server) as { timestamp: number }[];
  assert.equal(stored.timestamp, clock.time);
  const notArray = await errorOf(await postJson(server, { ...base, events: {} }), 422);
  assert.equal(notArray.error, "invalid_batch");
  const noContext = await errorOf(await postJson(server, { events: [{ event: "x" }] }), 422);
  assert.equal(noContext.error, "invalid_context");
  const deep = { a: [[[[[[[[[1]]]]]]]]] };
  const tooDeep = await errorOf(
    await postJson(server, { ...base, events: [{ event: "x", properties: deep }] }),
    422,
  );
  assert.equal(tooDeep.error, "invalid_property_value");
  const notJson = await server.fetch(
    new Request("http://x/capture", {
      method: "POST",
      headers: { "content-type": "application/json", "x-honch-project-key": KEY },
      body: "{",
    }),
  );
  assert.equal((await errorOf(notJson, 400)).error, "invalid_request");
  await server.close();
});

Deno.test("a restart between frames keeps the partial upload in the SQLite file", async () => {
  const entry = fixture("single-custom-properties");
  const message = hex.decode(entry.compact_message_hex);
  const frames = chunk(message, 41, [60, 120]);
  const path = await Deno.makeTempFile({ suffix: ".db" });
  try {
    const headers = { "x-honch-stream-id": "restart-stream" };
    const first = createServer({ store: new SqliteStore(path), honch: { projectKeys: [KEY] } });
    assert.equal(await status(await postFrame(first, frames[0], headers)), 202);
    assert.equal(await status(await postFrame(first, frames[1], headers)), 202);
    await first.close();

    const second = createServer({
      store: new SqliteStore(path),
      adminKey: ADMIN,
      honch: { projectKeys: [KEY] },
    });
    assert.equal(await status(await postFrame(second, frames[2], headers)), 204);
    assert.deepEqual(await storedEvents(second), entry.fixture.expanded_event_json);
    await second.close();
  } finally {
    await removeDb(path);
  }
});

Deno.test("a retried complete message is stored once and answered 204 again", async () => {
  const single = fixture("single-required-context");
  const multi = fixture("single-custom-properties");
  const frames = chunk(hex.decode(multi.compact_message_hex), 5, [70]);
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "retry-stream" };
  for (let attempt = 0; attempt < 2; attempt++) {
    assert.equal(await status(await postFrame(server, single.fixture.frames[0].hex, headers)), 204);
    assert.equal(await status(await postFrame(server, frames[0], headers)), 202);
    assert.equal(await status(await postFrame(server, frames[1], headers)), 204);
  }
  assert.deepEqual(await storedEvents(server), [
    ...single.fixture.expanded_event_json,
    ...multi.fixture.expanded_event_json,
  ]);
  // The same message id on another stream is another message.
  await status(await postFrame(server, single.fixture.frames[0].hex, { "x-honch-stream-id": "b" }));
  assert.equal((await storedEvents(server)).length, 3);
  await server.close();
});

Deno.test("other bytes under a stored message id are a collision answered 409", async () => {
  const one = fixture("single-required-context");
  const other = fixture("single-custom-properties");
  const { server } = makeServer();
  assert.equal(await status(await postFrame(server, one.fixture.frames[0].hex)), 204);
  const [sameId] = chunk(hex.decode(other.compact_message_hex), one.input.message_id, []);
  const body = await errorOf(await postFrame(server, sameId), 409);
  assert.equal(body.error, "message_collision");
  assert.equal((await storedEvents(server)).length, 1);
  await server.close();
});

Deno.test("offset gaps, unknown uploads and mismatched lengths get the spec's answers", async () => {
  const entry = fixture("single-custom-properties");
  const message = hex.decode(entry.compact_message_hex);
  const frames = chunk(message, 21, [30, 60, 90]);
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "gap-stream" };
  const unknown = await errorOf(await postFrame(server, frames[1], headers), 409);
  assert.equal(unknown.error, "unknown_upload");
  assert.equal(await status(await postFrame(server, frames[0], headers)), 202);
  const gap = await errorOf(await postFrame(server, frames[2], headers), 409);
  assert.equal(gap.error, "offset_gap");
  assert.equal(gap.expected_offset, 30);
  const short = frame({
    messageId: 21,
    continuation: true,
    more: false,
    offset: 30,
    payload: message.subarray(30, 40),
    crc: crc16(message),
  });
  assert.equal(
    (await errorOf(await postFrame(server, short, headers), 400)).error,
    "length_mismatch",
  );
  // A length mismatch drops the partial: the retry starts over from offset 0.
  for (const [index, item] of frames.entries()) {
    assert.equal(await status(await postFrame(server, item, headers)), index < 3 ? 202 : 204);
  }
  const noStream = await errorOf(await postFrame(server, frames[0]), 400);
  assert.equal(noStream.error, "missing_stream_id");
  await server.close();
});

Deno.test("a partial upload expires after partialTtlMs", async () => {
  const entry = fixture("single-custom-properties");
  const frames = chunk(hex.decode(entry.compact_message_hex), 3, [50]);
  const { server, clock } = makeServer({ honch: { partialTtlMs: 60_000 } });
  const headers = { "x-honch-stream-id": "ttl-stream" };
  assert.equal(await status(await postFrame(server, frames[0], headers)), 202);
  clock.time += 60_001;
  const late = await errorOf(await postFrame(server, frames[1], headers), 409);
  assert.equal(late.error, "unknown_upload");
  await server.close();
});

for (const entry of vectors.coredump_fixtures) {
  Deno.test(`coredump fixture '${entry.name}' is stored as a blob`, async () => {
    const store = new SqliteStore(":memory:");
    const { server } = makeServer({ store });
    const frames = entry.fixture.frames;
    for (const [index, item] of frames.entries()) {
      const response = await postFrame(server, item.hex, {
        "x-honch-stream-id": entry.input.stream_id,
      });
      assert.equal(await status(response), index < frames.length - 1 ? 202 : 204);
    }
    const blobs = await store.listHonchBlobs(sha256Hex(KEY), 10);
    assert.equal(blobs.length, 1);
    assert.equal(hex.encode(blobs[0].bytes), entry.fixture.blob_hex);
    assert.deepEqual(blobs[0].key, {
      projectKeyHash: sha256Hex(KEY),
      streamId: entry.input.stream_id,
      sourceType: 1,
      messageId: entry.input.message_id,
    });
    assert.deepEqual(await storedEvents(server), []);
    await server.close();
  });
}

Deno.test("a missing or wrong project key is refused with 401, as is any key when none is set", async () => {
  const single = fixture("single-required-context").fixture.frames[0].hex;
  const { server } = makeServer();
  const missing = await postFrame(server, single, { "x-honch-project-key": "" });
  assert.deepEqual(await errorOf(missing, 401), { error: "invalid_project_key" });
  const wrong = await postFrame(server, single, { "x-honch-project-key": "phc_other" });
  assert.deepEqual(await errorOf(wrong, 401), { error: "invalid_project_key" });
  const json = await postJson(server, {}, { "x-honch-project-key": "phc_other" });
  assert.equal(await status(json), 401);
  await server.close();

  const closed = createServer();
  assert.equal(await status(await postFrame(closed, single)), 401);
  await closed.close();
});

Deno.test("the aliases /e and /chunks take frames like /capture", async () => {
  const single = fixture("single-required-context");
  const { server } = makeServer();
  assert.equal(await status(await postFrame(server, single.fixture.frames[0].hex, {}, "/e")), 204);
  const other = chunk(hex.decode(single.compact_message_hex), 99, [])[0];
  assert.equal(await status(await postFrame(server, other, {}, "/chunks")), 204);
  assert.equal((await storedEvents(server)).length, 2);
  await server.close();
});

Deno.test("another content type or a content encoding is refused with 415", async () => {
  const single = fixture("single-required-context").fixture.frames[0].hex;
  const { server } = makeServer();
  const text = await postFrame(server, single, { "content-type": "text/plain" });
  assert.equal((await errorOf(text, 415)).error, "unsupported_media_type");
  const gzip = await postFrame(server, single, { "content-encoding": "gzip" });
  assert.equal((await errorOf(gzip, 415)).error, "unsupported_content_encoding");
  await server.close();
});

Deno.test("an oversized frame or declared message is refused with 413", async () => {
  const { server } = makeServer({ honch: { maxFrameBytes: 4096, maxMessageBytes: 8192 } });
  const big = new Uint8Array(4097);
  big[0] = 0x02;
  assert.equal((await errorOf(await postFrame(server, big), 413)).error, "payload_too_large");
  const init = frame({
    messageId: 1,
    continuation: false,
    more: true,
    totalLength: 8193,
    payload: new Uint8Array(10),
  });
  // Without Content-Length the limit is enforced while streaming.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(1000));
      controller.close();
    },
  });
  const streamed = await server.fetch(
    new Request("http://x/capture", {
      method: "POST",
      headers: { "content-type": CHUNK, "x-honch-project-key": KEY },
      body: stream,
    }),
  );
  assert.equal((await errorOf(streamed, 413)).error, "payload_too_large");
  const tooLong = await errorOf(await postFrame(server, init, { "x-honch-stream-id": "s" }), 413);
  assert.equal(tooLong.error, "message_too_large");
  await server.close();
});

Deno.test("malformed frames and messages are refused with 400", async () => {
  const { server } = makeServer();
  const empty = await errorOf(await postFrame(server, new Uint8Array(0)), 400);
  assert.equal(empty.error, "malformed_frame");
  const reservedBit = hex.decode(fixture("single-required-context").fixture.frames[0].hex);
  reservedBit[0] |= 0x80;
  assert.equal((await errorOf(await postFrame(server, reservedBit), 400)).error, "malformed_frame");
  const wrongVersion = hex.decode(fixture("single-required-context").fixture.frames[0].hex);
  wrongVersion[0] = (wrongVersion[0] & ~0x03) | 0x01;
  assert.equal(await status(await postFrame(server, wrongVersion)), 400);
  const reservedSource = frame({
    messageId: 1,
    sourceType: 2,
    continuation: false,
    more: false,
    payload: new Uint8Array([1, 2, 3]),
    crc: crc16(new Uint8Array([1, 2, 3])),
  });
  assert.equal(await status(await postFrame(server, reservedSource)), 400);
  const emptyInit = frame({
    messageId: 1,
    continuation: false,
    more: true,
    totalLength: 10,
    payload: new Uint8Array(0),
  });
  const noProgress = await errorOf(
    await postFrame(server, emptyInit, { "x-honch-stream-id": "s" }),
    400,
  );
  assert.equal(noProgress.error, "malformed_frame");
  const garbage = new Uint8Array([0x09, 0x09, 0x09]);
  const [notAMessage] = chunk(garbage, 2, []);
  assert.equal(
    (await errorOf(await postFrame(server, notAMessage), 400)).error,
    "malformed_message",
  );
  assert.deepEqual(await storedEvents(server), []);
  await server.close();
});

Deno.test("the admin events route needs the admin key, a project key and a sane limit", async () => {
  const { server } = makeServer();
  const body = vectors.json_ingest_fixtures[0].fixture.request.body as {
    context: Record<string, string>;
  };
  const events = Array.from({ length: 5 }, (_, i) => ({ event: `e${i}`, timestamp: 1000 + i }));
  assert.equal(await status(await postJson(server, { ...body, events })), 200);
  const get = (query: string, authorization = `Bearer ${ADMIN}`) =>
    server.fetch(new Request(`http://x/api/honch/events${query}`, { headers: { authorization } }));
  const unauthorized = await get(`?project_key=${KEY}`, "Bearer nope");
  assert.equal(unauthorized.status, 401);
  assert.equal(unauthorized.headers.get("www-authenticate"), "Bearer");
  await unauthorized.body?.cancel();
  assert.equal((await errorOf(await get(""), 400)).field, "project_key");
  assert.equal((await errorOf(await get(`?project_key=${KEY}&limit=1001`), 400)).field, "limit");
  assert.equal((await errorOf(await get(`?project_key=${KEY}&limit=0`), 400)).field, "limit");
  const last = await errorOf(await get(`?project_key=${KEY}&limit=2`), 200);
  assert.deepEqual((last.events as { event: string }[]).map((event) => event.event), ["e3", "e4"]);
  const all = await errorOf(await get(`?project_key=${KEY}`), 200);
  assert.equal((all.events as unknown[]).length, 5);
  const other = await errorOf(await get("?project_key=phc_other"), 200);
  assert.deepEqual(other.events, []);
  await server.close();

  const noAdmin = createServer({ honch: { projectKeys: [KEY] } });
  const disabled = await noAdmin.fetch(new Request(`http://x/api/honch/events?project_key=${KEY}`));
  assert.deepEqual(await errorOf(disabled, 403), { error: "admin_disabled" });
  await noAdmin.close();
});

Deno.test("Honch options are validated once and never echo a project key", () => {
  const bad: ServerOptions[] = [
    { honch: { maxFrameBytes: 100 } },
    { honch: { maxMessageBytes: 1.5 } },
    { honch: { partialTtlMs: 0 } },
    { honch: { projectKeys: ["secret key"] } },
    { honch: { projectKeys: [""] } },
    { honch: "x" as unknown as ServerOptions["honch"] },
  ];
  for (const options of bad) {
    assert.throws(() => createServer(options), (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.ok(!error.message.includes("secret key"));
      assert.ok(error.argument.startsWith("honch"));
      return true;
    });
  }
});

Deno.test("random bytes posted as frames never get a 5xx", async () => {
  const { server } = makeServer({ honch: { maxFrameBytes: 4096 } });
  const single = hex.decode(fixture("single-custom-properties").fixture.frames[0].hex);
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        // Valid headers first, so the decoder gets past the first byte.
        fc.tuple(fc.constantFrom(0x02, 0x06, 0x22, 0x42, 0x62), fc.uint8Array({ maxLength: 200 }))
          .map(([header, rest]) => Uint8Array.of(header, ...rest)),
        // A real frame with a few bytes flipped, so decoding reaches the message.
        fc.array(fc.tuple(fc.nat(single.length - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }).map((flips) => {
          const copy = single.slice();
          for (const [at, mask] of flips) copy[at] ^= mask;
          return copy;
        }),
      ),
      fc.constantFrom("", "fuzz-stream"),
      async (bytes, stream) => {
        const headers: Record<string, string> = stream === ""
          ? {}
          : { "x-honch-stream-id": stream };
        const response = await postFrame(server, bytes, headers);
        await response.body?.cancel();
        assert.ok(response.status < 500, `status ${response.status} for ${hex.encode(bytes)}`);
      },
    ),
    { seed: 20250115, numRuns: 400 },
  );
  await server.close();
});

Deno.test("random JSON bodies posted for ingest never get a 5xx", async () => {
  const { server } = makeServer();
  const base = vectors.json_ingest_fixtures[0].fixture.request.body as Record<string, unknown>;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.jsonValue(),
        fc.record({ context: fc.jsonValue(), events: fc.jsonValue() }),
        fc.array(fc.jsonValue(), { maxLength: 4 }).map((events) => ({ ...base, events })),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }).map((properties) => ({
          ...base,
          events: [{ event: "fuzz", properties }],
        })),
      ),
      async (body) => {
        const response = await postJson(server, body);
        await response.body?.cancel();
        assert.ok(response.status < 500, `status ${response.status} for ${JSON.stringify(body)}`);
      },
    ),
    { seed: 20250116, numRuns: 300 },
  );
  await server.close();
});
