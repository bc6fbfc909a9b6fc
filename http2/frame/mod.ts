/**
 * HTTP/2 frames (RFC 9113 section 6): one file per frame type, each with its decoder
 * (checking the frame's size and flag rules) and encoder, and {@linkcode decodeFrame} to
 * dispatch on the type.
 *
 * @module
 */

import type { ContinuationFrame } from "./continuation.ts";
import { decodeContinuation } from "./continuation.ts";
import type { DataFrame } from "./data.ts";
import { decodeData } from "./data.ts";
import type { GoAwayFrame } from "./goaway.ts";
import { decodeGoAway } from "./goaway.ts";
import { type FrameHeader, FrameType } from "./head.ts";
import type { HeadersFrame } from "./headers.ts";
import { decodeHeaders } from "./headers.ts";
import type { PingFrame } from "./ping.ts";
import { decodePing } from "./ping.ts";
import type { PriorityFrame } from "./priority.ts";
import { decodePriority } from "./priority.ts";
import type { PushPromiseFrame } from "./push_promise.ts";
import { decodePushPromise } from "./push_promise.ts";
import type { RstStreamFrame } from "./rst_stream.ts";
import { decodeRstStream } from "./rst_stream.ts";
import type { SettingsFrame } from "./settings.ts";
import { decodeSettings } from "./settings.ts";
import type { WindowUpdateFrame } from "./window_update.ts";
import { decodeWindowUpdate } from "./window_update.ts";

export * from "./buffer.ts";
export * from "./continuation.ts";
export * from "./data.ts";
export * from "./goaway.ts";
export * from "./head.ts";
export * from "./headers.ts";
export * from "./ping.ts";
export * from "./priority.ts";
export * from "./push_promise.ts";
export * from "./rst_stream.ts";
export * from "./settings.ts";
export * from "./window_update.ts";

/** A frame of a type this implementation does not know; it is ignored (RFC 9113 section 4.1). */
export interface UnknownFrame {
  /** The unknown type (0x0a and above). */
  type: number;
  flags: number;
  streamId: number;
  /** The payload as received. */
  payload: Uint8Array;
}

/** Any decoded frame. */
export type Frame =
  | DataFrame
  | HeadersFrame
  | PriorityFrame
  | RstStreamFrame
  | SettingsFrame
  | PushPromiseFrame
  | PingFrame
  | GoAwayFrame
  | WindowUpdateFrame
  | ContinuationFrame;

/**
 * Decodes one frame from its header and payload, checking the rules of its type.
 *
 * @param head The frame header.
 * @param payload The payload (`head.length` bytes).
 * @returns The frame, or an {@linkcode UnknownFrame}.
 * @throws {Http2Error} when the frame breaks its type's rules.
 */
export function decodeFrame(head: FrameHeader, payload: Uint8Array): Frame | UnknownFrame {
  switch (head.type) {
    case FrameType.DATA:
      return decodeData(head, payload);
    case FrameType.HEADERS:
      return decodeHeaders(head, payload);
    case FrameType.PRIORITY:
      return decodePriority(head, payload);
    case FrameType.RST_STREAM:
      return decodeRstStream(head, payload);
    case FrameType.SETTINGS:
      return decodeSettings(head, payload);
    case FrameType.PUSH_PROMISE:
      return decodePushPromise(head, payload);
    case FrameType.PING:
      return decodePing(head, payload);
    case FrameType.GOAWAY:
      return decodeGoAway(head, payload);
    case FrameType.WINDOW_UPDATE:
      return decodeWindowUpdate(head, payload);
    case FrameType.CONTINUATION:
      return decodeContinuation(head, payload);
    default:
      return { type: head.type, flags: head.flags, streamId: head.streamId, payload };
  }
}
