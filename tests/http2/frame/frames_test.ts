/**
 * Unit tests per frame type: encode / decode round trips against hand-written bytes, and
 * each type's size and flag rules with the error code and scope they raise.
 */

import { assertEquals, assertThrows } from "@std/assert";
import { FrameEncoder } from "../../../http2/codec/encoder.ts";
import { Http2Error } from "../../../http2/errors.ts";
import {
  type DataFrame,
  decodeFrame,
  Flags,
  FrameBuffer,
  type FrameHeader,
  FrameType,
  type GoAwayFrame,
  type HeadersFrame,
  type PingFrame,
  type PriorityFrame,
  type PushPromiseFrame,
  readFrameHeader,
  type RstStreamFrame,
  type SettingsFrame,
  type WindowUpdateFrame,
} from "../../../http2/frame/mod.ts";
import { E, frame, T } from "../_frames.ts";

/** Decodes one frame given as raw bytes (header + payload). */
function decode(bytes: Uint8Array): ReturnType<typeof decodeFrame> {
  const head: FrameHeader = readFrameHeader(bytes, 0);
  return decodeFrame(head, bytes.subarray(9, 9 + head.length));
}

/** Asserts decoding throws an Http2Error with this code and scope. */
function assertError(bytes: Uint8Array, code: number, scope: "connection" | "stream") {
  const err = assertThrows(() => decode(bytes), Http2Error) as Http2Error;
  assertEquals([err.code, err.scope], [code, scope], err.message);
}

function enc(build: (e: FrameEncoder) => void): Uint8Array {
  const e = new FrameEncoder(16);
  build(e);
  return e.toBytes();
}

// ---------------------------------------------------------------- header

Deno.test("frame header: encodes and reads length, type, flags and a 31-bit stream id", () => {
  const b = new FrameBuffer(4);
  b.reserve(9);
  b.header(0x123456, 0x9, 0xab, 0x7fffffff);
  assertEquals([...b.toBytes()], [0x12, 0x34, 0x56, 0x09, 0xab, 0x7f, 0xff, 0xff, 0xff]);
  assertEquals(readFrameHeader(b.toBytes(), 0), {
    length: 0x123456,
    type: 9,
    flags: 0xab,
    streamId: 0x7fffffff,
  });
});

Deno.test("frame header: the reserved bit of the stream id is ignored on reading", () => {
  assertEquals(readFrameHeader(frame(0, 0, 0x80000003), 0).streamId, 3);
});

Deno.test("frame buffer: grows as frames are appended", () => {
  const e = new FrameEncoder(4);
  e.data(1, new Uint8Array(1000), false);
  assertEquals(e.length, 1009);
});

// ---------------------------------------------------------------- DATA

Deno.test("DATA: round-trips with END_STREAM", () => {
  const bytes = enc((e) => e.data(3, Uint8Array.from([1, 2, 3]), true));
  assertEquals([...bytes], [0, 0, 3, 0, 1, 0, 0, 0, 3, 1, 2, 3]);
  const f = decode(bytes) as DataFrame;
  assertEquals([f.streamId, [...f.data], f.endStream, f.flowLength], [3, [1, 2, 3], true, 3]);
});

Deno.test("DATA: padding is stripped and counted in the flow-controlled length", () => {
  const bytes = enc((e) => e.data(1, Uint8Array.from([7, 7]), false, 4));
  assertEquals(bytes[4], Flags.PADDED);
  const f = decode(bytes) as DataFrame;
  assertEquals([...f.data], [7, 7]);
  assertEquals(f.flowLength, 7);
  assertEquals(f.endStream, false);
});

Deno.test("DATA: on stream 0 is a connection PROTOCOL_ERROR", () => {
  assertError(frame(T.DATA, 0, 0, [1]), E.PROTOCOL_ERROR, "connection");
});

Deno.test("DATA: padding as long as the payload is a connection PROTOCOL_ERROR", () => {
  assertError(frame(T.DATA, Flags.PADDED, 1, [3, 0, 0]), E.PROTOCOL_ERROR, "connection");
});

Deno.test("DATA: a padded frame with no room for the pad length is a FRAME_SIZE_ERROR", () => {
  assertError(frame(T.DATA, Flags.PADDED, 1, []), E.FRAME_SIZE_ERROR, "connection");
});

// ---------------------------------------------------------------- HEADERS

Deno.test("HEADERS: round-trips a block with END_STREAM and END_HEADERS", () => {
  const block = Uint8Array.from([0x82, 0x86, 0x84]);
  const bytes = enc((e) => e.headers(1, block, true));
  assertEquals(bytes[4], Flags.END_STREAM | Flags.END_HEADERS);
  const f = decode(bytes) as HeadersFrame;
  assertEquals([...f.fragment], [0x82, 0x86, 0x84]);
  assertEquals([f.endStream, f.endHeaders, f.priority], [true, true, null]);
});

Deno.test("HEADERS: priority fields are parsed", () => {
  const bytes = enc((e) =>
    e.headers(5, Uint8Array.from([0x82]), false, 16384, {
      dependency: 3,
      exclusive: true,
      weight: 256,
    })
  );
  const f = decode(bytes) as HeadersFrame;
  assertEquals(f.priority, { dependency: 3, exclusive: true, weight: 256 });
  assertEquals([...f.fragment], [0x82]);
});

Deno.test("HEADERS: padding and priority together", () => {
  const payload = [2, 0, 0, 0, 1, 15, 0x82, 0, 0];
  const f = decode(
    frame(T.HEADERS, Flags.PADDED | Flags.PRIORITY | Flags.END_HEADERS, 3, payload),
  ) as HeadersFrame;
  assertEquals(f.priority, { dependency: 1, exclusive: false, weight: 16 });
  assertEquals([...f.fragment], [0x82]);
});

Deno.test("HEADERS: a block larger than the peer's frame size goes on in CONTINUATION frames", () => {
  const block = new Uint8Array(40000).fill(1);
  const bytes = enc((e) => e.headers(7, block, true, 16384));
  const heads: number[][] = [];
  let at = 0;
  while (at < bytes.length) {
    const h = readFrameHeader(bytes, at);
    heads.push([h.type, h.flags, h.length, h.streamId]);
    at += 9 + h.length;
  }
  assertEquals(heads, [
    [T.HEADERS, Flags.END_STREAM, 16384, 7],
    [T.CONTINUATION, 0, 16384, 7],
    [T.CONTINUATION, Flags.END_HEADERS, 40000 - 32768, 7],
  ]);
});

Deno.test("HEADERS: on stream 0 is a connection PROTOCOL_ERROR", () => {
  assertError(frame(T.HEADERS, Flags.END_HEADERS, 0, [0x82]), E.PROTOCOL_ERROR, "connection");
});

Deno.test("HEADERS: too short for its priority fields is a FRAME_SIZE_ERROR", () => {
  assertError(frame(T.HEADERS, Flags.PRIORITY, 1, [0, 0, 0]), E.FRAME_SIZE_ERROR, "connection");
});

Deno.test("HEADERS: padding beyond the payload is a connection PROTOCOL_ERROR", () => {
  assertError(frame(T.HEADERS, Flags.PADDED, 1, [5, 0x82]), E.PROTOCOL_ERROR, "connection");
});

// ---------------------------------------------------------------- PRIORITY

Deno.test("PRIORITY: round-trips", () => {
  const bytes = enc((e) => e.priority(3, { dependency: 1, exclusive: false, weight: 32 }));
  assertEquals([...bytes], [0, 0, 5, 2, 0, 0, 0, 0, 3, 0, 0, 0, 1, 31]);
  const f = decode(bytes) as PriorityFrame;
  assertEquals([f.dependency, f.exclusive, f.weight], [1, false, 32]);
});

Deno.test("PRIORITY: on stream 0 is a connection PROTOCOL_ERROR", () => {
  assertError(frame(T.PRIORITY, 0, 0, [0, 0, 0, 1, 0]), E.PROTOCOL_ERROR, "connection");
});

Deno.test("PRIORITY: a length other than 5 is a stream FRAME_SIZE_ERROR", () => {
  assertError(frame(T.PRIORITY, 0, 1, [0, 0, 0, 3]), E.FRAME_SIZE_ERROR, "stream");
  assertError(frame(T.PRIORITY, 0, 1, [0, 0, 0, 3, 0, 0]), E.FRAME_SIZE_ERROR, "stream");
});

Deno.test("PRIORITY: a stream depending on itself is a stream PROTOCOL_ERROR", () => {
  assertError(frame(T.PRIORITY, 0, 5, [0, 0, 0, 5, 0]), E.PROTOCOL_ERROR, "stream");
});

// ---------------------------------------------------------------- RST_STREAM

Deno.test("RST_STREAM: round-trips", () => {
  const bytes = enc((e) => e.rstStream(9, 8));
  assertEquals([...bytes], [0, 0, 4, 3, 0, 0, 0, 0, 9, 0, 0, 0, 8]);
  assertEquals((decode(bytes) as RstStreamFrame).errorCode, 8);
});

Deno.test("RST_STREAM: on stream 0 is a connection PROTOCOL_ERROR", () => {
  assertError(frame(T.RST_STREAM, 0, 0, [0, 0, 0, 8]), E.PROTOCOL_ERROR, "connection");
});

Deno.test("RST_STREAM: a length other than 4 is a connection FRAME_SIZE_ERROR", () => {
  assertError(frame(T.RST_STREAM, 0, 1, [0, 0, 8]), E.FRAME_SIZE_ERROR, "connection");
});

// ---------------------------------------------------------------- SETTINGS

Deno.test("SETTINGS: round-trips pairs in order, and the ACK", () => {
  const bytes = enc((e) => e.settings([[4, 1 << 20], [3, 100]]));
  assertEquals(bytes.length, 9 + 12);
  const f = decode(bytes) as SettingsFrame;
  assertEquals(f.settings, [[4, 1 << 20], [3, 100]]);
  assertEquals(f.ack, false);
  const ack = decode(enc((e) => e.settingsAck())) as SettingsFrame;
  assertEquals([ack.ack, ack.settings.length], [true, 0]);
});

Deno.test("SETTINGS: unknown identifiers are kept and ignored", () => {
  const f = decode(frame(T.SETTINGS, 0, 0, [0, 0x99, 0, 0, 0, 1])) as SettingsFrame;
  assertEquals(f.settings, [[0x99, 1]]);
});

Deno.test("SETTINGS: on a stream is a connection PROTOCOL_ERROR", () => {
  assertError(frame(T.SETTINGS, 0, 1, []), E.PROTOCOL_ERROR, "connection");
});

Deno.test("SETTINGS: an ACK with a payload is a connection FRAME_SIZE_ERROR", () => {
  assertError(
    frame(T.SETTINGS, Flags.ACK, 0, [0, 1, 0, 0, 0, 0]),
    E.FRAME_SIZE_ERROR,
    "connection",
  );
});

Deno.test("SETTINGS: a length not a multiple of 6 is a connection FRAME_SIZE_ERROR", () => {
  assertError(frame(T.SETTINGS, 0, 0, [0, 1, 0, 0, 0]), E.FRAME_SIZE_ERROR, "connection");
});

Deno.test("SETTINGS: ENABLE_PUSH must be 0 or 1", () => {
  decode(frame(T.SETTINGS, 0, 0, [0, 2, 0, 0, 0, 1]));
  assertError(frame(T.SETTINGS, 0, 0, [0, 2, 0, 0, 0, 2]), E.PROTOCOL_ERROR, "connection");
});

Deno.test("SETTINGS: INITIAL_WINDOW_SIZE above 2^31-1 is a FLOW_CONTROL_ERROR", () => {
  decode(frame(T.SETTINGS, 0, 0, [0, 4, 0x7f, 0xff, 0xff, 0xff]));
  assertError(frame(T.SETTINGS, 0, 0, [0, 4, 0x80, 0, 0, 0]), E.FLOW_CONTROL_ERROR, "connection");
});

Deno.test("SETTINGS: MAX_FRAME_SIZE outside 2^14 .. 2^24-1 is a PROTOCOL_ERROR", () => {
  decode(frame(T.SETTINGS, 0, 0, [0, 5, 0, 0, 0x40, 0]));
  decode(frame(T.SETTINGS, 0, 0, [0, 5, 0, 0xff, 0xff, 0xff]));
  assertError(frame(T.SETTINGS, 0, 0, [0, 5, 0, 0, 0x3f, 0xff]), E.PROTOCOL_ERROR, "connection");
  assertError(frame(T.SETTINGS, 0, 0, [0, 5, 1, 0, 0, 0]), E.PROTOCOL_ERROR, "connection");
});

// ---------------------------------------------------------------- PUSH_PROMISE

Deno.test("PUSH_PROMISE: round-trips", () => {
  const bytes = enc((e) => e.pushPromise(1, 2, Uint8Array.from([0x82])));
  const f = decode(bytes) as PushPromiseFrame;
  assertEquals([f.streamId, f.promisedStreamId, [...f.fragment], f.endHeaders], [
    1,
    2,
    [0x82],
    true,
  ]);
});

Deno.test("PUSH_PROMISE: padded, and too short for the promised id", () => {
  const f = decode(
    frame(T.PUSH_PROMISE, Flags.PADDED, 1, [1, 0, 0, 0, 4, 0x82, 0]),
  ) as PushPromiseFrame;
  assertEquals([f.promisedStreamId, [...f.fragment]], [4, [0x82]]);
  assertError(frame(T.PUSH_PROMISE, 0, 1, [0, 0, 2]), E.FRAME_SIZE_ERROR, "connection");
  assertError(frame(T.PUSH_PROMISE, 0, 0, [0, 0, 0, 2]), E.PROTOCOL_ERROR, "connection");
});

// ---------------------------------------------------------------- PING

Deno.test("PING: round-trips, with and without ACK", () => {
  const data = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const f = decode(enc((e) => e.ping(data, false))) as PingFrame;
  assertEquals([f.ack, [...f.data]], [false, [...data]]);
  assertEquals((decode(enc((e) => e.ping(data, true))) as PingFrame).ack, true);
});

Deno.test("PING: on a stream is a PROTOCOL_ERROR, a length other than 8 a FRAME_SIZE_ERROR", () => {
  assertError(frame(T.PING, 0, 1, new Uint8Array(8)), E.PROTOCOL_ERROR, "connection");
  assertError(frame(T.PING, 0, 0, new Uint8Array(9)), E.FRAME_SIZE_ERROR, "connection");
});

// ---------------------------------------------------------------- GOAWAY

Deno.test("GOAWAY: round-trips with debug data", () => {
  const bytes = enc((e) => e.goAway(7, 11, new TextEncoder().encode("calm")));
  const f = decode(bytes) as GoAwayFrame;
  assertEquals([f.lastStreamId, f.errorCode, new TextDecoder().decode(f.debugData)], [
    7,
    11,
    "calm",
  ]);
});

Deno.test("GOAWAY: on a stream is a PROTOCOL_ERROR, under 8 bytes a FRAME_SIZE_ERROR", () => {
  assertError(frame(T.GOAWAY, 0, 3, new Uint8Array(8)), E.PROTOCOL_ERROR, "connection");
  assertError(frame(T.GOAWAY, 0, 0, new Uint8Array(7)), E.FRAME_SIZE_ERROR, "connection");
});

// ---------------------------------------------------------------- WINDOW_UPDATE

Deno.test("WINDOW_UPDATE: round-trips; the reserved bit is ignored", () => {
  const f = decode(enc((e) => e.windowUpdate(5, 0x7fffffff))) as WindowUpdateFrame;
  assertEquals([f.streamId, f.increment], [5, 0x7fffffff]);
  const g = decode(frame(T.WINDOW_UPDATE, 0, 0, [0x80, 0, 0, 1])) as WindowUpdateFrame;
  assertEquals(g.increment, 1);
});

Deno.test("WINDOW_UPDATE: an increment of 0 is a stream error on a stream, a connection error on 0", () => {
  assertError(frame(T.WINDOW_UPDATE, 0, 3, [0, 0, 0, 0]), E.PROTOCOL_ERROR, "stream");
  assertError(frame(T.WINDOW_UPDATE, 0, 0, [0, 0, 0, 0]), E.PROTOCOL_ERROR, "connection");
});

Deno.test("WINDOW_UPDATE: a length other than 4 is a connection FRAME_SIZE_ERROR", () => {
  assertError(frame(T.WINDOW_UPDATE, 0, 3, [0, 0, 1]), E.FRAME_SIZE_ERROR, "connection");
});

// ---------------------------------------------------------------- CONTINUATION

Deno.test("CONTINUATION: round-trips; on stream 0 is a connection PROTOCOL_ERROR", () => {
  const f = decode(enc((e) => e.continuation(3, Uint8Array.from([1, 2]), true)));
  assertEquals(f.type, FrameType.CONTINUATION);
  assertEquals([...(f as { fragment: Uint8Array }).fragment], [1, 2]);
  assertEquals(f.flags, Flags.END_HEADERS);
  assertError(frame(T.CONTINUATION, 0, 0, [1]), E.PROTOCOL_ERROR, "connection");
});

// ---------------------------------------------------------------- unknown

Deno.test("unknown frame types decode as unknown frames (to be ignored)", () => {
  const f = decode(frame(0x42, 0x3, 7, [1, 2, 3]));
  assertEquals(f.type, 0x42);
  assertEquals([...(f as { payload: Uint8Array }).payload], [1, 2, 3]);
});
