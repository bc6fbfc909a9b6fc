/**
 * The 9-byte frame header every HTTP/2 frame starts with (RFC 9113 section 4.1), the frame
 * type and flag constants.
 *
 * ```
 * +-----------------------------------------------+
 * |                 Length (24)                   |
 * +---------------+---------------+---------------+
 * |   Type (8)    |   Flags (8)   |
 * +-+-------------+---------------+-------------------------------+
 * |R|                 Stream Identifier (31)                      |
 * +=+=============================================================+
 * |                   Frame Payload (0...)                      ...
 * +---------------------------------------------------------------+
 * ```
 *
 * @module
 */

import { connectionError, Http2ErrorCode } from "../errors.ts";

/** Frame types (RFC 9113 section 6). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags. The same bit means different things for different frame types. */
export const Flags = {
  /** DATA, HEADERS: the last frame the sender sends on this stream. */
  END_STREAM: 0x1,
  /** SETTINGS, PING: an acknowledgement. */
  ACK: 0x1,
  /** HEADERS, PUSH_PROMISE, CONTINUATION: the field block ends in this frame. */
  END_HEADERS: 0x4,
  /** DATA, HEADERS, PUSH_PROMISE: a Pad Length byte and padding are present. */
  PADDED: 0x8,
  /** HEADERS: Exclusive / Stream Dependency / Weight fields are present. */
  PRIORITY: 0x20,
} as const;

/** The length of a frame header in bytes. */
export const FRAME_HEADER_LENGTH = 9;

/** A parsed frame header. */
export interface FrameHeader {
  /** Payload length. */
  length: number;
  /** Frame type (see {@linkcode FrameType}); unknown types are kept. */
  type: number;
  /** Flags. */
  flags: number;
  /** Stream identifier (the reserved bit cleared). */
  streamId: number;
}

/**
 * Reads a frame header.
 *
 * @param b Bytes holding at least 9 bytes from `offset`.
 * @param offset Where the header starts.
 * @returns The header.
 */
export function readFrameHeader(b: Uint8Array, offset: number): FrameHeader {
  return {
    length: (b[offset] << 16) | (b[offset + 1] << 8) | b[offset + 2],
    type: b[offset + 3],
    flags: b[offset + 4],
    streamId: ((b[offset + 5] & 0x7f) << 24 | (b[offset + 6] << 16) | (b[offset + 7] << 8) |
      b[offset + 8]) >>> 0,
  };
}

/**
 * Reads a big-endian unsigned 32-bit number.
 *
 * @param b The bytes.
 * @param i The offset.
 * @returns The number.
 */
export function readU32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/**
 * The name of a frame type, for messages.
 *
 * @param type The type.
 * @returns Its name, or `UNKNOWN(0x..)`.
 */
export function frameTypeName(type: number): string {
  for (const [name, value] of Object.entries(FrameType)) if (value === type) return name;
  return `UNKNOWN(0x${type.toString(16)})`;
}

/**
 * Strips the padding of a PADDED frame (DATA, HEADERS, PUSH_PROMISE; RFC 9113 section 6.1).
 *
 * @param head The frame header.
 * @param payload The frame payload.
 * @param fixed Bytes of fixed fields after the Pad Length byte (5 for a HEADERS priority, 4
 *   for a PUSH_PROMISE's promised stream id).
 * @returns `[start, end]` of what follows the pad length (fixed fields included).
 * @throws {Http2Error} FRAME_SIZE_ERROR when the payload cannot hold the fixed fields,
 *   PROTOCOL_ERROR when the padding is as long as the payload or longer.
 */
export function unpad(head: FrameHeader, payload: Uint8Array, fixed: number): [number, number] {
  const padded = (head.flags & Flags.PADDED) !== 0;
  const min = (padded ? 1 : 0) + fixed;
  if (payload.byteLength < min) {
    throw connectionError(
      Http2ErrorCode.FRAME_SIZE_ERROR,
      `${frameTypeName(head.type)} frame too short (${payload.byteLength} bytes)`,
    );
  }
  if (!padded) return [0, payload.byteLength];
  const pad = payload[0];
  if (pad > payload.byteLength - min) {
    throw connectionError(
      Http2ErrorCode.PROTOCOL_ERROR,
      `${frameTypeName(head.type)} padding (${pad}) exceeds the payload`,
    );
  }
  return [1, payload.byteLength - pad];
}

/**
 * Throws PROTOCOL_ERROR (connection) when a stream frame arrives on stream 0.
 *
 * @param head The frame header.
 */
export function requireStream(head: FrameHeader): void {
  if (head.streamId === 0) {
    throw connectionError(
      Http2ErrorCode.PROTOCOL_ERROR,
      `${frameTypeName(head.type)} frame on stream 0`,
    );
  }
}

/**
 * Throws PROTOCOL_ERROR (connection) when a connection frame arrives on a stream.
 *
 * @param head The frame header.
 */
export function requireConnection(head: FrameHeader): void {
  if (head.streamId !== 0) {
    throw connectionError(
      Http2ErrorCode.PROTOCOL_ERROR,
      `${frameTypeName(head.type)} frame on stream ${head.streamId}`,
    );
  }
}
