/**
 * The client connection against a raw-frame server: what it sends (preface, SETTINGS,
 * windows, request heads), and how it takes what a server may send (RST_STREAM, GOAWAY,
 * PUSH_PROMISE, stream limits, PINGs, malformed responses).
 */

import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { RetryableRequestError } from "../../client/_protocol.ts";
import type { ProtocolRequest, ProtocolResponse } from "../../client/_protocol.ts";
import { memoryPair } from "../../conn/memory.ts";
import { Http2ClientConnection } from "../../http2/client_connection.ts";
import { Http2Error } from "../../http2/errors.ts";
import { HTTP2Settings, type HTTP2SettingsInit } from "../../http2/settings.ts";
import {
  data,
  E,
  F,
  frame,
  goaway,
  headers,
  parseSettings,
  ping,
  RawPeer,
  readU32,
  rst,
  S,
  settings,
  settingsAck,
  T,
  windowUpdate,
} from "./_frames.ts";

interface RawClientSide {
  client: Http2ClientConnection;
  server: RawPeer;
  /** The client's SETTINGS frame payload. */
  clientSettings: Map<number, number>;
}

/** A client connection with a raw server: preface checked, SETTINGS exchanged. */
async function startClient(
  init: HTTP2SettingsInit = {},
  serverSettings: [number, number][] = [],
): Promise<RawClientSide> {
  const [a, b] = memoryPair();
  const client = await Http2ClientConnection.connect(a, { settings: new HTTP2Settings(init) });
  const server = new RawPeer(b);
  await server.expectPreface();
  const s = await server.until((f) => f.type === T.SETTINGS);
  await server.send(settings(...serverSettings), settingsAck());
  await server.until((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0);
  return { client, server, clientSettings: parseSettings(s.payload) };
}

function get(path = "/", extra: Partial<ProtocolRequest> = {}): ProtocolRequest {
  return {
    method: "GET",
    url: new URL(`http://example.test${path}`),
    headers: new Headers(),
    body: null,
    ...extra,
  };
}

/** Starts a request; its rejection is handled here too, so tests may await it late. */
function start(client: Http2ClientConnection, r: ProtocolRequest): Promise<ProtocolResponse> {
  const p = client.request(r);
  p.catch(() => {});
  return p;
}

async function done(c: RawClientSide): Promise<void> {
  c.client.close();
  c.server.close();
  await c.client.finished;
}

Deno.test("client connection preface: SETTINGS with ENABLE_PUSH 0 and no window changes by default", async () => {
  const c = await startClient();
  assertEquals(c.clientSettings.get(S.ENABLE_PUSH), 0);
  assertEquals(c.clientSettings.has(S.INITIAL_WINDOW_SIZE), false);
  assertEquals(c.server.log.some((f) => f.type === T.WINDOW_UPDATE), false);
  await done(c);
});

Deno.test("client connection preface: larger windows from HTTP2Settings go out in SETTINGS and a WINDOW_UPDATE on stream 0", async () => {
  const [a, b] = memoryPair();
  const client = await Http2ClientConnection.connect(a, {
    settings: new HTTP2Settings({ initialWindowSize: 1 << 20, connectionWindowSize: 1 << 21 }),
  });
  const server = new RawPeer(b);
  await server.expectPreface();
  const s = await server.next();
  const wu = await server.next();
  if (s === null || s === "timeout" || wu === null || wu === "timeout") {
    throw new Error("no frames");
  }
  assertEquals(s.type, T.SETTINGS);
  assertEquals(parseSettings(s.payload).get(S.INITIAL_WINDOW_SIZE), 1 << 20);
  assertEquals([wu.type, wu.streamId, readU32(wu.payload)], [
    T.WINDOW_UPDATE,
    0,
    (1 << 21) - 65535,
  ]);
  client.close();
  server.close();
  await client.finished;
});

Deno.test("client request head: pseudo-headers from the URL, connection-specific headers dropped", async () => {
  const c = await startClient();
  const p = start(c.client, {
    method: "POST",
    url: new URL("https://example.test:8443/a/b?c=d"),
    headers: new Headers({
      "x-custom": "1",
      connection: "keep-alive",
      "keep-alive": "5",
      "proxy-connection": "x",
      "transfer-encoding": "chunked",
      upgrade: "websocket",
      te: "trailers",
    }),
    body: new TextEncoder().encode("hi"),
  });
  const h = await c.server.until((f) => f.type === T.HEADERS);
  const fields = h.fields!;
  assertEquals(fields.slice(0, 4), [
    [":method", "POST"],
    [":scheme", "https"],
    [":authority", "example.test:8443"],
    [":path", "/a/b?c=d"],
  ]);
  const names = fields.slice(4).map(([n]) => n).sort();
  assertEquals(names, ["content-length", "te", "x-custom"]);
  assertEquals(fields.find(([n]) => n === "content-length")![1], "2");
  const body = await c.server.until((f) => f.type === T.DATA);
  assertEquals([new TextDecoder().decode(body.payload), body.flags & F.END_STREAM], ["hi", 1]);
  await c.server.send(headers(1, [[":status", "204"]], { endStream: true }));
  const res = await p;
  assertEquals([res.status, res.body], [204, null]);
  await done(c);
});

Deno.test("client request head: a Host header becomes :authority", async () => {
  const c = await startClient();
  start(c.client, get("/", { headers: new Headers({ host: "virtual.test" }) })).catch(() => {});
  const h = await c.server.until((f) => f.type === T.HEADERS);
  assertEquals(h.fields!.find(([n]) => n === ":authority")![1], "virtual.test");
  assertEquals(h.fields!.some(([n]) => n === "host"), false);
  await done(c);
});

Deno.test("client maps REFUSED_STREAM to RetryableRequestError", async () => {
  const c = await startClient();
  const p = start(c.client, get());
  await c.server.until((f) => f.type === T.HEADERS);
  await c.server.send(rst(1, E.REFUSED_STREAM));
  await assertRejects(() => p, RetryableRequestError);
  assertEquals(c.client.available, true);
  await done(c);
});

Deno.test("client fails a stream reset with another code with that Http2Error", async () => {
  const c = await startClient();
  const p = start(c.client, get());
  await c.server.until((f) => f.type === T.HEADERS);
  await c.server.send(rst(1, E.INTERNAL_ERROR));
  const err = await assertRejects(() => p, Http2Error) as Http2Error;
  assertEquals([err.code, err.scope, err.remote], [E.INTERNAL_ERROR, "stream", true]);
  await done(c);
});

Deno.test("client maps streams above a GOAWAY's last stream id to RetryableRequestError; lower ones finish", async () => {
  const c = await startClient();
  let changes = 0;
  c.client.onStateChange = () => changes++;
  const p1 = start(c.client, get("/1"));
  const p3 = start(c.client, get("/3"));
  await c.server.until((f) => f.type === T.HEADERS && f.streamId === 3);
  await c.server.send(goaway(1, E.NO_ERROR));
  await assertRejects(() => p3, RetryableRequestError);
  assertEquals([c.client.closed, c.client.available], [true, false]);
  await assertRejects(() => start(c.client, get("/5")), RetryableRequestError);
  await c.server.send(headers(1, [[":status", "200"]]), data(1, "one", { endStream: true }));
  const res = await p1;
  assertEquals(await new Response(res.body).text(), "one");
  await c.client.finished; // closes by itself once the last stream is done
  assert(changes > 0);
  c.server.close();
});

Deno.test("client answers PUSH_PROMISE with GOAWAY PROTOCOL_ERROR (push is disabled)", async () => {
  const c = await startClient();
  const p = start(c.client, get());
  await c.server.until((f) => f.type === T.HEADERS);
  await c.server.send(frame(T.PUSH_PROMISE, F.END_HEADERS, 1, [0, 0, 0, 2, 0x82]));
  await c.server.expectGoAway(E.PROTOCOL_ERROR);
  const err = await assertRejects(() => p, Http2Error) as Http2Error;
  assertEquals([err.code, err.scope], [E.PROTOCOL_ERROR, "connection"]);
  await c.client.finished;
});

Deno.test("client answers SETTINGS_ENABLE_PUSH 1 from a server with GOAWAY PROTOCOL_ERROR", async () => {
  const c = await startClient();
  await c.server.send(settings([S.ENABLE_PUSH, 1]));
  await c.server.expectGoAway(E.PROTOCOL_ERROR);
  await c.client.finished;
});

Deno.test("client answers HEADERS opening a server stream with GOAWAY PROTOCOL_ERROR", async () => {
  const c = await startClient();
  await c.server.send(headers(2, [[":status", "200"]], { endStream: true }));
  await c.server.expectGoAway(E.PROTOCOL_ERROR);
  await c.client.finished;
});

Deno.test("client answers a stream error as the server's first frame with GOAWAY PROTOCOL_ERROR, not RST_STREAM (RFC 9113 3.4)", async () => {
  // A WINDOW_UPDATE of 0 or a malformed PRIORITY on an open stream is a stream error, but
  // as the server's first frame it is a broken preface; the SETTINGS after it changes nothing.
  const firsts = [
    windowUpdate(1, 0),
    frame(T.PRIORITY, 0, 1, [0, 0, 0]),
    frame(T.PRIORITY, 0, 1, [0, 0, 0, 1, 15]),
  ];
  for (const first of firsts) {
    const [a, b] = memoryPair();
    const client = await Http2ClientConnection.connect(a, { settings: new HTTP2Settings() });
    const p = start(client, get()); // stream 1 is open before the server's preface
    const server = new RawPeer(b);
    await server.expectPreface();
    await server.until((f) => f.type === T.HEADERS && f.streamId === 1);
    await server.send(first, settings(), settingsAck());
    await server.expectGoAway(E.PROTOCOL_ERROR);
    assertEquals(server.log.some((f) => f.type === T.RST_STREAM), false);
    const err = await assertRejects(() => p, Http2Error) as Http2Error;
    assertEquals([err.code, err.scope], [E.PROTOCOL_ERROR, "connection"]);
    await client.finished;
  }
});

Deno.test("client queues requests beyond the server's MAX_CONCURRENT_STREAMS", async () => {
  const c = await startClient({}, [[S.MAX_CONCURRENT_STREAMS, 1]]);
  let changes = 0;
  c.client.onStateChange = () => changes++;
  const p1 = start(c.client, get("/1"));
  assertEquals(c.client.available, false);
  const p3 = start(c.client, get("/3"));
  assertEquals(c.client.activeRequests, 2);
  await c.server.until((f) => f.type === T.HEADERS && f.streamId === 1);
  assertEquals(await c.server.next(100), "timeout"); // stream 3 waits
  await c.server.send(headers(1, [[":status", "200"]], { endStream: true }));
  assertEquals((await p1).status, 200);
  const h3 = await c.server.until((f) => f.type === T.HEADERS);
  assertEquals(h3.streamId, 3);
  await c.server.send(headers(3, [[":status", "201"]], { endStream: true }));
  assertEquals((await p3).status, 201);
  assert(changes >= 2);
  assertEquals(c.client.available, true);
  await done(c);
});

Deno.test("client aborting one request sends RST_STREAM CANCEL and rejects with the signal's reason", async () => {
  const c = await startClient();
  const ac = new AbortController();
  const p = start(c.client, get("/", { signal: ac.signal }));
  await c.server.until((f) => f.type === T.HEADERS);
  const reason = new Error("user gave up");
  ac.abort(reason);
  assertEquals(await p.catch((e) => e), reason);
  const r = await c.server.until((f) => f.type === T.RST_STREAM);
  assertEquals([r.streamId, readU32(r.payload)], [1, E.CANCEL]);
  assertEquals(c.client.closed, false);
  await done(c);
});

Deno.test("client aborting while reading the response body errors the body with the reason", async () => {
  const c = await startClient();
  const ac = new AbortController();
  const p = start(c.client, get("/", { signal: ac.signal }));
  await c.server.until((f) => f.type === T.HEADERS);
  await c.server.send(headers(1, [[":status", "200"]]), data(1, "part"));
  const res = await p;
  const reader = res.body!.getReader();
  assertEquals(new TextDecoder().decode((await reader.read()).value), "part");
  ac.abort(new Error("stop"));
  const err = await reader.read().then(() => null, (e) => e);
  assertEquals(err?.message, "stop");
  await done(c);
});

Deno.test("client answers PING with PING ACK", async () => {
  const c = await startClient();
  await c.server.send(ping([8, 7, 6, 5, 4, 3, 2, 1]));
  const f = await c.server.until((f) => f.type === T.PING);
  assertEquals([f.flags, [...f.payload]], [F.ACK, [8, 7, 6, 5, 4, 3, 2, 1]]);
  await done(c);
});

Deno.test("client resets a response with DATA before HEADERS with PROTOCOL_ERROR", async () => {
  const c = await startClient();
  const p = start(c.client, get());
  await c.server.until((f) => f.type === T.HEADERS);
  await c.server.send(data(1, "x"));
  const r = await c.server.until((f) => f.type === T.RST_STREAM);
  assertEquals(readU32(r.payload), E.PROTOCOL_ERROR);
  const err = await assertRejects(() => p, Http2Error) as Http2Error;
  assertEquals([err.code, err.scope], [E.PROTOCOL_ERROR, "stream"]);
  await done(c);
});

Deno.test("client resets malformed responses with PROTOCOL_ERROR", async () => {
  const cases: [string, string][][] = [
    [["x-no-status", "1"]],
    [[":status", "200"], ["Upper", "x"]],
    [[":status", "200"], ["connection", "close"]],
    [[":status", "2000"]],
    [[":status", "200"], [":path", "/"]],
  ];
  const c = await startClient();
  let id = 1;
  for (const fields of cases) {
    const p = start(c.client, get());
    await c.server.until((f) => f.type === T.HEADERS && f.streamId === id);
    await c.server.send(headers(id, fields, { endStream: true }));
    const r = await c.server.until((f) => f.type === T.RST_STREAM);
    assertEquals([r.streamId, readU32(r.payload)], [id, E.PROTOCOL_ERROR], JSON.stringify(fields));
    await assertRejects(() => p, Http2Error);
    id += 2;
  }
  await done(c);
});

Deno.test("client skips informational responses", async () => {
  const c = await startClient();
  const p = start(c.client, get());
  await c.server.until((f) => f.type === T.HEADERS);
  await c.server.send(
    headers(1, [[":status", "103"], ["link", "</a.css>"]]),
    headers(1, [[":status", "200"], ["x-final", "1"]], { endStream: true }),
  );
  const res = await p;
  assertEquals([res.status, res.headers.get("x-final")], [200, "1"]);
  await done(c);
});

Deno.test("client with a stalled response reader grants no window; reading grants it back", async () => {
  const c = await startClient();
  const p = start(c.client, get());
  await c.server.until((f) => f.type === T.HEADERS);
  const chunk = new Uint8Array(16384);
  await c.server.send(
    headers(1, [[":status", "200"]]),
    data(1, chunk),
    data(1, chunk),
    data(1, chunk),
    data(1, chunk.subarray(0, 16383)),
  );
  const res = await p;
  assertEquals(await c.server.next(200), "timeout"); // no WINDOW_UPDATE while unread
  const reader = res.body!.getReader();
  let n = 0;
  while (n < 65535) n += (await reader.read()).value!.byteLength;
  const wu = await c.server.until((f) => f.type === T.WINDOW_UPDATE);
  assert(readU32(wu.payload) >= 32768);
  // One byte beyond the window is refused.
  await c.server.send(data(1, chunk), data(1, chunk), data(1, chunk), data(1, chunk));
  const r = await c.server.until((f) => f.type === T.RST_STREAM || f.type === T.GOAWAY);
  assertEquals(
    readU32(r.type === T.GOAWAY ? r.payload.subarray(4) : r.payload),
    E.FLOW_CONTROL_ERROR,
  );
  await done(c);
});

Deno.test("client keeps a complete response when the server then resets the stream with NO_ERROR", async () => {
  const c = await startClient();
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(ctl) {
      pulls++;
      if (pulls < 1000) ctl.enqueue(new Uint8Array(1000));
      else ctl.close();
    },
  });
  const p = start(c.client, { ...get(), method: "POST", body });
  await c.server.until((f) => f.type === T.HEADERS);
  await c.server.send(
    headers(1, [[":status", "413"]]),
    data(1, "too big", { endStream: true }),
    rst(1, E.NO_ERROR),
  );
  const res = await p;
  assertEquals([res.status, await new Response(res.body).text()], [413, "too big"]);
  assert(pulls < 1000, `upload stopped (${pulls} chunks pulled)`);
  await done(c);
});

Deno.test("client sends request trailers after a streamed body", async () => {
  const c = await startClient();
  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      ctl.enqueue(new TextEncoder().encode("abc"));
      ctl.close();
    },
  });
  start(c.client, { ...get(), method: "POST", body, trailers: new Headers({ "x-sum": "6" }) })
    .catch(() => {});
  await c.server.until((f) => f.type === T.DATA);
  const t = await c.server.until((f) => f.type === T.HEADERS && f.streamId === 1);
  assertEquals([t.fields, t.flags & F.END_STREAM], [[["x-sum", "6"]], F.END_STREAM]);
  await done(c);
});

Deno.test("client respects the server's stream window for request bodies", async () => {
  const c = await startClient({}, [[S.INITIAL_WINDOW_SIZE, 1000]]);
  start(c.client, { ...get(), method: "POST", body: new Uint8Array(5000) }).catch(() => {});
  await c.server.until((f) => f.type === T.HEADERS);
  for (;;) if (await c.server.next(150) === "timeout") break;
  assertEquals(c.server.dataBytes.get(1), 1000);
  await c.server.send(windowUpdate(1, 4000));
  for (;;) if (await c.server.next(150) === "timeout") break;
  assertEquals(c.server.dataBytes.get(1), 5000);
  await done(c);
});

Deno.test("client fails in-flight requests when the connection is lost", async () => {
  const c = await startClient();
  let changes = 0;
  c.client.onStateChange = () => changes++;
  const p = start(c.client, get());
  await c.server.until((f) => f.type === T.HEADERS);
  c.server.close();
  const err = await p.catch((e) => e);
  assertInstanceOf(err, Http2Error);
  await c.client.finished;
  assertEquals(c.client.closed, true);
  assert(changes > 0);
});
