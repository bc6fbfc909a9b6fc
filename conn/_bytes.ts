// Joining byte arrays, for the protocols' buffers (read chunks, inflated pieces).

/**
 * Joins byte arrays into a new one.
 *
 * @param parts The arrays, in order.
 * @param total Their bytes in all, if the caller knows it.
 */
export function joinBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (total === undefined) {
    total = 0;
    for (const p of parts) total += p.byteLength;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
