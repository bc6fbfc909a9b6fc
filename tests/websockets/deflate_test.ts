/**
 * The permessage-deflate codec: the runtime probe, both compressors, the inflater against
 * peers that keep context (as python websockets, ws and browsers do), BFINAL messages,
 * window sizes, and decompression bombs.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import zlib from "node:zlib";
import {
  createCodec,
  type DeflateBackend,
  endsWithTrailer,
  probeStreams,
} from "../../websockets/_deflate.ts";
import type { DeflateParams } from "../../websockets/permessage_deflate.ts";
import { WebSocketError } from "../../websockets/errors.ts";
import { cat, hex, rss, RUNTIME, utf8 } from "./_helpers.ts";

const { Z_SYNC_FLUSH } = zlib.constants;

function params(p: Partial<DeflateParams> = {}): DeflateParams {
  return {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    ...p,
  };
}

/** A peer compressing with context takeover, message after message, like ws or python websockets. */
class ContextPeer {
  #d = zlib.createDeflateRaw();
  #out: Uint8Array[] = [];
  constructor() {
    this.#d.on("data", (c: Uint8Array) => this.#out.push(c));
  }
  async compress(data: Uint8Array): Promise<Uint8Array> {
    this.#d.write(data);
    await new Promise<void>((r) => this.#d.flush(Z_SYNC_FLUSH, () => r()));
    const all = cat(...this.#out);
    this.#out = [];
    assert(endsWithTrailer(all));
    return all.subarray(0, all.length - 4);
  }
  close() {
    this.#d.close();
  }
}

/** Inflates a series of our messages the way a context-keeping peer would. */
class PeerInflater {
  #i: ReturnType<typeof zlib.createInflateRaw>;
  #out: Uint8Array[] = [];
  constructor(windowBits = 15) {
    this.#i = zlib.createInflateRaw({ windowBits });
    this.#i.on("data", (c: Uint8Array) => this.#out.push(c));
  }
  inflate(payload: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.#i.once("error", reject);
      this.#i.write(cat(payload, hex("00 00 ff ff")));
      this.#i.flush(Z_SYNC_FLUSH, (err?: unknown) => {
        if (err) return reject(err);
        const all = cat(...this.#out);
        this.#out = [];
        resolve(all); // cat makes a plain Uint8Array
      });
    });
  }
  close() {
    this.#i.close();
  }
}

const MESSAGES = [
  "Hello",
  "Hello",
  JSON.stringify({ id: 1, name: "alpha", tags: ["x", "y"], body: "lorem ipsum ".repeat(50) }),
  JSON.stringify({ id: 2, name: "beta", tags: ["x", "y"], body: "lorem ipsum ".repeat(50) }),
  "",
  "€𝄞".repeat(5000),
].map(utf8);

Deno.test("the probe finds what the runtime's compression streams do", async () => {
  const probe = await probeStreams();
  // Deno 2.9 (DESIGN section 4): compression sync-flushes each write; decompression hands
  // out each write's output. Node 20: neither hands out anything before close(). Bun 1.x:
  // like Node for compression, like Deno for decompression. None of them accepts bytes
  // after a BFINAL block, as RFC 7692 7.2.3.3 messages carry.
  const expected = {
    deno: [true, true, false],
    node: [false, false, false],
    bun: [false, true, false],
  }[RUNTIME];
  assertEquals(
    [
      probe.compressFlushesEachWrite,
      probe.decompressOutputsEachWrite,
      probe.decompressAcceptsFinalBlock,
    ],
    expected,
  );
  assertEquals(await probeStreams(), probe, "cached");
});

/** The web compressor exists only where CompressionStream flushes each write. */
const WEB_COMPRESSES = (await probeStreams()).compressFlushesEachWrite;
const BACKENDS: DeflateBackend[] = WEB_COMPRESSES ? ["web", "zlib"] : ["zlib"];

for (const backend of BACKENDS) {
  for (const noContext of [false, true]) {
    Deno.test(`the ${backend} compressor${noContext ? " without context takeover" : ""} produces messages a context-keeping peer inflates`, async () => {
      const codec = createCodec(params({ clientNoContextTakeover: noContext }), "client", backend);
      const peer = new PeerInflater();
      try {
        for (const m of MESSAGES) {
          const out = await codec.deflater.compress(m);
          if (out === null) throw new Error("no compressor");
          assert(endsWithTrailer(out), "sync-flushed");
          assertEquals(await peer.inflate(out.subarray(0, out.length - 4)), m);
        }
      } finally {
        codec.deflater.close();
        peer.close();
      }
    });
  }
}

for (const backend of BACKENDS) {
  Deno.test(`the ${backend} compressor flushes a 64 KiB incompressible message whole`, async () => {
    const codec = createCodec(params(), "client", backend);
    const peer = new PeerInflater();
    try {
      for (const size of [65536, 200_000]) {
        const noise = new Uint8Array(size);
        for (let at = 0; at < size; at += 65536) {
          crypto.getRandomValues(noise.subarray(at, Math.min(size, at + 65536)));
        }
        const out = await codec.deflater.compress(noise);
        if (out === null) throw new Error("no compressor");
        assert(endsWithTrailer(out), `${size}: sync-flushed`);
        assertEquals(await peer.inflate(out.subarray(0, out.length - 4)), noise);
      }
    } finally {
      codec.deflater.close();
      peer.close();
    }
  });
}

Deno.test({
  name: "both compressors keep context across messages unless the negotiation forbids it",
}, async () => {
  const msg = utf8(JSON.stringify({ some: "fairly unique payload", n: [3, 1, 4, 1, 5, 9, 2, 6] }));
  const backends = (WEB_COMPRESSES ? ["web", "zlib"] : ["zlib"]) as DeflateBackend[];
  for (const backend of backends) {
    for (const noContext of [false, true]) {
      const codec = createCodec(params({ serverNoContextTakeover: noContext }), "server", backend);
      const a = (await codec.deflater.compress(msg))!;
      const b = (await codec.deflater.compress(msg))!;
      codec.deflater.close();
      if (noContext) assertEquals(a.length, b.length, `${backend} without context takeover`);
      else {assert(
          b.length < a.length / 2,
          `${backend} with context takeover: ${[a.length, b.length]}`,
        );}
    }
  }
});

Deno.test("messages compressed with context takeover by zlib inflate in order with one stream", async () => {
  const codec = createCodec(params({ serverMaxWindowBits: 10 }), "server", "zlib");
  const inflate = zlib.createInflateRaw({ windowBits: 10 });
  const got: Uint8Array[] = [];
  inflate.on("data", (c: Uint8Array) => got.push(c));
  for (const m of [...MESSAGES, ...MESSAGES]) {
    const out = (await codec.deflater.compress(m))!;
    got.length = 0;
    await new Promise<void>((resolve) => {
      inflate.write(out);
      inflate.flush(Z_SYNC_FLUSH, () => resolve());
    });
    const total = got.reduce((n, c) => n + c.length, 0);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const c of got) joined.set(c, (at += c.length) - c.length);
    assertEquals(joined, m);
  }
  codec.deflater.close();
  inflate.close();
});

Deno.test("with no context takeover every compressed message inflates on its own", async () => {
  for (const backend of BACKENDS) {
    const codec = createCodec(params({ serverNoContextTakeover: true }), "server", backend);
    for (const m of MESSAGES) {
      const out = (await codec.deflater.compress(m))!;
      assertEquals(
        new Uint8Array(zlib.inflateRawSync(out, { finishFlush: Z_SYNC_FLUSH })),
        m,
        backend,
      );
    }
    codec.deflater.close();
  }
});

/** Random 2000 bytes repeated: back-references at distance 2000 (above a 1 KiB window). */
function farRepeats(): Uint8Array {
  const unit = crypto.getRandomValues(new Uint8Array(2000));
  return cat(unit, unit, unit, unit);
}

/**
 * Inflates with a `windowBits` window and a 64-byte output buffer, so that every
 * back-reference must be served from the window: a reference further back than the window
 * fails ("invalid distance too far back"), which zlib does not check when the referenced
 * bytes are still in its output buffer.
 */
function inflateWithin(windowBits: number, payload: Uint8Array): Uint8Array {
  return new Uint8Array(
    zlib.inflateRawSync(payload, { windowBits, chunkSize: 64, finishFlush: Z_SYNC_FLUSH }),
  );
}

Deno.test("the compressor honours a negotiated window below 15 bits", async () => {
  const data = farRepeats();
  // A 15-bit window reaches back 2000 bytes, which a 10-bit window refuses: the check bites.
  const wide = createCodec(params(), "client", "zlib");
  const wideOut = (await wide.deflater.compress(data))!;
  assertThrows(() => inflateWithin(10, wideOut), Error, "too far back");
  // Negotiated 10 bits: the output stays within a 1 KiB window.
  for (const backend of ["auto", "zlib"] as DeflateBackend[]) {
    for (const bits of [9, 10, 12, 14]) {
      const narrow = createCodec(params({ clientMaxWindowBits: bits }), "client", backend);
      const out = (await narrow.deflater.compress(data))!;
      assertEquals(inflateWithin(bits, out), data, `${backend} ${bits}`);
    }
  }
});

Deno.test("a window of 8 bits, which zlib cannot produce, sends messages uncompressed", async () => {
  const codec = createCodec(params({ serverMaxWindowBits: 8 }), "server");
  assertEquals(await codec.deflater.compress(utf8("hello")), null);
  const web = createCodec(params({ serverMaxWindowBits: 9 }), "server", "web");
  assertEquals(
    await web.deflater.compress(utf8("hello")),
    null,
    "CompressionStream has no window option",
  );
});

Deno.test("the inflater reads a context-takeover stream from a ws-like peer", async () => {
  const peer = new ContextPeer();
  const codec = createCodec(params(), "client");
  for (const m of [...MESSAGES, ...MESSAGES]) {
    const payload = await peer.compress(m);
    // As one frame, and split in three fragments.
    const parts = [payload.subarray(0, 1), payload.subarray(1, 3), payload.subarray(3)];
    assertEquals(await codec.inflater.inflate(parts, 1 << 24), m);
  }
  peer.close();
  codec.inflater.close();
});

Deno.test("the inflater accepts BFINAL-terminated messages between sync-flushed ones", async () => {
  for (const noContext of [false, true]) {
    const codec = createCodec(params({ serverNoContextTakeover: noContext }), "client");
    const m = utf8("a message ended by a final block ".repeat(20));
    const final = cat(zlib.deflateRawSync(m), hex("00")); // RFC 7692 7.2.3.3
    const sync = zlib.deflateRawSync(m, { finishFlush: Z_SYNC_FLUSH }).subarray(0, -4);
    for (const payload of [sync, final, final, sync, final]) {
      assertEquals(await codec.inflater.inflate([payload], 1 << 20), m);
    }
    codec.inflater.close();
  }
});

Deno.test("corrupt data fails the inflater with 1007 on both paths", async () => {
  for (const noContext of [false, true]) {
    const codec = createCodec(params({ clientNoContextTakeover: noContext }), "server");
    const err = await assertRejects(
      async () => await codec.inflater.inflate([hex("ff ff ff")], 1000),
      WebSocketError,
    );
    assertEquals(err.code, 1007);
    codec.inflater.close();
  }
});

/** One GiB of zeros as a permessage-deflate payload of about 1 MiB. */
function gibibyteOfZeros(): Uint8Array[] {
  const segment = zlib.deflateRawSync(new Uint8Array(1 << 20), { finishFlush: Z_SYNC_FLUSH });
  const parts = Array.from({ length: 1024 }, () => segment);
  parts[1023] = segment.subarray(0, segment.length - 4);
  return parts;
}

Deno.test("a 1 GiB decompression bomb stops at the limit with 1009 on both inflater paths", async () => {
  const parts = gibibyteOfZeros();
  const before = rss();
  for (const noContext of [false, true]) {
    const codec = createCodec(params({ serverNoContextTakeover: noContext }), "client");
    const err = await assertRejects(
      async () => await codec.inflater.inflate(parts, 16 << 20),
      WebSocketError,
    );
    assertEquals(err.code, 1009);
    codec.inflater.close();
  }
  const grown = (rss() - before) / (1 << 20);
  assert(grown < 256, `memory grew by ${grown.toFixed(0)} MiB`);
});

Deno.test("an inflated size exactly at the limit is accepted", async () => {
  const data = new Uint8Array(5000).fill(7);
  const payload = zlib.deflateRawSync(data, { finishFlush: Z_SYNC_FLUSH }).subarray(0, -4);
  for (const noContext of [false, true]) {
    const codec = createCodec(params({ serverNoContextTakeover: noContext }), "client");
    assertEquals(await codec.inflater.inflate([payload], 5000), data);
    const err = await assertRejects(
      async () => await codec.inflater.inflate([payload], 4999),
      WebSocketError,
    );
    assertEquals(err.code, 1009);
    codec.inflater.close();
  }
});
