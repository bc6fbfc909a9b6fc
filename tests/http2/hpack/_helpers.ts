// Helpers shared by the HPACK tests.

import type { HpackDecoder } from "../../../http2/hpack/decoder.ts";

/** Octets from hex, ignoring spaces and newlines ("8286 8441" -> 82 86 84 41). */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  if (digits.length % 2 !== 0) throw new Error(`odd hex: ${text}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) {
    const byte = parseInt(digits.substr(i * 2, 2), 16);
    if (Number.isNaN(byte)) throw new Error(`bad hex: ${text}`);
    out[i] = byte;
  }
  return out;
}

/** Lowercase hex of octets, no spaces. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Octets of an ASCII/latin1 string, one per char. */
export function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/**
 * The decoder's dynamic table, newest first, read by decoding indexed fields 62.. (an
 * indexed field changes nothing, so this leaves the decoder as it was).
 */
export function dynamicEntries(decoder: HpackDecoder): [string, string][] {
  const n = decoder.dynamicTableLength;
  const block: number[] = [];
  for (let index = 62; index < 62 + n; index++) {
    // Indexed field, 7-bit prefix.
    if (index < 127) block.push(0x80 | index);
    else {
      let rest = index - 127;
      block.push(0xff);
      while (rest >= 128) {
        block.push((rest & 0x7f) | 0x80);
        rest >>>= 7;
      }
      block.push(rest);
    }
  }
  return decoder.decode(Uint8Array.from(block));
}
