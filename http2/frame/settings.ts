/**
 * SETTINGS frames (RFC 9113 section 6.5): each end's parameters, acknowledged by the peer.
 *
 * ```
 * +-------------------------------+
 * |       Identifier (16)         |
 * +-------------------------------+-------------------------------+
 * |                        Value (32)                             |
 * +---------------------------------------------------------------+
 * ```
 *
 * Flags: ACK (0x1). A stream other than 0 is a connection PROTOCOL_ERROR; an ACK with a
 * payload, or a length not a multiple of 6, a connection FRAME_SIZE_ERROR. Values:
 * SETTINGS_ENABLE_PUSH other than 0/1 is a PROTOCOL_ERROR, SETTINGS_INITIAL_WINDOW_SIZE
 * above 2^31-1 a FLOW_CONTROL_ERROR, SETTINGS_MAX_FRAME_SIZE outside 2^14 .. 2^24-1 a
 * PROTOCOL_ERROR (all connection errors). Unknown identifiers are ignored.
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
  readU32,
  requireConnection,
} from "./head.ts";

/** Setting identifiers (RFC 9113 section 6.5.2, RFC 8441). */
export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
} as const;

/** A decoded SETTINGS frame. */
export interface SettingsFrame {
  type: typeof FrameType.SETTINGS;
  flags: number;
  streamId: 0;
  /** Whether this acknowledges our SETTINGS. */
  ack: boolean;
  /** `[identifier, value]` pairs in the order received (later ones win). */
  settings: [number, number][];
}

/**
 * Decodes a SETTINGS frame and validates the values of the known settings.
 *
 * @param head The frame header.
 * @param payload The payload.
 * @returns The frame.
 * @throws {Http2Error} connection errors as described in the module doc.
 */
export function decodeSettings(head: FrameHeader, payload: Uint8Array): SettingsFrame {
  requireConnection(head);
  const ack = (head.flags & Flags.ACK) !== 0;
  if (ack && payload.byteLength !== 0) {
    throw connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
  }
  if (payload.byteLength % 6 !== 0) {
    throw connectionError(
      Http2ErrorCode.FRAME_SIZE_ERROR,
      `SETTINGS frame of ${payload.byteLength} bytes (not a multiple of 6)`,
    );
  }
  const settings: [number, number][] = [];
  for (let i = 0; i < payload.byteLength; i += 6) {
    const id = (payload[i] << 8) | payload[i + 1];
    const value = readU32(payload, i + 2);
    switch (id) {
      case SettingId.ENABLE_PUSH:
      case SettingId.ENABLE_CONNECT_PROTOCOL:
        if (value > 1) {
          throw connectionError(
            Http2ErrorCode.PROTOCOL_ERROR,
            `SETTINGS ${
              id === SettingId.ENABLE_PUSH ? "ENABLE_PUSH" : "ENABLE_CONNECT_PROTOCOL"
            } = ${value}`,
          );
        }
        break;
      case SettingId.INITIAL_WINDOW_SIZE:
        if (value > 0x7fffffff) {
          throw connectionError(
            Http2ErrorCode.FLOW_CONTROL_ERROR,
            `SETTINGS INITIAL_WINDOW_SIZE = ${value} exceeds 2^31-1`,
          );
        }
        break;
      case SettingId.MAX_FRAME_SIZE:
        if (value < 16384 || value > 16777215) {
          throw connectionError(
            Http2ErrorCode.PROTOCOL_ERROR,
            `SETTINGS MAX_FRAME_SIZE = ${value} out of range`,
          );
        }
        break;
    }
    settings.push([id, value]);
  }
  return { type: FrameType.SETTINGS, flags: head.flags, streamId: 0, ack, settings };
}

/**
 * Encodes a SETTINGS frame.
 *
 * @param out The buffer to append to.
 * @param settings `[identifier, value]` pairs.
 */
export function encodeSettings(
  out: FrameBuffer,
  settings: readonly (readonly [number, number])[],
): void {
  const length = settings.length * 6;
  out.reserve(FRAME_HEADER_LENGTH + length);
  out.header(length, FrameType.SETTINGS, 0, 0);
  for (const [id, value] of settings) {
    out.u8(id >>> 8);
    out.u8(id);
    out.u32(value);
  }
}

/**
 * Encodes a SETTINGS ACK.
 *
 * @param out The buffer to append to.
 */
export function encodeSettingsAck(out: FrameBuffer): void {
  out.reserve(FRAME_HEADER_LENGTH);
  out.header(0, FrameType.SETTINGS, Flags.ACK, 0);
}
