/**
 * Tests of the errors of {@linkcode decodeFrame}: reserved bits, other
 * protocol versions and truncated frames are malformed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeFrame } from "../../src/honch/frames.ts";
import { assertWireError, fromHex } from "./_frames_fixtures.ts";

// --- decodeFrame errors ---

Deno.test("decodeFrame rejects reserved bit 7, other protocol versions and truncation as malformed", () => {
  const cases: [string, string][] = [
    ["", "empty frame"],
    ["8207000000", "reserved bit 7 set"],
    ["c2070500", "reserved bit 7 set on an initial frame"],
    ["0007000000", "protocol version code 0"],
    ["0107000000", "protocol version code 1"],
    ["0307000000", "protocol version code 3"],
    ["02", "no message id"],
    ["0280", "message id ends inside its varint"],
    ["02ffffffffffffffffffff01", "message id runs past 10 bytes"],
    ["028080808010ffff", "message id above 2^32-1"],
    ["0207ff", "final frame ends inside its CRC"],
    ["0207", "final frame without CRC"],
    ["4207", "initial frame without total length"],
    ["420780", "total length ends inside its varint"],
    ["6207", "continuation without offset"],
    ["2207", "final continuation without offset"],
    ["2207ffffffffffffffff7f00ffff", "offset above 2^53-1"],
  ];
  for (const [hex, label] of cases) {
    assertWireError(() => decodeFrame(fromHex(hex)), "malformed");
    assert.ok(label);
  }
  assert.equal(decodeFrame(fromHex("02ffffffff0fffff")).messageId, 2 ** 32 - 1);
});
