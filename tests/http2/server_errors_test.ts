/**
 * Every protocol error a client can commit, sent as raw frames to a server connection:
 * the exact error code, and whether it is a connection error (GOAWAY, then close) or a
 * stream error (RST_STREAM, and the connection goes on).
 */

import { assertEquals } from "@std/assert";
import {
  block,
  continuation,
  data,
  E,
  F,
  frame,
  goaway,
  headers,
  ping,
  PREFACE,
  priority,
  req,
  rst,
  S,
  settings,
  settingsAck,
  T,
  windowUpdate,
} from "./_frames.ts";
import { HTTP2Settings, type HTTP2SettingsInit } from "../../http2/settings.ts";
import { checkAlive, finish, startHandshaken, startServer, testHandler } from "./_server.ts";
import { within } from "../_fixtures.ts";
import { streamHandler } from "../../server/stream_handler.ts";

const open1 = headers(1, req("POST", "/hold")); // stream 1 open, request body pending
const half1 = headers(1, req("GET", "/hold"), { endStream: true }); // half-closed (remote)

interface ConnCase {
  name: string;
  frames: Uint8Array[];
  code: number;
}

const connectionErrors: ConnCase[] = [
  {
    name: "a frame larger than SETTINGS_MAX_FRAME_SIZE",
    frames: [frame(T.DATA, 0, 1, new Uint8Array(16385))],
    code: E.FRAME_SIZE_ERROR,
  },
  { name: "DATA on stream 0", frames: [data(0, "x")], code: E.PROTOCOL_ERROR },
  {
    name: "DATA whose padding fills the payload",
    frames: [open1, data(1, "ab", { pad: 3, padLength: 6 })],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "a padded DATA frame too short for its pad length",
    frames: [open1, frame(T.DATA, F.PADDED, 1, new Uint8Array(0))],
    code: E.FRAME_SIZE_ERROR,
  },
  { name: "DATA on an idle stream", frames: [data(1, "x")], code: E.PROTOCOL_ERROR },
  { name: "HEADERS on stream 0", frames: [headers(0, req())], code: E.PROTOCOL_ERROR },
  {
    name: "HEADERS on an even (server-initiated) stream",
    frames: [headers(2, req(), { endStream: true })],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "HEADERS on a stream id below one already used",
    frames: [
      headers(5, req("GET", "/hold"), { endStream: true }),
      headers(3, req(), { endStream: true }),
    ],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "HEADERS whose padding exceeds the payload",
    frames: [headers(1, req(), { endStream: true, pad: 2, padLength: 200 })],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "a CONTINUATION without a preceding HEADERS",
    frames: [continuation(1, block(req()), true)],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "a PING inside a header block",
    frames: [headers(1, block(req()).subarray(0, 5), { endHeaders: false }), ping()],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "a CONTINUATION on another stream",
    frames: [
      headers(1, block(req()).subarray(0, 5), { endHeaders: false }),
      continuation(3, block(req()).subarray(5), true),
    ],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "a header block that is not valid HPACK",
    frames: [headers(1, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))],
    code: E.COMPRESSION_ERROR,
  },
  { name: "PRIORITY on stream 0", frames: [priority(0, 1)], code: E.PROTOCOL_ERROR },
  { name: "RST_STREAM on stream 0", frames: [rst(0, E.CANCEL)], code: E.PROTOCOL_ERROR },
  {
    name: "RST_STREAM of 3 bytes",
    frames: [half1, frame(T.RST_STREAM, 0, 1, [0, 0, 8])],
    code: E.FRAME_SIZE_ERROR,
  },
  { name: "RST_STREAM on an idle stream", frames: [rst(1, E.CANCEL)], code: E.PROTOCOL_ERROR },
  {
    name: "SETTINGS on a stream",
    frames: [frame(T.SETTINGS, 0, 1, new Uint8Array(0))],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "SETTINGS of 5 bytes",
    frames: [frame(T.SETTINGS, 0, 0, [0, 4, 0, 0, 1])],
    code: E.FRAME_SIZE_ERROR,
  },
  {
    name: "a SETTINGS ACK with a payload",
    frames: [frame(T.SETTINGS, F.ACK, 0, [0, 4, 0, 0, 0, 1])],
    code: E.FRAME_SIZE_ERROR,
  },
  {
    name: "SETTINGS_ENABLE_PUSH of 2",
    frames: [settings([S.ENABLE_PUSH, 2])],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
    frames: [settings([S.INITIAL_WINDOW_SIZE, 0x80000000])],
    code: E.FLOW_CONTROL_ERROR,
  },
  {
    name: "SETTINGS_MAX_FRAME_SIZE below 16384",
    frames: [settings([S.MAX_FRAME_SIZE, 16383])],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "SETTINGS_MAX_FRAME_SIZE above 2^24-1",
    frames: [settings([S.MAX_FRAME_SIZE, 1 << 24])],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "a SETTINGS_INITIAL_WINDOW_SIZE that overflows an open stream's window",
    frames: [
      open1,
      windowUpdate(1, 0x7fffffff - 65535),
      settings([S.INITIAL_WINDOW_SIZE, 65536]),
    ],
    code: E.FLOW_CONTROL_ERROR,
  },
  {
    name: "PUSH_PROMISE from a client",
    frames: [frame(T.PUSH_PROMISE, F.END_HEADERS, 1, [0, 0, 0, 2])],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "PING on a stream",
    frames: [frame(T.PING, 0, 1, new Uint8Array(8))],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "PING of 7 bytes",
    frames: [frame(T.PING, 0, 0, new Uint8Array(7))],
    code: E.FRAME_SIZE_ERROR,
  },
  {
    name: "GOAWAY on a stream",
    frames: [frame(T.GOAWAY, 0, 1, new Uint8Array(8))],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "GOAWAY of 7 bytes",
    frames: [frame(T.GOAWAY, 0, 0, new Uint8Array(7))],
    code: E.FRAME_SIZE_ERROR,
  },
  {
    name: "WINDOW_UPDATE of 3 bytes",
    frames: [frame(T.WINDOW_UPDATE, 0, 0, [0, 0, 1])],
    code: E.FRAME_SIZE_ERROR,
  },
  {
    name: "WINDOW_UPDATE of 0 on the connection",
    frames: [windowUpdate(0, 0)],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "WINDOW_UPDATE growing the connection window beyond 2^31-1",
    frames: [windowUpdate(0, 0x7fffffff)],
    code: E.FLOW_CONTROL_ERROR,
  },
  {
    name: "WINDOW_UPDATE on an idle stream",
    frames: [windowUpdate(1, 10)],
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "DATA beyond the connection window",
    frames: [
      headers(1, req("POST", "/hold")),
      headers(3, req("POST", "/hold")),
      data(1, new Uint8Array(16384)),
      data(1, new Uint8Array(16384)),
      data(1, new Uint8Array(16384)),
      data(1, new Uint8Array(16383)),
      data(3, new Uint8Array(2)),
    ],
    code: E.FLOW_CONTROL_ERROR,
  },
  {
    name: "DATA on a stream closed by END_STREAM both ways",
    frames: [headers(1, req("GET", "/"), { endStream: true })],
    code: E.STREAM_CLOSED,
  },
];

for (const c of connectionErrors) {
  Deno.test(`server answers ${c.name} with connection error ${codeName(c.code)}`, async () => {
    const s = await startHandshaken();
    await s.peer.send(...c.frames);
    if (c.name.startsWith("DATA on a stream closed")) {
      // Wait for the complete response, then send DATA on the closed stream.
      await s.peer.until((f) => f.type === T.DATA && (f.flags & F.END_STREAM) !== 0);
      await s.peer.send(data(1, "late"));
    }
    await s.peer.expectGoAway(c.code);
    await s.h2.closed;
  });
}

Deno.test("server answers a bad client preface with connection error PROTOCOL_ERROR", async () => {
  const s = startServer();
  await s.peer.send(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  await s.peer.expectGoAway(E.PROTOCOL_ERROR);
  await s.h2.closed;
});

Deno.test("server answers a preface not followed by SETTINGS with connection error PROTOCOL_ERROR", async () => {
  const s = startServer();
  await s.peer.send(PREFACE, ping());
  await s.peer.expectGoAway(E.PROTOCOL_ERROR);
  await s.h2.closed;
});

Deno.test("server's GOAWAY after a connection error names the last stream it processed", async () => {
  const s = await startHandshaken();
  await s.peer.send(headers(1, req("GET", "/hold"), { endStream: true }), data(0, "x"));
  const f = await s.peer.expectGoAway(E.PROTOCOL_ERROR);
  assertEquals(f.payload[3], 1);
  await s.h2.closed;
});

interface StreamCase {
  name: string;
  frames: Uint8Array[];
  stream: number;
  code: number;
  settings?: HTTP2SettingsInit;
}

function malformed(name: string, fields: [string, string][]): StreamCase {
  return {
    name: `a request with ${name}`,
    frames: [headers(1, fields, { endStream: true })],
    stream: 1,
    code: E.PROTOCOL_ERROR,
  };
}

const base = (extra: [string, string][] = []) => req("GET", "/", extra);

const streamErrors: StreamCase[] = [
  {
    name: "DATA on a half-closed (remote) stream",
    frames: [half1, data(1, "x")],
    stream: 1,
    code: E.STREAM_CLOSED,
  },
  {
    name: "HEADERS on a half-closed (remote) stream",
    frames: [half1, headers(1, [["x-t", "1"]], { endStream: true })],
    stream: 1,
    code: E.STREAM_CLOSED,
  },
  {
    name: "DATA beyond the stream window",
    frames: [open1, data(1, new Uint8Array(1000)), data(1, "x")],
    stream: 1,
    code: E.FLOW_CONTROL_ERROR,
    settings: { initialWindowSize: 1000 },
  },
  {
    name: "WINDOW_UPDATE of 0 on a stream",
    frames: [half1, windowUpdate(1, 0)],
    stream: 1,
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "WINDOW_UPDATE growing a stream window beyond 2^31-1",
    frames: [half1, windowUpdate(1, 0x7fffffff)],
    stream: 1,
    code: E.FLOW_CONTROL_ERROR,
  },
  {
    name: "PRIORITY of 4 bytes",
    frames: [half1, frame(T.PRIORITY, 0, 1, [0, 0, 0, 3])],
    stream: 1,
    code: E.FRAME_SIZE_ERROR,
  },
  {
    name: "PRIORITY making a stream depend on itself",
    frames: [half1, priority(1, 1)],
    stream: 1,
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "HEADERS making a stream depend on itself",
    frames: [headers(1, req(), { endStream: true, priority: { dependency: 1 } })],
    stream: 1,
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "more DATA than content-length",
    frames: [headers(1, req("POST", "/", [["content-length", "2"]])), data(1, "abc")],
    stream: 1,
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "less DATA than content-length",
    frames: [
      headers(1, req("POST", "/", [["content-length", "5"]])),
      data(1, "abc", { endStream: true }),
    ],
    stream: 1,
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "trailers without END_STREAM",
    frames: [open1, headers(1, [["x-trailer", "1"]])],
    stream: 1,
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "a pseudo-header in trailers",
    frames: [open1, headers(1, [[":path", "/x"]], { endStream: true })],
    stream: 1,
    code: E.PROTOCOL_ERROR,
  },
  {
    name: "DATA after the client reset the stream",
    frames: [open1, rst(1, E.CANCEL), data(1, "x")],
    stream: 1,
    code: E.STREAM_CLOSED,
  },
  malformed("no :method", req().filter(([n]) => n !== ":method")),
  malformed("no :path", req().filter(([n]) => n !== ":path")),
  malformed("no :scheme", req().filter(([n]) => n !== ":scheme")),
  malformed("an empty :path", req("GET", "")),
  malformed("a :path not starting with /", req("GET", "index.html")),
  malformed("two :method fields", [[":method", "GET"], ...req()]),
  malformed("two :path fields", [...req(), [":path", "/b"]]),
  malformed("an unknown pseudo-header", [[":foo", "bar"], ...req()]),
  malformed("a response pseudo-header", [[":status", "200"], ...req()]),
  malformed("a pseudo-header after a regular field", [...base([["accept", "*/*"]]), [
    ":authority",
    "x",
  ]]),
  malformed("an uppercase field name", base([["Accept", "*/*"]])),
  malformed("a field name with a space", base([["x y", "1"]])),
  malformed("a field value with a newline", base([["x-a", "1\n2"]])),
  malformed("a field value with a leading space", base([["x-a", " 1"]])),
  malformed("a connection header", base([["connection", "keep-alive"]])),
  malformed("a keep-alive header", base([["keep-alive", "5"]])),
  malformed("a transfer-encoding header", base([["transfer-encoding", "chunked"]])),
  malformed("an upgrade header", base([["upgrade", "websocket"]])),
  malformed("a proxy-connection header", base([["proxy-connection", "close"]])),
  malformed("te other than trailers", base([["te", "gzip"]])),
  malformed("a non-numeric content-length", base([["content-length", "abc"]])),
  malformed("CONNECT with a :path", [
    [":method", "CONNECT"],
    [":authority", "a:443"],
    [":path", "/"],
  ]),
  malformed("CONNECT without :authority", [[":method", "CONNECT"]]),
  malformed("a host that differs from :authority", base([["host", "other.test"]])),
];

for (const c of streamErrors) {
  Deno.test(`server answers ${c.name} with stream error ${codeName(c.code)}`, async () => {
    const s = await startHandshaken(
      c.settings ? { settings: new HTTP2Settings(c.settings) } : {},
    );
    await s.peer.send(...c.frames);
    await s.peer.expectRst(c.stream, c.code);
    await checkAlive(s.peer, 101);
    await finish(s);
  });
}

Deno.test("server refuses streams beyond maxConcurrentStreams with REFUSED_STREAM", async () => {
  const s = await startHandshaken({ settings: new HTTP2Settings({ maxConcurrentStreams: 2 }) });
  await s.peer.send(
    headers(1, req("GET", "/hold"), { endStream: true }),
    headers(3, req("GET", "/hold"), { endStream: true }),
    headers(5, req("GET", "/hold"), { endStream: true }),
  );
  await s.peer.expectRst(5, E.REFUSED_STREAM);
  assertEquals(s.h2.activeStreams, 2);
  // Once a stream ends, a new one is accepted.
  await s.peer.send(rst(1, E.CANCEL));
  await checkAlive(s.peer, 7);
  await finish(s);
});

Deno.test("server ignores PRIORITY frames, also on idle streams", async () => {
  const s = await startHandshaken();
  await s.peer.send(priority(9, 0, 200), priority(11, 9, 1, true));
  await checkAlive(s.peer, 1);
  await finish(s);
});

Deno.test("server ignores frames of unknown types, except inside a header block", async () => {
  const s = await startHandshaken();
  await s.peer.send(frame(0xfa, 0xff, 0, "hello"), frame(0x20, 0, 1, ""));
  await checkAlive(s.peer, 1);
  await s.peer.send(
    headers(3, block(req()).subarray(0, 4), { endHeaders: false }),
    frame(0xfa, 0, 3, ""),
  );
  await s.peer.expectGoAway(E.PROTOCOL_ERROR);
  await s.h2.closed;
});

Deno.test("server answers a PING with a PING ACK carrying the same data", async () => {
  const s = await startHandshaken();
  await s.peer.send(ping([9, 8, 7, 6, 5, 4, 3, 2]));
  const f = await s.peer.until((f) => f.type === T.PING);
  assertEquals(f.flags, F.ACK);
  assertEquals([...f.payload], [9, 8, 7, 6, 5, 4, 3, 2]);
  await finish(s);
});

Deno.test("server ignores a PING ACK it did not ask for", async () => {
  const s = await startHandshaken();
  await s.peer.send(ping([1, 1, 1, 1, 1, 1, 1, 1], true));
  await checkAlive(s.peer, 1);
  await finish(s);
});

Deno.test("server acknowledges each SETTINGS frame", async () => {
  const s = startServer();
  await s.peer.send(PREFACE, settings(), settings([S.MAX_FRAME_SIZE, 20000]));
  let acks = 0;
  while (acks < 2) {
    const f = await s.peer.until((f) => f.type === T.SETTINGS);
    if (f.flags & F.ACK) acks++;
  }
  await s.peer.send(settingsAck());
  await checkAlive(s.peer, 1);
  await finish(s);
});

Deno.test("server ignores frames on a stream it reset", async () => {
  const s = await startHandshaken();
  await s.peer.send(headers(1, req("POST", "/", [["content-length", "1"]])), data(1, "ab"));
  await s.peer.expectRst(1, E.PROTOCOL_ERROR);
  await s.peer.send(data(1, "late"), windowUpdate(1, 5), rst(1, E.CANCEL));
  await checkAlive(s.peer, 3);
  await finish(s);
});

// Found by fuzz_test.ts: each of these frames drew one more RST_STREAM on a stream already
// reset, when RST_STREAM is the last frame sent on a stream (RFC 9113 section 5.4.2).
Deno.test("server sends no second RST_STREAM for a malformed frame on a stream it reset", async () => {
  const s = await startHandshaken();
  await s.peer.send(
    headers(1, req("POST", "/", [["content-length", "1"]])),
    data(1, "ab"), // reset after it opened
    headers(3, req("CONNECT", "/")), // refused before it opened
  );
  await s.peer.expectRst(1, E.PROTOCOL_ERROR);
  await s.peer.expectRst(3, E.PROTOCOL_ERROR);
  for (const id of [1, 3]) {
    await s.peer.send(
      windowUpdate(id, 0), // a stream error of PROTOCOL_ERROR on an open stream
      priority(id, id), // depends on itself: PROTOCOL_ERROR
      frame(T.PRIORITY, 0, id, [0, 0, 0, 0]), // not 5 bytes: FRAME_SIZE_ERROR
    );
  }
  await checkAlive(s.peer, 5);
  assertEquals(s.peer.log.filter((f) => f.type === T.RST_STREAM).map((f) => f.streamId), [1, 3]);
  await finish(s);
});

Deno.test("server ignores WINDOW_UPDATE and RST_STREAM on a closed stream", async () => {
  const s = await startHandshaken();
  await checkAlive(s.peer, 1);
  await s.peer.send(windowUpdate(1, 100), rst(1, E.CANCEL));
  await checkAlive(s.peer, 3);
  await finish(s);
});

Deno.test("server treats a client GOAWAY as the end: it closes once streams finish", async () => {
  const s = await startHandshaken();
  await s.peer.send(headers(1, req("POST", "/")), goaway(1, E.NO_ERROR));
  await s.peer.send(data(1, "abc", { endStream: true }));
  const fields = await s.peer.response(1);
  assertEquals(fields.find(([n]) => n === "x-body-length")?.[1], "3");
  await s.peer.rest();
  await s.h2.closed;
});

function codeName(code: number): string {
  return Object.entries(E).find(([, v]) => v === code)![0];
}

Deno.test("writes left unawaited on a stream the client resets abort the exchange, with no unhandled rejection", async () => {
  let seen!: (signal: AbortSignal) => void;
  const signal = new Promise<AbortSignal>((resolve) => (seen = resolve));
  const s = await startHandshaken({}, (stream) => {
    if (stream.request.target !== "/unawaited") return testHandler(stream);
    // node:http's shape: nothing awaited; the first write waits for the window.
    stream.respond(200);
    stream.write(new Uint8Array(100_000));
    stream.write(new Uint8Array(10));
    seen(stream.info.signal);
    return stream.end();
  });
  await s.peer.send(headers(1, req("GET", "/unawaited"), { endStream: true }));
  await s.peer.response(1);
  await s.peer.send(rst(1, E.CANCEL));
  const aborted = await within(signal, 2000, "the handler ran");
  await new Promise((resolve) => setTimeout(resolve, 50)); // an unhandled rejection fails here
  assertEquals(aborted.aborted, true);
  await s.peer.send(windowUpdate(0, 65_535)); // stream 1 took the connection's window
  await checkAlive(s.peer, 3);
  await finish(s);
});

Deno.test("a handler that throws its body's error after the client's protocol error is not the handler's failure", async () => {
  const handlerErrors: unknown[] = [];
  const reported: unknown[] = [];
  const handler = streamHandler(async (request) => new Response(await request.text()), {
    onError: (error) => {
      handlerErrors.push(error);
      return new Response(null, { status: 500 });
    },
  });
  const s = await startHandshaken({ onError: (error) => reported.push(error) }, handler);
  await s.peer.send(headers(1, req("POST", "/", [["content-length", "1"]])), data(1, "ab"));
  await s.peer.expectRst(1, E.PROTOCOL_ERROR);
  await within(
    (async () => {
      while (s.streams[0]?.info.completed === undefined) await new Promise((r) => setTimeout(r, 5));
      await s.streams[0].info.completed.catch(() => {});
    })(),
    2000,
    "the exchange's end",
  );
  await new Promise((resolve) => setTimeout(resolve, 20)); // the handler's rejection runs its course
  assertEquals([handlerErrors, reported], [[], []]);
  await finish(s);
});
