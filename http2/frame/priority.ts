/**
 * PRIORITY frames (RFC 9113 section 6.3). RFC 9113 deprecates the priority scheme: they are
 * parsed (and checked) and otherwise ignored.
 *
 * ```
 * +-+-------------------------------------------------------------+
 * |E|                  Stream Dependency (31)                     |
 * +-+-------------+-----------------------------------------------+
 * |   Weight (8)  |
 * +-+-------------+
 * ```
 *
 * Stream 0 is a connection PROTOCOL_ERROR; a length other than 5 is a stream
 * FRAME_SIZE_ERROR; a stream depending on itself is a stream PROTOCOL_ERROR.
 *
 * @module
 */

import { Http2ErrorCode, streamError } from "../errors.ts";
import type { FrameBuffer } from "./buffer.ts";
import {
  FRAME_HEADER_LENGTH,
  type FrameHeader,
  FrameType,
  readU32,
  requireStream,
} from "./head.ts";

/** The priority fields of PRIORITY and HEADERS frames. */
export interface PriorityFields {
  /** The stream this one depends on. */
  dependency: number;
  /** Whether the dependency is exclusive. */
  exclusive: boolean;
  /** Weight, 1 .. 256. */
  weight: number;
}

/** A decoded PRIORITY frame. */
export interface PriorityFrame extends PriorityFields {
  type: typeof FrameType.PRIORITY;
  flags: number;
  streamId: number;
}

/**
 * Reads the 5 bytes of priority fields.
 *
 * @param b The bytes.
 * @param i Where they start.
 * @returns The fields.
 */
export function readPriorityFields(b: Uint8Array, i: number): PriorityFields {
  const dep = readU32(b, i);
  return { dependency: dep & 0x7fffffff, exclusive: dep > 0x7fffffff, weight: b[i + 4] + 1 };
}

/**
 * Decodes a PRIORITY frame.
 *
 * @param head The frame header.
 * @param payload The payload.
 * @returns The frame.
 * @throws {Http2Error} on stream 0 (connection), a wrong size or self-dependency (stream).
 */
export function decodePriority(head: FrameHeader, payload: Uint8Array): PriorityFrame {
  requireStream(head);
  if (payload.byteLength !== 5) {
    throw streamError(
      Http2ErrorCode.FRAME_SIZE_ERROR,
      head.streamId,
      `PRIORITY frame of ${payload.byteLength} bytes (must be 5)`,
    );
  }
  const fields = readPriorityFields(payload, 0);
  if (fields.dependency === head.streamId) {
    throw streamError(
      Http2ErrorCode.PROTOCOL_ERROR,
      head.streamId,
      `stream ${head.streamId} depends on itself`,
    );
  }
  return { type: FrameType.PRIORITY, flags: head.flags, streamId: head.streamId, ...fields };
}

/**
 * Encodes a PRIORITY frame.
 *
 * @param out The buffer to append to.
 * @param streamId The stream.
 * @param fields Dependency, exclusivity and weight (1 .. 256).
 */
export function encodePriority(out: FrameBuffer, streamId: number, fields: PriorityFields): void {
  out.reserve(FRAME_HEADER_LENGTH + 5);
  out.header(5, FrameType.PRIORITY, 0, streamId);
  out.u32(((fields.exclusive ? 0x80000000 : 0) | fields.dependency) >>> 0);
  out.u8(fields.weight - 1);
}
