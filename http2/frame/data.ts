/**
 * DATA frames (RFC 9113 section 6.1): a stream's body bytes, flow controlled.
 *
 * ```
 * +---------------+
 * |Pad Length? (8)|
 * +---------------+-----------------------------------------------+
 * |                            Data (*)                         ...
 * +---------------------------------------------------------------+
 * |                           Padding (*)                       ...
 * +---------------------------------------------------------------+
 * ```
 *
 * Flags: END_STREAM (0x1), PADDED (0x8). Stream 0 is a connection PROTOCOL_ERROR; padding
 * as long as the payload or longer is a connection PROTOCOL_ERROR. The whole payload,
 * padding included, counts against flow control.
 *
 * @module
 */

import type { FrameBuffer } from "./buffer.ts";
import {
  Flags,
  FRAME_HEADER_LENGTH,
  type FrameHeader,
  FrameType,
  requireStream,
  unpad,
} from "./head.ts";

/** A decoded DATA frame. */
export interface DataFrame {
  type: typeof FrameType.DATA;
  flags: number;
  streamId: number;
  /** The data, padding removed (a view into the received bytes). */
  data: Uint8Array;
  /** The whole payload length, padding included: what counts against flow control. */
  flowLength: number;
  /** Whether END_STREAM is set. */
  endStream: boolean;
}

/**
 * Decodes a DATA frame.
 *
 * @param head The frame header.
 * @param payload The payload.
 * @returns The frame.
 * @throws {Http2Error} on stream 0 or bad padding (connection errors).
 */
export function decodeData(head: FrameHeader, payload: Uint8Array): DataFrame {
  requireStream(head);
  const [start, end] = unpad(head, payload, 0);
  return {
    type: FrameType.DATA,
    flags: head.flags,
    streamId: head.streamId,
    data: start === 0 && end === payload.byteLength ? payload : payload.subarray(start, end),
    flowLength: head.length,
    endStream: (head.flags & Flags.END_STREAM) !== 0,
  };
}

/**
 * Encodes a DATA frame. The caller keeps `data` within the peer's SETTINGS_MAX_FRAME_SIZE
 * (with `padLength + 1` added when padding).
 *
 * @param out The buffer to append to.
 * @param streamId The stream.
 * @param data The data.
 * @param endStream Whether to set END_STREAM.
 * @param padLength Bytes of padding (0 .. 255), or `undefined` for no PADDED flag.
 */
export function encodeData(
  out: FrameBuffer,
  streamId: number,
  data: Uint8Array,
  endStream: boolean,
  padLength?: number,
): void {
  const padded = padLength !== undefined;
  const length = data.byteLength + (padded ? padLength + 1 : 0);
  out.reserve(FRAME_HEADER_LENGTH + length);
  out.header(
    length,
    FrameType.DATA,
    (endStream ? Flags.END_STREAM : 0) | (padded ? Flags.PADDED : 0),
    streamId,
  );
  if (padded) out.u8(padLength);
  out.append(data);
  if (padded) {
    out.bytes.fill(0, out.length, out.length + padLength);
    out.length += padLength;
  }
}
