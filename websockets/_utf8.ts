/**
 * An incremental UTF-8 validator (RFC 3629): a state machine fed byte chunks that reports
 * failure as soon as the bytes seen can no longer be the start of valid UTF-8, so a
 * fragmented text message is failed at the first bad fragment rather than at its end.
 *
 * Rejected: stray continuation bytes, C0/C1 and F5-FF lead bytes, overlong forms (E0 80-9F,
 * F0 80-8F), surrogates (ED A0-BF) and code points above U+10FFFF (F4 90-BF). The second
 * byte of a sequence is bounded by its lead byte, as in the table of RFC 3629 section 4,
 * which is what makes the failure immediate.
 *
 * @module
 */

const FAILED = -1;

/** Runs at least this long take the word-at-a-time ASCII path. */
const ASCII_RUN = 32;

/**
 * Validates UTF-8 across chunk boundaries.
 *
 * @example
 * ```ts
 * import { Utf8Validator } from "./_utf8.ts";
 * const v = new Utf8Validator();
 * v.write(new Uint8Array([0xe2, 0x82])); // true: could still become "€"
 * v.write(new Uint8Array([0xac]));       // true
 * console.log(v.complete);               // true
 * ```
 */
export class Utf8Validator {
  /** Continuation bytes still expected, or FAILED. */
  #need = 0;
  /** Bounds of the next continuation byte. */
  #lo = 0x80;
  #hi = 0xbf;

  /** Whether the bytes written so far are valid and end on a character boundary. */
  get complete(): boolean {
    return this.#need === 0;
  }

  /** Whether the bytes written so far can no longer be valid. */
  get failed(): boolean {
    return this.#need === FAILED;
  }

  /** Forgets everything written, for the next message. */
  reset(): void {
    this.#need = 0;
    this.#lo = 0x80;
    this.#hi = 0xbf;
  }

  /**
   * Feeds more bytes.
   *
   * @param bytes The next bytes of the text.
   * @returns `false` as soon as the text can no longer be valid UTF-8 (and from then on).
   */
  write(bytes: Uint8Array): boolean {
    let need = this.#need;
    if (need === FAILED) return false;
    let lo = this.#lo;
    let hi = this.#hi;
    const n = bytes.length;
    let i = 0;
    while (i < n) {
      if (need === 0) {
        // ASCII fast path: skip runs of bytes below 0x80.
        if (n - i >= ASCII_RUN) {
          i = skipAscii(bytes, i);
          if (i === n) break;
        }
        let b = bytes[i];
        while (b < 0x80) {
          if (++i === n) break;
          b = bytes[i];
        }
        if (i === n) break;
        i++;
        if (b < 0xc2) {
          need = FAILED; // continuation byte, or C0/C1 (overlong 2-byte forms)
          break;
        } else if (b < 0xe0) {
          need = 1;
        } else if (b < 0xf0) {
          need = 2;
          if (b === 0xe0) lo = 0xa0; // no overlong 3-byte forms
          else if (b === 0xed) hi = 0x9f; // no surrogates
        } else if (b < 0xf5) {
          need = 3;
          if (b === 0xf0) lo = 0x90; // no overlong 4-byte forms
          else if (b === 0xf4) hi = 0x8f; // nothing above U+10FFFF
        } else {
          need = FAILED;
          break;
        }
      } else {
        const b = bytes[i++];
        if (b < lo || b > hi) {
          need = FAILED;
          break;
        }
        lo = 0x80;
        hi = 0xbf;
        need--;
      }
    }
    this.#need = need;
    this.#lo = lo;
    this.#hi = hi;
    return need !== FAILED;
  }
}

/** Skips ASCII four bytes at a time from `i`; returns the index of the first byte to look at. */
function skipAscii(bytes: Uint8Array, i: number): number {
  const n = bytes.length;
  // Align to a 4-byte boundary of the underlying buffer.
  while (i < n && ((bytes.byteOffset + i) & 3) !== 0) {
    if (bytes[i] >= 0x80) return i;
    i++;
  }
  const words = (n - i) >>> 2;
  if (words === 0) return i;
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
  let w = 0;
  // Unrolled by four words.
  const last4 = words - 3;
  while (w < last4) {
    if (((u32[w] | u32[w + 1] | u32[w + 2] | u32[w + 3]) & 0x80808080) !== 0) break;
    w += 4;
  }
  while (w < words && (u32[w] & 0x80808080) === 0) w++;
  return i + w * 4;
}

/**
 * Whether `bytes` is complete, valid UTF-8.
 *
 * @param bytes The bytes to check.
 * @returns `true` if valid.
 */
export function isValidUtf8(bytes: Uint8Array): boolean {
  const v = new Utf8Validator();
  return v.write(bytes) && v.complete;
}
