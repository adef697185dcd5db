/**
 * Chunk frames of the Honch compact wire format (v2), in one place: the
 * CRC-16 that guards a whole message (`crc16.ts`), the encoder that splits a
 * message into frames (`frame_encoder.ts`), the parser of one frame
 * (`frame_decoder.ts`), and the assembler that puts one message back
 * together from its frames as a capture server receives them
 * (`frame_assembler.ts`).
 *
 * @example Split a message into frames and put it back together
 * ```ts
 * import { encodeFrames, FrameAssembler } from "@edgewire/sdk/honch";
 *
 * const assembler = new FrameAssembler();
 * for (const frame of encodeFrames(new Uint8Array(100), { messageId: 1, maxFrameBytes: 40 })) {
 *   const result = assembler.push(frame);
 *   if (result.complete) console.log(result.message.length); // 100
 * }
 * ```
 *
 * @module
 */

export { crc16 } from "./crc16.ts";
export { encodeFrames, type FrameOptions } from "./frame_encoder.ts";
export { decodeFrame, type Frame } from "./frame_decoder.ts";
export { type AssembleResult, type AssemblerOptions, FrameAssembler } from "./frame_assembler.ts";
