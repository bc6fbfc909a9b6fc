/**
 * CONTINUATION frames (RFC 9113 section 6.10): the rest of a field block begun by HEADERS or
 * PUSH_PROMISE. A field block's frames must follow each other with nothing interleaved (the
 * codec enforces that, and caps their number and size).
 *
 * ```
 * +---------------------------------------------------------------+
 * |                  Field Block Fragment (*)                   ...
 * +---------------------------------------------------------------+
 * ```
 *
 * Flags: END_HEADERS (0x4). Stream 0 is a connection PROTOCOL_ERROR.
 *
 * @module
 */

import type { FrameBuffer } from "./buffer.ts";
import { Flags, FRAME_HEADER_LENGTH, type FrameHeader, FrameType, requireStream } from "./head.ts";

/** A decoded CONTINUATION frame. */
export interface ContinuationFrame {
  type: typeof FrameType.CONTINUATION;
  flags: number;
  streamId: number;
  /** The field block fragment. */
  fragment: Uint8Array;
  /** Whether END_HEADERS is set. */
  endHeaders: boolean;
}

/**
 * Decodes a CONTINUATION frame.
 *
 * @param head The frame header.
 * @param payload The payload.
 * @returns The frame.
 * @throws {Http2Error} on stream 0 (connection error).
 */
export function decodeContinuation(head: FrameHeader, payload: Uint8Array): ContinuationFrame {
  requireStream(head);
  return {
    type: FrameType.CONTINUATION,
    flags: head.flags,
    streamId: head.streamId,
    fragment: payload,
    endHeaders: (head.flags & Flags.END_HEADERS) !== 0,
  };
}

/**
 * Encodes a CONTINUATION frame.
 *
 * @param out The buffer to append to.
 * @param streamId The stream.
 * @param fragment The field block fragment.
 * @param endHeaders Whether to set END_HEADERS.
 */
export function encodeContinuation(
  out: FrameBuffer,
  streamId: number,
  fragment: Uint8Array,
  endHeaders: boolean,
): void {
  out.reserve(FRAME_HEADER_LENGTH + fragment.byteLength);
  out.header(
    fragment.byteLength,
    FrameType.CONTINUATION,
    endHeaders ? Flags.END_HEADERS : 0,
    streamId,
  );
  out.append(fragment);
}
