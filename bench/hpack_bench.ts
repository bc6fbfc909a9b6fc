// HPACK encode and decode of a typical browser request and a typical response.
// "first" = a fresh context (every field a literal, Huffman-coded); "repeat" = the
// same list again on a warm context (everything indexed).
//
//   deno bench bench/hpack_bench.ts

import { HpackDecoder, HpackEncoder } from "../http2/hpack/mod.ts";

const REQUEST: [string, string][] = [
  [":method", "GET"],
  [":scheme", "https"],
  [":authority", "www.example.com"],
  [":path", "/assets/js/app.3f9c2b1d.js?v=20240101"],
  [
    "user-agent",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  ],
  ["accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"],
  ["accept-encoding", "gzip, deflate, br, zstd"],
  ["accept-language", "en-US,en;q=0.9"],
  ["referer", "https://www.example.com/"],
  ["cookie", "session=4f7a1c9e2b8d4a6f9e3c1b7d5a2f8e6c; theme=dark; consent=1"],
  ["sec-fetch-dest", "script"],
  ["sec-fetch-mode", "no-cors"],
  ["sec-fetch-site", "same-origin"],
];

const RESPONSE: [string, string][] = [
  [":status", "200"],
  ["date", "Mon, 25 Nov 2024 01:30:00 GMT"],
  ["content-type", "application/javascript; charset=utf-8"],
  ["content-length", "48213"],
  ["cache-control", "public, max-age=31536000, immutable"],
  ["etag", '"5f3a-1c9e2b8d4a6f"'],
  ["last-modified", "Sun, 24 Nov 2024 18:00:00 GMT"],
  ["server", "hyperwire"],
  ["vary", "accept-encoding"],
  ["content-encoding", "br"],
  ["strict-transport-security", "max-age=63072000; includeSubDomains"],
  ["x-content-type-options", "nosniff"],
];

for (const [name, list] of [["request", REQUEST], ["response", RESPONSE]] as const) {
  const first = new HpackEncoder().encode(list);
  const warmEncoder = new HpackEncoder();
  const warmDecoder = new HpackDecoder();
  warmDecoder.decode(warmEncoder.encode(list));
  const repeat = warmEncoder.encode(list);
  warmDecoder.decode(repeat);

  Deno.bench(`encode ${name}, first on a connection (${first.length} octets)`, {
    group: `encode ${name}`,
  }, () => {
    new HpackEncoder().encode(list);
  });
  Deno.bench(`encode ${name}, repeat on a connection (${repeat.length} octets)`, {
    group: `encode ${name}`,
  }, () => {
    warmEncoder.encode(list);
  });
  Deno.bench(`decode ${name}, first on a connection`, { group: `decode ${name}` }, () => {
    new HpackDecoder().decode(first);
  });
  Deno.bench(`decode ${name}, repeat on a connection`, { group: `decode ${name}` }, () => {
    warmDecoder.decode(repeat);
  });
}
