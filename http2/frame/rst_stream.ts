/**
 * RST_STREAM frames (RFC 9113 section 6.4): end one stream at once, with an error code.
 *
 * ```
 * +---------------------------------------------------------------+
 * |                        Error Code (32)                        |
 * +---------------------------------------------------------------+
 * ```
 *
 * Stream 0 is a connection PROTOCOL_ERROR; a length other than 4 is a connection
 * FRAME_SIZE_ERROR; one on an idle stream is a connection PROTOCOL_ERROR (the connection
 * checks that).
 *
 * @module
 */

import { connectionError, Http2ErrorCode } from "../errors.ts";
import type { FrameBuffer } from "./buffer.ts";
import {
  FRAME_HEADER_LENGTH,
  type FrameHeader,
  FrameType,
  readU32,
  requireStream,
} from "./head.ts";

/** A decoded RST_STREAM frame. */
export interface RstStreamFrame {
  type: typeof FrameType.RST_STREAM;
  flags: number;
  streamId: number;
  /** Why the stream ends (see `Http2ErrorCode`). */
  errorCode: number;
}

/**
 * Decodes a RST_STREAM frame.
 *
 * @param head The frame header.
 * @param payload The payload.
 * @returns The frame.
 * @throws {Http2Error} on stream 0 or a wrong size (connection errors).
 */
export function decodeRstStream(head: FrameHeader, payload: Uint8Array): RstStreamFrame {
  requireStream(head);
  if (payload.byteLength !== 4) {
    throw connectionError(
      Http2ErrorCode.FRAME_SIZE_ERROR,
      `RST_STREAM frame of ${payload.byteLength} bytes (must be 4)`,
    );
  }
  return {
    type: FrameType.RST_STREAM,
    flags: head.flags,
    streamId: head.streamId,
    errorCode: readU32(payload, 0),
  };
}

/**
 * Encodes a RST_STREAM frame.
 *
 * @param out The buffer to append to.
 * @param streamId The stream.
 * @param errorCode The error code.
 */
export function encodeRstStream(out: FrameBuffer, streamId: number, errorCode: number): void {
  out.reserve(FRAME_HEADER_LENGTH + 4);
  out.header(4, FrameType.RST_STREAM, 0, streamId);
  out.u32(errorCode);
}
