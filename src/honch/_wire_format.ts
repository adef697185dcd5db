/**
 * The constants the message encoder and decoder share: the header bytes,
 * the value tags, integer bounds and the tables by id, plus the one way an
 * encoder error is worded. Internal: not exported from the package.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { CONTEXT_KEY_IDS, PROMOTED_CONTEXT_KEYS, RESERVED_PROPERTY_IDS } from "./wire_tables.ts";

// The three header varints of every message
export const FORMAT_VERSION = 2;
export const KIND_EVENT_BATCH = 1;
export const FLAG_CONTEXT_PROMOTES_PROPERTIES = 1;
// Context ids from here on are extensions of any value
export const FIRST_EXTENSION_ID = 128;
// The bounds of the uint and int value types
export const MAX_U64 = 0xffff_ffff_ffff_ffffn;
export const MIN_I64 = -0x8000_0000_0000_0000n;
export const MAX_I64 = 0x7fff_ffff_ffff_ffffn;

// The tables by id: names for messages, ids for keys
export const CONTEXT_NAMES = ["", ...Object.keys(CONTEXT_KEY_IDS)];
export const RESERVED_IDS = new Map(Object.entries(RESERVED_PROPERTY_IDS));
export const RESERVED_NAMES = ["", ...Object.keys(RESERVED_PROPERTY_IDS)];
export const PROMOTED_KEYS = new Set(PROMOTED_CONTEXT_KEYS);

// The value tags, one byte before each value
export const TAG_NULL = 0x00;
export const TAG_FALSE = 0x01;
export const TAG_TRUE = 0x02;
export const TAG_UINT = 0x03;
export const TAG_INT = 0x04;
export const TAG_FLOAT32 = 0x05;
export const TAG_FLOAT64 = 0x06;
export const TAG_STRING = 0x07;
export const TAG_BYTES = 0x08;
export const TAG_ARRAY = 0x09;
export const TAG_MAP = 0x0a;

/** The encoder's error: names the part at fault, what is wrong and how to fix it. */
export function fail(field: string, problem: string, fix: string): InvalidArgumentError {
  return new InvalidArgumentError(
    field,
    `Cannot encode the message as '${field}' ${problem}: ${fix}`,
  );
}
