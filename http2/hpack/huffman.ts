/**
 * The HPACK Huffman code (RFC 7541 Section 5.2 and Appendix B): encode, measure, decode.
 *
 * Decoding is table driven: once (on first use), the code tree's 256 internal nodes become the
 * states of a machine that consumes one input byte per step. For each state and byte,
 * one 32-bit entry says the next state, the zero to two symbols completed on the way
 * and whether EOS was met. The end of the input is valid only in the root state or in
 * a state reached from the root by at most seven 1-bits (the allowed EOS-prefix
 * padding).
 *
 * @module
 */

import { HUFFMAN_CODES, HUFFMAN_EOS, HUFFMAN_LENGTHS } from "./_huffman_table.ts";
import { HpackError } from "./errors.ts";
import { latin1Decode } from "./_latin1.ts";

// ---- the decoding machine --------------------------------------------------------

/** Bits 0-7: next state. */
const NEXT_MASK = 0xff;
/** Bits 8-15: first symbol completed in this step. */
const SYM1_SHIFT = 8;
/** Bits 16-23: second symbol completed in this step. */
const SYM2_SHIFT = 16;
/** Bits 24-25: how many symbols this step completed (0, 1 or 2). */
const COUNT_SHIFT = 24;
/** Bit 26: the EOS symbol was decoded: an error. */
const FAIL = 1 << 26;

/** `TRANSITIONS[state << 8 | byte]`, packed as described above; built on first use. */
let TRANSITIONS: Uint32Array = new Uint32Array(0);
/** `ACCEPTING[state]` is 1 when the input may end in that state. */
const ACCEPTING = new Uint8Array(256);

/**
 * Builds the decoding machine. It runs on the first Huffman decode rather than at
 * load: filling 64K entries takes a few milliseconds of cold code, which a program
 * that never decodes HPACK should not pay.
 */
function buildDecoder(): void {
  TRANSITIONS = new Uint32Array(256 * 256);
  // children[node * 2 + bit]: a positive number is an internal node (the root, 0, is
  // nobody's child), a negative one the leaf -(symbol) - 1; -1000 means "not yet".
  const children = new Int32Array(256 * 2).fill(-1000);
  let nodes = 1;
  for (let sym = 0; sym <= HUFFMAN_EOS; sym++) {
    const code = HUFFMAN_CODES[sym];
    const len = HUFFMAN_LENGTHS[sym];
    let node = 0;
    for (let i = len - 1; i > 0; i--) {
      const bit = (code >>> i) & 1;
      let next = children[node * 2 + bit];
      if (next === -1000) {
        next = nodes++;
        children[node * 2 + bit] = next;
      }
      node = next;
    }
    children[node * 2 + (code & 1)] = -sym - 1;
  }
  if (nodes !== 256) throw new Error("HPACK Huffman table is not a complete code");

  // Accepting states: the root, and the all-ones path of depth 1..7.
  ACCEPTING[0] = 1;
  let node = 0;
  for (let depth = 1; depth <= 7; depth++) {
    node = children[node * 2 + 1];
    ACCEPTING[node] = 1;
  }

  // First a 4-bit machine (at most one symbol per nibble: codes are 5+ bits long),
  // its entries packed like TRANSITIONS' (count 0 or 1, or FAIL). A byte step is then
  // two nibble steps; when the first emits nothing, the second's whole row of 16 is
  // the answer and is copied as is. Cheaper than walking 8 bits for 65536 entries.
  const nibbles = new Uint32Array(256 * 16);
  for (let state = 0; state < 256; state++) {
    for (let nib = 0; nib < 16; nib++) {
      let n = state;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        const child = children[n * 2 + ((nib >>> i) & 1)];
        if (child >= 0) {
          n = child;
          continue;
        }
        const sym = -child - 1;
        if (sym === HUFFMAN_EOS) {
          entry = FAIL;
          break;
        }
        entry = (sym << SYM1_SHIFT) | (1 << COUNT_SHIFT);
        n = 0;
      }
      nibbles[state * 16 + nib] = entry === FAIL ? FAIL : entry | n;
    }
  }
  const failRow = new Uint32Array(16).fill(FAIL);
  for (let state = 0; state < 256; state++) {
    for (let hi = 0; hi < 16; hi++) {
      const a = nibbles[state * 16 + hi];
      const at = (state << 8) | (hi << 4);
      if (a === FAIL) {
        TRANSITIONS.set(failRow, at);
        continue;
      }
      const row = (a & NEXT_MASK) * 16;
      if ((a >>> COUNT_SHIFT) === 0) {
        TRANSITIONS.set(nibbles.subarray(row, row + 16), at);
        continue;
      }
      const first = a & (0xff << SYM1_SHIFT);
      for (let lo = 0; lo < 16; lo++) {
        const b = nibbles[row + lo];
        TRANSITIONS[at + lo] = b === FAIL
          ? FAIL
          : (b >>> COUNT_SHIFT) === 0
          ? first | (1 << COUNT_SHIFT) | b
          : first | ((b & (0xff << SYM1_SHIFT)) << 8) | (2 << COUNT_SHIFT) | (b & NEXT_MASK);
      }
    }
  }
}

/**
 * Decodes the Huffman string `src[start..end)` into `out` at `outPos`.
 *
 * @param src The encoded octets.
 * @param start First octet of the string.
 * @param end One past its last octet.
 * @param out The destination; it needs room for `Math.floor((end - start) * 8 / 5)`
 *   octets at `outPos`.
 * @param outPos Where to start writing.
 * @returns The position after the last decoded octet.
 * @throws {HpackError} If the data holds EOS or ends with bad padding.
 */
export function decodeInto(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outPos: number,
): number {
  if (TRANSITIONS.length === 0) buildDecoder();
  const table = TRANSITIONS;
  let state = 0;
  let p = outPos;
  for (let i = start; i < end; i++) {
    const e = table[(state << 8) | src[i]];
    const count = e >>> COUNT_SHIFT; // the FAIL bit lands on bit 2 of `count`
    if (count !== 0) {
      if (count & 4) throw new HpackError("HPACK: Huffman string contains EOS");
      out[p++] = (e >>> SYM1_SHIFT) & 0xff;
      if (count === 2) out[p++] = (e >>> SYM2_SHIFT) & 0xff;
    }
    state = e & NEXT_MASK;
  }
  if (ACCEPTING[state] === 0) {
    throw new HpackError(
      "HPACK: Huffman string has padding longer than 7 bits or not all ones",
    );
  }
  return p;
}

let scratch = new Uint8Array(1024);

/**
 * Decodes the Huffman string `src[start..end)` straight to a ByteString.
 *
 * @param src The encoded octets.
 * @param start First octet of the string.
 * @param end One past its last octet.
 * @returns The decoded octets, one char each.
 * @throws {HpackError} If the data holds EOS or ends with bad padding.
 */
export function decodeToLatin1(src: Uint8Array, start: number, end: number): string {
  const max = Math.floor(((end - start) * 8) / 5);
  let out = scratch;
  if (out.length < max) {
    // Keep a shared scratch of up to 64 KiB; a bigger string gets its own buffer.
    out = new Uint8Array(Math.max(max, Math.min(out.length * 2, 65536)));
    if (out.length <= 65536) scratch = out;
  }
  const n = decodeInto(src, start, end, out, 0);
  return latin1Decode(out, 0, n);
}

/**
 * Decodes a Huffman-encoded HPACK string.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { decode } from "./huffman.ts";
 *
 * // "www.example.com", from RFC 7541 C.4.1
 * const bytes = new Uint8Array([
 *   0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
 * ]);
 * assertEquals(new TextDecoder().decode(decode(bytes)), "www.example.com");
 * ```
 *
 * @param data The encoded octets (the string's payload, without its length prefix).
 * @returns The decoded octets.
 * @throws {HpackError} With code `"compression"` if the data holds the EOS symbol, or
 *   ends in padding longer than 7 bits or not made of 1-bits.
 */
export function decode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((data.length * 8) / 5));
  const n = decodeInto(data, 0, data.length, out, 0);
  return out.slice(0, n);
}

// ---- encoding --------------------------------------------------------------------

/**
 * The number of octets the Huffman encoding of `data` takes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { encodedLength } from "./huffman.ts";
 *
 * assertEquals(encodedLength(new TextEncoder().encode("no-cache")), 6);
 * ```
 *
 * @param data The octets to measure.
 * @returns The encoded length in octets, padding included.
 */
export function encodedLength(data: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < data.length; i++) bits += HUFFMAN_LENGTHS[data[i]];
  return (bits + 7) >>> 3;
}

/**
 * The number of octets the Huffman encoding of a ByteString takes.
 *
 * @param str The string to measure.
 * @returns The encoded length in octets, padding included; or -1 if `str` is not a
 *   ByteString (it has a char code above 0xFF).
 */
export function encodedLengthLatin1(str: string): number {
  let bits = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c > 0xff) return -1;
    bits += HUFFMAN_LENGTHS[c];
  }
  return (bits + 7) >>> 3;
}

/**
 * Huffman-encodes a ByteString into `out` at `pos`.
 *
 * @param str The ByteString; its char codes must be at most 0xFF (check with
 *   {@linkcode encodedLengthLatin1} first).
 * @param out The destination, with room for `encodedLengthLatin1(str)` octets.
 * @param pos Where to start writing.
 * @returns The position after the last octet written.
 */
export function encodeLatin1Into(str: string, out: Uint8Array, pos: number): number {
  // `acc` holds `n` pending bits, n < 8 between symbols. A code of up to 24 bits is
  // shifted in at once (7 + 24 < 32), a longer one in two parts, so `acc` never needs
  // more than 31 bits.
  let acc = 0;
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    const sym = str.charCodeAt(i) & 0xff;
    let code = HUFFMAN_CODES[sym];
    let len = HUFFMAN_LENGTHS[sym];
    if (len > 24) {
      len -= 16;
      acc = (acc << len) | (code >>> 16);
      n += len;
      while (n >= 8) out[pos++] = acc >>> (n -= 8);
      acc &= (1 << n) - 1;
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    n += len;
    while (n >= 8) out[pos++] = acc >>> (n -= 8);
    acc &= (1 << n) - 1;
  }
  if (n > 0) out[pos++] = (acc << (8 - n)) | (0xff >>> n);
  return pos;
}

/**
 * Huffman-encodes octets for an HPACK string literal.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { encode } from "./huffman.ts";
 *
 * const wire = encode(new TextEncoder().encode("no-cache"));
 * assertEquals(wire, new Uint8Array([0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf]));
 * ```
 *
 * @param data The octets to encode.
 * @returns The encoded octets, padded with 1-bits to a whole octet.
 */
export function encode(data: Uint8Array): Uint8Array {
  // Not on the hot path (the encoder calls encodeLatin1Into with its strings): one loop
  // serves both.
  const out = new Uint8Array(encodedLength(data));
  encodeLatin1Into(latin1Decode(data, 0, data.length), out, 0);
  return out;
}
