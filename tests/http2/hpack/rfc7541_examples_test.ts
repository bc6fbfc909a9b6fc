// RFC 7541 Appendix C: the integer examples (C.1), single fields (C.2), and the
// request (C.3, C.4) and response (C.5, C.6) sequences, without and with Huffman
// coding, including the evictions of C.5 and C.6.

import { assertEquals } from "@std/assert";
import { HpackDecoder } from "../../../http2/hpack/decoder.ts";
import { HpackEncoder } from "../../../http2/hpack/encoder.ts";
import { dynamicEntries, hex, toHex } from "./_helpers.ts";

type Fields = [string, string][];

// ---- C.1: integers ---------------------------------------------------------------
// The encoder writes a table size update with a 5-bit prefix (001xxxxx), which is
// exactly the C.1 representation with the 001 pattern in the top bits.

Deno.test("encoder writes 10 in a 5-bit prefix as one octet (C.1.1)", () => {
  const encoder = new HpackEncoder();
  encoder.setMaxTableSize(10);
  assertEquals(toHex(encoder.encode([])), "2a"); // 0x20 | 0b01010
});

Deno.test("encoder writes 1337 in a 5-bit prefix as 31 + 1306 in two more octets (C.1.2)", () => {
  const encoder = new HpackEncoder();
  encoder.setMaxTableSize(1337);
  assertEquals(toHex(encoder.encode([])), "3f9a0a"); // 0x20 | 31, 1306 % 128 | 0x80, 10
});

Deno.test("decoder reads the value 42 from a single prefix octet (C.1.3)", () => {
  // C.1.3 encodes 42 in a whole octet; HPACK uses 7-bit prefixes for string lengths, so
  // the closest wire form is a literal whose value length octet is 0x2a.
  const value = "x".repeat(42);
  const block = Uint8Array.from([0x00, 0x01, 0x61, 0x2a, ...new TextEncoder().encode(value)]);
  assertEquals(new HpackDecoder().decode(block), [["a", value]]);
});

// ---- C.2: single fields ----------------------------------------------------------

Deno.test("decoder adds a literal with indexing to the dynamic table (C.2.1)", () => {
  const decoder = new HpackDecoder();
  const block = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
  assertEquals(decoder.decode(block), [["custom-key", "custom-header"]]);
  assertEquals(decoder.dynamicTableSize, 55);
  assertEquals(dynamicEntries(decoder), [["custom-key", "custom-header"]]);
});

Deno.test("encoder sends a new field as a literal with indexing and new name (C.2.1)", () => {
  const encoder = new HpackEncoder({ huffman: false });
  const block = encoder.encode([["custom-key", "custom-header"]]);
  assertEquals(toHex(block), "400a637573746f6d2d6b65790d637573746f6d2d686561646572");
  assertEquals(encoder.dynamicTableSize, 55);
});

Deno.test("decoder leaves the table alone for a literal without indexing (C.2.2)", () => {
  const decoder = new HpackDecoder();
  assertEquals(decoder.decode(hex("040c 2f73 616d 706c 652f 7061 7468")), [
    [":path", "/sample/path"],
  ]);
  assertEquals(decoder.dynamicTableLength, 0);
});

Deno.test("decoder leaves the table alone for a never-indexed literal (C.2.3)", () => {
  const decoder = new HpackDecoder();
  assertEquals(decoder.decode(hex("1008 7061 7373 776f 7264 0673 6563 7265 74")), [
    ["password", "secret"],
  ]);
  assertEquals(decoder.dynamicTableLength, 0);
});

Deno.test("decoder reads an indexed static field (C.2.4)", () => {
  const decoder = new HpackDecoder();
  assertEquals(decoder.decode(hex("82")), [[":method", "GET"]]);
  assertEquals(decoder.dynamicTableLength, 0);
});

// ---- C.3 / C.4: requests ---------------------------------------------------------

const REQUESTS: Fields[] = [
  [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"]],
  [
    [":method", "GET"],
    [":scheme", "http"],
    [":path", "/"],
    [":authority", "www.example.com"],
    ["cache-control", "no-cache"],
  ],
  [
    [":method", "GET"],
    [":scheme", "https"],
    [":path", "/index.html"],
    [":authority", "www.example.com"],
    ["custom-key", "custom-value"],
  ],
];

const REQUEST_TABLES: Fields[] = [
  [[":authority", "www.example.com"]],
  [["cache-control", "no-cache"], [":authority", "www.example.com"]],
  [["custom-key", "custom-value"], ["cache-control", "no-cache"], [
    ":authority",
    "www.example.com",
  ]],
];
const REQUEST_TABLE_SIZES = [57, 110, 164];

const C3 = [
  "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
  "8286 84be 5808 6e6f 2d63 6163 6865",
  "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
];
const C4 = [
  "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
  "8286 84be 5886 a8eb 1064 9cbf",
  "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
];

for (const [section, wires] of [["C.3", C3], ["C.4", C4]] as const) {
  const huffman = section === "C.4";
  Deno.test(`decoder decodes the ${section} requests and keeps the RFC's dynamic table`, () => {
    const decoder = new HpackDecoder();
    for (let i = 0; i < 3; i++) {
      assertEquals(decoder.decode(hex(wires[i])), REQUESTS[i], `${section}.${i + 1}`);
      assertEquals(dynamicEntries(decoder), REQUEST_TABLES[i], `${section}.${i + 1}`);
      assertEquals(decoder.dynamicTableSize, REQUEST_TABLE_SIZES[i], `${section}.${i + 1}`);
    }
  });

  Deno.test(`encoder produces the ${section} requests octet for octet`, () => {
    const encoder = new HpackEncoder({ huffman });
    for (let i = 0; i < 3; i++) {
      assertEquals(
        toHex(encoder.encode(REQUESTS[i])),
        wires[i].replace(/ /g, ""),
        `${section}.${i + 1}`,
      );
      assertEquals(encoder.dynamicTableSize, REQUEST_TABLE_SIZES[i], `${section}.${i + 1}`);
    }
  });
}

// ---- C.5 / C.6: responses, with a 256-octet table and evictions --------------------

const SET_COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const RESPONSES: Fields[] = [
  [
    [":status", "302"],
    ["cache-control", "private"],
    ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
    ["location", "https://www.example.com"],
  ],
  [
    [":status", "307"],
    ["cache-control", "private"],
    ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
    ["location", "https://www.example.com"],
  ],
  [
    [":status", "200"],
    ["cache-control", "private"],
    ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
    ["location", "https://www.example.com"],
    ["content-encoding", "gzip"],
    ["set-cookie", SET_COOKIE],
  ],
];
const RESPONSE_TABLES: Fields[] = [
  [
    ["location", "https://www.example.com"],
    ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
    ["cache-control", "private"],
    [":status", "302"],
  ],
  [
    [":status", "307"],
    ["location", "https://www.example.com"],
    ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
    ["cache-control", "private"],
  ],
  [
    ["set-cookie", SET_COOKIE],
    ["content-encoding", "gzip"],
    ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
  ],
];
const RESPONSE_TABLE_SIZES = [222, 222, 215];

const C5 = [
  "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a" +
  "3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
  "4803 3330 37c1 c0bf",
  "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04" +
  "677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49" +
  "553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
];
const C6 = [
  "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e" +
  "919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
  "4883 640e ffc1 c0bf",
  "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7" +
  "821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed" +
  "4ee5 b106 3d50 07",
];

for (const [section, wires] of [["C.5", C5], ["C.6", C6]] as const) {
  const huffman = section === "C.6";

  Deno.test(`decoder decodes the ${section} responses, evicting as the RFC shows`, () => {
    const decoder = new HpackDecoder({ maxTableSize: 256 });
    for (let i = 0; i < 3; i++) {
      assertEquals(decoder.decode(hex(wires[i])), RESPONSES[i], `${section}.${i + 1}`);
      assertEquals(dynamicEntries(decoder), RESPONSE_TABLES[i], `${section}.${i + 1}`);
      assertEquals(decoder.dynamicTableSize, RESPONSE_TABLE_SIZES[i], `${section}.${i + 1}`);
    }
  });

  Deno.test(
    `encoder matches ${section}.1 except that it does not index location, and round-trips all three`,
    () => {
      const encoder = new HpackEncoder({ maxTableSize: 256, huffman });
      const decoder = new HpackDecoder({ maxTableSize: 256 });
      const first = toHex(encoder.encode(RESPONSES[0]));
      // The RFC indexes location (6e = 01 101110, index 46); this encoder sends it
      // without indexing (0000 1111 then 46 - 15 = 31), the rest is the same.
      const rfc = wires[0].replace(/ /g, "");
      const at = huffman ? rfc.indexOf("6e919d") : rfc.indexOf("6e1768");
      assertEquals(first, rfc.slice(0, at) + "0f1f" + rfc.slice(at + 2));
      assertEquals(encoder.dynamicTableSize, 222 - 63);
      assertEquals(decoder.decode(hex(first)), RESPONSES[0]);
      for (let i = 1; i < 3; i++) {
        assertEquals(decoder.decode(encoder.encode(RESPONSES[i])), RESPONSES[i]);
        assertEquals(decoder.dynamicTableSize, encoder.dynamicTableSize);
      }
      // The third response overflowed 256 octets: ":status: 302", then
      // "cache-control: private" were evicted (location and set-cookie never entered).
      assertEquals(dynamicEntries(decoder), [
        ["content-encoding", "gzip"],
        ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
        [":status", "307"],
        ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
      ]);
      assertEquals(decoder.dynamicTableSize, 52 + 65 + 42 + 65);
    },
  );
}
