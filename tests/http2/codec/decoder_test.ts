/**
 * The incremental frame decoder: chunk boundaries anywhere, the frame size checked from
 * the header before the payload is buffered, CONTINUATION joining and its limits, the preface.
 */

import { assertEquals, assertThrows } from "@std/assert";
import { CLIENT_PREFACE, FrameDecoder } from "../../../http2/codec/decoder.ts";
import { Http2Error } from "../../../http2/errors.ts";
import type { DataFrame, Frame, HeadersFrame, UnknownFrame } from "../../../http2/frame/mod.ts";
import {
  concat,
  continuation,
  data,
  E,
  frame,
  headers,
  ping,
  PREFACE,
  settings,
  T,
} from "../_frames.ts";

function drain(d: FrameDecoder): (Frame | UnknownFrame)[] {
  const out: (Frame | UnknownFrame)[] = [];
  for (let f = d.next(); f !== null; f = d.next()) out.push(f);
  return out;
}

function codeOf(fn: () => unknown): [number, string] {
  const err = assertThrows(fn, Http2Error) as Http2Error;
  return [err.code, err.scope];
}

const stream = concat(
  settings([4, 100]),
  headers(1, Uint8Array.from([0x82, 0x86, 0x84])),
  data(1, "hello", { endStream: true }),
  ping(),
);

Deno.test("decoder yields the same frames whatever the chunk boundaries", () => {
  const whole = new FrameDecoder();
  whole.push(stream);
  const expected = drain(whole).map((f) => [f.type, f.streamId, f.flags]);
  assertEquals(expected.length, 4);
  for (let size = 1; size <= 20; size++) {
    const d = new FrameDecoder();
    const got: number[][] = [];
    for (let i = 0; i < stream.length; i += size) {
      d.push(stream.subarray(i, i + size));
      for (const f of drain(d)) got.push([f.type, f.streamId, f.flags]);
    }
    assertEquals(got, expected, `chunks of ${size}`);
  }
});

Deno.test("decoder hands out DATA within one chunk as a view of it, without copying", () => {
  const d = new FrameDecoder();
  const bytes = data(1, "abc");
  d.push(bytes);
  const f = d.next() as DataFrame;
  assertEquals(f.data.buffer, bytes.buffer);
  assertEquals(new TextDecoder().decode(f.data), "abc");
});

Deno.test("decoder rejects a frame over maxFrameSize from its header alone", () => {
  const d = new FrameDecoder({ maxFrameSize: 16384 });
  // Only the 9-byte header of a 16385-byte DATA frame: no payload was buffered.
  d.push(frame(T.DATA, 0, 1, new Uint8Array(0), 16385));
  assertEquals(codeOf(() => d.next()), [E.FRAME_SIZE_ERROR, "connection"]);
});

Deno.test("decoder accepts frames up to a raised maxFrameSize", () => {
  const d = new FrameDecoder({ maxFrameSize: 20000 });
  d.push(data(1, new Uint8Array(20000)));
  assertEquals((d.next() as DataFrame).data.byteLength, 20000);
});

Deno.test("decoder joins HEADERS and CONTINUATION frames into one block", () => {
  const d = new FrameDecoder();
  d.push(concat(
    headers(3, Uint8Array.from([1, 2]), { endHeaders: false, endStream: true }),
    continuation(3, Uint8Array.from([3]), false),
    continuation(3, new Uint8Array(0), false),
    continuation(3, Uint8Array.from([4, 5]), true),
  ));
  const f = d.next() as HeadersFrame;
  assertEquals([f.type, f.streamId, f.endHeaders, f.endStream], [T.HEADERS, 3, true, true]);
  assertEquals([...f.fragment], [1, 2, 3, 4, 5]);
  assertEquals(d.next(), null);
});

Deno.test("decoder refuses any frame between HEADERS and its CONTINUATION", () => {
  const d = new FrameDecoder();
  d.push(concat(headers(1, Uint8Array.from([1]), { endHeaders: false }), ping()));
  assertEquals(codeOf(() => d.next()), [E.PROTOCOL_ERROR, "connection"]);
});

Deno.test("decoder refuses a CONTINUATION for another stream, or with no HEADERS before", () => {
  const d = new FrameDecoder();
  d.push(
    concat(
      headers(1, Uint8Array.from([1]), { endHeaders: false }),
      continuation(3, Uint8Array.from([2]), true),
    ),
  );
  assertEquals(codeOf(() => d.next()), [E.PROTOCOL_ERROR, "connection"]);
  const e = new FrameDecoder();
  e.push(continuation(1, Uint8Array.from([2]), true));
  assertEquals(codeOf(() => e.next()), [E.PROTOCOL_ERROR, "connection"]);
});

Deno.test("decoder caps CONTINUATION frames per block with ENHANCE_YOUR_CALM", () => {
  const d = new FrameDecoder({ maxContinuationFrames: 3 });
  const parts = [headers(1, Uint8Array.from([1]), { endHeaders: false })];
  for (let i = 0; i < 4; i++) parts.push(continuation(1, new Uint8Array(0), false));
  d.push(concat(...parts));
  assertEquals(codeOf(() => drain(d)), [E.ENHANCE_YOUR_CALM, "connection"]);
});

Deno.test("decoder caps the bytes of one header block with ENHANCE_YOUR_CALM", () => {
  const d = new FrameDecoder({ maxHeaderBlockSize: 1000 });
  d.push(concat(
    headers(1, new Uint8Array(600), { endHeaders: false }),
    continuation(1, new Uint8Array(401), false),
  ));
  assertEquals(codeOf(() => drain(d)), [E.ENHANCE_YOUR_CALM, "connection"]);
});

Deno.test("decoder checks the client preface, even split across chunks", () => {
  const d = new FrameDecoder({ expectPreface: true });
  const bytes = concat(PREFACE, settings());
  const got = [];
  for (const b of bytes) {
    d.push(Uint8Array.of(b));
    got.push(...drain(d));
  }
  assertEquals(d.prefaceDone, true);
  assertEquals(got.map((f) => f.type), [T.SETTINGS]);
  assertEquals(CLIENT_PREFACE.byteLength, 24);
  const e = new FrameDecoder({ expectPreface: true });
  e.push(new TextEncoder().encode("PRI * HTTP/1.1\r\n"));
  assertEquals(codeOf(() => e.next()), [E.PROTOCOL_ERROR, "connection"]);
});

Deno.test("decoder goes on after a stream error in a frame", () => {
  const d = new FrameDecoder();
  d.push(concat(frame(T.WINDOW_UPDATE, 0, 1, [0, 0, 0, 0]), ping()));
  assertEquals(codeOf(() => d.next()), [E.PROTOCOL_ERROR, "stream"]);
  assertEquals(d.next()?.type, T.PING);
});
