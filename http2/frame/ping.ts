/**
 * PING frames (RFC 9113 section 6.7): 8 opaque bytes echoed back with ACK.
 *
 * ```
 * +---------------------------------------------------------------+
 * |                      Opaque Data (64)                         |
 * +---------------------------------------------------------------+
 * ```
 *
 * Flags: ACK (0x1). A stream other than 0 is a connection PROTOCOL_ERROR; a length other
 * than 8 a connection FRAME_SIZE_ERROR.
 *
 * @module
 */

import { connectionError, Http2ErrorCode } from "../errors.ts";
import type { FrameBuffer } from "./buffer.ts";
import {
  Flags,
  FRAME_HEADER_LENGTH,
  type FrameHeader,
  FrameType,
  requireConnection,
} from "./head.ts";

/** A decoded PING frame. */
export interface PingFrame {
  type: typeof FrameType.PING;
  flags: number;
  streamId: 0;
  /** Whether this answers our PING. */
  ack: boolean;
  /** The 8 opaque bytes. */
  data: Uint8Array;
}

/**
 * Decodes a PING frame.
 *
 * @param head The frame header.
 * @param payload The payload.
 * @returns The frame.
 * @throws {Http2Error} connection errors on a stream or a wrong size.
 */
export function decodePing(head: FrameHeader, payload: Uint8Array): PingFrame {
  requireConnection(head);
  if (payload.byteLength !== 8) {
    throw connectionError(
      Http2ErrorCode.FRAME_SIZE_ERROR,
      `PING frame of ${payload.byteLength} bytes (must be 8)`,
    );
  }
  return {
    type: FrameType.PING,
    flags: head.flags,
    streamId: 0,
    ack: (head.flags & Flags.ACK) !== 0,
    data: payload,
  };
}

/**
 * Encodes a PING frame.
 *
 * @param out The buffer to append to.
 * @param data 8 bytes.
 * @param ack Whether this is an acknowledgement.
 */
export function encodePing(out: FrameBuffer, data: Uint8Array, ack: boolean): void {
  out.reserve(FRAME_HEADER_LENGTH + 8);
  out.header(8, FrameType.PING, ack ? Flags.ACK : 0, 0);
  out.append(data.byteLength === 8 ? data : data.subarray(0, 8));
}
