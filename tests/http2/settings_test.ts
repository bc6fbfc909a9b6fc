/** HTTP2Settings defaults and validation; Http2Error and its codes. */

import { assertEquals, assertThrows } from "@std/assert";
import { errorCodeName, Http2Error, Http2ErrorCode, HTTP2Settings } from "../../http2/mod.ts";

Deno.test("HTTP2Settings defaults follow the protocol and the seed", () => {
  const s = new HTTP2Settings();
  assertEquals(
    [
      s.initialWindowSize,
      s.connectionWindowSize,
      s.maxConcurrentStreams,
      s.maxFrameSize,
      s.maxHeaderListSize,
      s.headerTableSize,
    ],
    [65535, 65535, 100, 16384, 65536, 4096],
  );
});

Deno.test("HTTP2Settings keeps the values given and is frozen", () => {
  const s = new HTTP2Settings({ initialWindowSize: 1 << 20, connectionWindowSize: 1 << 21 });
  assertEquals([s.initialWindowSize, s.connectionWindowSize], [1 << 20, 1 << 21]);
  assertThrows(() => {
    (s as { initialWindowSize: number }).initialWindowSize = 5;
  }, TypeError);
});

const bad: [string, number][] = [
  ["initialWindowSize", 0],
  ["initialWindowSize", 2 ** 31],
  ["initialWindowSize", 1.5],
  ["connectionWindowSize", 65534],
  ["connectionWindowSize", 2 ** 31],
  ["maxConcurrentStreams", 0],
  ["maxFrameSize", 16383],
  ["maxFrameSize", 16777216],
  ["maxHeaderListSize", 0],
  ["headerTableSize", -1],
];

for (const [name, value] of bad) {
  Deno.test(`HTTP2Settings rejects ${name} = ${value} with a RangeError naming it`, () => {
    const err = assertThrows(() => new HTTP2Settings({ [name]: value }), RangeError);
    assertEquals((err as Error).message.includes(name), true, (err as Error).message);
  });
}

Deno.test("HTTP2Settings accepts the bounds of each range", () => {
  new HTTP2Settings({
    initialWindowSize: 1,
    connectionWindowSize: 65535,
    maxFrameSize: 16777215,
    maxConcurrentStreams: 2 ** 31 - 1,
    headerTableSize: 0,
  });
  new HTTP2Settings({ initialWindowSize: 2 ** 31 - 1, connectionWindowSize: 2 ** 31 - 1 });
});

Deno.test("Http2Error carries its code, name and scope", () => {
  const s = new Http2Error(Http2ErrorCode.STREAM_CLOSED, "late DATA", {
    scope: "stream",
    streamId: 3,
  });
  assertEquals([s.code, s.codeName, s.isStreamError, s.isConnectionError, s.streamId], [
    5,
    "STREAM_CLOSED",
    true,
    false,
    3,
  ]);
  const c = new Http2Error(Http2ErrorCode.ENHANCE_YOUR_CALM, "calm down");
  assertEquals([c.scope, c.isConnectionError, c.name], ["connection", true, "Http2Error"]);
  assertEquals(errorCodeName(0xd), "HTTP_1_1_REQUIRED");
  assertEquals(errorCodeName(0x99), "UNKNOWN(0x99)");
});
