/**
 * The streaming MQTT decoder: {@linkcode MqttDecoder} takes byte chunks of
 * any size, as WebSocket frames or TCP reads deliver them (a packet split
 * across many, or many packets in one), and gives back whole packets.
 * {@linkcode decodePacket} decodes one packet held whole in one buffer.
 *
 * Memory: a packet that arrives whole inside one chunk is parsed in place;
 * one split across chunks is gathered into a buffer of exactly its size,
 * allocated only once its header is read and its declared length checked
 * against `maxPacketSize`, so a hostile length costs nothing. Payloads are
 * views of those bytes, never copies.
 *
 * @module
 */

import { integer } from "../../core/validate.ts";
import { MqttProtocolError } from "./errors.ts";
import { DEFAULT_MAX_PACKET_SIZE, MAX_REMAINING_LENGTH, type MqttPacket } from "./packets.ts";
import { packetType, parseBody } from "./_parse.ts";

/** Options of {@linkcode MqttDecoder} and {@linkcode decodePacket}. */
export interface MqttDecoderOptions {
  /**
   * The largest packet body (the remaining length, after the 2 to 5 bytes of
   * fixed header) accepted, in bytes; a larger declared length is refused
   * before any of its body is buffered. An integer from 1 to 268,435,455.
   *
   * @default 65536, the real Emitter broker's limit
   */
  maxPacketSize?: number;
}

const FIRST = 0;
const LENGTH = 1;
const BODY = 2;
const EMPTY = new Uint8Array(0);

/**
 * Decodes a stream of MQTT 3.1.1 (and 3.1) packets from chunks of any size.
 * One decoder per connection and direction. Once it meets a malformed packet
 * it throws an {@linkcode MqttProtocolError} and refuses all further input:
 * the stream cannot be resynchronised, so the connection should close.
 *
 * Payloads (and CONNECT passwords and will payloads) alias the pushed chunk
 * when the packet arrived whole in it, else a buffer allocated for that one
 * packet: copy them before writing into a chunk's buffer again.
 *
 * @example Packets split and joined across chunks
 * ```ts
 * import { MqttDecoder } from "./decoder.ts";
 * import { encodePacket } from "./encoder.ts";
 *
 * const a = encodePacket({ type: "puback", packetId: 1 });
 * const b = encodePacket({ type: "pingresp" });
 * const stream = new Uint8Array([...a, ...b]);
 * const decoder = new MqttDecoder();
 * console.log(decoder.push(stream.subarray(0, 3))); // []
 * console.log(decoder.push(stream.subarray(3))); // [ { type: "puback", packetId: 1 }, { type: "pingresp" } ]
 * ```
 */
export class MqttDecoder {
  readonly #maxPacketSize: number;
  #stage = FIRST;
  #first = 0;
  #remaining = 0;
  #multiplier = 1;
  #body: Uint8Array = EMPTY;
  #filled = 0;
  #failure: MqttProtocolError | undefined;

  /**
   * Creates a decoder.
   *
   * @param options The packet size limit.
   * @throws {InvalidArgumentError} When `maxPacketSize` is not an integer from 1 to 268,435,455.
   */
  constructor(options: MqttDecoderOptions = {}) {
    this.#maxPacketSize = integer(
      "create MqttDecoder",
      "maxPacketSize",
      options.maxPacketSize,
      DEFAULT_MAX_PACKET_SIZE,
      { min: 1, max: MAX_REMAINING_LENGTH },
    );
  }

  /** The error that stopped this decoder, or `undefined` while it still takes input. */
  get failure(): MqttProtocolError | undefined {
    return this.#failure;
  }

  /** Whether the decoder is between packets, holding no part of one. */
  get idle(): boolean {
    return this.#stage === FIRST;
  }

  /**
   * How many bytes of an unfinished packet the decoder holds: its gathered
   * body, for a caller that accounts memory per connection.
   */
  get buffered(): number {
    return this.#stage === BODY ? this.#filled : 0;
  }

  /**
   * Takes the next chunk of the stream and appends every packet it completes
   * to `out`, in order. When the chunk holds a malformed packet, the packets
   * before it are in `out` and then the error is thrown.
   *
   * @param chunk The next bytes of the stream, of any length.
   * @param out Where to append the packets; pass one array to reuse it.
   * @returns `out`.
   * @throws {MqttProtocolError} When the stream holds a malformed packet, or
   * this decoder already refused one (`decoder_failed`).
   *
   * @example Keep the packets before a malformed one
   * ```ts
   * import { MqttDecoder, MqttProtocolError, type MqttPacket } from "./mod.ts";
   *
   * const packets: MqttPacket[] = [];
   * try {
   *   new MqttDecoder().push(new Uint8Array([0xd0, 0x00, 0xf0, 0x00]), packets);
   * } catch (error) {
   *   if (error instanceof MqttProtocolError) console.log(packets.length, error.code); // 1 "reserved_packet_type"
   * }
   * ```
   */
  push(chunk: Uint8Array, out: MqttPacket[] = []): MqttPacket[] {
    if (this.#failure !== undefined) {
      throw new MqttProtocolError(
        "decoder_failed",
        `Cannot decode more bytes after a malformed packet (${this.#failure.code}): open a new connection`,
      );
    }
    try {
      this.#consume(chunk, out);
    } catch (error) {
      this.#failure = error instanceof MqttProtocolError ? error : new MqttProtocolError(
        "decoder_failed",
        `Cannot decode the stream after an unexpected failure: ${String(error)}`,
      );
      throw this.#failure;
    }
    return out;
  }

  #consume(chunk: Uint8Array, out: MqttPacket[]): void {
    const end = chunk.length;
    let i = 0;
    while (i < end) {
      if (this.#stage === FIRST) {
        this.#first = chunk[i++];
        packetType(this.#first);
        this.#remaining = 0;
        this.#multiplier = 1;
        this.#stage = LENGTH;
      } else if (this.#stage === LENGTH) {
        const byte = chunk[i++];
        this.#remaining += (byte & 0x7f) * this.#multiplier;
        if ((byte & 0x80) !== 0) {
          if (this.#multiplier === 0x200000) {
            throw new MqttProtocolError(
              "malformed_remaining_length",
              "Cannot decode a remaining length longer than four bytes",
            );
          }
          this.#multiplier *= 0x80;
          continue;
        }
        const length = this.#remaining;
        if (length > this.#maxPacketSize) {
          throw new MqttProtocolError(
            "packet_too_large",
            `Cannot accept a ${length}-byte packet body as the limit is ${this.#maxPacketSize} bytes`,
          );
        }
        if (end - i >= length) {
          // Whole in this chunk: parse in place, no copy
          this.#stage = FIRST;
          out.push(parseBody(this.#first, chunk, i, i + length));
          i += length;
        } else {
          this.#body = new Uint8Array(length);
          this.#filled = 0;
          this.#stage = BODY;
        }
      } else {
        const take = Math.min(end - i, this.#body.length - this.#filled);
        this.#body.set(i === 0 && take === end ? chunk : chunk.subarray(i, i + take), this.#filled);
        this.#filled += take;
        i += take;
        if (this.#filled === this.#body.length) {
          const body = this.#body;
          this.#body = EMPTY;
          this.#stage = FIRST;
          out.push(parseBody(this.#first, body, 0, body.length));
        }
      }
    }
  }
}

/**
 * Decodes exactly one packet held whole in `bytes`.
 *
 * @param bytes One whole packet, nothing before or after it.
 * @param options The packet size limit.
 * @returns The packet; its payload is a view of `bytes`.
 * @throws {MqttProtocolError} When the bytes are not exactly one valid packet
 * (`invalid_length` when they end early or run on).
 * @throws {InvalidArgumentError} When `maxPacketSize` is not an integer from 1 to 268,435,455.
 *
 * @example
 * ```ts
 * import { decodePacket } from "./decoder.ts";
 *
 * console.log(decodePacket(new Uint8Array([0xc0, 0x00]))); // { type: "pingreq" }
 * ```
 */
export function decodePacket(bytes: Uint8Array, options: MqttDecoderOptions = {}): MqttPacket {
  const decoder = new MqttDecoder(options);
  const packets = decoder.push(bytes);
  if (packets.length !== 1 || !decoder.idle) {
    throw new MqttProtocolError(
      "invalid_length",
      `Cannot decode ${bytes.length} bytes as one packet: they hold ${packets.length} whole packets`,
    );
  }
  return packets[0];
}
