// The Huffman code on its own: the table, encoding, measuring, and decoding with the
// padding and EOS rules of RFC 7541 Section 5.2.

import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  HUFFMAN_CODES,
  HUFFMAN_EOS,
  HUFFMAN_LENGTHS,
} from "../../../http2/hpack/_huffman_table.ts";
import { HpackDecoder } from "../../../http2/hpack/decoder.ts";
import { HpackError } from "../../../http2/hpack/errors.ts";
import { decode, encode, encodedLength } from "../../../http2/hpack/huffman.ts";
import { bytes, hex, toHex } from "./_helpers.ts";

Deno.test("Huffman table has 257 codes forming a complete canonical prefix code", () => {
  assertEquals(HUFFMAN_CODES.length, 257);
  assertEquals(HUFFMAN_LENGTHS.length, 257);
  // Kraft sum exactly 1: no code is missing or too long.
  let kraft = 0;
  for (let s = 0; s <= HUFFMAN_EOS; s++) kraft += 2 ** -HUFFMAN_LENGTHS[s];
  assertEquals(kraft, 1);
  // Canonical: ordered by (length, symbol), each code is the previous plus one,
  // shifted left by the growth in length.
  const order = [...Array(257).keys()].sort((a, b) =>
    HUFFMAN_LENGTHS[a] - HUFFMAN_LENGTHS[b] || a - b
  );
  let code = 0;
  for (let i = 0; i < order.length; i++) {
    const s = order[i];
    if (i > 0) code = (code + 1) * 2 ** (HUFFMAN_LENGTHS[s] - HUFFMAN_LENGTHS[order[i - 1]]);
    assertEquals(HUFFMAN_CODES[s], code, `symbol ${s}`);
  }
});

Deno.test("Huffman table matches RFC 7541 Appendix B at spot checks", () => {
  const spots: [number, number, number][] = [
    [0, 0x1ff8, 13],
    [10, 0x3ffffffc, 30],
    [32, 0x14, 6],
    [48, 0x0, 5],
    [97, 0x3, 5],
    [122, 0x7b, 7],
    [127, 0xffffffc, 28],
    [128, 0xfffe6, 20],
    [195, 0x7fff1, 19],
    [255, 0x3ffffee, 26],
    [256, 0x3fffffff, 30],
  ];
  for (const [sym, code, len] of spots) {
    assertEquals([HUFFMAN_CODES[sym], HUFFMAN_LENGTHS[sym]], [code, len], `symbol ${sym}`);
  }
});

Deno.test("Huffman encode gives the RFC 7541 Appendix C.4 and C.6 strings", () => {
  const cases: [string, string][] = [
    ["www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"],
    ["no-cache", "a8eb10649cbf"],
    ["custom-key", "25a849e95ba97d7f"],
    ["custom-value", "25a849e95bb8e8b4bf"],
    ["302", "6402"],
    ["private", "aec3771a4b"],
    ["Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"],
    ["https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"],
  ];
  for (const [text, wire] of cases) {
    assertEquals(toHex(encode(bytes(text))), wire, text);
    assertEquals(encodedLength(bytes(text)), wire.length / 2, text);
    assertEquals(toHex(decode(hex(wire))), toHex(bytes(text)), text);
  }
});

Deno.test("Huffman round-trips every byte value, including 30-bit codes", () => {
  const all = Uint8Array.from({ length: 256 * 4 }, (_, i) => (i * 37 + (i >> 8)) & 0xff);
  const encoded = encode(all);
  assertEquals(encoded.length, encodedLength(all));
  assertEquals(decode(encoded), all);
  for (let b = 0; b < 256; b++) {
    const one = Uint8Array.of(b);
    assertEquals(decode(encode(one)), one, `byte ${b}`);
    assertEquals(encode(one).length, Math.ceil(HUFFMAN_LENGTHS[b] / 8), `byte ${b}`);
  }
});

Deno.test("Huffman round-trips random strings of every length up to 64", () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 8;
  for (let n = 0; n <= 64; n++) {
    for (let k = 0; k < 20; k++) {
      const data = Uint8Array.from({ length: n }, () => random() & 0xff);
      assertEquals(decode(encode(data)), data);
    }
  }
});

Deno.test("Huffman decodes the empty string", () => {
  assertEquals(decode(new Uint8Array(0)), new Uint8Array(0));
  assertEquals(encode(new Uint8Array(0)).length, 0);
});

Deno.test("Huffman decoder accepts exactly seven bits of padding", () => {
  // "aaaaa" is 5 x 5 = 25 bits: 7 bits of padding in the fourth octet.
  const wire = encode(bytes("aaaaa"));
  assertEquals(toHex(wire), "18c631ff"); // ...1 then 1111111
  assertEquals(decode(wire), bytes("aaaaa"));
  assertThrows(() => decode(hex("18c631fe")), HpackError, "padding");
});

Deno.test("Huffman decoder rejects padding longer than seven bits", () => {
  // "aaaaaaaa" is 40 bits, a whole number of octets; one more 0xff is 8 bits of padding.
  const exact = encode(bytes("aaaaaaaa"));
  assertEquals(exact.length, 5);
  const padded = Uint8Array.of(...exact, 0xff);
  const e = assertThrows(() => decode(padded), HpackError, "padding");
  assertEquals((e as HpackError).code, "compression");
});

Deno.test("Huffman decoder rejects padding that is not all ones", () => {
  // "a" = 00011, then padding 000 instead of 111.
  assertEquals(decode(Uint8Array.of(0x1f)), bytes("a"));
  assertThrows(() => decode(Uint8Array.of(0x18)), HpackError, "padding");
  assertThrows(() => decode(Uint8Array.of(0x1e)), HpackError, "padding");
});

Deno.test("Huffman decoder rejects the EOS symbol inside a string", () => {
  // 30 one-bits are EOS.
  assertThrows(() => decode(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), HpackError, "EOS");
  // EOS after a symbol, mid-byte: "a" (00011) then 30 ones, padded.
  const wire = Uint8Array.of(0x1f, 0xff, 0xff, 0xff, 0xff);
  assertThrows(() => decode(wire), HpackError, "EOS");
});

Deno.test("decoder turns bad Huffman in a header block into a compression error", () => {
  const decoder = new HpackDecoder();
  // Literal without indexing, name index 1 (:authority), Huffman value of one octet 0x18.
  const e = assertThrows(() => decoder.decode(hex("01 81 18")), HpackError, "padding");
  assertEquals((e as HpackError).code, "compression");
  assert(e instanceof Error);
});
