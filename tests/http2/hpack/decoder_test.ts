// HpackDecoder: malformed blocks, integer limits, dynamic table size updates, the
// header list limits against HPACK bombs, and the ByteString form of its output.

import { assert, assertEquals, assertThrows } from "@std/assert";
import { HpackDecoder } from "../../../http2/hpack/decoder.ts";
import { HpackError } from "../../../http2/hpack/errors.ts";
import { encode as huffmanEncode } from "../../../http2/hpack/huffman.ts";
import { dynamicEntries, hex } from "./_helpers.ts";

function compressionError(fn: () => unknown, message: string): void {
  const e = assertThrows(fn, HpackError, message);
  assertEquals((e as HpackError).code, "compression");
}

/** A literal with incremental indexing and a new name, no Huffman. */
function literalWithIndexing(name: string, value: string): number[] {
  return [0x40, ...rawString(name), ...rawString(value)];
}

/** A string literal without Huffman: 7-bit-prefix length, then the octets. */
function rawString(s: string): number[] {
  return [...integer(0x00, 7, s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/** An HPACK integer with an N-bit prefix. */
function integer(flags: number, prefixBits: number, n: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (n < max) return [flags | n];
  const out = [flags | max];
  n -= max;
  while (n >= 128) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

// ---- indices ---------------------------------------------------------------------

Deno.test("decoder rejects index 0", () => {
  compressionError(() => new HpackDecoder().decode(hex("80")), "index 0");
});

Deno.test("decoder rejects an index beyond the static table when the dynamic table is empty", () => {
  const decoder = new HpackDecoder();
  assertEquals(decoder.decode(hex("bd")), [["www-authenticate", ""]]); // 61: the last one
  compressionError(() => decoder.decode(hex("be")), "index 62"); // 62: nothing there
});

Deno.test("decoder rejects an index beyond the dynamic table", () => {
  const decoder = new HpackDecoder();
  decoder.decode(Uint8Array.from([
    ...literalWithIndexing("a", "1"),
    ...literalWithIndexing("b", "2"),
  ]));
  assertEquals(decoder.decode(hex("be bf")), [["b", "2"], ["a", "1"]]);
  compressionError(() => decoder.decode(hex("c0")), "index 64");
});

Deno.test("decoder rejects a literal whose name index is beyond the tables", () => {
  // Literal with indexing, name index 62, with an empty dynamic table.
  compressionError(() => new HpackDecoder().decode(hex("7e 01 61")), "index 62");
  // Literal without indexing, name index 15 + 50 = 65.
  compressionError(() => new HpackDecoder().decode(hex("0f 32 01 61")), "index 65");
});

Deno.test("decoder reads a never-indexed literal and does not index it", () => {
  const decoder = new HpackDecoder();
  // 0001 xxxx, name index 15 + 8 = 23 (authorization).
  assertEquals(decoder.decode(hex("1f 08 06 736563726574")), [["authorization", "secret"]]);
  assertEquals(decoder.dynamicTableLength, 0);
});

Deno.test("decoder returns an empty list for an empty block", () => {
  assertEquals(new HpackDecoder().decode(new Uint8Array(0)), []);
});

// ---- truncation and integers ----------------------------------------------------

Deno.test("decoder rejects a block that ends inside a string", () => {
  compressionError(() => new HpackDecoder().decode(hex("40 03 616263 05 6162")), "truncated");
  compressionError(() => new HpackDecoder().decode(hex("40 03 6162")), "truncated");
});

Deno.test("decoder rejects a block that ends before a value string starts", () => {
  compressionError(() => new HpackDecoder().decode(hex("40 01 61")), "truncated");
  compressionError(() => new HpackDecoder().decode(hex("04")), "truncated");
});

Deno.test("decoder rejects a block that ends inside a multi-octet integer", () => {
  compressionError(() => new HpackDecoder().decode(hex("ff")), "truncated integer");
  compressionError(() => new HpackDecoder().decode(hex("ff 80 80")), "truncated integer");
});

Deno.test("decoder reads integers exactly at and around the prefix boundaries", () => {
  // String lengths use a 7-bit prefix: 126 fits, 127 needs one more octet (0),
  // 128 one more (1), 127 + 128 two more (80 01).
  for (const n of [0, 1, 126, 127, 128, 254, 255, 16510, 16511, 100000]) {
    const value = "v".repeat(n);
    const block = Uint8Array.from([0x00, 0x01, 0x61, ...rawString(value)]);
    assertEquals(block.length, 3 + n + (n < 127 ? 1 : n < 255 ? 2 : n < 16511 ? 3 : 4));
    const decoder = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
    assertEquals(decoder.decode(block), [["a", value]], `length ${n}`);
  }
  // Indices use a 7-bit prefix: 127 is ff 00, the 66th dynamic entry.
  const decoder = new HpackDecoder({ maxTableSize: 100000 });
  const fields: number[] = [];
  for (let i = 0; i < 70; i++) fields.push(...literalWithIndexing("n", String(i)));
  decoder.decode(Uint8Array.from(fields));
  assertEquals(decoder.decode(hex("fe")), [["n", "5"]]); // 126: 65th newest
  assertEquals(decoder.decode(hex("ff 00")), [["n", "4"]]); // 127
  assertEquals(decoder.decode(hex("ff 01")), [["n", "3"]]); // 128
});

Deno.test("decoder accepts an integer of 2^31 - 1 and rejects one of 2^31", () => {
  // A size update (5-bit prefix) to 2^31 - 1 is a valid integer, refused only as a size.
  const max = integer(0x20, 5, 2 ** 31 - 1);
  assertEquals(max.length, 6);
  const decoder = new HpackDecoder({ maxTableSize: 2 ** 31 - 1 });
  assertEquals(decoder.decode(Uint8Array.from(max)), []);
  compressionError(
    () => new HpackDecoder().decode(Uint8Array.from(max)),
    "exceeds the limit",
  );
  // 2^31: an overflow, whatever the limit.
  compressionError(
    () => decoder.decode(Uint8Array.from(integer(0x20, 5, 2 ** 31))),
    "overflow",
  );
  // An index of 2^32 + 5.
  compressionError(
    () => new HpackDecoder().decode(Uint8Array.from(integer(0x80, 7, 2 ** 32 + 5))),
    "overflow",
  );
  // A string length of 2^31 - 1 passes as an integer and fails as a truncated string.
  compressionError(
    () => new HpackDecoder().decode(Uint8Array.from([0x00, ...integer(0x00, 7, 2 ** 31 - 1)])),
    "truncated string",
  );
});

Deno.test("decoder rejects an integer padded with more than five continuation octets", () => {
  // 31 + 0 written with five zero-valued continuation octets, then a sixth.
  compressionError(() => new HpackDecoder().decode(hex("3f 80 80 80 80 80 00")), "too long");
  // Four padding octets are still fine: the value is 31.
  const decoder = new HpackDecoder();
  assertEquals(decoder.decode(hex("3f 80 80 80 80 00")), []);
});

// ---- dynamic table size updates ------------------------------------------------

Deno.test("decoder applies a size update at the start of a block, evicting entries", () => {
  const decoder = new HpackDecoder();
  decoder.decode(Uint8Array.from([
    ...literalWithIndexing("a", "1"), // 34 octets
    ...literalWithIndexing("b", "2"), // 34 octets
  ]));
  assertEquals(decoder.dynamicTableSize, 68);
  // Update to 40: only the newest entry fits.
  assertEquals(decoder.decode(Uint8Array.from(integer(0x20, 5, 40))), []);
  assertEquals(dynamicEntries(decoder), [["b", "2"]]);
  // Update to 0 empties the table; index 62 is then gone.
  decoder.decode(hex("20"));
  assertEquals(decoder.dynamicTableLength, 0);
  compressionError(() => decoder.decode(hex("be")), "index 62");
});

Deno.test("decoder rejects a size update above its advertised maximum", () => {
  const decoder = new HpackDecoder({ maxTableSize: 1000 });
  assertEquals(decoder.decode(Uint8Array.from(integer(0x20, 5, 1000))), []);
  compressionError(
    () => decoder.decode(Uint8Array.from(integer(0x20, 5, 1001))),
    "exceeds the limit 1000",
  );
});

Deno.test("decoder rejects a size update after the first field of a block", () => {
  compressionError(() => new HpackDecoder().decode(hex("82 3f e1 1f")), "after the start");
  compressionError(() => new HpackDecoder().decode(hex("20 82 20")), "after the start");
});

Deno.test("decoder accepts two size updates at the start of a block", () => {
  const decoder = new HpackDecoder();
  assertEquals(decoder.decode(Uint8Array.from([0x20, ...integer(0x20, 5, 4096), 0x82])), [
    [":method", "GET"],
  ]);
});

Deno.test("decoder requires a size update after its setting drops below the table size", () => {
  const decoder = new HpackDecoder();
  decoder.decode(Uint8Array.from(literalWithIndexing("a", "1")));
  decoder.setMaxTableSize(100);
  compressionError(() => decoder.decode(hex("82")), "expected a dynamic table size update");
  // The requirement stays until a block meets it.
  compressionError(
    () => decoder.decode(Uint8Array.from(integer(0x20, 5, 101))),
    "exceeds the limit 100",
  );
  assertEquals(decoder.decode(Uint8Array.from([...integer(0x20, 5, 100), 0x82])), [
    [":method", "GET"],
  ]);
  // Met once: the next block needs none.
  assertEquals(decoder.decode(hex("82")), [[":method", "GET"]]);
  assertEquals(dynamicEntries(decoder), [["a", "1"]]);
});

Deno.test("decoder requires the lowest of several settings to be signalled first", () => {
  const decoder = new HpackDecoder();
  decoder.setMaxTableSize(50);
  decoder.setMaxTableSize(4096);
  // The final size alone is not enough: the peer must show it went down to 50.
  compressionError(
    () => decoder.decode(Uint8Array.from(integer(0x20, 5, 4096))),
    "at most 50",
  );
  assertEquals(
    decoder.decode(Uint8Array.from([...integer(0x20, 5, 50), ...integer(0x20, 5, 4096)])),
    [],
  );
});

Deno.test("decoder needs no size update when its setting grows", () => {
  const decoder = new HpackDecoder();
  decoder.setMaxTableSize(8192);
  assertEquals(decoder.decode(hex("82")), [[":method", "GET"]]);
  // But the table only grows when the encoder says so, and now it may.
  assertEquals(decoder.decode(Uint8Array.from(integer(0x20, 5, 8192))), []);
});

// ---- header list limits (HPACK bombs) -------------------------------------------

Deno.test("decoder stops a bomb of references to one big dynamic entry", () => {
  const decoder = new HpackDecoder(); // 4096-octet table, 65536-octet list limit
  const big = "x".repeat(4000); // entry size 1 + 4000 + 32 = 4033
  const block: number[] = [...literalWithIndexing("a", big)];
  // 100000 one-octet references would decode to 403 MB of header list.
  for (let i = 0; i < 100000; i++) block.push(0xbe);
  const e = assertThrows(() => decoder.decode(Uint8Array.from(block)), HpackError, "65536");
  assertEquals((e as HpackError).code, "header_list_too_large");
});

Deno.test("decoder counts 32 octets per field against maxHeaderListSize", () => {
  // ":method: GET" counts 7 + 3 + 32 = 42.
  const decoder = new HpackDecoder({ maxHeaderListSize: 420 });
  assertEquals(decoder.decode(new Uint8Array(10).fill(0x82)).length, 10);
  const e = assertThrows(
    () => decoder.decode(new Uint8Array(11).fill(0x82)),
    HpackError,
    "larger than 420",
  );
  assertEquals((e as HpackError).code, "header_list_too_large");
});

Deno.test("decoder rejects more fields than maxFieldCount", () => {
  const decoder = new HpackDecoder({ maxFieldCount: 1000, maxHeaderListSize: 1 << 30 });
  assertEquals(decoder.decode(new Uint8Array(1000).fill(0x82)).length, 1000);
  const e = assertThrows(
    () => decoder.decode(new Uint8Array(1001).fill(0x82)),
    HpackError,
    "more than 1000",
  );
  assertEquals((e as HpackError).code, "header_list_too_large");
});

Deno.test("decoder keeps its table in step with the encoder after a list-size error", () => {
  const decoder = new HpackDecoder({ maxHeaderListSize: 100 });
  // Over the limit at the second field; the third still enters the dynamic table.
  const block = Uint8Array.from([
    ...literalWithIndexing("first", "1"),
    ...literalWithIndexing("second", "x".repeat(100)),
    ...literalWithIndexing("third", "3"),
  ]);
  const e = assertThrows(() => decoder.decode(block), HpackError);
  assertEquals((e as HpackError).code, "header_list_too_large");
  assertEquals(decoder.dynamicTableSize, 38 + 138 + 38);
  assertEquals(decoder.decode(hex("be")), [["third", "3"]]);
  assertEquals(decoder.decode(hex("c0")), [["first", "1"]]);
});

Deno.test("decoder still reports a compression error found after the list limit", () => {
  const decoder = new HpackDecoder({ maxFieldCount: 1 });
  const e = assertThrows(() => decoder.decode(hex("82 82 80")), HpackError, "index 0");
  assertEquals((e as HpackError).code, "compression");
});

// ---- strings -------------------------------------------------------------------

Deno.test("decoder returns octets as ByteStrings, one char per octet, not UTF-8", () => {
  // value octets c3 a9 (UTF-8 for "é") and ff: three chars, not "é" and a replacement.
  const decoder = new HpackDecoder();
  const [[name, value]] = decoder.decode(hex("00 01 61 03 c3a9ff"));
  assertEquals(name, "a");
  assertEquals(value, "\u00c3\u00a9\u00ff");
  assertEquals(value.length, 3);
});

Deno.test("decoder counts ByteString lengths as octets in the dynamic table", () => {
  const decoder = new HpackDecoder();
  decoder.decode(hex("40 01 61 03 c3a9ff"));
  assertEquals(decoder.dynamicTableSize, 1 + 3 + 32);
});

Deno.test("decoder decodes values longer than one conversion chunk", () => {
  const value = "0123456789abcdef".repeat(1000); // 16000 octets
  const decoder = new HpackDecoder();
  const block = Uint8Array.from([0x00, 0x01, 0x61, ...rawString(value)]);
  const [[, got]] = decoder.decode(block);
  assert(got === value);
});

Deno.test("decoder decodes a Huffman value larger than its 64 KiB shared scratch", () => {
  const value = "abc".repeat(60000); // 180000 octets, 5-bit codes: 112500 octets coded
  const wire = huffmanEncode(Uint8Array.from(value, (c) => c.charCodeAt(0)));
  const block = Uint8Array.from([0x00, 0x01, 0x61, ...integer(0x80, 7, wire.length), ...wire]);
  const decoder = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
  const [[, got]] = decoder.decode(block);
  assert(got === value);
  // And a small one right after still decodes through the shared scratch.
  const small = huffmanEncode(Uint8Array.from("hello", (c) => c.charCodeAt(0)));
  assertEquals(
    decoder.decode(Uint8Array.from([0x00, 0x01, 0x61, 0x80 | small.length, ...small])),
    [["a", "hello"]],
  );
});

Deno.test("decoder constructor refuses negative or fractional limits", () => {
  assertThrows(() => new HpackDecoder({ maxTableSize: -1 }), RangeError);
  assertThrows(() => new HpackDecoder({ maxHeaderListSize: 1.5 }), RangeError);
  assertThrows(() => new HpackDecoder().setMaxTableSize(NaN), RangeError);
});
