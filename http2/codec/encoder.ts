/**
 * The frame encoder: frames are built into one growable buffer, so that everything produced
 * in one turn of the event loop leaves in one `write()`.
 *
 * @module
 */

import {
  encodeContinuation,
  encodeData,
  encodeGoAway,
  encodeHeaders,
  encodePing,
  encodePriority,
  encodePushPromise,
  encodeRstStream,
  encodeSettings,
  encodeSettingsAck,
  encodeWindowUpdate,
  FrameBuffer,
  type PriorityFields,
} from "../frame/mod.ts";

/**
 * A {@linkcode FrameBuffer} with one method per frame type.
 *
 * @example
 * ```ts
 * import { FrameEncoder } from "./encoder.ts";
 *
 * const enc = new FrameEncoder();
 * enc.settings([[4, 1 << 20]]);
 * enc.windowUpdate(0, 1 << 20);
 * console.log(enc.length); // 15 + 13
 * ```
 */
export class FrameEncoder extends FrameBuffer {
  /**
   * Appends a DATA frame (the caller keeps it within the peer's max frame size).
   *
   * @param streamId The stream.
   * @param data The data.
   * @param endStream END_STREAM.
   * @param padLength Padding bytes, if PADDED.
   */
  data(streamId: number, data: Uint8Array, endStream: boolean, padLength?: number): void {
    encodeData(this, streamId, data, endStream, padLength);
  }

  /**
   * Appends HEADERS (+ CONTINUATION) frames for a whole field block.
   *
   * @param streamId The stream.
   * @param block HPACK-encoded field block.
   * @param endStream END_STREAM.
   * @param maxFrameSize The peer's SETTINGS_MAX_FRAME_SIZE.
   * @param priority Optional priority fields.
   */
  headers(
    streamId: number,
    block: Uint8Array,
    endStream: boolean,
    maxFrameSize = 16384,
    priority?: PriorityFields,
  ): void {
    encodeHeaders(this, streamId, block, endStream, maxFrameSize, priority);
  }

  /**
   * Appends a PRIORITY frame.
   *
   * @param streamId The stream.
   * @param fields The priority fields.
   */
  priority(streamId: number, fields: PriorityFields): void {
    encodePriority(this, streamId, fields);
  }

  /**
   * Appends a RST_STREAM frame.
   *
   * @param streamId The stream.
   * @param errorCode The error code.
   */
  rstStream(streamId: number, errorCode: number): void {
    encodeRstStream(this, streamId, errorCode);
  }

  /**
   * Appends a SETTINGS frame.
   *
   * @param settings `[identifier, value]` pairs.
   */
  settings(settings: readonly (readonly [number, number])[]): void {
    encodeSettings(this, settings);
  }

  /** Appends a SETTINGS ACK. */
  settingsAck(): void {
    encodeSettingsAck(this);
  }

  /**
   * Appends a PUSH_PROMISE frame.
   *
   * @param streamId The associated stream.
   * @param promisedStreamId The promised stream.
   * @param block The field block.
   */
  pushPromise(streamId: number, promisedStreamId: number, block: Uint8Array): void {
    encodePushPromise(this, streamId, promisedStreamId, block);
  }

  /**
   * Appends a PING frame.
   *
   * @param data 8 opaque bytes.
   * @param ack Whether it answers a PING.
   */
  ping(data: Uint8Array, ack: boolean): void {
    encodePing(this, data, ack);
  }

  /**
   * Appends a GOAWAY frame.
   *
   * @param lastStreamId The last stream processed.
   * @param errorCode The error code.
   * @param debugData Diagnostic bytes.
   */
  goAway(lastStreamId: number, errorCode: number, debugData?: Uint8Array): void {
    encodeGoAway(this, lastStreamId, errorCode, debugData);
  }

  /**
   * Appends a WINDOW_UPDATE frame.
   *
   * @param streamId The stream or 0.
   * @param increment The increment.
   */
  windowUpdate(streamId: number, increment: number): void {
    encodeWindowUpdate(this, streamId, increment);
  }

  /**
   * Appends a CONTINUATION frame.
   *
   * @param streamId The stream.
   * @param fragment The fragment.
   * @param endHeaders END_HEADERS.
   */
  continuation(streamId: number, fragment: Uint8Array, endHeaders: boolean): void {
    encodeContinuation(this, streamId, fragment, endHeaders);
  }
}
