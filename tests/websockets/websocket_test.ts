/**
 * The WebSocket over an in-memory connection: a client and a server talking to each other,
 * and each of them against a raw peer that writes and reads frames by hand.
 */
import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import zlib from "node:zlib";
import { memoryPair } from "../../conn/memory.ts";
import type { Conn } from "../../conn/types.ts";
import { WebSocket, type WebSocketOptions } from "../../websockets/websocket.ts";
import {
  WebSocketError,
  WebSocketReadIdleTimeoutError,
  WebSocketWriteIdleTimeoutError,
} from "../../websockets/errors.ts";
import type { DeflateParams } from "../../websockets/permessage_deflate.ts";
import {
  cat,
  clientFrame,
  deadline,
  hex,
  rawFrame,
  RawReader,
  rss,
  toHex,
  utf8,
} from "./_helpers.ts";

const DEFLATE: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

function pair(
  options: {
    client?: Partial<WebSocketOptions>;
    server?: Partial<WebSocketOptions>;
    highWaterMark?: number;
  } = {},
) {
  const [a, b] = memoryPair({ highWaterMark: options.highWaterMark });
  const client = new WebSocket(a, { role: "client", ...options.client });
  const server = new WebSocket(b, { role: "server", ...options.server });
  return { client, server };
}

/** A WebSocket of `role` facing a raw peer. */
function raw(
  role: "client" | "server",
  options: Partial<WebSocketOptions> = {},
  highWaterMark?: number,
) {
  const [a, b] = memoryPair({ highWaterMark });
  const ws = new WebSocket(a, { role, ...options });
  return { ws, peer: b, reader: new RawReader(b) };
}

/** A fragmented message's source: "a" and "b", then "c" once `release()` is called. */
function gatedFragments(): { source: AsyncIterable<string>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  async function* slow() {
    yield "a";
    yield "b";
    await gate;
    yield "c";
  }
  return { source: slow(), release: () => release() };
}

async function closeCodeOf(p: Promise<unknown>): Promise<number> {
  const err = await assertRejects(() => p, WebSocketError);
  return err.code;
}

/** Closes `ws` with a peer that answers by ending the connection. */
async function shutdown(ws: WebSocket, peer: Conn): Promise<void> {
  const closing = ws.close();
  peer.close();
  await closing;
}

function echo(ws: WebSocket): Promise<void> {
  return (async () => {
    for await (const m of ws) await ws.send(m);
  })();
}

// ---------------------------------------------------------------------------------------
// Messages

Deno.test("the replies to the messages of one read leave in one write", async () => {
  const [a, b] = memoryPair();
  let writes = 0;
  const counted: Conn = Object.assign(Object.create(a), {
    write(bytes: Uint8Array) {
      writes++;
      return a.write(bytes);
    },
  });
  const ws = new WebSocket(counted, { role: "server" });
  const echoing = echo(ws);
  await b.write(
    cat(clientFrame(0x81, "one"), clientFrame(0x81, "two"), clientFrame(0x81, "three")),
  );
  const reader = new RawReader(b);
  const replies = [await reader.frame(), await reader.frame(), await reader.frame()];
  assertEquals(replies.map((f) => new TextDecoder().decode(f.payload)), ["one", "two", "three"]);
  assertEquals(writes, 1, "not the first reply alone, then the others");
  await b.write(clientFrame(0x88, hex("03 e8"))); // close 1000: the echo loop ends quietly
  await echoing;
  await ws.close();
  b.close();
});

Deno.test("a client and a server echo text and binary messages", async () => {
  const { client, server } = pair();
  const echoing = echo(server);
  const messages: (string | Uint8Array)[] = [
    "hello",
    "",
    "€𝄞".repeat(10000),
    new Uint8Array([0, 1, 255]),
    new Uint8Array(0),
    new Uint8Array(200_000).map((_, i) => i & 255),
  ];
  for (const m of messages) {
    await client.send(m);
    assertEquals(await client.receive(), m);
  }
  await client.send(new Uint8Array([1, 2, 3]).buffer);
  assertEquals(await client.receive(), new Uint8Array([1, 2, 3]));
  await client.send(new Uint16Array([0x0201]));
  assertEquals(await client.receive(), new Uint8Array([1, 2]));
  await client.close();
  await echoing;
  assertEquals([client.closeCode, server.closeCode], [1000, 1000]);
});

Deno.test("many messages in flight arrive in order (reading pauses when nobody receives)", async () => {
  const { client, server } = pair();
  const sends = Array.from({ length: 2000 }, (_, i) => client.send(`m${i}`));
  await Promise.all(sends);
  for (let i = 0; i < 2000; i++) assertEquals(await server.receive(), `m${i}`);
  await client.close();
});

Deno.test("an iterable is sent as one message in fragments, received whole", async () => {
  const { ws, peer, reader } = raw("server");
  await ws.send(["Hel", "lo"]);
  assertEquals(await reader.frame(), {
    fin: false,
    rsv1: false,
    opcode: 1,
    masked: false,
    payload: utf8("Hel"),
  });
  assertEquals(await reader.frame(), {
    fin: true,
    rsv1: false,
    opcode: 0,
    masked: false,
    payload: utf8("lo"),
  });
  const { client, server } = pair();
  async function* parts() {
    yield new Uint8Array([1]);
    await new Promise((r) => setTimeout(r, 5));
    yield new Uint8Array([2, 3]);
  }
  await client.send(parts());
  assertEquals(await server.receive(), new Uint8Array([1, 2, 3]));
  await client.send(["a", "b", "c"]);
  assertEquals(await server.receive(), "abc");
  await client.close();
  await shutdown(ws, peer);
});

Deno.test("a pong goes out between the fragments of a slow message", async () => {
  const { ws, peer, reader } = raw("server");
  const { source, release } = gatedFragments();
  const sending = ws.send(source);
  assertEquals((await reader.frame()).payload, utf8("a"));
  await peer.write(clientFrame(0x89, "p"));
  assertEquals(await reader.frame(), {
    fin: true,
    rsv1: false,
    opcode: 0xa,
    masked: false,
    payload: utf8("p"),
  });
  release();
  await sending;
  assertEquals((await reader.frame()).payload, utf8("b"));
  assertEquals((await reader.frame()).payload, utf8("c"));
  await shutdown(ws, peer);
});

Deno.test("a fragmented message whose source fails midway fails the connection with 1011", async () => {
  const { ws, reader } = raw("server", { closeTimeout: 50 });
  async function* failing() {
    yield "a";
    yield "b";
    throw new Error("source broke");
  }
  await assertRejects(() => ws.send(failing()), Error, "source broke");
  assertEquals((await reader.frame()).opcode, 0x1, "each fragment goes out as it comes");
  assertEquals((await reader.frame()).opcode, 0x0);
  const close = await reader.frame();
  assertEquals([close.opcode, (close.payload[0] << 8) | close.payload[1]], [0x8, 1011]);
  await ws.closed;
  assertEquals(ws.closeCode, 1011);
});

Deno.test("head bytes are parsed before anything read from the connection", async () => {
  const [a, b] = memoryPair();
  const ws = new WebSocket(a, { role: "client", head: rawFrame(0x81, utf8("first")) });
  await b.write(rawFrame(0x81, utf8("second")));
  assertEquals(await ws.receive(), "first");
  assertEquals(await ws.receive(), "second");
  await shutdown(ws, b);
});

// ---------------------------------------------------------------------------------------
// Ping and pong

Deno.test("ping resolves on its pong, and pings are answered automatically", async () => {
  const { client, server } = pair();
  await client.ping();
  await server.ping("hello");
  await client.ping(new Uint8Array([1, 2, 3]));
  await Promise.all([client.ping("a"), client.ping("b"), server.ping()]);
  await assertRejects(() => client.ping(new Uint8Array(126)), RangeError);
  await client.close();
});

Deno.test("a pong answers its ping and the pings sent before it", async () => {
  const { ws, peer, reader } = raw("client");
  const first = ws.ping("1");
  const second = ws.ping("2");
  await reader.frame();
  await reader.frame();
  await peer.write(rawFrame(0x8a, utf8("unsolicited")));
  await peer.write(rawFrame(0x8a, utf8("2")));
  await Promise.all([first, second]);
  ws.close();
  await peer.write(rawFrame(0x88, hex("03 e8")));
  peer.close();
  await ws.closed;
});

Deno.test("the automatic pong echoes the ping's payload", async () => {
  const { ws, peer, reader } = raw("server");
  await peer.write(clientFrame(0x89, "echo me"));
  assertEquals(await reader.frame(), {
    fin: true,
    rsv1: false,
    opcode: 0xa,
    masked: false,
    payload: utf8("echo me"),
  });
  await shutdown(ws, peer);
});

// ---------------------------------------------------------------------------------------
// The closing handshake

Deno.test("a client-initiated close: both ends see 1000 and the server ends the connection", async () => {
  const { client, server } = pair();
  const serverSide = server.receive();
  const closing = client.close(1000, "bye");
  assertEquals(client.isReady, false);
  assertEquals(await closeCodeOf(serverSide), 1000);
  await closing;
  await server.closed;
  assertEquals([client.closeCode, server.closeCode, server.closeReason], [1000, 1000, "bye"]);
});

Deno.test("a server answers a close frame with the same code and then closes the connection", async () => {
  // A long closeTimeout: the connection must end at once, not when it runs out.
  const { ws, peer, reader } = raw("server", { closeTimeout: 60_000 });
  await peer.write(clientFrame(0x88, cat(hex("0f a0"), utf8("done")))); // 4000
  const echoed = await reader.frame();
  assertEquals(toHex(echoed.payload), "0f a0");
  const limit = deadline(1000, "the server did not end the connection");
  assert(await Promise.race([reader.ended(), limit.promise]), "the server closed the connection");
  limit.cancel();
  await ws.closed;
  assertEquals([ws.closeCode, ws.closeReason], [4000, "done"]);
});

Deno.test("a server-initiated close: the client echoes and waits for the server to close the connection", async () => {
  const { ws, peer, reader } = raw("client");
  await peer.write(rawFrame(0x88, hex("03 e9"))); // 1001
  const echoed = await reader.frame();
  assert(echoed.masked);
  assertEquals([echoed.opcode, toHex(echoed.payload)], [0x8, "03 e9"]);
  let closed = false;
  ws.closed.then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 30));
  assert(!closed, "the client waits for the server to end the connection");
  peer.close();
  await ws.closed;
  assertEquals(ws.closeCode, 1001);
});

Deno.test("a client ends the connection itself when the server does not within closeTimeout", async () => {
  const { ws, peer, reader } = raw("client", { closeTimeout: 40 });
  await peer.write(rawFrame(0x88, hex("03 e8")));
  await reader.frame();
  const t = Date.now();
  await ws.closed;
  assert(Date.now() - t >= 30);
  assert(await reader.ended());
  assertEquals(ws.closeCode, 1000);
});

Deno.test("close waits closeTimeout for the peer's close frame, then reports 1006", async () => {
  const { ws, reader } = raw("server", { closeTimeout: 40 });
  await ws.close(4001, "going");
  const sent = await reader.frame();
  assertEquals(toHex(sent.payload), "0f a1 67 6f 69 6e 67");
  assertEquals(ws.closeCode, 1006);
  assert(await reader.ended());
});

Deno.test("an empty close frame is answered with an empty one and reported as 1005", async () => {
  const { ws, peer, reader } = raw("server");
  await peer.write(clientFrame(0x88, new Uint8Array(0)));
  assertEquals((await reader.frame()).payload, new Uint8Array(0));
  await ws.closed;
  assertEquals(ws.closeCode, 1005);
  assertEquals(await closeCodeOf(ws.receive()), 1005);
});

Deno.test("the close frame still goes out when the peer ends its side right after a ping and its close", async () => {
  // The pong goes out at once; the close frame written in the same turn waits for the end of
  // it (the write batcher), and the peer's end of the connection arrives before that.
  const cases: [Uint8Array, number][] = [
    [clientFrame(0x88, hex("03 e8")), 1000], // the close echoed
    [clientFrame(0x81, hex("ff")), 1007], // the connection failed
  ];
  for (const [last, code] of cases) {
    const { ws, peer, reader } = raw("server", { closeTimeout: 60_000 });
    await peer.write(cat(clientFrame(0x89, "p"), last));
    await peer.closeWrite();
    const pong = await reader.frame();
    const close = await reader.frame();
    assertEquals([pong.opcode, close.opcode, (close.payload[0] << 8) | close.payload[1]], [
      0xa,
      0x8,
      code,
    ]);
    assert(await reader.ended());
    await ws.closed;
    assertEquals(ws.closeCode, code);
  }
});

Deno.test("receive() rejects with the close code after close, 1000 included", async () => {
  const { client, server } = pair();
  await client.close();
  assertEquals(await closeCodeOf(client.receive()), 1000);
  assertEquals(await closeCodeOf(server.receive()), 1000);
  assertEquals(await closeCodeOf(client.send("late")), 1000);
  assertEquals(await closeCodeOf(client.ping()), 1000);
});

Deno.test("breaking out of a for await leaves the WebSocket open; the next loop goes on with the next message", async () => {
  const { client, server } = pair();
  for (const m of ["a", "b", "c"]) await client.send(m);
  for await (const m of server) {
    assertEquals(m, "a");
    break;
  }
  assert(server.isReady);
  assertEquals(await server.receive(), "b");
  const iterator = server[Symbol.asyncIterator]();
  assertEquals(await iterator.next(), { done: false, value: "c" });
  assertEquals(await iterator.return!(), { done: true, value: undefined });
  assertEquals(await iterator.next(), { done: true, value: undefined }, "done stays done");
  await client.close();
  await server.closed;
});

Deno.test("for await ends quietly on 1000, 1001 and 1005 and throws on other codes", async () => {
  for (const code of [1000, 1001, 1005, 1011, 4000]) {
    const { ws, peer } = raw("server");
    const got: unknown[] = [];
    const loop = (async () => {
      for await (const m of ws) got.push(m);
    })();
    await peer.write(clientFrame(0x81, "one"));
    const payload = code === 1005 ? new Uint8Array(0) : new Uint8Array([code >> 8, code & 255]);
    await peer.write(clientFrame(0x88, payload));
    if (code === 1000 || code === 1001 || code === 1005) {
      await loop;
    } else {
      const err = await assertRejects(() => loop, WebSocketError);
      assertEquals(err.code, code);
    }
    assertEquals(got, ["one"]);
    await ws.closed;
    peer.close();
  }
});

Deno.test("close() rejects a code or reason that cannot be sent", async () => {
  const { client } = pair();
  for (const code of [999, 1005, 1006, 1015, 2000, 5000]) {
    await assertRejects(() => client.close(code), RangeError);
  }
  await assertRejects(() => client.close(1000, "x".repeat(124)), RangeError);
  assert(client.isReady);
  await client.close(1000, "x".repeat(123));
});

Deno.test("await using closes the WebSocket", async () => {
  const { client, server } = pair();
  {
    await using ws = client;
    await ws.send("hi");
  }
  assertEquals(await server.receive(), "hi");
  await server.closed;
  assertEquals(client.closeCode, 1000);
});

Deno.test("with ownsConn false the connection is left open", async () => {
  const [a, b] = memoryPair();
  const client = new WebSocket(a, { role: "client", ownsConn: false });
  const server = new WebSocket(b, { role: "server", ownsConn: false });
  await client.close();
  await server.closed;
  // Both connections still work.
  await a.write(new Uint8Array([1]));
  await b.write(new Uint8Array([2]));
  assertEquals(await b.read(), new Uint8Array([1]));
  assertEquals(await a.read(), new Uint8Array([2]));
  a.close();
  b.close();
});

// ---------------------------------------------------------------------------------------
// Failures

Deno.test("a connection lost without a close frame is 1006", async () => {
  const { ws, peer } = raw("server");
  const pending = ws.receive();
  peer.close();
  assertEquals(await closeCodeOf(pending), 1006);
  await ws.closed;
  assertEquals(ws.closeCode, 1006);
  // An abrupt end in the middle of a frame.
  const [a, b] = memoryPair();
  const ws2 = new WebSocket(a, { role: "client" });
  await b.write(hex("81 05 48 65"));
  b.close();
  assertEquals(await closeCodeOf(ws2.receive()), 1006);
});

Deno.test("a protocol error sends a close frame with its code, then the connection ends", async () => {
  const cases: [Uint8Array, number][] = [
    [rawFrame(0x81, utf8("unmasked")), 1002],
    [clientFrame(0x81, hex("ff")), 1007],
    [clientFrame(0x82, new Uint8Array(200)), 1009],
    [clientFrame(0xc1, utf8("rsv1")), 1002],
  ];
  for (const [bytes, code] of cases) {
    const { ws, peer, reader } = raw("server", { maxFrameSize: 100 });
    const pending = ws.receive();
    await peer.write(bytes);
    const close = await reader.frame();
    assertEquals([close.opcode, (close.payload[0] << 8) | close.payload[1]], [0x8, code]);
    assert(await reader.ended(), "the server half-closed after the close frame");
    assertEquals(await closeCodeOf(pending), code);
    peer.close();
    await ws.closed;
    assertEquals(ws.closeCode, code);
  }
});

Deno.test("readIdleTimeout gives up when nothing arrives, with a WebSocketReadIdleTimeoutError", async () => {
  const { ws, peer } = raw("client", { readIdleTimeout: 200 });
  // Traffic keeps it alive: 6 gaps of 60 ms outlast the 200 ms timeout only if each read
  // re-arms it (with margin for slow timers on a loaded machine).
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 60));
    await peer.write(rawFrame(0x81, utf8(`${i}`)));
  }
  for (let i = 0; i < 6; i++) assertEquals(await ws.receive(), `${i}`);
  const err = await assertRejects(() => ws.receive(), WebSocketReadIdleTimeoutError);
  assertEquals([err.timeout, err.code], ["readIdle", 1006]);
  assertEquals(ws.closeCode, 1006);
  peer.close();
});

Deno.test("writeIdleTimeout gives up when a write makes no progress", async () => {
  const { ws, peer } = raw("server", { writeIdleTimeout: 40 }, 1024);
  const sending = ws.send(new Uint8Array(100_000)); // nobody reads: the write stalls
  const err = await assertRejects(() => sending, WebSocketError);
  assertEquals(err.code, 1006);
  await ws.closed;
  const timeout = await assertRejects(() => ws.receive(), WebSocketWriteIdleTimeoutError);
  assertEquals(timeout.timeout, "writeIdle");
  peer.close();
});

// ---------------------------------------------------------------------------------------
// Compression

Deno.test("bytes sent behind a message still being compressed go out as they were at the send", async () => {
  const { client, server } = pair({ client: { deflate: DEFLATE }, server: { deflate: DEFLATE } });
  const first = new Uint8Array(30_000).map((_, i) => i % 7); // compressed asynchronously
  const second = new Uint8Array(2000).fill(1);
  const sending = client.send(first);
  await client.send(second); // resolves at once: little waits for the connection
  second.fill(2); // the caller may reuse its buffer now
  await sending;
  assertEquals(await server.receive(), first);
  assertEquals(await server.receive(), new Uint8Array(2000).fill(1));
  await Promise.all([client.close(), server.receive().catch(() => {}), server.closed]);
});

Deno.test("compressed messages round-trip between two WebSockets, context taken over", async () => {
  const { client, server } = pair({ client: { deflate: DEFLATE }, server: { deflate: DEFLATE } });
  assertEquals([client.extensions, server.extensions], [
    "permessage-deflate",
    "permessage-deflate",
  ]);
  const echoing = echo(server);
  const json = JSON.stringify({
    items: Array.from({ length: 200 }, (_, i) => ({ i, name: `item ${i}` })),
  });
  for (const m of [json, json, "small", utf8(json), new Uint8Array(300_000), "€".repeat(70_000)]) {
    await client.send(m);
    assertEquals(await client.receive(), m);
  }
  await client.send([json.slice(0, 3000), json.slice(3000)]);
  assertEquals(await client.receive(), json);
  await client.close();
  await echoing;
});

Deno.test("compressed frames are smaller on the wire, and the threshold leaves small messages alone", async () => {
  const { ws, peer, reader } = raw("client", { deflate: DEFLATE, compressThreshold: 100 });
  await ws.send("a".repeat(99));
  await ws.send("a".repeat(5000));
  await ws.send(new Uint8Array(50));
  await ws.send(new Uint8Array(5000));
  const frames = [
    await reader.frame(),
    await reader.frame(),
    await reader.frame(),
    await reader.frame(),
  ];
  assertEquals(frames.map((f) => f.rsv1), [false, true, false, true]);
  assertEquals(frames[0].payload.length, 99);
  assert(frames[1].payload.length < 100, `${frames[1].payload.length} bytes for 5000`);
  const inflated = zlib.inflateRawSync(cat(frames[1].payload, hex("00 00 ff ff")), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  assertEquals(new TextDecoder().decode(inflated), "a".repeat(5000));
  ws.close();
  await peer.write(rawFrame(0x88, hex("03 e8")));
  peer.close();
  await ws.closed;
});

Deno.test("a client reads a context-takeover stream from a ws-like server", async () => {
  const { ws, peer } = raw("client", { deflate: DEFLATE });
  const deflate = zlib.createDeflateRaw();
  const out: Uint8Array[] = [];
  deflate.on("data", (c: Uint8Array) => out.push(c));
  const messages = ["Hello", "Hello", "Hello, world ".repeat(100), "Hello"];
  for (const m of messages) {
    deflate.write(utf8(m));
    await new Promise<void>((r) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
    const payload = cat(...out.splice(0)).subarray(0, -4);
    // Fragment the larger ones in two frames.
    if (payload.length > 10) {
      const half = payload.length >> 1;
      await peer.write(
        cat(rawFrame(0x41, payload.subarray(0, half)), rawFrame(0x80, payload.subarray(half))),
      );
    } else {
      await peer.write(rawFrame(0xc1, payload));
    }
  }
  deflate.close();
  for (const m of messages) assertEquals(await ws.receive(), m);
  ws.close();
  await peer.write(rawFrame(0x88, hex("03 e8")));
  peer.close();
  await ws.closed;
});

Deno.test("compressed messages that arrived before the connection ended are all delivered", async () => {
  const compress = (m: string) =>
    zlib.deflateRawSync(utf8(m), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
  // Two compressed messages in one read: the second is inflated after the first, and the
  // end of the connection read meanwhile must wait for it.
  for (const close of [null, rawFrame(0x88, hex("03 e8"))]) {
    const { ws, peer } = raw("client", { deflate: DEFLATE });
    const frames = [rawFrame(0xc1, compress("one")), rawFrame(0xc1, compress("two"))];
    await peer.write(cat(...frames, ...(close ? [close] : [])));
    await peer.closeWrite();
    const got: unknown[] = [];
    const ending = (async () => {
      for await (const m of ws) got.push(m);
    })();
    if (close) await ending;
    else assertEquals((await assertRejects(() => ending, WebSocketError)).code, 1006);
    assertEquals(got, ["one", "two"]);
    assertEquals(ws.closeCode, close ? 1000 : 1006);
    await ws.closed;
  }
});

Deno.test("a 1 GiB decompression bomb streamed over the connection ends in 1009 with memory bounded", async () => {
  const { ws, peer, reader } = raw("client", { deflate: DEFLATE, closeTimeout: 1000 });
  const segment = zlib.deflateRawSync(new Uint8Array(1 << 20), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  // 1024 segments of 1 MiB of zeros each: one message of 1 GiB, about 1 MiB compressed,
  // sent as 16 frames written in pieces.
  const payload = cat(...Array.from({ length: 1024 }, () => segment)).subarray(0, -4);
  const before = rss();
  const pending = ws.receive();
  const limit = deadline(20_000, "the bomb was not stopped");
  const frameSize = Math.ceil(payload.length / 16);
  const writing = (async () => {
    for (let i = 0; i < 16; i++) {
      const part = payload.subarray(i * frameSize, (i + 1) * frameSize);
      const b0 = (i === 15 ? 0x80 : 0) | (i === 0 ? 0x40 | 0x2 : 0);
      const bytes = rawFrame(b0, part);
      for (let off = 0; off < bytes.length; off += 16 * 1024) {
        await peer.write(bytes.subarray(off, off + 16 * 1024));
      }
    }
  })();
  const code = await Promise.race([closeCodeOf(pending), limit.promise]);
  limit.cancel();
  assertEquals(code, 1009);
  await writing;
  const close = await reader.frame();
  assertEquals([close.opcode, (close.payload[0] << 8) | close.payload[1]], [0x8, 1009]);
  peer.close();
  await ws.closed;
  assertEquals(ws.closeCode, 1009);
  const grown = (rss() - before) / (1 << 20);
  assert(grown < 200, `memory grew by ${grown.toFixed(0)} MiB`);
});

Deno.test("a compressed message over maxFrameSize once inflated fails with 1009", async () => {
  const { client, server } = pair({
    client: { deflate: DEFLATE },
    server: { deflate: DEFLATE, maxFrameSize: 10_000 },
  });
  await client.send("a".repeat(10_000));
  assertEquals(await server.receive(), "a".repeat(10_000));
  await client.send("a".repeat(10_001)); // about 40 bytes on the wire
  assertEquals(await closeCodeOf(server.receive()), 1009);
  assertEquals(await closeCodeOf(client.receive()), 1009);
  await Promise.all([client.closed, server.closed]);
});

Deno.test("bufferedAmount counts what is not yet handed to the connection", async () => {
  const { ws, peer } = raw("server", { sendHighWaterMark: 0 }, 1024);
  const sending = ws.send(new Uint8Array(10_000));
  assertEquals(ws.bufferedAmount, 10_004, "the frame: payload and 4 bytes of header");
  await new Promise((r) => setTimeout(r, 10));
  assertEquals(ws.bufferedAmount, 10_004, "still waiting for the peer to read");
  await peer.read();
  await sending;
  assertEquals(ws.bufferedAmount, 0);
  peer.close();
  await ws.closed;
});

Deno.test("a WebSocket over a connection that fails a read reports 1006 with the cause", async () => {
  const [a] = memoryPair();
  const failing: Conn = Object.assign(Object.create(Object.getPrototypeOf(a)), a, {
    read: () => Promise.reject(new Error("reset by peer")),
    write: (d: Uint8Array) => a.write(d),
    close: () => a.close(),
    closeWrite: () => a.closeWrite(),
  });
  const ws = new WebSocket(failing, { role: "client" });
  const err = await assertRejects(() => ws.receive(), WebSocketError);
  assertEquals(err.code, 1006);
  assertInstanceOf(err.cause, Error);
  assert(err.message.includes("reset by peer"));
});

Deno.test("readable and writable streams carry messages and close the WebSocket", async () => {
  const { client, server } = pair();
  const got: unknown[] = [];
  const reading = server.readable.pipeTo(new WritableStream({ write: (m) => void got.push(m) }));
  const writer = client.writable.getWriter();
  await writer.write("one");
  await writer.write(new Uint8Array([2]));
  await writer.write(["th", "ree"]);
  await writer.close();
  await reading; // ends quietly on 1000
  assertEquals(got, ["one", new Uint8Array([2]), "three"]);
  assertEquals([client.closeCode, server.closeCode], [1000, 1000]);
});

Deno.test("the readable stream errors on a close code other than 1000, 1001 and 1005", async () => {
  const { client, server } = pair();
  const reader = server.readable.getReader();
  await client.close(4002, "app");
  const err = await assertRejects(() => reader.read(), WebSocketError);
  assertEquals(err.code, 4002);
  const { client: c2, server: s2 } = pair();
  await c2.readable.cancel();
  await s2.closed;
  assertEquals(s2.closeCode, 1000);
});

Deno.test("close() completes while unread messages have paused reading", async () => {
  const { client, server } = pair({ client: { closeTimeout: 60_000 } });
  for (let i = 0; i < 500; i++) await server.send(`m${i}`); // never received by the client
  await new Promise((r) => setTimeout(r, 20));
  const limit = deadline(2000, "the close frame was not read");
  await Promise.race([client.close(), limit.promise]);
  limit.cancel();
  assertEquals(client.closeCode, 1000);
  assertEquals(await client.receive(), "m0", "messages received before the close are kept");
});

Deno.test("send resolves at once below sendHighWaterMark and waits for the connection above it", async () => {
  const { ws, peer } = raw("server", { sendHighWaterMark: 100 }, 16);
  let small = false;
  ws.send(new Uint8Array(10)).then(() => (small = true));
  await Promise.resolve();
  assert(small, "10 bytes waiting: resolved at once");
  let big = false;
  const sending = ws.send(new Uint8Array(1000)).then(() => (big = true));
  await new Promise((r) => setTimeout(r, 10));
  assert(!big, "over the mark: waits until the peer reads");
  while (!big) {
    await peer.read();
    await new Promise((r) => setTimeout(r, 0));
  }
  await sending;
  peer.close();
  await ws.closed;
});

Deno.test("a big binary send waits for the connection even under sendHighWaterMark, as its bytes are not copied", async () => {
  const { ws, peer } = raw("server", { sendHighWaterMark: 1 << 20 }, 16);
  const payload = new Uint8Array(100_000).fill(1);
  let done = false;
  const sending = ws.send(payload).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 10));
  assert(!done, "the connection still holds the caller's bytes");
  const reader = new RawReader(peer);
  const frame = await reader.frame();
  await sending;
  payload.fill(2); // now the caller's again
  assertEquals(frame.payload, new Uint8Array(100_000).fill(1));
  peer.close();
  await ws.closed;
});

Deno.test("a fragmented send cut off by the peer's close frame ends normally, not with 1011", async () => {
  const { ws, peer, reader } = raw("server");
  const { source, release } = gatedFragments();
  const sending = ws.send(source);
  assertEquals((await reader.frame()).payload, utf8("a"));
  assertEquals((await reader.frame()).payload, utf8("b"));
  await peer.write(clientFrame(0x88, hex("03 e8")));
  const echoed = await reader.frame();
  assertEquals([echoed.opcode, toHex(echoed.payload)], [0x8, "03 e8"]);
  release();
  await assertRejects(() => sending, WebSocketError);
  await ws.closed;
  assertEquals(ws.closeCode, 1000);
});
