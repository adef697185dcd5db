/**
 * Shared fixtures of the Honch frame tests: a private loader of the wire-v2
 * vectors (fixtures, coredump fixtures and the C unit vectors), hex helpers,
 * and assertions for wire errors, argument errors and assembler results.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { WireFormatError } from "../../src/honch/errors.ts";
import type { WireFormatProblem } from "../../src/honch/errors.ts";
import type { AssembleResult, FrameAssembler } from "../../src/honch/frames.ts";

// The frame-level view of the vectors (frames, cuts, CRCs, coredumps); tests/honch/_vectors.ts
// types the codec-level fields of the same file.
export interface FixtureFrame {
  hex: string;
  kind: string;
  offset?: number;
}
export interface WireFixture {
  name: string;
  input: { message_id: number; source_type: number; frame_cuts: number[] | null };
  compact_message_hex: string;
  compact_message_length: number;
  crc16_ccitt_false_of_message: string;
  fixture: { frames: FixtureFrame[]; expected_capture_response_code: number };
}
export interface CoredumpFixture {
  name: string;
  input: {
    blob_formula: string;
    message_id: number;
    source_type: number;
    frame_cuts: number[] | null;
  };
  crc16_ccitt_false_of_blob: string;
  fixture: { blob_hex: string; blob_size: number; frames: FixtureFrame[] };
}
export interface UnitVector {
  test: string;
  kind: string;
  // deno-lint-ignore no-explicit-any
  input: Record<string, any>;
  // deno-lint-ignore no-explicit-any
  expect: Record<string, any>;
}
export interface Vectors {
  wire_v2_fixtures: WireFixture[];
  coredump_fixtures: CoredumpFixture[];
  spec_tables: {
    conformance_fixture_expectations: { expected_capture_response_code: Record<string, number> };
  };
  unit_vectors_test_wire_v2_c: { vectors: UnitVector[] };
}

export const VECTORS: Vectors = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/honch_wire_v2.json", import.meta.url)),
);
export const UNIT = VECTORS.unit_vectors_test_wire_v2_c.vectors;

export function fromHex(text: string): Uint8Array {
  assert.match(text, /^(?:[0-9a-f]{2})*$/);
  const bytes = new Uint8Array(text.length / 2);
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = parseInt(text.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function unitVectors(kind: string): UnitVector[] {
  const found = UNIT.filter((vector) => vector.kind === kind);
  assert.ok(found.length > 0, `no ${kind} vectors`);
  return found;
}

export function fixture(name: string): WireFixture {
  const found = VECTORS.wire_v2_fixtures.find((candidate) => candidate.name === name);
  assert.ok(found, `no fixture ${name}`);
  return found;
}

export function assertWireError(action: () => unknown, problem: WireFormatProblem): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof WireFormatError, `expected WireFormatError, got ${error}`);
    assert.equal(error.problem, problem, error.message);
    return true;
  });
}

export function assertInvalidArgument(
  action: () => unknown,
  field: string,
  pattern?: RegExp,
): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${error}`);
    assert.equal(error.argument, field, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

export function pushAll(assembler: FrameAssembler, frames: Uint8Array[]): AssembleResult {
  let result: AssembleResult | undefined;
  for (const frame of frames) result = assembler.push(frame);
  assert.ok(result);
  return result;
}

export function assertComplete(result: AssembleResult, message: Uint8Array): void {
  assert.equal(result.complete, true);
  if (result.complete) assert.deepEqual(result.message, message);
}

/** Builds the coredump blob from the fixture's formula, `blob[i] = (i*A + B) & 0xff for i in 0..N`. */
export function blobFromFormula(formula: string): Uint8Array {
  const match = /^blob\[i\] = \(i\*(\d+) \+ (\d+)\) & 0xff for i in 0\.\.(\d+)$/.exec(formula);
  assert.ok(match, formula);
  const [factor, term, last] = match.slice(1).map(Number);
  return Uint8Array.from({ length: last + 1 }, (_, index) => (index * factor + term) & 0xff);
}
