// HpackEncoder: representations chosen per field, the indexing policy for sensitive
// and one-off fields, table size updates after setMaxTableSize, Huffman choice, the
// ByteString rule, and a randomized round trip through small tables.

import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { HpackDecoder } from "../../../http2/hpack/decoder.ts";
import { HpackEncoder } from "../../../http2/hpack/encoder.ts";
import { toHex } from "./_helpers.ts";

type Fields = [string, string][];

function roundTrip(encoder: HpackEncoder, decoder: HpackDecoder, fields: Fields): Uint8Array {
  const block = encoder.encode(fields);
  assertEquals(decoder.decode(block), fields);
  assertEquals(decoder.dynamicTableSize, encoder.dynamicTableSize);
  assertEquals(decoder.dynamicTableLength, encoder.dynamicTableLength);
  return block;
}

// ---- representations ----------------------------------------------------------

Deno.test("encoder sends a field found in the static table as one index octet", () => {
  const encoder = new HpackEncoder();
  assertEquals(toHex(encoder.encode([[":method", "GET"], [":status", "404"]])), "828d");
  assertEquals(encoder.dynamicTableLength, 0);
});

Deno.test("encoder names a field by its static index when only the name matches", () => {
  const encoder = new HpackEncoder({ huffman: false });
  // 0x42: literal with indexing, name index 2 (:method); then "PUT".
  assertEquals(toHex(encoder.encode([[":method", "PUT"]])), "4203505554");
  assertEquals(toHex(encoder.encode([[":method", "PUT"]])), "be");
});

Deno.test("encoder reuses a dynamic entry's name and indexes exact repeats", () => {
  const encoder = new HpackEncoder({ huffman: false });
  assertEquals(toHex(encoder.encode([["x-custom", "a"]])), "4008782d637573746f6d0161");
  // Name from dynamic index 62, new value.
  assertEquals(toHex(encoder.encode([["x-custom", "b"]])), "7e0162");
  // Table: 62 = x-custom: b, 63 = x-custom: a.
  assertEquals(toHex(encoder.encode([["x-custom", "a"], ["x-custom", "b"]])), "bfbe");
});

Deno.test("encoder returns a fresh array for each block", () => {
  const encoder = new HpackEncoder();
  const first = encoder.encode([[":method", "GET"]]);
  const second = encoder.encode([[":method", "POST"]]);
  assertEquals(toHex(first), "82");
  assertEquals(toHex(second), "83");
});

Deno.test("encoder blocks stay intact while later blocks fill and replace the shared pool", () => {
  // Blocks are views into a shared 16 KiB pool. Keep 2000 of them, of 10 to 3000
  // octets (so several pools, and blocks that outgrow the pool's end mid-encode and
  // move to a new one), and check each when made and again at the end.
  const pairs = [
    [new HpackEncoder(), new HpackDecoder({ maxHeaderListSize: 1 << 20 })],
    [new HpackEncoder({ huffman: false }), new HpackDecoder({ maxHeaderListSize: 1 << 20 })],
  ] as const;
  const kept: [Uint8Array, string][] = [];
  for (let i = 0; i < 2000; i++) {
    const [encoder, decoder] = pairs[i % 2];
    const value = `${i}:`.padEnd(10 + (i * 37) % 3000, "z");
    const fields: Fields = [["x-n", value], ["x-m", value.slice(0, 20)]];
    const block = encoder.encode(fields);
    assertEquals(decoder.decode(block), fields);
    // The caller may write into its block: nothing another block holds may change.
    if (i % 3 === 0) block.fill(0xaa);
    kept.push([block, toHex(block)]);
  }
  for (const [block, hexBefore] of kept) assertEquals(toHex(block), hexBefore);
  assert(new Set(kept.map(([b]) => b.buffer)).size >= 10);
});

Deno.test("encoder accepts a Headers object as its iterable", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const headers = new Headers({ "Content-Type": "text/plain", "X-Trace": "abc" });
  assertEquals(decoder.decode(encoder.encode(headers)), [
    ["content-type", "text/plain"],
    ["x-trace", "abc"],
  ]);
});

Deno.test("encoder grows its buffer for large header lists", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder({ maxHeaderListSize: 1 << 24, maxFieldCount: 5000 });
  const fields: Fields = [];
  for (let i = 0; i < 3000; i++) fields.push([`x-h${i}`, "v".repeat(i % 700)]);
  const block = roundTrip(encoder, decoder, fields);
  assert(block.length > 500000);
});

// ---- indexing policy ------------------------------------------------------------

Deno.test("encoder sends authorization never-indexed and keeps it out of the table", () => {
  const encoder = new HpackEncoder({ huffman: false });
  const decoder = new HpackDecoder();
  for (let i = 0; i < 2; i++) {
    const block = roundTrip(encoder, decoder, [["authorization", "Bearer abc"]]);
    // 0001 1111, then 23 - 15 = 8: never indexed, name index 23.
    assertEquals(toHex(block.subarray(0, 2)), "1f08");
  }
  assertEquals(encoder.dynamicTableLength, 0);
});

Deno.test("encoder sends proxy-authorization never-indexed", () => {
  const encoder = new HpackEncoder();
  const block = encoder.encode([["proxy-authorization", "Basic dXNlcjpwYXNz"]]);
  assertEquals(toHex(block.subarray(0, 2)), "1f22"); // name index 49 = 15 + 34
  assertEquals(encoder.dynamicTableLength, 0);
});

Deno.test("encoder sends cookies shorter than 20 octets never-indexed", () => {
  const encoder = new HpackEncoder();
  const block = encoder.encode([["cookie", "id=1234567890123456"]]); // 19 octets
  assertEquals(toHex(block.subarray(0, 2)), "1f11"); // name index 32 = 15 + 17
  assertEquals(encoder.dynamicTableLength, 0);
});

Deno.test("encoder indexes cookies of 20 octets and more", () => {
  const encoder = new HpackEncoder();
  const cookie = "session=0123456789abcdef"; // 24 octets
  const first = encoder.encode([["cookie", cookie]]);
  assertEquals(first[0], 0x60); // literal with indexing, name index 32
  assertEquals(toHex(encoder.encode([["cookie", cookie]])), "be");
});

Deno.test("encoder sends set-cookie and other one-off fields without indexing", () => {
  const encoder = new HpackEncoder();
  const cases: [string, string, string][] = [
    ["set-cookie", "a=b; Path=/", "0f28"], // 55 = 15 + 40
    ["content-length", "1234", "0f0d"], // 28
    ["etag", '"abc"', "0f13"], // 34
    ["location", "/next", "0f1f"], // 46
    ["last-modified", "Mon, 21 Oct 2013 20:13:21 GMT", "0f1d"], // 44
  ];
  for (const [name, value, start] of cases) {
    const block = encoder.encode([[name, value]]);
    assertEquals(toHex(block.subarray(0, 2)), start, name);
  }
  assertEquals(encoder.dynamicTableLength, 0);
});

Deno.test("encoder does not insert an entry larger than the table", () => {
  const encoder = new HpackEncoder({ maxTableSize: 100 });
  const decoder = new HpackDecoder({ maxTableSize: 100 });
  roundTrip(encoder, decoder, [["x-small", "1"]]); // 7 + 1 + 32 = 40
  const big: Fields = [["x-big", "v".repeat(64)]]; // 5 + 64 + 32 = 101
  const block = roundTrip(encoder, decoder, big);
  assertEquals(block[0], 0x00); // without indexing, new name
  // Inserting it would have emptied the table; the small entry is still there.
  assertEquals(toHex(encoder.encode([["x-small", "1"]])), "be");
  // One octet smaller fits, and is indexed.
  assertEquals(roundTrip(encoder, decoder, [["x-big", "v".repeat(63)]])[0], 0x40);
});

// ---- Huffman choice ------------------------------------------------------------

Deno.test("encoder uses Huffman coding only where it is strictly shorter", () => {
  const encoder = new HpackEncoder();
  // "x-a" takes 7 + 6 + 5 = 18 bits = 3 octets, as long as raw: sent raw.
  // "hello" takes 28 bits = 4 octets, shorter than 5: sent with Huffman.
  const block = encoder.encode([["x-a", "hello"]]);
  assertEquals(toHex(block.subarray(0, 5)), "4003782d61");
  assertEquals(block[5], 0x84);
  assertEquals(block.length, 10);
});

Deno.test("encoder never uses Huffman coding when told not to", () => {
  const encoder = new HpackEncoder({ huffman: false });
  assertEquals(toHex(encoder.encode([["x-a", "hello"]])), "4003782d610568656c6c6f");
});

// ---- strings -------------------------------------------------------------------

Deno.test("encoder sends each ByteString char as one octet", () => {
  const encoder = new HpackEncoder({ huffman: false });
  const decoder = new HpackDecoder();
  const block = roundTrip(encoder, decoder, [["x-a", "caf\u00e9\u00ff"]]);
  assertEquals(toHex(block), "4003782d6105636166e9ff");
});

Deno.test("encoder sends a string with chars above U+00FF as UTF-8 octets", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const block = encoder.encode([["x-a", "\u20ac1"]]);
  // The decoder sees the octets e2 82 ac 31, one char each.
  assertEquals(decoder.decode(block), [["x-a", "\u00e2\u0082\u00ac1"]]);
  assertEquals(decoder.dynamicTableSize, encoder.dynamicTableSize);
  assertEquals(encoder.dynamicTableSize, 3 + 4 + 32);
  // The table holds the octet form, so a repeat is one index.
  assertEquals(toHex(encoder.encode([["x-a", "\u20ac1"]])), "be");
});

// ---- table size updates ----------------------------------------------------------

Deno.test("encoder starts with no size update when using the peer's initial size", () => {
  assertEquals(toHex(new HpackEncoder().encode([[":method", "GET"]])), "82");
});

Deno.test("encoder starts the next block with a size update after setMaxTableSize", () => {
  const encoder = new HpackEncoder();
  encoder.setMaxTableSize(1024);
  // 001 11111, then 1024 - 31 = 993 = 0x61 | 0x80, 0x07.
  assertEquals(toHex(encoder.encode([[":method", "GET"]])), "3fe10782");
  // Only once.
  assertEquals(toHex(encoder.encode([[":method", "GET"]])), "82");
});

Deno.test("encoder announces the size even when the setting did not change it", () => {
  const encoder = new HpackEncoder();
  encoder.setMaxTableSize(4096);
  assertEquals(toHex(encoder.encode([])), "3fe11f");
});

Deno.test("encoder signals the minimum then the final size when lowered then raised", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  roundTrip(encoder, decoder, [["x-a", "1"]]);
  encoder.setMaxTableSize(0);
  encoder.setMaxTableSize(2048);
  decoder.setMaxTableSize(0);
  decoder.setMaxTableSize(2048);
  const block = roundTrip(encoder, decoder, [["x-a", "1"]]);
  // Update to 0, update to 2048 (31 + 2017 = 0xe1 0x0f), then the field again as a
  // literal: the update to 0 emptied both tables.
  assertEquals(toHex(block.subarray(0, 4)), "203fe10f");
  assertEquals(block[4], 0x40);
});

Deno.test("encoder signals only the lowest size when it is also the final one", () => {
  const encoder = new HpackEncoder();
  encoder.setMaxTableSize(1000);
  encoder.setMaxTableSize(100);
  assertEquals(toHex(encoder.encode([])), "3f45"); // 31 + 69
});

Deno.test("encoder evicts its own table when the peer's size shrinks", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  roundTrip(encoder, decoder, [["x-a", "1"], ["x-b", "2"], ["x-c", "3"]]); // 36 each
  encoder.setMaxTableSize(80);
  decoder.setMaxTableSize(80);
  const block = roundTrip(encoder, decoder, [["x-c", "3"], ["x-b", "2"]]);
  assertEquals(encoder.dynamicTableLength, 2);
  // x-c and x-b survived the shrink and are sent as indices 62 and 63.
  assertEquals(toHex(block), "3f31bebf");
});

Deno.test("encoder caps its table at tableSizeLimit whatever the peer allows", () => {
  const encoder = new HpackEncoder();
  encoder.setMaxTableSize(1 << 20);
  // 65536 - 31 = 65505 = 0x61 | 0x80, 0xff | 0x80, 0x03.
  assertEquals(toHex(encoder.encode([])), "3fe1ff03");
  const small = new HpackEncoder({ tableSizeLimit: 0 });
  // The peer starts at 4096: using 0 is announced in the first block, and nothing is
  // ever indexed.
  const block = small.encode([["x-a", "1"]]);
  assertEquals(toHex(block.subarray(0, 2)), "2000");
  assertEquals(small.dynamicTableLength, 0);
});

Deno.test("encoder and decoder agree through random fields, small tables and size changes", () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 8) % n;
  };
  const names = ["x-a", "x-b", "cookie", "authorization", "content-type", ":path", "x-long"];
  for (const huffman of [true, false]) {
    const encoder = new HpackEncoder({ maxTableSize: 256, huffman });
    const decoder = new HpackDecoder({ maxTableSize: 256 });
    let indexed = 0;
    for (let round = 0; round < 500; round++) {
      if (random(20) === 0) {
        const size = [0, 40, 100, 256, 300, 1000][random(6)];
        encoder.setMaxTableSize(size);
        decoder.setMaxTableSize(size);
        if (random(3) === 0) {
          const again = [0, 64, 256][random(3)];
          encoder.setMaxTableSize(again);
          decoder.setMaxTableSize(again);
        }
      }
      const fields: Fields = [];
      for (let i = random(8); i > 0; i--) {
        const name = names[random(names.length)];
        const length = name === "x-long" ? 50 + random(200) : random(30);
        fields.push([name, "v".repeat(length) + random(5)]);
      }
      const block = roundTrip(encoder, decoder, fields);
      for (const b of block) if (b >= 0xbe) indexed++;
    }
    assertNotEquals(indexed, 0); // the dynamic table was in use
  }
});
