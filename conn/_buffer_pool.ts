// Reusable buffers for bytes in flight. A fresh large buffer is zero-filled page by page
// (about 3 ms per MiB allocated and filled, against 0.15 ms to reuse one), and a server
// that wrote through a fresh 1 MiB buffer per 64 KiB message spent a third of its time in
// memset; so gather and masking buffers are lent out and handed back once written.

/** The smallest buffer lent out: requests are rounded up to a power of two from here. */
const MIN_SHIFT = 14; // 16 KiB

/** Free buffers by size class (class k holds buffers of 2^(MIN_SHIFT + k) bytes), bounded in bytes. */
export class BufferPool {
  #free: Uint8Array[][] = [];
  #bytes = 0;

  /**
   * @param maxBytes The most bytes the free buffers may add up to.
   * @param maxBuffer The largest buffer kept for reuse (larger ones are left to the GC).
   */
  constructor(private readonly maxBytes: number, private readonly maxBuffer: number) {}

  /** Bytes held by free buffers. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A buffer of at least `n` bytes, holding whatever was left in it. */
  take(n: number): Uint8Array {
    if (n > this.maxBuffer) return new Uint8Array(n);
    const k = sizeClass(n);
    const buf = this.#free[k]?.pop();
    if (buf === undefined) return new Uint8Array(2 ** (MIN_SHIFT + k));
    this.#bytes -= buf.length;
    return buf;
  }

  /** Gives a buffer from {@linkcode take} back, once nothing reads it any more. */
  give(buf: Uint8Array): void {
    const n = buf.length;
    if (n > this.maxBuffer || this.#bytes + n > this.maxBytes) return;
    const k = sizeClass(n);
    if (2 ** (MIN_SHIFT + k) !== n) return; // not one of ours
    (this.#free[k] ??= []).push(buf);
    this.#bytes += n;
  }
}

function sizeClass(n: number): number {
  let k = 0;
  while (2 ** (MIN_SHIFT + k) < n) k++;
  return k;
}

/**
 * The pool the connection adapters and the WebSocket sender share: up to 32 MiB of free
 * buffers of up to 16 MiB each.
 */
export const buffers: BufferPool = new BufferPool(32 * 1024 * 1024, 16 * 1024 * 1024);
