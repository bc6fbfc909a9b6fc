// Small byte buffers for what is about to be written. A `new Uint8Array(n)` costs about
// 2 µs on Node and Deno whatever its size (each gets its own ArrayBuffer), more than building
// a whole response head; views of a shared slab cost about 0.1 µs.

/** The size of one slab; requests above a quarter of it get their own buffer. */
const SLAB_SIZE = 256 * 1024;
const MAX_FROM_SLAB = SLAB_SIZE / 4;

let slab = new Uint8Array(SLAB_SIZE);
let offset = 0;

/**
 * `size` zeroed bytes that nothing else uses. Small sizes are carved out of a shared slab
 * that is never reused (a full slab is dropped and left to the garbage collector once its
 * views are gone), so use them for short-lived bytes, such as a write in flight, and not
 * to hold data for long: a view keeps its whole slab alive.
 */
export function allocBytes(size: number): Uint8Array {
  if (size > MAX_FROM_SLAB) return new Uint8Array(size);
  if (offset + size > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    offset = 0;
  }
  const view = slab.subarray(offset, offset + size);
  offset = (offset + size + 7) & ~7; // keep views 8-byte aligned
  return view;
}
