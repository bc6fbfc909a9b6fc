/** The frame encoder, masking, and the sender's ordering, compression and fragmenting. */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { setImmediate } from "node:timers";
import { mask, maskInto, randomMaskKey } from "../../websockets/_mask.ts";
import {
  frame,
  frameHeader,
  type FrameWrite,
  Sender,
  textFrame,
  WriteBatcher,
} from "../../websockets/_sender.ts";
import type { Deflater } from "../../websockets/_deflate.ts";
import { cat, hex, record, toHex, utf8 } from "./_helpers.ts";

Deno.test("frame encodes the RFC 6455 examples", () => {
  assertEquals(toHex(frame(0x1, utf8("Hello"))), "81 05 48 65 6c 6c 6f");
  assertEquals(toHex(frame(0x1, utf8("Hel"), { fin: false })), "01 03 48 65 6c");
  assertEquals(toHex(frame(0x0, utf8("lo"))), "80 02 6c 6f");
  assertEquals(toHex(frame(0x9, utf8("Hello"))), "89 05 48 65 6c 6c 6f");
  assertEquals(toHex(frame(0x2, new Uint8Array(256)).subarray(0, 4)), "82 7e 01 00");
  assertEquals(
    toHex(frame(0x2, new Uint8Array(65536)).subarray(0, 10)),
    "82 7f 00 00 00 00 00 01 00 00",
  );
  assertEquals(toHex(frame(0x1, utf8("Hello"), { rsv1: true })), "c1 05 48 65 6c 6c 6f");
});

Deno.test("frame uses the shortest length encoding at each boundary", () => {
  for (const [n, head] of [[125, "82 7d"], [126, "82 7e 00 7e"], [65535, "82 7e ff ff"]] as const) {
    assertEquals(toHex(frame(0x2, new Uint8Array(n)).subarray(0, head.length / 3 + 1)), head);
  }
  assertEquals(toHex(frameHeader(0x2, 65536)), "82 7f 00 00 00 00 00 01 00 00");
  assertEquals(toHex(frameHeader(0x2, 2 ** 32 + 5)), "82 7f 00 00 00 01 00 00 00 05");
});

Deno.test("masked frames decode back to their payload at every length", async () => {
  for (let n = 0; n < 300; n++) {
    const payload = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 255);
    const f = frame(0x2, payload, { mask: true });
    assertEquals(f[1] & 0x80, 0x80);
    assertEquals(await record([f], { role: "server" }), [{ message: payload }]);
  }
  const big = Uint8Array.from({ length: 70000 }, (_, i) => i & 255);
  assertEquals(await record([frame(0x2, big, { mask: true })], { role: "server" }), [{
    message: big,
  }]);
});

Deno.test("every masked frame gets a fresh key from the CSPRNG", () => {
  const keys = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    keys.add(toHex(frame(0x1, utf8("x"), { mask: true }).subarray(2, 6)));
  }
  assert(keys.size > 2990, `only ${keys.size} distinct keys`);
  const k = new Uint8Array(8);
  randomMaskKey(k, 2);
  assertEquals([k[0], k[1], k[6], k[7]], [0, 0, 0, 0]);
});

Deno.test("mask matches a byte-by-byte XOR at every alignment and length", () => {
  const key = hex("37 fa 21 3d");
  for (let offset = 0; offset < 4; offset++) {
    for (let n = 0; n < 300; n++) { // both the byte loop and the word loop
      const backing = Uint8Array.from({ length: n + offset }, (_, i) => (i * 7) & 255);
      const data = backing.subarray(offset);
      const expected = data.map((b, i) => b ^ key[i & 3]);
      mask(data, key);
      assertEquals(data, expected, `offset ${offset} length ${n}`);
    }
  }
  // The key may sit anywhere in its buffer.
  const d = utf8("Hello");
  mask(d, hex("00 00 37 fa 21 3d"), 2);
  assertEquals(toHex(d), "7f 9f 4d 51 58");
});

Deno.test("textFrame equals framing the UTF-8 bytes, around every header boundary", async () => {
  for (const n of [0, 1, 41, 42, 43, 100, 125, 126, 127, 200, 8192, 8193, 30000]) {
    for (const ch of ["a", "é", "€", "𝄞"]) {
      const s = ch.repeat(Math.max(0, Math.round(n / ch.length)));
      assertEquals(textFrame(s, false), frame(0x1, utf8(s)), `${n} x ${ch}`);
      assertEquals(await record([textFrame(s, true)], { role: "server" }), [{ message: s }]);
    }
  }
});

/** Records what a Sender writes: a header and the payload behind it count as two writes. */
function capture(): { writes: Uint8Array[]; write: FrameWrite } {
  const writes: Uint8Array[] = [];
  return {
    writes,
    write: (d, payload) => {
      writes.push(d.slice());
      if (payload !== undefined) writes.push(payload.slice());
      return Promise.resolve();
    },
  };
}

const closedError = () => new Error("closed");

Deno.test("a sender sends strings as text and bytes as binary", async () => {
  const c = capture();
  const s = new Sender(c.write, { mask: false }, closedError);
  await s.send("Hello");
  await s.send(hex("01 02"));
  assertEquals(c.writes.map(toHex), ["81 05 48 65 6c 6c 6f", "82 02 01 02"]);
});

Deno.test("a server's big binary payload is handed over behind its header without a copy", async () => {
  const calls: [Uint8Array, Uint8Array | undefined][] = [];
  const s = new Sender(
    (d, p) => (calls.push([d, p]), Promise.resolve()),
    { mask: false },
    closedError,
  );
  const payload = new Uint8Array(100_000);
  await s.send(payload);
  assertEquals(calls.length, 1, "header and payload in one call, so they go out together");
  assertEquals(toHex(calls[0][0]), "82 7f 00 00 00 00 00 01 86 a0");
  assert(calls[0][1] === payload, "the payload itself is handed to the connection");
});

Deno.test("an iterable is sent as one fragmented message", async () => {
  const c = capture();
  const s = new Sender(c.write, { mask: false }, closedError);
  await s.sendFragments(["Hel", "lo"]);
  await s.sendFragments([hex("01"), "A", hex("02")]);
  await s.sendFragments([]);
  assertEquals(c.writes.map(toHex), [
    "01 03 48 65 6c",
    "80 02 6c 6f",
    "02 01 01",
    "00 01 41",
    "80 01 02",
    "82 00",
  ]);
});

Deno.test("a source that reuses its buffer gets each fragment sent before it is asked for the next", async () => {
  const c = capture();
  const s = new Sender(c.write, { mask: false }, closedError);
  async function* reusing() {
    const buf = new Uint8Array(2);
    for (let i = 1; i <= 3; i++) yield buf.fill(i);
  }
  await s.sendFragments(reusing());
  assertEquals(c.writes.map(toHex), ["02 02 01 01", "00 02 02 02", "00 02 03 03", "80 00"]);
});

Deno.test("bytes continuing a text message must be valid UTF-8", async () => {
  const c = capture();
  const s = new Sender(c.write, { mask: false }, closedError);
  await assertRejects(() => s.sendFragments(["a", hex("ff")]), TypeError);
  assert(s.broken, "the first fragment was sent: the message cannot be finished");
  const s2 = new Sender(c.write, { mask: false }, closedError);
  await s2.sendFragments(["a", hex("e2 82"), hex("ac")]);
  await assertRejects(() => s2.sendFragments(["a", hex("e2 82")]), TypeError);
});

Deno.test("control frames go out between the fragments of a message", async () => {
  const c = capture();
  const s = new Sender(c.write, { mask: false }, closedError);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  async function* parts() {
    yield "a";
    yield "b";
    await gate;
    yield "c";
  }
  const sending = s.sendFragments(parts());
  const next = s.send("after");
  await new Promise((r) => setTimeout(r, 10));
  await s.control(0xa, utf8("p"));
  release();
  await sending;
  await next;
  assertEquals(c.writes.map(toHex), [
    "01 01 61",
    "00 01 62",
    "8a 01 70",
    "00 01 63",
    "80 00",
    "81 05 61 66 74 65 72",
  ]);
});

Deno.test("after close no data frame is sent, queued ones included", async () => {
  const c = capture();
  const s = new Sender(c.write, { mask: false }, closedError);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow: Deflater = {
    compress: async (d) => (await gate, cat(d, hex("00 00 ff ff"))),
    close() {},
  };
  const s2 = new Sender(c.write, { mask: false, deflater: slow, threshold: 0 }, closedError);
  const queued = s2.send("queued");
  const behind = s2.send("behind");
  s2.close();
  release();
  await assertRejects(() => queued, Error, "closed");
  await assertRejects(() => behind, Error, "closed");
  s.close();
  await assertRejects(() => s.send("x"), Error, "closed");
  assertEquals(c.writes.length, 0);
});

Deno.test("messages keep their order behind an asynchronous compressor", async () => {
  const c = capture();
  const delays = [30, 0, 10];
  let n = 0;
  const deflater: Deflater = {
    async compress(d) {
      await new Promise((r) => setTimeout(r, delays[n++ % 3]));
      return cat(d, hex("00 00 ff ff")); // "compressed" = the bytes themselves
    },
    close() {},
  };
  const s = new Sender(c.write, { mask: false, deflater, threshold: 2 }, closedError);
  await Promise.all([s.send("one"), s.send("x"), s.send("two"), s.send("three")]);
  assertEquals(c.writes.map(toHex), [
    "c1 03 6f 6e 65",
    "81 01 78", // under the threshold: plain, but still in order
    "c1 03 74 77 6f",
    "c1 05 74 68 72 65 65",
  ]);
});

Deno.test("the threshold leaves small messages uncompressed", async () => {
  const c = capture();
  const deflater: Deflater = { compress: (d) => cat(d, hex("00 00 ff ff")), close() {} };
  const s = new Sender(c.write, { mask: false, deflater, threshold: 4 }, closedError);
  await s.send("abc");
  await s.send("abcd");
  await s.send(hex("01 02 03"));
  await s.send(hex("01 02 03 04"));
  assertEquals(c.writes.map((w) => w[0]), [0x81, 0xc1, 0x82, 0xc2]);
});

Deno.test("a compressed fragmented message sets RSV1 on its first frame only", async () => {
  const c = capture();
  const deflater: Deflater = { compress: (d) => cat(d, hex("00 00 ff ff")), close() {} };
  const s = new Sender(c.write, { mask: false, deflater }, closedError);
  await s.sendFragments(["ab", "cd"]);
  assertEquals(c.writes.map(toHex), [
    "41 06 61 62 00 00 ff ff", // a middle fragment keeps its flush marker
    "80 02 63 64", // the last one drops it
  ]);
});

Deno.test("a deflater that cannot honour the window sends uncompressed", async () => {
  const c = capture();
  const deflater: Deflater = { compress: () => null, close() {} };
  const s = new Sender(c.write, { mask: false, deflater, threshold: 0 }, closedError);
  await s.send("abc");
  await s.sendFragments(["a", "b"]);
  assertEquals(c.writes.map((w) => w[0]), [0x81, 0x01, 0x80]);
});

Deno.test("bufferedAmount counts messages waiting for their compressor", async () => {
  const c = capture();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const deflater: Deflater = {
    compress: async (d) => (await gate, cat(d, hex("00 00 ff ff"))),
    close() {},
  };
  const s = new Sender(c.write, { mask: false, deflater, threshold: 0 }, closedError);
  const a = s.send(new Uint8Array(100));
  const b = s.send("hello");
  assertEquals(s.bufferedAmount, 105);
  release();
  await Promise.all([a, b]);
  assertEquals(s.bufferedAmount, 0);
});

Deno.test("a write batcher joins writes made while one is in flight", async () => {
  const writes: Uint8Array[] = [];
  const pending: (() => void)[] = [];
  const b = new WriteBatcher((d) => {
    writes.push(d.slice());
    return new Promise<void>((r) => pending.push(r));
  }, (e) => e);
  const first = b.write(hex("01"));
  const rest = [b.write(hex("02")), b.write(hex("03")), b.write(new Uint8Array(20_000))];
  assertEquals(writes.map((w) => w.length), [1], "the first write goes out at once");
  assertEquals(b.pending, 20_003);
  pending.shift()!();
  await first;
  await nextTurn();
  assertEquals(writes.map((w) => w.length), [1, 2, 20_000], "small ones joined, big one alone");
  assertEquals(toHex(writes[1]), "02 03");
  pending.shift()!();
  pending.shift()!();
  await Promise.all(rest);
  assertEquals(b.pending, 0);
});

/**
 * Resolves once the current turn of the event loop is over: after the batcher's own
 * `setImmediate`, which was queued before this one (a timer could fire first).
 */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

Deno.test("a write batcher sends the writes of one turn after a lone first one together", async () => {
  // Like Deno's writes to a socket: each resolves at once, so there is never one in flight.
  const writes: Uint8Array[] = [];
  const b = new WriteBatcher((d) => (writes.push(d.slice()), Promise.resolve()), (e) => e);
  const sent: Promise<void>[] = [];
  for (let i = 1; i <= 5; i++) {
    sent.push(b.write(new Uint8Array([i])));
    await Promise.resolve(); // microtasks between the writes, as an echo loop has
    await Promise.resolve();
  }
  assertEquals(writes.map(toHex), ["01"], "the first goes out at once, the rest wait");
  await Promise.all(sent);
  assertEquals(writes.map(toHex), ["01", "02 03 04 05"]);
  assert(sent[1] === sent[4], "writes batched together share one promise");
  // The next turn starts afresh: a lone write goes out at once again.
  await nextTurn();
  b.write(hex("06"));
  assertEquals(writes.length, 3);
});

Deno.test("a write batcher told to hold the turn sends a lone write with the ones after it", async () => {
  const writes: Uint8Array[] = [];
  const b = new WriteBatcher((d) => (writes.push(d.slice()), Promise.resolve()), (e) => e);
  b.holdTurn();
  const sent = [b.write(hex("01"))];
  await Promise.resolve();
  sent.push(b.write(hex("02")));
  assertEquals(writes.length, 0, "held until the turn ends");
  await Promise.all(sent);
  assertEquals(writes.map(toHex), ["01 02"]);
});

Deno.test("a write batcher hands a batch to the connection's vectored write, without joining it", async () => {
  const single: number[] = [];
  const vectored: Uint8Array[][] = [];
  const b = new WriteBatcher(
    (d) => (single.push(d.length), Promise.resolve()),
    (e) => e,
    (chunks) => (vectored.push(chunks), Promise.resolve()),
  );
  const parts = [hex("02"), hex("03"), new Uint8Array(20_000)];
  b.write(hex("01"));
  const sent = parts.map((p) => b.write(p));
  await Promise.all(sent);
  assertEquals(single, [1], "a lone write goes out alone");
  assertEquals(vectored.length, 1);
  assert(vectored[0].every((c, i) => c === parts[i]), "the caller's buffers, in order");
});

Deno.test("a frame header and its big payload go out in the same batch", async () => {
  const batches: number[][] = [];
  const b = new WriteBatcher(
    (d) => (batches.push([d.length]), Promise.resolve()),
    (e) => e,
    (chunks) => (batches.push(chunks.map((c) => c.length)), Promise.resolve()),
  );
  const s = new Sender((d, p) => b.write(d, p), { mask: false }, closedError);
  await s.send(new Uint8Array(70_000));
  assertEquals(batches, [[10, 70_000]]);
});

Deno.test("a write batcher holds back no more than its byte cap for the end of the turn", async () => {
  const writes: Uint8Array[] = [];
  const b = new WriteBatcher((d) => (writes.push(d), Promise.resolve()), (e) => e);
  b.write(hex("01"));
  for (let i = 0; i < 80; i++) b.write(new Uint8Array(1000));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assert(writes.length >= 2, "80,000 bytes queued go out before the turn ends");
  await nextTurn();
  assertEquals(writes.reduce((n, w) => n + w.length, 0), 80_001);
  assert(writes.every((w) => w.length <= 64 * 1024), "joined writes stay under the cap");
});

Deno.test("messages sent in one turn arrive whole and in order, in fewer writes", async () => {
  for (const masked of [false, true]) {
    const c = capture();
    const b = new WriteBatcher(c.write, (e) => e);
    const s = new Sender(
      (d, p) => b.write(d, p),
      { mask: masked, reuseBuffers: true },
      closedError,
    );
    const sizes = [0, 1, 125, 126, 1000, 65535, 65536, 70_000, 3];
    const msgs: (string | Uint8Array)[] = [];
    const sent: Promise<void>[] = [];
    for (const [i, n] of sizes.entries()) {
      const m = i % 2
        ? "é".repeat(n >> 1)
        : Uint8Array.from({ length: n }, (_, j) => (i + j) & 255);
      msgs.push(m);
      sent.push(s.send(m));
    }
    await Promise.all(sent);
    assert(c.writes.length < sizes.length, `${c.writes.length} writes for ${sizes.length} sends`);
    const events = await record(c.writes, { role: masked ? "server" : "client" });
    assertEquals(events, msgs.map((message) => ({ message })));
  }
});

Deno.test("a failing write rejects every send queued with it and every later one", async () => {
  let fail!: (e: Error) => void;
  let calls = 0;
  const b = new WriteBatcher(() => {
    calls++;
    return new Promise<void>((_, reject) => (fail = reject));
  }, () => new Error("mapped"));
  const s = new Sender((d) => b.write(d), { mask: true }, closedError);
  const sent = ["a", "b", new Uint8Array(100_000), "c"].map((m) => s.send(m));
  assertEquals(calls, 1, "the rest wait behind the write in flight");
  fail(new Error("reset"));
  for (const p of sent) await assertRejects(() => p, Error, "mapped");
  await assertRejects(() => s.send("d"), Error, "mapped");
  assertEquals(calls, 1);
});

Deno.test("a client masks a big payload into a reused buffer, behind its header, only once its write is done", async () => {
  const handed: Uint8Array[] = [];
  const resolvers: (() => void)[] = [];
  const s = new Sender(
    (d, payload) => {
      handed.push(d);
      if (payload !== undefined) handed.push(payload);
      return new Promise<void>((r) => resolvers.push(r));
    },
    { mask: true, reuseBuffers: true },
    closedError,
  );
  const one = new Uint8Array(200_000).fill(1);
  const two = new Uint8Array(200_000).fill(2);
  const a = s.send(one);
  assertEquals(handed.length, 1, "header and masked payload in one buffer");
  const b = s.send(two.subarray(1)); // at another offset modulo 4; the first buffer is in flight
  assertEquals(handed.length, 2);
  assert(handed[1].buffer !== handed[0].buffer, "a buffer in flight is not reused");
  const [frameA, frameB] = handed.map((f) => f.slice());
  for (const r of resolvers.splice(0)) r();
  await Promise.all([a, b]);
  assertEquals(one, new Uint8Array(200_000).fill(1), "the caller's bytes are not changed");
  assertEquals(await record([frameA, frameB], { role: "server" }), [{ message: one }, {
    message: two.subarray(1),
  }]);
  // Both buffers are back in the pool: the next payload is masked into one of them.
  const c = s.send(new Uint8Array(150_000).fill(3));
  assert(handed[2].buffer === handed[0].buffer || handed[2].buffer === handed[1].buffer);
  const frameC = handed[2].slice();
  for (const r of resolvers.splice(0)) r();
  await c;
  assertEquals(await record([frameC], { role: "server" }), [{
    message: new Uint8Array(150_000).fill(3),
  }]);
  // Without reuseBuffers (a caller's connection that may keep the bytes), never reused.
  const kept: Uint8Array[] = [];
  const s2 = new Sender(
    (d, p) => {
      kept.push(d);
      if (p !== undefined) kept.push(p);
      return Promise.resolve();
    },
    { mask: true },
    closedError,
  );
  await s2.send(one);
  await s2.send(two);
  assertEquals(new Set(kept.map((k) => k.buffer)).size, kept.length);
});

Deno.test("maskInto matches a byte-by-byte XOR at every alignment of source and target", () => {
  const key = hex("00 37 fa 21 3d");
  for (const n of [0, 1, 5, 127, 128, 129, 300, 1031]) {
    for (let so = 0; so < 4; so++) {
      for (let d = 0; d < 4; d++) {
        const src = Uint8Array.from({ length: n + so }, (_, i) => (i * 13 + 5) & 255)
          .subarray(so);
        const before = src.slice();
        const dst = new Uint8Array(n + d + 3).fill(0xee).subarray(d, d + n + 3);
        maskInto(src, dst, key, 1);
        const expected = src.map((b, i) => b ^ key[1 + (i & 3)]);
        assertEquals(dst.subarray(0, n), expected, `length ${n}, offsets ${so}/${d}`);
        assertEquals(toHex(dst.subarray(n)), "ee ee ee", "nothing written past the payload");
        assertEquals(src, before);
      }
    }
  }
});

Deno.test("a write batcher fails queued and later writes after a failed write", async () => {
  let fail!: (e: Error) => void;
  const b = new WriteBatcher(
    () => new Promise<void>((_, reject) => (fail = reject)),
    () => new Error("mapped"),
  );
  const first = b.write(hex("01"));
  const second = b.write(hex("02"));
  fail(new Error("reset"));
  await assertRejects(() => first, Error, "mapped");
  await assertRejects(() => second, Error, "mapped");
  await assertRejects(() => b.write(hex("03")), Error, "mapped");
});

for (const kind of ["throws", "rejects"] as const) {
  Deno.test(`a compressor that ${kind} fails the message, marks the sender broken and reports it once`, async () => {
    const c = capture();
    const boom = new Error("zlib state lost");
    const deflater: Deflater = {
      compress: () => {
        if (kind === "throws") throw boom;
        return Promise.reject(boom);
      },
      close() {},
    };
    const reported: unknown[] = [];
    const s = new Sender(c.write, {
      mask: false,
      deflater,
      threshold: 0,
      onCompressError: (e) => reported.push(e),
    }, closedError);
    const error = await assertRejects(() => s.send("x".repeat(2000)));
    assertEquals(error, boom);
    assert(s.broken);
    await assertRejects(() => s.sendFragments(["a".repeat(2000), "b"]));
    assertEquals(reported, [boom]);
    assertEquals(c.writes.length, 0);
  });
}
