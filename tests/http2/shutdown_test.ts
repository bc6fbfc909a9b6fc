/**
 * Graceful shutdown as RFC 9113 section 6.8 describes it (the GOAWAY notice with
 * last-stream-id 2^31-1 and a PING, then the final GOAWAY with the last processed stream)
 * and SETTINGS_TIMEOUT (section 6.5.3), both against raw frames.
 */

import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { memoryPair } from "../../conn/memory.ts";
import { Http2ClientConnection } from "../../http2/client_connection.ts";
import { Http2Error, Http2ErrorCode } from "../../http2/errors.ts";
import { HTTP2Settings } from "../../http2/settings.ts";
import type { Stream } from "../../server/stream.ts";
import {
  E,
  F,
  headers,
  ping,
  PREFACE,
  type RawFrame,
  RawPeer,
  readU32,
  req,
  settings,
  settingsAck,
  T,
} from "./_frames.ts";
import { startHandshaken, startServer, testHandler } from "./_server.ts";

const MAX_ID = 0x7fffffff;

/** A handler whose `/gate` requests wait until `open()` is called. */
function gated(): { handler: (s: Stream) => Promise<void>; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return {
    open,
    handler: async (s: Stream) => {
      if (s.request.target !== "/gate") return testHandler(s);
      await gate;
      await s.respond(200);
      await s.write(new TextEncoder().encode("late but whole"));
      await s.end();
    },
  };
}

function goAwayOf(f: RawFrame): { last: number; code: number } {
  return { last: readU32(f.payload) & MAX_ID, code: readU32(f.payload, 4) };
}

Deno.test("shutdown: GOAWAY 2^31-1 and a PING first; streams opened before the PING ACK are processed; the final GOAWAY names the last one", async () => {
  const g = gated();
  const s = await startHandshaken({ shutdownPingTimeout: 10_000 }, g.handler);
  await s.peer.send(headers(1, req("GET", "/gate"), { endStream: true }));
  while (s.streams.length < 1) await new Promise((r) => setTimeout(r, 1));
  s.h2.shutdown();

  const notice = await s.peer.until((f) => f.type === T.GOAWAY);
  assertEquals(goAwayOf(notice), { last: MAX_ID, code: E.NO_ERROR });
  const pingFrame = await s.peer.until((f) => f.type === T.PING);
  assertEquals(pingFrame.flags & F.ACK, 0);

  // A stream the client opened before it saw the notice is still processed.
  await s.peer.send(headers(3, req("GET", "/"), { endStream: true }));
  assertEquals((await s.peer.response(3))[0], [":status", "200"]);
  await s.peer.until((f) =>
    f.type === T.DATA && f.streamId === 3 && (f.flags & F.END_STREAM) !== 0
  );
  // No final GOAWAY while the PING is unanswered (the wait is 10 s here).
  assertEquals(await s.peer.next(100), "timeout");

  await s.peer.send(ping([...pingFrame.payload], true));
  const final = await s.peer.until((f) => f.type === T.GOAWAY);
  assertEquals(goAwayOf(final), { last: 3, code: E.NO_ERROR });

  // Above the final last-stream-id: refused, never handed to the handler.
  await s.peer.send(headers(5, req("GET", "/"), { endStream: true }));
  await s.peer.expectRst(5, E.REFUSED_STREAM);
  assertEquals(s.streams.length, 2);

  // The in-flight stream finishes, then the connection closes.
  g.open();
  const rest = await s.peer.rest();
  const body = rest.filter((f) => f.type === T.DATA && f.streamId === 1);
  assertEquals(new TextDecoder().decode(body[0].payload), "late but whole");
  assert((body.at(-1)!.flags & F.END_STREAM) !== 0);
  assertEquals(rest.filter((f) => f.type === T.GOAWAY).length, 0, "only two GOAWAYs");
  await s.h2.closed;
});

Deno.test("shutdown: a PING ACK with other data does not end the notice phase", async () => {
  const s = await startHandshaken({ shutdownPingTimeout: 10_000 });
  s.h2.shutdown();
  await s.peer.until((f) => f.type === T.PING);
  await s.peer.send(ping([9, 9, 9, 9, 9, 9, 9, 9], true));
  assertEquals(await s.peer.next(150), "timeout");
  s.h2.forceClose();
  await s.h2.closed;
  s.peer.close();
});

Deno.test("shutdown: without a PING ACK the final GOAWAY follows after shutdownPingTimeout", async () => {
  const s = await startHandshaken({ shutdownPingTimeout: 200 });
  await s.peer.send(headers(1, req("GET", "/"), { endStream: true }));
  assertEquals((await s.peer.response(1))[0], [":status", "200"]);
  const t0 = performance.now();
  s.h2.shutdown();
  const notice = await s.peer.until((f) => f.type === T.GOAWAY);
  assertEquals(goAwayOf(notice).last, MAX_ID);
  const final = await s.peer.until((f) => f.type === T.GOAWAY, 3000);
  const took = performance.now() - t0;
  assertEquals(goAwayOf(final), { last: 1, code: E.NO_ERROR });
  assert(took >= 180 && took < 2000, `final GOAWAY after ${took} ms`);
  assertEquals(await s.peer.rest(), []);
  await s.h2.closed;
});

Deno.test("shutdown: shutdownPingTimeout 0 sends only the final GOAWAY", async () => {
  const s = await startHandshaken({ shutdownPingTimeout: 0 });
  await s.peer.send(headers(1, req("GET", "/"), { endStream: true }));
  await s.peer.response(1);
  s.h2.shutdown();
  const f = await s.peer.until((f) => f.type === T.GOAWAY || f.type === T.PING);
  assertEquals(f.type, T.GOAWAY);
  assertEquals(goAwayOf(f), { last: 1, code: E.NO_ERROR });
  assertEquals(await s.peer.rest(), []);
  await s.h2.closed;
});

Deno.test("shutdown: our client answers the PING, so the final GOAWAY follows at once", async () => {
  const [a, b] = memoryPair();
  const { serveHttp2 } = await import("../../http2/server_connection.ts");
  const server = serveHttp2(b, testHandler, {
    settings: new HTTP2Settings(),
    shutdownPingTimeout: 10_000,
  });
  const client = await Http2ClientConnection.connect(a, { settings: new HTTP2Settings() });
  const res = await client.request({
    method: "GET",
    url: new URL("http://example.test/"),
    headers: new Headers(),
    body: null,
  });
  await res.body!.cancel();
  const t0 = performance.now();
  server.shutdown();
  await server.closed;
  await client.finished;
  const took = performance.now() - t0;
  assert(took < 2000, `closed after ${took} ms (the PING ACK should end the wait)`);
});

Deno.test("SETTINGS_TIMEOUT: a client that never acknowledges our SETTINGS gets GOAWAY SETTINGS_TIMEOUT", async () => {
  const s = startServer({ settingsTimeout: 150 });
  const t0 = performance.now();
  await s.peer.send(PREFACE, settings());
  await s.peer.until((f) => f.type === T.SETTINGS && (f.flags & F.ACK) === 0);
  const f = await s.peer.expectGoAway(E.SETTINGS_TIMEOUT);
  const took = performance.now() - t0;
  assert(took >= 140 && took < 2000, `closed after ${took} ms`);
  assertEquals(goAwayOf(f).last, 0);
  await s.h2.closed;
});

Deno.test("SETTINGS_TIMEOUT: an acknowledged SETTINGS keeps the connection", async () => {
  const s = startServer({ settingsTimeout: 100 });
  await s.peer.handshake(); // sends the ACK
  assertEquals(await s.peer.next(300), "timeout");
  await s.peer.send(headers(1, req("GET", "/"), { endStream: true }));
  assertEquals((await s.peer.response(1))[0], [":status", "200"]);
  s.peer.close();
  await s.h2.closed;
});

Deno.test("SETTINGS_TIMEOUT: the client closes a connection whose server never acknowledges", async () => {
  const [a, b] = memoryPair();
  const client = await Http2ClientConnection.connect(a, {
    settings: new HTTP2Settings(),
    settingsTimeout: 150,
  });
  const server = new RawPeer(b);
  await server.expectPreface();
  await server.until((f) => f.type === T.SETTINGS);
  await server.send(settings()); // its own SETTINGS, but no ACK of ours
  const pending = client.request({
    method: "GET",
    url: new URL("http://example.test/"),
    headers: new Headers(),
    body: null,
  });
  pending.catch(() => {});
  await server.until((f) => f.type === T.HEADERS);
  await server.expectGoAway(E.SETTINGS_TIMEOUT);
  const err = await assertRejects(() => pending);
  assertInstanceOf(err, Http2Error);
  assertEquals((err as Http2Error).code, Http2ErrorCode.SETTINGS_TIMEOUT);
  await client.finished;
  assertEquals(client.closed, true);
});

Deno.test("SETTINGS_TIMEOUT: the client keeps a connection whose server acknowledges", async () => {
  const [a, b] = memoryPair();
  const client = await Http2ClientConnection.connect(a, {
    settings: new HTTP2Settings(),
    settingsTimeout: 100,
  });
  const server = new RawPeer(b);
  await server.expectPreface();
  await server.until((f) => f.type === T.SETTINGS);
  await server.send(settings(), settingsAck());
  await server.until((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0); // ACK of ours
  assertEquals(await server.next(300), "timeout"); // nothing more: no GOAWAY
  assertEquals(client.closed, false);
  client.close();
  server.close();
  await client.finished;
});
