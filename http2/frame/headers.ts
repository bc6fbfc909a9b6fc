/**
 * HEADERS frames (RFC 9113 section 6.2): open a stream and carry a field block (request or
 * response head, or trailers), continued by CONTINUATION frames unless END_HEADERS is set.
 *
 * ```
 * +---------------+
 * |Pad Length? (8)|
 * +-+-------------+-----------------------------------------------+
 * |E|                 Stream Dependency? (31)                     |
 * +-+-------------+-----------------------------------------------+
 * |  Weight? (8)  |
 * +-+-------------+-----------------------------------------------+
 * |                   Field Block Fragment (*)                  ...
 * +---------------------------------------------------------------+
 * |                           Padding (*)                       ...
 * +---------------------------------------------------------------+
 * ```
 *
 * Flags: END_STREAM (0x1), END_HEADERS (0x4), PADDED (0x8), PRIORITY (0x20). Stream 0 is a
 * connection PROTOCOL_ERROR, as is padding that fills the payload; a payload too short for
 * its fields is a connection FRAME_SIZE_ERROR. A self-dependency is a stream PROTOCOL_ERROR,
 * left to the connection to raise after the field block is decoded (HPACK state must be kept).
 *
 * @module
 */

import type { FrameBuffer } from "./buffer.ts";
import { encodeContinuation } from "./continuation.ts";
import {
  Flags,
  FRAME_HEADER_LENGTH,
  type FrameHeader,
  FrameType,
  requireStream,
  unpad,
} from "./head.ts";
import { type PriorityFields, readPriorityFields } from "./priority.ts";

/** A decoded HEADERS frame. */
export interface HeadersFrame {
  type: typeof FrameType.HEADERS;
  flags: number;
  streamId: number;
  /** Whether END_STREAM is set. */
  endStream: boolean;
  /** Whether END_HEADERS is set (the codec hands out complete blocks: always true there). */
  endHeaders: boolean;
  /** The priority fields, when the PRIORITY flag is set. */
  priority: PriorityFields | null;
  /** The field block fragment (the whole block once CONTINUATIONs are joined). */
  fragment: Uint8Array;
}

/**
 * Decodes a HEADERS frame.
 *
 * @param head The frame header.
 * @param payload The payload.
 * @returns The frame.
 * @throws {Http2Error} on stream 0, bad padding or a short payload (connection errors).
 */
export function decodeHeaders(head: FrameHeader, payload: Uint8Array): HeadersFrame {
  requireStream(head);
  const hasPriority = (head.flags & Flags.PRIORITY) !== 0;
  const [padStart, end] = unpad(head, payload, hasPriority ? 5 : 0);
  let start = padStart;
  let priority: PriorityFields | null = null;
  if (hasPriority) {
    priority = readPriorityFields(payload, start);
    start += 5;
  }
  return {
    type: FrameType.HEADERS,
    flags: head.flags,
    streamId: head.streamId,
    endStream: (head.flags & Flags.END_STREAM) !== 0,
    endHeaders: (head.flags & Flags.END_HEADERS) !== 0,
    priority,
    fragment: start === 0 && end === payload.byteLength ? payload : payload.subarray(start, end),
  };
}

/**
 * Encodes a HEADERS frame carrying a whole field block, split into CONTINUATION frames
 * when the block exceeds `maxFrameSize`.
 *
 * @param out The buffer to append to.
 * @param streamId The stream.
 * @param block The HPACK-encoded field block.
 * @param endStream Whether to set END_STREAM.
 * @param maxFrameSize The peer's SETTINGS_MAX_FRAME_SIZE.
 * @param priority Priority fields to include (sets the PRIORITY flag).
 */
export function encodeHeaders(
  out: FrameBuffer,
  streamId: number,
  block: Uint8Array,
  endStream: boolean,
  maxFrameSize: number,
  priority?: PriorityFields,
): void {
  const fixed = priority ? 5 : 0;
  const first = Math.min(block.byteLength, maxFrameSize - fixed);
  const last = first === block.byteLength;
  out.reserve(FRAME_HEADER_LENGTH + fixed + first);
  out.header(
    fixed + first,
    FrameType.HEADERS,
    (endStream ? Flags.END_STREAM : 0) | (last ? Flags.END_HEADERS : 0) |
      (priority ? Flags.PRIORITY : 0),
    streamId,
  );
  if (priority) {
    out.u32(((priority.exclusive ? 0x80000000 : 0) | priority.dependency) >>> 0);
    out.u8(priority.weight - 1);
  }
  out.append(last ? block : block.subarray(0, first));
  for (let i = first; i < block.byteLength; i += maxFrameSize) {
    const end = Math.min(block.byteLength, i + maxFrameSize);
    encodeContinuation(out, streamId, block.subarray(i, end), end === block.byteLength);
  }
}
