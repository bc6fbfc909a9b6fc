/** The stream state machine of RFC 9113 section 5.1, transition by transition. */

import { assertEquals, assertThrows } from "@std/assert";
import {
  canRecv,
  canSend,
  checkRecv,
  RecvCheck,
  recvEndStream,
  recvHeaders,
  reset,
  sendEndStream,
  sendHeaders,
  StreamState as S,
} from "../../../http2/proto/streams/state.ts";
import { T } from "../_frames.ts";

Deno.test("idle: sending HEADERS opens the stream, or half-closes it with END_STREAM", () => {
  assertEquals(sendHeaders(S.Idle, false), S.Open);
  assertEquals(sendHeaders(S.Idle, true), S.HalfClosedLocal);
});

Deno.test("idle: receiving HEADERS opens the stream, or half-closes it (remote) with END_STREAM", () => {
  assertEquals(recvHeaders(S.Idle, false), S.Open);
  assertEquals(recvHeaders(S.Idle, true), S.HalfClosedRemote);
});

Deno.test("reserved (local): sending HEADERS half-closes (remote); reserved (remote): receiving half-closes (local)", () => {
  assertEquals(sendHeaders(S.ReservedLocal, false), S.HalfClosedRemote);
  assertEquals(sendHeaders(S.ReservedLocal, true), S.Closed);
  assertEquals(recvHeaders(S.ReservedRemote, false), S.HalfClosedLocal);
  assertEquals(recvHeaders(S.ReservedRemote, true), S.Closed);
});

Deno.test("open: END_STREAM sent half-closes (local), received half-closes (remote)", () => {
  assertEquals(sendEndStream(S.Open), S.HalfClosedLocal);
  assertEquals(recvEndStream(S.Open), S.HalfClosedRemote);
  assertEquals(sendHeaders(S.Open, true), S.HalfClosedLocal);
  assertEquals(recvHeaders(S.Open, true), S.HalfClosedRemote);
  assertEquals(sendHeaders(S.Open, false), S.Open);
});

Deno.test("half-closed: the other side's END_STREAM closes the stream", () => {
  assertEquals(sendEndStream(S.HalfClosedRemote), S.Closed);
  assertEquals(recvEndStream(S.HalfClosedLocal), S.Closed);
  assertEquals(recvHeaders(S.HalfClosedLocal, true), S.Closed);
  assertEquals(sendHeaders(S.HalfClosedRemote, true), S.Closed);
});

Deno.test("RST_STREAM, sent or received, closes the stream from every state", () => {
  for (
    const s of [
      S.Idle,
      S.ReservedLocal,
      S.ReservedRemote,
      S.Open,
      S.HalfClosedLocal,
      S.HalfClosedRemote,
    ]
  ) {
    assertEquals(reset(s), S.Closed);
  }
});

Deno.test("a closed side cannot send or receive END_STREAM again", () => {
  assertThrows(() => sendEndStream(S.HalfClosedLocal));
  assertThrows(() => sendEndStream(S.Closed));
  assertThrows(() => sendHeaders(S.HalfClosedLocal, true));
  assertEquals(recvEndStream(S.HalfClosedRemote), null);
  assertEquals(recvHeaders(S.HalfClosedRemote, false), null);
  assertEquals(recvHeaders(S.Closed, true), null);
});

Deno.test("which sides are open in each state", () => {
  assertEquals([S.Open, S.HalfClosedLocal, S.HalfClosedRemote, S.Closed].map(canSend), [
    true,
    false,
    true,
    false,
  ]);
  assertEquals([S.Open, S.HalfClosedLocal, S.HalfClosedRemote, S.Closed].map(canRecv), [
    true,
    true,
    false,
    false,
  ]);
});

Deno.test("receiving on an idle stream: only HEADERS and PRIORITY; others are a connection PROTOCOL_ERROR", () => {
  assertEquals(checkRecv(S.Idle, T.HEADERS), RecvCheck.Ok);
  assertEquals(checkRecv(S.Idle, T.PRIORITY), RecvCheck.Ok);
  for (const t of [T.DATA, T.RST_STREAM, T.WINDOW_UPDATE, T.CONTINUATION]) {
    assertEquals(checkRecv(S.Idle, t), RecvCheck.ProtocolConnectionError);
  }
});

Deno.test("receiving on a half-closed (remote) stream: DATA or HEADERS are a stream STREAM_CLOSED", () => {
  assertEquals(checkRecv(S.HalfClosedRemote, T.DATA), RecvCheck.StreamClosedStreamError);
  assertEquals(checkRecv(S.HalfClosedRemote, T.HEADERS), RecvCheck.StreamClosedStreamError);
  assertEquals(checkRecv(S.HalfClosedRemote, T.WINDOW_UPDATE), RecvCheck.Ok);
  assertEquals(checkRecv(S.HalfClosedRemote, T.RST_STREAM), RecvCheck.Ok);
  assertEquals(checkRecv(S.HalfClosedRemote, T.PRIORITY), RecvCheck.Ok);
});

Deno.test("receiving on a closed stream: a connection error after END_STREAM, a stream error after RST_STREAM", () => {
  assertEquals(checkRecv(S.Closed, T.DATA, true), RecvCheck.StreamClosedConnectionError);
  assertEquals(checkRecv(S.Closed, T.DATA, false), RecvCheck.StreamClosedStreamError);
  assertEquals(checkRecv(S.Closed, T.WINDOW_UPDATE, true), RecvCheck.Ok);
  assertEquals(checkRecv(S.Closed, T.PRIORITY, true), RecvCheck.Ok);
});

Deno.test("receiving on reserved streams follows the diagram", () => {
  assertEquals(checkRecv(S.ReservedLocal, T.WINDOW_UPDATE), RecvCheck.Ok);
  assertEquals(checkRecv(S.ReservedLocal, T.DATA), RecvCheck.ProtocolConnectionError);
  assertEquals(checkRecv(S.ReservedRemote, T.HEADERS), RecvCheck.Ok);
  assertEquals(checkRecv(S.ReservedRemote, T.DATA), RecvCheck.ProtocolConnectionError);
  assertEquals(checkRecv(S.Open, T.DATA), RecvCheck.Ok);
  assertEquals(checkRecv(S.HalfClosedLocal, T.DATA), RecvCheck.Ok);
});
