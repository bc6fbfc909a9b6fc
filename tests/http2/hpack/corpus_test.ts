// The hpack-test-case corpus (http2jp, in /work/shared/testdata/hpack): every story of
// every implementation folder decodes to its expected headers, and every story
// (raw-data included) round-trips through our encoder and a fresh decoder.

import { assert, assertEquals } from "@std/assert";
import { HpackDecoder } from "../../../http2/hpack/decoder.ts";
import { HpackEncoder } from "../../../http2/hpack/encoder.ts";
import { readdirSync, readFileSync } from "node:fs";

const CORPUS = new URL("../../../../shared/testdata/hpack/", import.meta.url);

interface Case {
  seqno: number;
  header_table_size?: number | null;
  wire?: string;
  headers: Record<string, string>[];
}

interface Story {
  path: string;
  cases: Case[];
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function expected(c: Case): [string, string][] {
  return c.headers.map((h) => {
    const entries = Object.entries(h);
    assertEquals(entries.length, 1);
    return entries[0];
  });
}

function loadFolder(folder: string): Story[] {
  const dir = new URL(folder + "/", CORPUS);
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".json"))
    .map((e) => e.name)
    .sort();
  return names.map((name) => ({
    path: `${folder}/${name}`,
    cases: JSON.parse(readFileSync(new URL(name, dir), "utf8")).cases,
  }));
}

const FOLDERS = readdirSync(CORPUS, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

Deno.test("the corpus is where the tests expect it, with its nine folders", () => {
  assertEquals(FOLDERS.length, 9);
  assert(FOLDERS.includes("raw-data"));
  for (const folder of FOLDERS) assert(loadFolder(folder).length >= 30, folder);
});

for (const folder of FOLDERS.filter((f) => f !== "raw-data")) {
  Deno.test(`decoder reproduces every case of every ${folder} story`, () => {
    let cases = 0;
    for (const story of loadFolder(folder)) {
      const decoder = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
      for (const c of story.cases) {
        if (c.header_table_size != null) decoder.setMaxTableSize(c.header_table_size);
        const where = `${story.path} seqno ${c.seqno}`;
        if (c.wire === undefined) throw new Error(`${where}: no wire`);
        assertEquals(decoder.decode(fromHex(c.wire)), expected(c), where);
        cases++;
      }
    }
    assert(cases > 0);
  });
}

for (const folder of FOLDERS) {
  Deno.test(`encoder output of every ${folder} story decodes back to the same headers`, () => {
    for (const huffman of [true, false]) {
      for (const story of loadFolder(folder)) {
        const encoder = new HpackEncoder({ huffman });
        const decoder = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
        let plain = 0;
        let encoded = 0;
        for (const c of story.cases) {
          if (c.header_table_size != null) {
            encoder.setMaxTableSize(c.header_table_size);
            decoder.setMaxTableSize(c.header_table_size);
          }
          const headers = expected(c);
          const block = encoder.encode(headers);
          const where = `${story.path} seqno ${c.seqno} huffman ${huffman}`;
          assertEquals(decoder.decode(block), headers, where);
          assertEquals(decoder.dynamicTableSize, encoder.dynamicTableSize, where);
          plain += headers.reduce((n, [k, v]) => n + k.length + v.length, 0);
          encoded += block.length;
        }
        // A working dynamic table compresses every story well below its raw size (the
        // worst stories come to 0.38 with Huffman coding and 0.51 without).
        const ratio = encoded / plain;
        assert(ratio < (huffman ? 0.45 : 0.6), `${story.path}: ${encoded} of ${plain}`);
      }
    }
  });
}
