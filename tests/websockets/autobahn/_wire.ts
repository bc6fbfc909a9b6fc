/**
 * The fuzzing peer's own framing, independent of `websockets/`: frames built by hand with
 * any bits set (RSV, opcode, FIN, length) and a small parser that reports every frame the
 * implementation under test sends, with its raw header bits, so the peer can judge them.
 */

import { join } from "../../_bytes.ts";

const encoder = new TextEncoder();

/** Bytes of a string (UTF-8) or the bytes themselves. */
export function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

export { join }; // the tests' own (tests/_bytes.ts), for the peer's modules

/** `payload` repeated (and cut) to `length` bytes, as the cases' `payload_len` asks. */
export function repeatTo(payload: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (payload.length === 0) return out;
  let at = 0;
  while (at < length) {
    const n = Math.min(payload.length, length - at);
    out.set(payload.subarray(0, n), at);
    at += n;
  }
  return out;
}

/** What one hand-made frame looks like. */
export interface FrameBits {
  /** 0x0-0xF, reserved ones included. */
  opcode: number;
  payload: Uint8Array;
  /** Default `true`. */
  fin?: boolean;
  /** The three reserved bits as a number 0-7: 4 is RSV1, 2 is RSV2, 1 is RSV3. */
  rsv?: number;
  /** Mask the payload (a client's frame) with a random key. */
  mask: boolean;
}

/** Encodes a frame, whatever its bits say. */
export function encodeFrame(f: FrameBits): Uint8Array {
  const n = f.payload.length;
  const head: number[] = [
    ((f.fin ?? true) ? 0x80 : 0) | (((f.rsv ?? 0) & 7) << 4) | (f.opcode & 0xf),
  ];
  const m = f.mask ? 0x80 : 0;
  if (n < 126) head.push(m | n);
  else if (n < 65536) head.push(m | 126, n >>> 8, n & 0xff);
  else {
    const hi = Math.floor(n / 2 ** 32);
    head.push(m | 127, 0, 0, 0, hi & 0xff, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }
  const key = f.mask ? crypto.getRandomValues(new Uint8Array(4)) : null;
  if (key) head.push(...key);
  const out = new Uint8Array(head.length + n);
  out.set(head);
  out.set(f.payload, head.length);
  if (key) { for (let i = 0; i < n; i++) out[head.length + i] ^= key[i & 3]; }
  return out;
}

/** A frame as received, before any judgement. */
export interface RawFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** Unmasked. */
  payload: Uint8Array;
}

/** Parses frames out of the chunks pushed into it (a queue of chunks, no quadratic copies). */
export class FrameParser {
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #size = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  /** The next whole frame, or `null` until more bytes arrive. */
  next(): RawFrame | null {
    if (this.#size < 2) return null;
    const b0 = this.#peek(0), b1 = this.#peek(1);
    let len = b1 & 0x7f;
    let at = 2;
    if (len === 126) {
      if (this.#size < 4) return null;
      len = (this.#peek(2) << 8) | this.#peek(3);
      at = 4;
    } else if (len === 127) {
      if (this.#size < 10) return null;
      len = 0;
      for (let i = 2; i < 10; i++) len = len * 256 + this.#peek(i);
      at = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    const total = at + (masked ? 4 : 0) + len;
    if (this.#size < total) return null;
    const bytes = this.#take(total);
    const payload = bytes.slice(total - len);
    if (masked) {
      const key = bytes.subarray(at, at + 4);
      for (let i = 0; i < len; i++) payload[i] ^= key[i & 3];
    }
    return { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0xf, masked, payload };
  }

  #peek(i: number): number {
    let k = this.#offset + i;
    for (const c of this.#chunks) {
      if (k < c.length) return c[k];
      k -= c.length;
    }
    throw new RangeError("peek past the end");
  }

  #take(n: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let left = n;
    while (left > 0) {
      const c = this.#chunks[0];
      const k = Math.min(left, c.length - this.#offset);
      parts.push(c.subarray(this.#offset, this.#offset + k));
      this.#offset += k;
      left -= k;
      if (this.#offset === c.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    this.#size -= n;
    return parts.length === 1 ? parts[0] : join(parts);
  }
}
