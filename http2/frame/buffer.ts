/**
 * A growable byte buffer that frames are encoded into, so that many frames become one
 * `write()` to the connection.
 *
 * @module
 */

/** A growable output buffer: frames are appended at `length`. */
export class FrameBuffer {
  /** The storage; bytes `0 .. length` are written. */
  bytes: Uint8Array;
  /** How many bytes are written. */
  length = 0;

  /** @param capacity Initial capacity in bytes. */
  constructor(capacity = 16384) {
    this.bytes = new Uint8Array(capacity);
  }

  /**
   * Makes room for `n` more bytes.
   *
   * @param n Bytes about to be written.
   */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  /**
   * Appends a 9-byte frame header (RFC 9113 section 4.1). Call `reserve()` first.
   *
   * @param length Payload length (24 bits).
   * @param type Frame type.
   * @param flags Flags.
   * @param streamId Stream identifier (31 bits).
   */
  header(length: number, type: number, flags: number, streamId: number): void {
    const b = this.bytes;
    let i = this.length;
    b[i++] = length >>> 16;
    b[i++] = length >>> 8;
    b[i++] = length;
    b[i++] = type;
    b[i++] = flags;
    b[i++] = (streamId >>> 24) & 0x7f;
    b[i++] = streamId >>> 16;
    b[i++] = streamId >>> 8;
    b[i++] = streamId;
    this.length = i;
  }

  /**
   * Appends a byte. Call `reserve()` first.
   *
   * @param v The byte.
   */
  u8(v: number): void {
    this.bytes[this.length++] = v;
  }

  /**
   * Appends a big-endian 32-bit number. Call `reserve()` first.
   *
   * @param v The number.
   */
  u32(v: number): void {
    const b = this.bytes;
    let i = this.length;
    b[i++] = v >>> 24;
    b[i++] = v >>> 16;
    b[i++] = v >>> 8;
    b[i++] = v;
    this.length = i;
  }

  /**
   * Appends bytes. Call `reserve()` first.
   *
   * @param data The bytes.
   */
  append(data: Uint8Array): void {
    this.bytes.set(data, this.length);
    this.length += data.byteLength;
  }

  /** A copy of the written bytes. */
  toBytes(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  /** Forgets the written bytes (keeps the storage). */
  clear(): void {
    this.length = 0;
  }
}
