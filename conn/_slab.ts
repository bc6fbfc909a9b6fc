// Small byte buffers carved out of shared slabs. A `new Uint8Array(n)` costs about 1-2 µs on
// Node and Deno whatever its size (each gets its own ArrayBuffer), more than building a whole
// response head; a view of a slab costs about 0.1 µs.

/**
 * Hands out zeroed views of a slab that is never reused: a full slab is dropped and left to
 * the garbage collector once its views are gone. A view keeps its whole slab alive, so the
 * slab size bounds what a kept view can hold on to.
 */
export class Slab {
  #slab: Uint8Array;
  #offset = 0;

  /**
   * @param size The size of one slab.
   * @param maxFromSlab The largest request served from the slab; larger ones get their own
   * buffer.
   */
  constructor(private readonly size: number, private readonly maxFromSlab: number) {
    this.#slab = new Uint8Array(size);
  }

  /** `size` zeroed bytes that nothing else uses. */
  alloc(size: number): Uint8Array {
    if (size > this.maxFromSlab) return new Uint8Array(size);
    if (this.#offset + size > this.size) {
      this.#slab = new Uint8Array(this.size);
      this.#offset = 0;
    }
    const view = this.#slab.subarray(this.#offset, this.#offset + size);
    this.#offset = (this.#offset + size + 7) & ~7; // keep views 8-byte aligned
    return view;
  }
}

/** The slab for writes in flight: 256 KiB slabs, requests up to 64 KiB. */
const WRITES = new Slab(256 * 1024, 64 * 1024);

/**
 * `size` zeroed bytes that nothing else uses, from the shared write slab when small: use
 * them for short-lived bytes, such as a write in flight, and not to hold data for long.
 */
export function allocBytes(size: number): Uint8Array {
  return WRITES.alloc(size);
}
