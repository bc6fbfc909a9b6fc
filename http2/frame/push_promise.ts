/**
 * PUSH_PROMISE frames (RFC 9113 section 6.6): server push. This library never pushes and
 * its client sends SETTINGS_ENABLE_PUSH = 0, so receiving one is a connection
 * PROTOCOL_ERROR on either side; the frame is still decoded so its field block can be
 * assembled and reported properly.
 *
 * ```
 * +---------------+
 * |Pad Length? (8)|
 * +-+-------------+-----------------------------------------------+
 * |R|                  Promised Stream ID (31)                    |
 * +-+-----------------------------+-------------------------------+
 * |                   Field Block Fragment (*)                  ...
 * +---------------------------------------------------------------+
 * |                           Padding (*)                       ...
 * +---------------------------------------------------------------+
 * ```
 *
 * Flags: END_HEADERS (0x4), PADDED (0x8).
 *
 * @module
 */

import type { FrameBuffer } from "./buffer.ts";
import {
  Flags,
  FRAME_HEADER_LENGTH,
  type FrameHeader,
  FrameType,
  readU32,
  requireStream,
  unpad,
} from "./head.ts";

/** A decoded PUSH_PROMISE frame. */
export interface PushPromiseFrame {
  type: typeof FrameType.PUSH_PROMISE;
  flags: number;
  streamId: number;
  /** The stream the server reserves. */
  promisedStreamId: number;
  /** Whether END_HEADERS is set. */
  endHeaders: boolean;
  /** The field block fragment. */
  fragment: Uint8Array;
}

/**
 * Decodes a PUSH_PROMISE frame.
 *
 * @param head The frame header.
 * @param payload The payload.
 * @returns The frame.
 * @throws {Http2Error} on stream 0, bad padding or a short payload (connection errors).
 */
export function decodePushPromise(head: FrameHeader, payload: Uint8Array): PushPromiseFrame {
  requireStream(head);
  const [start, end] = unpad(head, payload, 4);
  return {
    type: FrameType.PUSH_PROMISE,
    flags: head.flags,
    streamId: head.streamId,
    promisedStreamId: readU32(payload, start) & 0x7fffffff,
    endHeaders: (head.flags & Flags.END_HEADERS) !== 0,
    fragment: payload.subarray(start + 4, end),
  };
}

/**
 * Encodes a PUSH_PROMISE frame (for tests; the library itself never pushes).
 *
 * @param out The buffer to append to.
 * @param streamId The associated stream.
 * @param promisedStreamId The reserved stream.
 * @param block The field block (must fit one frame).
 */
export function encodePushPromise(
  out: FrameBuffer,
  streamId: number,
  promisedStreamId: number,
  block: Uint8Array,
): void {
  out.reserve(FRAME_HEADER_LENGTH + 4 + block.byteLength);
  out.header(4 + block.byteLength, FrameType.PUSH_PROMISE, Flags.END_HEADERS, streamId);
  out.u32(promisedStreamId & 0x7fffffff);
  out.append(block);
}
