/** Byte helpers for tests, in a module of their own: tests/_fixtures.ts reads files at load time. */

/** Joins byte arrays. */
export function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
