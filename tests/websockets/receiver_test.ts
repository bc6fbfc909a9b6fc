/**
 * The frame parser, fed hex frames whole, split at every byte position and one byte at a
 * time: the RFC 6455 and RFC 7692 examples, and every rule that fails a connection.
 */
import { assert, assertEquals } from "@std/assert";
import { createCodec } from "../../websockets/_deflate.ts";
import type { DeflateParams } from "../../websockets/permessage_deflate.ts";
import { assertFrames, cat, clientFrame, hex, rawFrame, record, utf8 } from "./_helpers.ts";

const HELLO = "Hello";
const DEFLATE: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};
const withDeflate = { inflater: () => createCodec(DEFLATE, "client").inflater };

// ---------------------------------------------------------------------------------------
// RFC 6455 section 5.7 examples

Deno.test("a client reads the RFC 6455 single-frame unmasked text message", async () => {
  await assertFrames(hex("81 05 48 65 6c 6c 6f"), [{ message: HELLO }]);
});

Deno.test("a server reads the RFC 6455 single-frame masked text message", async () => {
  await assertFrames(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), [{ message: HELLO }], {
    role: "server",
  });
});

Deno.test("a client reads the RFC 6455 fragmented unmasked text message", async () => {
  await assertFrames(hex("01 03 48 65 6c 80 02 6c 6f"), [{ message: HELLO }]);
});

Deno.test("the RFC 6455 ping and masked pong are reported with their payloads", async () => {
  await assertFrames(hex("89 05 48 65 6c 6c 6f"), [{ ping: utf8(HELLO) }]);
  await assertFrames(hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"), [{ pong: utf8(HELLO) }], {
    role: "server",
  });
});

Deno.test("a 256-byte binary message uses the 16-bit length", async () => {
  const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
  await assertFrames(cat(hex("82 7e 01 00"), payload), [{ message: payload }]);
});

Deno.test("a 64 KiB binary message uses the 64-bit length", async () => {
  const payload = Uint8Array.from({ length: 65536 }, (_, i) => (i * 7) & 255);
  const bytes = cat(hex("82 7f 00 00 00 00 00 01 00 00"), payload);
  // Every split of 64 KiB is too slow; a few splits and byte-sized pieces of the header.
  for (const at of [1, 2, 5, 9, 10, 11, 1000, bytes.length - 1]) {
    assertEquals(await record([bytes.subarray(0, at), bytes.subarray(at)]), [{ message: payload }]);
  }
  assertEquals(await record([bytes]), [{ message: payload }]);
});

Deno.test("a masked payload is unmasked whatever its alignment in the chunk", async () => {
  for (let lead = 0; lead < 8; lead++) {
    const payload = Uint8Array.from({ length: 300 }, (_, i) => (i * 13) & 255);
    const frame = rawFrame(0x82, payload, { mask: [1, 2, 3, 250] });
    const chunk = cat(new Uint8Array(lead), frame).subarray(lead); // offset `lead` in its buffer
    assertEquals(await record([chunk], { role: "server" }), [{ message: payload }]);
  }
});

Deno.test("empty text, binary, ping and close frames are read", async () => {
  await assertFrames(hex("81 00 82 00 89 00 88 00"), [
    { message: "" },
    { message: new Uint8Array(0) },
    { ping: new Uint8Array(0) },
    { close: 1005, reason: "" },
  ]);
});

Deno.test("a UTF-8 byte order mark at the start of a text message is kept", async () => {
  await assertFrames(hex("81 04 ef bb bf 41"), [{ message: "\ufeffA" }]);
  await assertFrames(hex("01 02 ef bb 80 02 bf 41"), [{ message: "\ufeffA" }]);
});

Deno.test("control frames may come between the fragments of a message", async () => {
  await assertFrames(hex("01 03 48 65 6c 89 01 21 8a 00 00 01 6c 80 01 6f"), [
    { ping: hex("21") },
    { pong: new Uint8Array(0) },
    { message: HELLO },
  ]);
});

Deno.test("a close frame reports its code and reason", async () => {
  await assertFrames(hex("88 04 03 e8 6f 6b"), [{ close: 1000, reason: "ok" }]);
});

Deno.test("an empty close frame reports 1005", async () => {
  await assertFrames(hex("88 00"), [{ close: 1005, reason: "" }]);
});

Deno.test("bytes after a close frame are ignored", async () => {
  await assertFrames(hex("88 02 03 e8 81 05 48 65 6c 6c 6f ff ff"), [{ close: 1000, reason: "" }]);
});

// ---------------------------------------------------------------------------------------
// 1002: protocol errors

Deno.test("a server rejects an unmasked frame with 1002", async () => {
  await assertFrames(hex("81 05 48 65 6c 6c 6f"), [{ error: 1002 }], { role: "server" });
});

Deno.test("a client rejects a masked frame with 1002", async () => {
  await assertFrames(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), [{ error: 1002 }]);
});

Deno.test("unknown data opcodes 3-7 are rejected with 1002", async () => {
  for (let op = 3; op <= 7; op++) {
    await assertFrames(rawFrame(0x80 | op, utf8("x")), [{ error: 1002 }]);
  }
});

Deno.test("unknown control opcodes 0xB-0xF are rejected with 1002", async () => {
  for (let op = 0xb; op <= 0xf; op++) {
    await assertFrames(rawFrame(0x80 | op, utf8("x")), [{ error: 1002 }]);
  }
});

Deno.test("RSV1 without a negotiated extension is rejected with 1002", async () => {
  await assertFrames(hex("c1 05 48 65 6c 6c 6f"), [{ error: 1002 }]);
});

Deno.test("RSV2 and RSV3 are rejected with 1002, with or without permessage-deflate", async () => {
  for (const b0 of [0xa1, 0x91, 0xb1, 0xf1]) {
    await assertFrames(rawFrame(b0, utf8("x")), [{ error: 1002 }]);
    await assertFrames(rawFrame(b0, utf8("x")), [{ error: 1002 }], withDeflate);
  }
});

Deno.test("RSV1 on a continuation frame is rejected with 1002 even with permessage-deflate", async () => {
  await assertFrames(hex("41 03 f2 48 cd c0 04 c9 c9 07 00"), [{ error: 1002 }], withDeflate);
});

Deno.test("RSV1 on a control frame is rejected with 1002 even with permessage-deflate", async () => {
  await assertFrames(hex("c9 00"), [{ error: 1002 }], withDeflate);
});

Deno.test("a fragmented control frame is rejected with 1002", async () => {
  await assertFrames(hex("09 00"), [{ error: 1002 }]);
  await assertFrames(hex("08 02 03 e8"), [{ error: 1002 }]);
});

Deno.test("a control frame with more than 125 bytes of payload is rejected with 1002", async () => {
  // Rejected from the header: the payload never needs to arrive.
  await assertFrames(hex("89 7e 00 7e"), [{ error: 1002 }]);
  await assertFrames(rawFrame(0x8a, new Uint8Array(126)), [{ error: 1002 }]);
  await assertFrames(rawFrame(0x89, new Uint8Array(125)), [{ ping: new Uint8Array(125) }]);
});

Deno.test("a continuation frame without a started message is rejected with 1002", async () => {
  await assertFrames(hex("80 01 41"), [{ error: 1002 }]);
  await assertFrames(hex("81 01 41 80 01 41"), [{ message: "A" }, { error: 1002 }]);
});

Deno.test("a new data frame while a fragmented message is open is rejected with 1002", async () => {
  await assertFrames(hex("01 01 41 81 01 42"), [{ error: 1002 }]);
  await assertFrames(hex("02 01 41 02 01 42"), [{ error: 1002 }]);
});

Deno.test("a 64-bit length with its most significant bit set is rejected with 1002", async () => {
  await assertFrames(hex("82 7f 80 00 00 00 00 00 00 01"), [{ error: 1002 }]);
});

Deno.test("a close frame with a 1-byte payload is rejected with 1002", async () => {
  await assertFrames(hex("88 01 03"), [{ error: 1002 }]);
});

Deno.test("close frames with invalid codes are rejected with 1002", async () => {
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    await assertFrames(rawFrame(0x88, new Uint8Array([code >> 8, code & 255])), [{ error: 1002 }]);
  }
});

Deno.test("close frames with valid codes are accepted (Autobahn 7.7.x and 1012-1014)", async () => {
  const codes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014];
  for (const code of [...codes, 3000, 3999, 4000, 4999]) {
    await assertFrames(rawFrame(0x88, new Uint8Array([code >> 8, code & 255])), [
      { close: code, reason: "" },
    ]);
  }
});

// ---------------------------------------------------------------------------------------
// 1007: invalid UTF-8

Deno.test("invalid UTF-8 in a single-frame text message is rejected with 1007", async () => {
  for (
    const bad of [
      "ff",
      "c0 80",
      "ed a0 80",
      "f4 90 80 80",
      "e0 80 80",
      "ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64",
    ]
  ) {
    const payload = hex(bad);
    await assertFrames(rawFrame(0x81, payload), [{ error: 1007 }]);
  }
});

Deno.test("invalid UTF-8 in a fragment fails at once, before the message ends", async () => {
  // The first fragment ends in F4 90: no code point can follow (above U+10FFFF).
  await assertFrames(hex("01 03 41 f4 90"), [{ error: 1007 }]);
  // Valid so far, then a surrogate (ED A0) in the second fragment, FIN not yet seen.
  await assertFrames(hex("01 02 41 ed 00 01 a0"), [{ error: 1007 }]);
  // An overlong form split across fragments (E0 then 80).
  await assertFrames(hex("01 01 e0 00 01 80"), [{ error: 1007 }]);
});

Deno.test("a fragmented text message ending inside a UTF-8 sequence is rejected with 1007", async () => {
  await assertFrames(hex("01 02 41 e2 80 01 82"), [{ error: 1007 }]);
  await assertFrames(hex("01 02 41 e2 80 02 82 ac"), [{ message: "A€" }]);
});

Deno.test("a close reason with invalid UTF-8 is rejected with 1007", async () => {
  await assertFrames(hex("88 04 03 e8 ff 41"), [{ error: 1007 }]);
});

Deno.test("invalid UTF-8 in a binary message is fine", async () => {
  await assertFrames(hex("82 02 ff fe"), [{ message: hex("ff fe") }]);
});

// ---------------------------------------------------------------------------------------
// 1009: limits

Deno.test("a frame over maxFrameSize is rejected with 1009 from its header, before the payload", async () => {
  // Only the header arrives.
  assertEquals(await record([hex("82 7e 01 00")], { maxFrameSize: 255 }), [{ error: 1009 }]);
  assertEquals(await record([hex("82 7f 00 00 00 01 00 00 00 00")]), [{ error: 1009 }]);
  await assertFrames(rawFrame(0x82, new Uint8Array(255)), [{ message: new Uint8Array(255) }], {
    maxFrameSize: 255,
  });
});

Deno.test("fragments adding up to more than maxFrameSize are rejected with 1009", async () => {
  await assertFrames(hex("02 02 00 00 00 02 00 00 80 02 00 00"), [{ error: 1009 }], {
    maxFrameSize: 5,
  });
  await assertFrames(hex("02 02 00 00 00 02 00 00 80 01 00"), [{ message: new Uint8Array(5) }], {
    maxFrameSize: 5,
  });
});

Deno.test("a message in more than maxFragmentation frames is rejected with 1009", async () => {
  await assertFrames(hex("01 01 61 00 01 62 00 01 63 80 01 64"), [{ error: 1009 }], {
    maxFragmentation: 3,
  });
  await assertFrames(hex("01 01 61 00 01 62 80 01 63"), [{ message: "abc" }], {
    maxFragmentation: 3,
  });
});

Deno.test("control frames do not count towards the fragment limit", async () => {
  await assertFrames(hex("01 01 61 89 00 89 00 80 01 62"), [
    { ping: new Uint8Array(0) },
    { ping: new Uint8Array(0) },
    { message: "ab" },
  ], { maxFragmentation: 2 });
});

// ---------------------------------------------------------------------------------------
// RFC 7692 section 7.2.3 examples

Deno.test("RFC 7692: a compressed single-frame message", async () => {
  await assertFrames(hex("c1 07 f2 48 cd c9 c9 07 00"), [{ message: HELLO }], withDeflate);
});

Deno.test("RFC 7692: a compressed message in two fragments", async () => {
  await assertFrames(hex("41 03 f2 48 cd 80 04 c9 c9 07 00"), [{ message: HELLO }], withDeflate);
});

Deno.test("RFC 7692: a second message using the first as context (context takeover)", async () => {
  await assertFrames(
    hex("c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00"),
    [{ message: HELLO }, { message: HELLO }],
    withDeflate,
  );
});

Deno.test("RFC 7692: a message in a stored (uncompressed) DEFLATE block", async () => {
  await assertFrames(
    hex("c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00"),
    [{ message: HELLO }],
    withDeflate,
  );
});

Deno.test("RFC 7692: a message ending in a BFINAL block, then one more message", async () => {
  await assertFrames(
    hex("c1 08 f3 48 cd c9 c9 07 00 00 c1 07 f2 48 cd c9 c9 07 00"),
    [{ message: HELLO }, { message: HELLO }],
    withDeflate,
  );
});

Deno.test("RFC 7692: a message in two DEFLATE blocks", async () => {
  await assertFrames(
    hex("c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00"),
    [{ message: HELLO }],
    withDeflate,
  );
});

Deno.test("an uncompressed message is read as is when permessage-deflate is on", async () => {
  await assertFrames(hex("81 05 48 65 6c 6c 6f"), [{ message: HELLO }], withDeflate);
});

Deno.test("corrupt compressed data is rejected with 1007", async () => {
  assertEquals(await record([hex("c1 03 ff ff ff")], withDeflate), [{ error: 1007 }]);
});

Deno.test("invalid UTF-8 in a compressed text message is rejected with 1007", async () => {
  // "\xff" in a stored block.
  assertEquals(await record([hex("c1 07 00 01 00 fe ff ff 00")], withDeflate), [{ error: 1007 }]);
});

Deno.test("a compressed message inflating past maxFrameSize is rejected with 1009", async () => {
  const zlib = await import("node:zlib");
  const zeros = zlib.deflateRawSync(new Uint8Array(100_000), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  }).subarray(0, -4);
  const frame = rawFrame(0xc2, zeros);
  assertEquals(await record([frame], { ...withDeflate, maxFrameSize: 99_999 }), [{ error: 1009 }]);
  assertEquals(await record([frame], { ...withDeflate, maxFrameSize: 100_000 }), [
    { message: new Uint8Array(100_000) },
  ]);
});

Deno.test("a server reads masked compressed frames", async () => {
  const events = await record(
    [clientFrame(0x41, hex("f2 48 cd")), clientFrame(0x80, hex("c9 c9 07 00"))],
    { role: "server", inflater: withDeflate.inflater },
  );
  assertEquals(events, [{ message: HELLO }]);
});

Deno.test("small binary messages are copied out of the read buffer, large ones are views of it", async () => {
  const got: Uint8Array[] = [];
  const { Receiver } = await import("../../websockets/_receiver.ts");
  const r = new Receiver({ role: "client", maxFrameSize: 1 << 20, maxFragmentation: 8 }, {
    onMessage: (d) => void got.push(d as Uint8Array),
    onPing() {},
    onPong() {},
    onClose() {},
    onError(e) {
      throw e;
    },
  });
  const chunk = cat(
    rawFrame(0x82, new Uint8Array(100).fill(1)),
    rawFrame(0x82, new Uint8Array(20000).fill(2)),
    rawFrame(0x82, new Uint8Array(5000).fill(3)),
    rawFrame(0x82, new Uint8Array(100).fill(4)),
  );
  r.push(chunk);
  assertEquals(got.map((m) => m.length), [100, 20000, 5000, 100]);
  assert(got[0].buffer !== chunk.buffer, "a small message owns its bytes");
  assert(got[0].buffer.byteLength <= 8192, "a tiny message keeps at most an 8 KiB pool alive");
  assertEquals(got[2].byteLength, got[2].buffer.byteLength, "a 5000-byte one has its own buffer");
  assert(got[1].buffer === chunk.buffer, "a large message is a view of the chunk");
  got[0].fill(9); // pooled neighbours do not overlap
  assertEquals([got[3][0], got[3][99], got[2][0]], [4, 4, 3]);
  assertEquals(Object.getPrototypeOf(got[1]), Uint8Array.prototype);
});
