/**
 * The incremental frame decoder: bytes in, frames out. It checks each frame's length
 * against our SETTINGS_MAX_FRAME_SIZE from the 9-byte header, before a payload is buffered;
 * hands out payloads as views of the received chunks when a frame lies within one chunk
 * (one copy otherwise); and joins a HEADERS / PUSH_PROMISE and its CONTINUATION frames into
 * one frame, refusing anything interleaved and capping their number and size.
 *
 * @module
 */

import { connectionError, Http2ErrorCode } from "../errors.ts";
import {
  decodeFrame,
  Flags,
  type Frame,
  FRAME_HEADER_LENGTH,
  type FrameHeader,
  FrameType,
  frameTypeName,
  type HeadersFrame,
  type PushPromiseFrame,
  readFrameHeader,
  type UnknownFrame,
} from "../frame/mod.ts";

/** The client connection preface (RFC 9113 section 3.4), 24 bytes. */
export const CLIENT_PREFACE: Uint8Array = new TextEncoder().encode(
  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
);

/** Options of {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /** The largest payload accepted (our SETTINGS_MAX_FRAME_SIZE); larger is FRAME_SIZE_ERROR. */
  maxFrameSize?: number;
  /** The most CONTINUATION frames after one HEADERS / PUSH_PROMISE (default 64); more is ENHANCE_YOUR_CALM. */
  maxContinuationFrames?: number;
  /** The largest encoded field block, all its frames together (default 256 KiB); larger is ENHANCE_YOUR_CALM. */
  maxHeaderBlockSize?: number;
  /** Whether the bytes start with the client preface (a server's view). */
  expectPreface?: boolean;
}

const EMPTY = new Uint8Array(0);

/**
 * Turns received bytes into frames: `push()` a chunk, then call `next()` until it returns
 * `null`. Errors are thrown as `Http2Error`s: connection errors leave the decoder unusable,
 * stream errors (a bad PRIORITY, a WINDOW_UPDATE of 0 on a stream) consume their frame and
 * decoding can go on.
 *
 * @example
 * ```ts
 * import { FrameDecoder } from "./decoder.ts";
 *
 * const decoder = new FrameDecoder();
 * decoder.push(new Uint8Array([0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]));
 * console.log(decoder.next()); // a PING frame
 * console.log(decoder.next()); // null: needs more bytes
 * ```
 */
export class FrameDecoder {
  /** The largest payload accepted; may be raised once our SETTINGS are sent. */
  maxFrameSize: number;
  /** Cap on CONTINUATION frames per field block. */
  maxContinuationFrames: number;
  /** Cap on the encoded size of one field block. */
  maxHeaderBlockSize: number;

  #buf: Uint8Array = EMPTY;
  #pos = 0;
  #prefaceLeft: number;
  #headBuf = new Uint8Array(FRAME_HEADER_LENGTH);
  #headFill = 0;
  #head: FrameHeader | null = null;
  #partial: Uint8Array | null = null;
  #partialFill = 0;
  #block: HeadersFrame | PushPromiseFrame | null = null;
  #blockParts: Uint8Array[] = [];
  #blockSize = 0;
  #blockFrames = 0;

  /** @param options Limits, and whether a client preface comes first. */
  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameSize = options.maxFrameSize ?? 16384;
    this.maxContinuationFrames = options.maxContinuationFrames ?? 64;
    this.maxHeaderBlockSize = options.maxHeaderBlockSize ?? 256 * 1024;
    this.#prefaceLeft = options.expectPreface ? CLIENT_PREFACE.byteLength : 0;
  }

  /** Whether the client preface has been read (always true when none was expected). */
  get prefaceDone(): boolean {
    return this.#prefaceLeft === 0;
  }

  /** Whether a field block is open (a HEADERS without END_HEADERS awaits CONTINUATIONs). */
  get inHeaderBlock(): boolean {
    return this.#block !== null;
  }

  /**
   * Adds received bytes. Call `next()` until it returns `null` before pushing more.
   *
   * @param chunk The bytes (kept, not copied, when frames lie within it).
   */
  push(chunk: Uint8Array): void {
    if (this.#pos < this.#buf.byteLength) {
      // Not drained: keep the rest in front of the new chunk.
      const rest = this.#buf.subarray(this.#pos);
      const joined = new Uint8Array(rest.byteLength + chunk.byteLength);
      joined.set(rest);
      joined.set(chunk, rest.byteLength);
      chunk = joined;
    }
    this.#buf = chunk;
    this.#pos = 0;
  }

  /**
   * The next complete frame, or `null` when more bytes are needed.
   *
   * @returns The frame (HEADERS and PUSH_PROMISE with their whole field block), or `null`.
   * @throws {Http2Error} on a bad preface, an oversized frame, an interleaved field block,
   *   or a frame that breaks its type's rules.
   */
  next(): Frame | UnknownFrame | null {
    for (;;) {
      if (this.#prefaceLeft > 0 && !this.#readPreface()) return null;
      let head = this.#head;
      const buf = this.#buf;
      if (head === null) {
        const avail = buf.byteLength - this.#pos;
        if (this.#headFill === 0 && avail >= FRAME_HEADER_LENGTH) {
          head = readFrameHeader(buf, this.#pos);
          this.#pos += FRAME_HEADER_LENGTH;
        } else {
          const n = Math.min(FRAME_HEADER_LENGTH - this.#headFill, avail);
          this.#headBuf.set(buf.subarray(this.#pos, this.#pos + n), this.#headFill);
          this.#headFill += n;
          this.#pos += n;
          if (this.#headFill < FRAME_HEADER_LENGTH) return null;
          this.#headFill = 0;
          head = readFrameHeader(this.#headBuf, 0);
        }
        this.#checkHeader(head);
        this.#head = head;
      }
      let payload: Uint8Array;
      const partial = this.#partial;
      if (partial !== null) {
        const n = Math.min(partial.byteLength - this.#partialFill, buf.byteLength - this.#pos);
        partial.set(buf.subarray(this.#pos, this.#pos + n), this.#partialFill);
        this.#partialFill += n;
        this.#pos += n;
        if (this.#partialFill < partial.byteLength) return null;
        payload = partial;
        this.#partial = null;
      } else {
        const avail = buf.byteLength - this.#pos;
        if (avail >= head.length) {
          payload = buf.subarray(this.#pos, this.#pos + head.length);
          this.#pos += head.length;
        } else {
          const p = new Uint8Array(head.length);
          p.set(buf.subarray(this.#pos));
          this.#partial = p;
          this.#partialFill = avail;
          this.#pos = buf.byteLength;
          return null;
        }
      }
      this.#head = null;
      if (this.#pos === buf.byteLength) {
        this.#buf = EMPTY;
        this.#pos = 0;
      }
      const frame = decodeFrame(head, payload);
      switch (frame.type) {
        case FrameType.HEADERS:
        case FrameType.PUSH_PROMISE: {
          const f = frame as HeadersFrame | PushPromiseFrame;
          this.#checkBlockSize(f.fragment.byteLength);
          if (f.endHeaders) return f;
          this.#block = f;
          this.#blockParts = [f.fragment];
          this.#blockSize = f.fragment.byteLength;
          this.#blockFrames = 0;
          continue;
        }
        case FrameType.CONTINUATION: {
          const block = this.#block!;
          const fragment = (frame as { fragment: Uint8Array }).fragment;
          if (++this.#blockFrames > this.maxContinuationFrames) {
            throw connectionError(
              Http2ErrorCode.ENHANCE_YOUR_CALM,
              `more than ${this.maxContinuationFrames} CONTINUATION frames in one field block`,
            );
          }
          this.#blockSize += fragment.byteLength;
          this.#checkBlockSize(this.#blockSize);
          if (fragment.byteLength > 0) this.#blockParts.push(fragment);
          if ((frame.flags & Flags.END_HEADERS) === 0) continue;
          const parts = this.#blockParts;
          let joined: Uint8Array;
          if (parts.length === 1) joined = parts[0];
          else {
            joined = new Uint8Array(this.#blockSize);
            let at = 0;
            for (const p of parts) {
              joined.set(p, at);
              at += p.byteLength;
            }
          }
          this.#block = null;
          this.#blockParts = [];
          block.fragment = joined;
          block.endHeaders = true;
          block.flags |= Flags.END_HEADERS;
          return block;
        }
        default:
          return frame;
      }
    }
  }

  #readPreface(): boolean {
    const buf = this.#buf;
    const start = CLIENT_PREFACE.byteLength - this.#prefaceLeft;
    const n = Math.min(this.#prefaceLeft, buf.byteLength - this.#pos);
    for (let i = 0; i < n; i++) {
      if (buf[this.#pos + i] !== CLIENT_PREFACE[start + i]) {
        throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, "invalid client connection preface");
      }
    }
    this.#pos += n;
    this.#prefaceLeft -= n;
    return this.#prefaceLeft === 0;
  }

  #checkHeader(head: FrameHeader): void {
    if (head.length > this.maxFrameSize) {
      throw connectionError(
        Http2ErrorCode.FRAME_SIZE_ERROR,
        `${
          frameTypeName(head.type)
        } frame of ${head.length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`,
      );
    }
    const block = this.#block;
    if (block !== null) {
      if (head.type !== FrameType.CONTINUATION || head.streamId !== block.streamId) {
        throw connectionError(
          Http2ErrorCode.PROTOCOL_ERROR,
          `${
            frameTypeName(head.type)
          } frame on stream ${head.streamId} inside the field block of stream ${block.streamId}`,
        );
      }
    } else if (head.type === FrameType.CONTINUATION) {
      throw connectionError(
        Http2ErrorCode.PROTOCOL_ERROR,
        `CONTINUATION frame on stream ${head.streamId} without a preceding HEADERS`,
      );
    }
  }

  #checkBlockSize(size: number): void {
    if (size > this.maxHeaderBlockSize) {
      throw connectionError(
        Http2ErrorCode.ENHANCE_YOUR_CALM,
        `field block of more than ${this.maxHeaderBlockSize} bytes`,
      );
    }
  }
}
