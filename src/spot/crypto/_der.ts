/**
 * The little DER the key formats need: a bounded reader of tag-length-value
 * nodes that never reads past its input, and writers for the few types keys
 * are made of (SEQUENCE, INTEGER, OCTET STRING, BIT STRING, OBJECT IDENTIFIER).
 *
 * @module
 */

import { SpotKeyError } from "./errors.ts";

/** One DER node: its tag byte, its content and the whole encoding. */
export interface DerNode {
  /** The identifier byte (single-byte tags only). */
  readonly tag: number;
  /** The content octets. */
  readonly content: Uint8Array;
  /** The tag, length and content together. */
  readonly raw: Uint8Array;
}

/** DER tags used by the key formats. */
export const TAG = Object.freeze({
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  CONTEXT_0: 0xa0,
  CONTEXT_1: 0xa1,
});

const REASONS = new WeakMap<SpotKeyError, string>();

/**
 * The error the reader throws: a SpotKeyError whose reason the caller reads
 * with {@linkcode derReason} to word its own message.
 *
 * @param reason A short phrase such as "a length runs past the end", to follow "as".
 * @returns The error to throw.
 */
export function derFailure(reason: string): SpotKeyError {
  const error = new SpotKeyError(
    "parse DER",
    `Cannot parse the DER as ${reason}: pass the bytes unchanged`,
  );
  REASONS.set(error, reason);
  return error;
}

/**
 * The reason of an error thrown by the reader.
 *
 * @param error Anything caught.
 * @returns The reason phrase, or undefined when the error is not the reader's.
 */
export function derReason(error: unknown): string | undefined {
  return error instanceof SpotKeyError ? REASONS.get(error) : undefined;
}

/**
 * Reads the node starting at `offset`.
 *
 * @param bytes The encoding.
 * @param offset Where the node starts.
 * @returns The node and the offset just after it.
 * @throws {SpotKeyError} When the bytes are truncated, use a multi-byte tag, an indefinite or non-minimal length.
 */
export function readNode(bytes: Uint8Array, offset = 0): { node: DerNode; next: number } {
  if (offset + 2 > bytes.length) throw derFailure("it is truncated");
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw derFailure("it uses a multi-byte tag");
  let length = bytes[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw derFailure("it uses an indefinite length");
    if (count > 3) throw derFailure("it declares a length above 16 MiB");
    if (offset + 2 + count > bytes.length) throw derFailure("it is truncated");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i];
    if (length < 0x80 || bytes[offset + 2] === 0) {
      throw derFailure("it uses a non-minimal length");
    }
    header += count;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw derFailure("a length runs past the end");
  return {
    node: {
      tag,
      content: bytes.subarray(offset + header, end),
      raw: bytes.subarray(offset, end),
    },
    next: end,
  };
}

/**
 * Reads exactly one node that fills `bytes`.
 *
 * @param bytes The encoding.
 * @param tag The tag the node must have.
 * @returns The node.
 * @throws {SpotKeyError} When the bytes are not one node with that tag.
 */
export function readOne(bytes: Uint8Array, tag: number): DerNode {
  const { node, next } = readNode(bytes, 0);
  if (node.tag !== tag) {
    throw derFailure(`it has tag 0x${hex(node.tag)} where 0x${hex(tag)} was expected`);
  }
  if (next !== bytes.length) throw derFailure("it has trailing bytes");
  return node;
}

/**
 * Reads the children of a constructed node.
 *
 * @param node A SEQUENCE or context-specific constructed node.
 * @returns Its children in order.
 * @throws {SpotKeyError} When a child is malformed.
 */
export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let offset = 0;
  while (offset < node.content.length) {
    const { node: child, next } = readNode(node.content, offset);
    out.push(child);
    offset = next;
  }
  return out;
}

/**
 * Checks a child's tag.
 *
 * @param node The node, or undefined when absent.
 * @param tag The tag it must have.
 * @param what What the node is, for the reason.
 * @returns The node.
 * @throws {SpotKeyError} When it is absent or has another tag.
 */
export function expect(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (node === undefined) throw derFailure(`it lacks ${what}`);
  if (node.tag !== tag) throw derFailure(`its ${what} has tag 0x${hex(node.tag)}`);
  return node;
}

/**
 * The bytes of a BIT STRING with no unused bits.
 *
 * @param node The BIT STRING node.
 * @param what What it holds, for the reason.
 * @returns The bytes after the unused-bits octet.
 * @throws {SpotKeyError} When it has unused bits or no content.
 */
export function bitStringBytes(node: DerNode, what: string): Uint8Array {
  if (node.content.length === 0 || node.content[0] !== 0) {
    throw derFailure(`its ${what} is not a whole-byte BIT STRING`);
  }
  return node.content.subarray(1);
}

/**
 * The dotted text of an OBJECT IDENTIFIER's content.
 *
 * @param content The content octets.
 * @returns Such as `"1.2.840.10045.2.1"`.
 * @throws {SpotKeyError} When the encoding is empty, truncated or over-long.
 */
export function oidText(content: Uint8Array): string {
  if (content.length === 0 || content.length > 64) {
    throw derFailure("its algorithm OID is malformed");
  }
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < content.length; i++) {
    if (value === 0 && content[i] === 0x80) throw derFailure("its algorithm OID is malformed");
    value = value * 128 + (content[i] & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) {
      throw derFailure("its algorithm OID is malformed");
    }
    if (!(content[i] & 0x80)) {
      arcs.push(value);
      value = 0;
    } else if (i === content.length - 1) throw derFailure("its algorithm OID is malformed");
  }
  const first = arcs[0] < 80 ? Math.floor(arcs[0] / 40) : 2;
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join(".");
}

/**
 * Encodes one node.
 *
 * @param tag The identifier byte.
 * @param parts The content, concatenated.
 * @returns The encoding.
 */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const header = length < 0x80
    ? [tag, length]
    : length < 0x100
    ? [tag, 0x81, length]
    : length < 0x10000
    ? [tag, 0x82, length >> 8, length & 0xff]
    : [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff];
  const out = new Uint8Array(header.length + length);
  out.set(header, 0);
  let offset = header.length;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Encodes an OBJECT IDENTIFIER.
 *
 * @param dotted Such as `"1.3.101.112"`.
 * @returns The whole node.
 */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map(Number);
  const values = [arcs[0] * 40 + arcs[1], ...arcs.slice(2)];
  const out: number[] = [];
  for (const value of values) {
    const groups = [value & 0x7f];
    for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128)) {
      groups.unshift((rest & 0x7f) | 0x80);
    }
    out.push(...groups);
  }
  return tlv(TAG.OID, Uint8Array.from(out));
}

/**
 * Encodes a non-negative INTEGER from big-endian magnitude bytes.
 *
 * @param magnitude The unsigned big-endian value; leading zeros are dropped.
 * @returns The whole node.
 */
export function integer(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  if (trimmed.length === 0) return tlv(TAG.INTEGER, Uint8Array.of(0));
  return trimmed[0] & 0x80
    ? tlv(TAG.INTEGER, Uint8Array.of(0), trimmed)
    : tlv(TAG.INTEGER, trimmed);
}

/**
 * Encodes a BIT STRING with no unused bits.
 *
 * @param bytes The bits.
 * @returns The whole node.
 */
export function bitString(bytes: Uint8Array): Uint8Array {
  return tlv(TAG.BIT_STRING, Uint8Array.of(0), bytes);
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
