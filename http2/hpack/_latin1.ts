/**
 * Octets <-> JavaScript strings, one octet per UTF-16 code unit ("latin1").
 *
 * HPACK strings are octets. Field names and values cross this package as ByteStrings,
 * the string form `Headers` uses: each char code 0..255 stands for one octet. This is
 * not windows-1252 (what `TextDecoder("latin1")` gives) and not UTF-8.
 *
 * @module
 */

const CHUNK = 4096;

/**
 * Decodes `bytes[start..end)` to a string with one char per octet.
 *
 * @param bytes The source octets.
 * @param start First octet to read.
 * @param end One past the last octet to read.
 * @returns The ByteString.
 */
export function latin1Decode(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return "";
  if (n <= CHUNK) {
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  let s = "";
  for (let i = start; i < end; i += CHUNK) {
    const stop = i + CHUNK < end ? i + CHUNK : end;
    s += String.fromCharCode.apply(null, bytes.subarray(i, stop) as unknown as number[]);
  }
  return s;
}
