/**
 * GOAWAY frames (RFC 9113 section 6.8): the sender stops accepting streams above
 * `lastStreamId` and will close the connection, with an error code and optional debug data.
 *
 * ```
 * +-+-------------------------------------------------------------+
 * |R|                  Last-Stream-ID (31)                        |
 * +-+-------------------------------------------------------------+
 * |                      Error Code (32)                          |
 * +---------------------------------------------------------------+
 * |                  Additional Debug Data (*)                    |
 * +---------------------------------------------------------------+
 * ```
 *
 * A stream other than 0 is a connection PROTOCOL_ERROR; a payload under 8 bytes a
 * connection FRAME_SIZE_ERROR.
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
  requireConnection,
} from "./head.ts";

/** A decoded GOAWAY frame. */
export interface GoAwayFrame {
  type: typeof FrameType.GOAWAY;
  flags: number;
  streamId: 0;
  /** The highest stream the sender may have processed. */
  lastStreamId: number;
  /** Why (see `Http2ErrorCode`). */
  errorCode: number;
  /** Opaque diagnostic bytes. */
  debugData: Uint8Array;
}

/**
 * Decodes a GOAWAY frame.
 *
 * @param head The frame header.
 * @param payload The payload.
 * @returns The frame.
 * @throws {Http2Error} connection errors on a stream or a short payload.
 */
export function decodeGoAway(head: FrameHeader, payload: Uint8Array): GoAwayFrame {
  requireConnection(head);
  if (payload.byteLength < 8) {
    throw connectionError(
      Http2ErrorCode.FRAME_SIZE_ERROR,
      `GOAWAY frame of ${payload.byteLength} bytes (at least 8)`,
    );
  }
  return {
    type: FrameType.GOAWAY,
    flags: head.flags,
    streamId: 0,
    lastStreamId: readU32(payload, 0) & 0x7fffffff,
    errorCode: readU32(payload, 4),
    debugData: payload.subarray(8),
  };
}

/**
 * Encodes a GOAWAY frame.
 *
 * @param out The buffer to append to.
 * @param lastStreamId The last stream processed.
 * @param errorCode The error code.
 * @param debugData Diagnostic bytes (e.g. a UTF-8 message).
 */
export function encodeGoAway(
  out: FrameBuffer,
  lastStreamId: number,
  errorCode: number,
  debugData?: Uint8Array,
): void {
  const extra = debugData?.byteLength ?? 0;
  out.reserve(FRAME_HEADER_LENGTH + 8 + extra);
  out.header(8 + extra, FrameType.GOAWAY, 0, 0);
  out.u32(lastStreamId & 0x7fffffff);
  out.u32(errorCode);
  if (debugData) out.append(debugData);
}
