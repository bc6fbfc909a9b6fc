/**
 * WINDOW_UPDATE frames (RFC 9113 section 6.9): grant the peer more flow-control window on
 * a stream, or on the connection (stream 0).
 *
 * ```
 * +-+-------------------------------------------------------------+
 * |R|              Window Size Increment (31)                     |
 * +-+-------------------------------------------------------------+
 * ```
 *
 * A length other than 4 is a connection FRAME_SIZE_ERROR. An increment of 0 is a
 * PROTOCOL_ERROR: a stream error on a stream, a connection error on stream 0. Growing a
 * window beyond 2^31-1 is a FLOW_CONTROL_ERROR (the connection checks that).
 *
 * @module
 */

import { connectionError, Http2ErrorCode, streamError } from "../errors.ts";
import type { FrameBuffer } from "./buffer.ts";
import { FRAME_HEADER_LENGTH, type FrameHeader, FrameType, readU32 } from "./head.ts";

/** A decoded WINDOW_UPDATE frame. */
export interface WindowUpdateFrame {
  type: typeof FrameType.WINDOW_UPDATE;
  flags: number;
  streamId: number;
  /** The window size increment, 1 .. 2^31-1. */
  increment: number;
}

/**
 * Decodes a WINDOW_UPDATE frame.
 *
 * @param head The frame header.
 * @param payload The payload.
 * @returns The frame.
 * @throws {Http2Error} as described in the module doc.
 */
export function decodeWindowUpdate(head: FrameHeader, payload: Uint8Array): WindowUpdateFrame {
  if (payload.byteLength !== 4) {
    throw connectionError(
      Http2ErrorCode.FRAME_SIZE_ERROR,
      `WINDOW_UPDATE frame of ${payload.byteLength} bytes (must be 4)`,
    );
  }
  const increment = readU32(payload, 0) & 0x7fffffff;
  if (increment === 0) {
    if (head.streamId === 0) {
      throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection");
    }
    throw streamError(
      Http2ErrorCode.PROTOCOL_ERROR,
      head.streamId,
      `WINDOW_UPDATE of 0 on stream ${head.streamId}`,
    );
  }
  return { type: FrameType.WINDOW_UPDATE, flags: head.flags, streamId: head.streamId, increment };
}

/**
 * Encodes a WINDOW_UPDATE frame.
 *
 * @param out The buffer to append to.
 * @param streamId The stream, or 0 for the connection.
 * @param increment 1 .. 2^31-1.
 */
export function encodeWindowUpdate(out: FrameBuffer, streamId: number, increment: number): void {
  out.reserve(FRAME_HEADER_LENGTH + 4);
  out.header(4, FrameType.WINDOW_UPDATE, 0, streamId);
  out.u32(increment & 0x7fffffff);
}
