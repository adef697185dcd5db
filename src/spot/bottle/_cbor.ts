/**
 * Strict, bounded CBOR on top of `cborg` for Bottles and IDCards. Decoding
 * refuses indefinite lengths, `undefined`, non-minimal integers and lengths,
 * duplicate map keys and unknown tags; a tokenizer wrapper caps container
 * nesting and refuses a container that declares more items than bytes are
 * left, so bad input fails fast with a typed error instead of exhausting the
 * stack or memory. Encoding sorts map keys bytewise (RFC 8949 core
 * deterministic encoding). Internal.
 *
 * @module
 */

import {
  type DecodeOptions,
  encode,
  rfc8949EncodeOptions,
  type TagDecoder,
  type Token,
  Tokenizer,
  tokensToObject,
  Type,
} from "cborg";
import { BottleFormatError } from "./errors.ts";

/** How deep CBOR containers (arrays, maps, tags) may nest inside one item. */
export const MAX_CBOR_DEPTH = 32;

/** The decoding rules every Bottle and IDCard read goes through. */
const BASE_OPTIONS: DecodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  useMaps: true,
  rejectDuplicateMapKeys: true,
};

/** Wraps cborg's tokenizer to bound nesting and declared container sizes. */
class BoundedTokenizer {
  readonly #inner: Tokenizer;
  readonly #length: number;
  readonly #what: string;
  /** Items still expected by each open container, innermost last. */
  readonly #open: number[] = [];

  constructor(data: Uint8Array, options: DecodeOptions, what: string) {
    this.#inner = new Tokenizer(data, options);
    this.#length = data.length;
    this.#what = what;
  }

  done(): boolean {
    return this.#inner.done();
  }

  pos(): number {
    return this.#inner.pos();
  }

  next(): Token {
    const token = this.#inner.next();
    const open = this.#open;
    if (open.length > 0) open[open.length - 1]--;
    let items = 0;
    if (Type.equals(token.type, Type.array)) items = token.value as number;
    else if (Type.equals(token.type, Type.map)) items = (token.value as number) * 2;
    else if (Type.equals(token.type, Type.tag)) items = 1;
    if (items > 0) {
      // Every item takes at least one byte: more items than bytes left is a lie
      const left = this.#length - this.#inner.pos();
      if (items > left) {
        throw new BottleFormatError(
          "invalid_cbor",
          `Cannot decode ${this.#what} as a container declares ${items} items with only ${left} bytes left`,
        );
      }
      open.push(items);
      if (open.length > MAX_CBOR_DEPTH) {
        throw new BottleFormatError(
          "too_deep",
          `Cannot decode ${this.#what} as its CBOR nests deeper than ${MAX_CBOR_DEPTH} levels`,
        );
      }
    }
    while (open.length > 0 && open[open.length - 1] === 0) open.pop();
    return token;
  }
}

/** Options of {@linkcode CborReader}. */
export interface CborReadOptions {
  /** Decoders by tag number; any other tag is refused. */
  tags?: TagDecoder[];
}

/** One item read by {@linkcode CborReader.item}: its value and its exact bytes. */
export interface CborItem {
  /** The decoded value: maps decode as `Map`, byte strings as `Uint8Array`. */
  value: unknown;
  /** The bytes the item was encoded as, a view into the input. */
  raw: Uint8Array;
}

/** Reads CBOR items one at a time, keeping the bytes of each. * @example
 * ```ts
 * import { CborReader } from "./_cbor.ts";
 *
 * const reader = new CborReader(new Uint8Array([0x82, 0x01, 0x41, 0x07]), "pair");
 * console.log(reader.arrayHead(), reader.item().value, reader.item().raw); // 2 1 Uint8Array(2) [ 65, 7 ]
 * reader.end();
 * ```
 */
export class CborReader {
  readonly #data: Uint8Array;
  readonly #options: DecodeOptions;
  readonly #tokenizer: BoundedTokenizer;
  readonly #what: string;

  /**
   * Starts reading.
   *
   * @param data The CBOR bytes.
   * @param what What the bytes should be, for error messages ("bottle").
   * @param options Tag decoders.
   */
  constructor(data: Uint8Array, what: string, options: CborReadOptions = {}) {
    // A Node Buffer would make cborg hand out Buffer views; a plain array gets plain copies
    if (data.constructor !== Uint8Array) {
      data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
    this.#data = data;
    this.#what = what;
    this.#options = { ...BASE_OPTIONS, tags: options.tags ?? [] };
    this.#tokenizer = new BoundedTokenizer(data, this.#options, what);
  }

  /** Whether every byte was read. */
  get done(): boolean {
    return this.#tokenizer.done();
  }

  /**
   * Reads the head of a definite-length array.
   *
   * @returns The number of items it declares.
   * @throws {BottleFormatError} When the next item is not an array.
   */
  arrayHead(): number {
    const token = this.#guard(() => this.#tokenizer.done() ? undefined : this.#tokenizer.next());
    if (token === undefined) {
      throw new BottleFormatError("invalid_cbor", `Cannot decode ${this.#what} as it is empty`);
    }
    if (!Type.equals(token.type, Type.array)) {
      throw new BottleFormatError(
        "invalid_structure",
        `Cannot decode ${this.#what} as it starts with a CBOR ${token.type.name}, not an array`,
      );
    }
    return token.value as number;
  }

  /**
   * Reads one whole item.
   *
   * @returns Its value and bytes.
   * @throws {BottleFormatError} When the bytes end early or break a rule.
   */
  item(): CborItem {
    const start = this.#tokenizer.pos();
    const value = this.#guard(() => tokensToObject(this.#tokenizer, this.#options));
    if (typeof value === "symbol") {
      throw new BottleFormatError(
        "invalid_cbor",
        `Cannot decode ${this.#what} as its CBOR ends early`,
      );
    }
    return { value, raw: this.#data.subarray(start, this.#tokenizer.pos()) };
  }

  /**
   * Checks that nothing follows the last item read.
   *
   * @throws {BottleFormatError} When bytes are left over.
   */
  end(): void {
    if (!this.#tokenizer.done()) {
      const left = this.#data.length - this.#tokenizer.pos();
      throw new BottleFormatError(
        "invalid_cbor",
        `Cannot decode ${this.#what} as ${left} bytes follow its last item`,
      );
    }
  }

  #guard<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (error instanceof BottleFormatError) throw error;
      const reason = error instanceof RangeError
        ? "it nests too deeply"
        : String((error as Error)?.message ?? error).replace(/^CBOR decode error: /, "");
      throw new BottleFormatError(
        "invalid_cbor",
        `Cannot decode ${this.#what} as its CBOR is malformed: ${reason}`,
        { cause: error },
      );
    }
  }
}

/**
 * Decodes bytes that hold exactly one CBOR item.
 *
 * @param data The bytes.
 * @param what What the bytes should be, for error messages.
 * @param options Tag decoders.
 * @returns The value.
 * @throws {BottleFormatError} When the bytes are not exactly one valid item.
 * @example
 * ```ts
 * import { decodeCbor } from "./_cbor.ts";
 *
 * console.log(decodeCbor(new Uint8Array([0xa1, 0x01, 0x02]), "map")); // Map(1) { 1 => 2 }
 * ```
 */
export function decodeCbor(data: Uint8Array, what: string, options: CborReadOptions = {}): unknown {
  const reader = new CborReader(data, what, options);
  const { value } = reader.item();
  reader.end();
  return value;
}

const ENCODE_OPTIONS = {
  ...rfc8949EncodeOptions,
  typeEncoders: {
    undefined: (): null => {
      throw new TypeError("undefined has no CBOR encoding here");
    },
  },
};

/**
 * Encodes a value with map keys sorted bytewise. `Map`s and plain objects
 * become CBOR maps, `Uint8Array`s byte strings.
 *
 * @param value The value.
 * @returns The CBOR bytes.
 * @throws {TypeError} For a value CBOR cannot hold (`undefined`, a function).
 * @example
 * ```ts
 * import { encodeCbor } from "./_cbor.ts";
 *
 * console.log(encodeCbor({ zz: 1, a: 2 })); // keys sorted: a first
 * ```
 */
export function encodeCbor(value: unknown): Uint8Array {
  const bytes = encode(value, ENCODE_OPTIONS);
  // Under Node (and Deno's npm layer) cborg answers a Buffer: hand out a plain array
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
