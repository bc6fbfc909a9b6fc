/**
 * The vectored DATA path: over a connection with `writev()`, large DATA payloads are written
 * from the caller's buffer (no copy), small ones are copied, the bytes on the wire are the
 * same, and a `write()` resolves only once its referenced bytes are written (so the caller
 * may reuse its buffer then).
 */

import { assert, assertEquals } from "@std/assert";
import { memoryPair } from "../../conn/memory.ts";
import type { Conn } from "../../conn/types.ts";
import { Http2ClientConnection } from "../../http2/client_connection.ts";
import { serveHttp2 } from "../../http2/server_connection.ts";
import { HTTP2Settings } from "../../http2/settings.ts";
import type { Stream } from "../../server/stream.ts";
import { data, F, headers, RawPeer, req, rst, T } from "./_frames.ts";
import { testHandler } from "./_server.ts";

/** A memory conn with a `writev()` that records its chunks and can be held back. */
class VectoredConn implements Conn {
  readonly calls: Uint8Array[][] = [];
  hold: Promise<void> | null = null;
  constructor(readonly inner: Conn) {}
  get localAddr() {
    return this.inner.localAddr;
  }
  get remoteAddr() {
    return this.inner.remoteAddr;
  }
  get alpnProtocol() {
    return this.inner.alpnProtocol;
  }
  get secure() {
    return this.inner.secure;
  }
  read() {
    return this.inner.read();
  }
  write(b: Uint8Array) {
    return this.inner.write(b.slice());
  }
  async writev(chunks: readonly Uint8Array[]): Promise<void> {
    this.calls.push([...chunks]);
    if (this.hold) await this.hold;
    const total = chunks.reduce((n, c) => n + c.byteLength, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    await this.inner.write(out);
  }
  closeWrite() {
    return this.inner.closeWrite();
  }
  close() {
    this.inner.close();
  }
  setNoDelay() {}
}

function pattern(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 7 + seed) % 251);
}

Deno.test("vectored: a 1 MiB response and upload arrive intact; large payloads go by reference", async () => {
  const [a, b] = memoryPair();
  const serverConn = new VectoredConn(b);
  const clientConn = new VectoredConn(a);
  const body = pattern(1 << 20, 3);
  const upload = pattern(300_000, 5);
  let uploaded = new Uint8Array(0);
  const server = serveHttp2(serverConn, async (s: Stream) => {
    uploaded = new Uint8Array(await new Response(s.body).arrayBuffer());
    await s.respond(200);
    await s.write(body);
    await s.write(new TextEncoder().encode("tail")); // small: copied
    await s.end();
  }, {
    settings: new HTTP2Settings({ initialWindowSize: 1 << 20, connectionWindowSize: 1 << 21 }),
  });
  const client = await Http2ClientConnection.connect(clientConn, {
    settings: new HTTP2Settings({ initialWindowSize: 1 << 20, connectionWindowSize: 1 << 21 }),
  });
  const res = await client.request({
    method: "POST",
    url: new URL("http://example.test/"),
    headers: new Headers(),
    body: upload,
  });
  const got = new Uint8Array(await new Response(res.body).arrayBuffer());
  assertEquals(got.byteLength, body.byteLength + 4);
  assertEquals(got.subarray(0, body.byteLength), body);
  assertEquals(new TextDecoder().decode(got.subarray(body.byteLength)), "tail");
  assertEquals(uploaded, upload);
  // The server's payload pieces are views of `body` itself, not copies.
  const refs = serverConn.calls.flat().filter((c) => c.buffer === body.buffer);
  assertEquals(refs.reduce((n, c) => n + c.byteLength, 0), body.byteLength);
  assert(clientConn.calls.flat().some((c) => c.buffer === upload.buffer));
  client.close();
  await server.closed;
});

Deno.test("vectored: write() resolves only once its referenced bytes are written", async () => {
  const [a, b] = memoryPair();
  const conn = new VectoredConn(b);
  let release!: () => void;
  let written = false;
  let writeDone = false;
  const s = serveHttp2(conn, async (stream: Stream) => {
    await stream.respond(200);
    conn.hold = new Promise<void>((r) => (release = r));
    const p = stream.write(pattern(60 * 1024, 1)).then(() => (writeDone = true));
    await new Promise((r) => setTimeout(r, 50));
    assertEquals(conn.calls.length > 0, true);
    assertEquals(writeDone, false, "resolved while its bytes were still in the transport");
    written = true;
    release();
    await p;
    await stream.end();
  }, { settings: new HTTP2Settings() });
  const peer = new RawPeer(a);
  await peer.handshake();
  await peer.send(headers(1, req("GET", "/"), { endStream: true }));
  const end = await peer.until((f) => f.type === T.DATA && (f.flags & F.END_STREAM) !== 0);
  assertEquals(written, true);
  assertEquals(writeDone, true);
  assertEquals(end.streamId, 1);
  assertEquals(peer.dataBytes.get(1), 60 * 1024);
  peer.close();
  await s.closed;
});

Deno.test("vectored: small responses are copied and keep END_STREAM on their DATA frame", async () => {
  const [a, b] = memoryPair();
  const conn = new VectoredConn(b);
  const h2 = serveHttp2(conn, testHandler, { settings: new HTTP2Settings() });
  const peer = new RawPeer(a);
  await peer.handshake();
  await peer.send(headers(1, req("POST", "/")), data(1, "abc", { endStream: true }));
  const f = await peer.until((f) => f.type === T.DATA && f.streamId === 1);
  assertEquals(new TextDecoder().decode(f.payload), "ok");
  assert((f.flags & F.END_STREAM) !== 0, "END_STREAM set on the one DATA frame");
  assertEquals(conn.calls.length, 0, "no payload was referenced, so no writev()");
  peer.close();
  await h2.closed;
});

Deno.test("vectored: a stream reset mid-write settles its write only once the referenced bytes are written", async () => {
  const [a, b] = memoryPair();
  const conn = new VectoredConn(b);
  let release!: () => void;
  let released = false;
  let settled: string | null = null;
  let writing!: Promise<void>;
  let markStarted!: () => void;
  const started = new Promise<void>((r) => (markStarted = r));
  const s = serveHttp2(conn, async (stream: Stream) => {
    await stream.respond(200);
    conn.hold = new Promise<void>((r) => (release = r));
    writing = stream.write(pattern(60 * 1024, 2)).then(
      () => void (settled = "resolved"),
      () => void (settled = released ? "rejected after the write" : "rejected early"),
    );
    markStarted();
    await writing;
  }, { settings: new HTTP2Settings() });
  const peer = new RawPeer(a);
  await peer.handshake();
  await peer.send(headers(1, req("GET", "/"), { endStream: true }));
  await started;
  await new Promise((r) => setTimeout(r, 20));
  assert(conn.calls.length > 0, "the payload is in the transport");
  await peer.send(rst(1, 0x8 /* CANCEL */));
  await new Promise((r) => setTimeout(r, 50));
  assertEquals(settled, null, "settled while the transport still held the caller's bytes");
  released = true;
  release();
  await writing;
  // Its bytes all reached the transport before the reset took effect: handed over, it resolves.
  assertEquals(settled, "resolved");
  peer.close();
  await s.closed;
});

Deno.test("vectored: a write whose bytes are stuck in the transport fails when the connection is force-closed", async () => {
  const [a, b] = memoryPair();
  const conn = new VectoredConn(b);
  conn.hold = new Promise<void>(() => {}); // the transport never finishes
  let settle!: (how: string) => void;
  const outcome = new Promise<string>((r) => (settle = r));
  const s = serveHttp2(conn, async (stream: Stream) => {
    await stream.respond(200);
    await stream.write(pattern(60 * 1024, 3)).then(
      () => settle("resolved"),
      () => settle("rejected"),
    );
  }, { settings: new HTTP2Settings() });
  const peer = new RawPeer(a);
  await peer.handshake();
  await peer.send(headers(1, req("GET", "/"), { endStream: true }));
  while (conn.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
  s.forceClose();
  assertEquals(await outcome, "rejected");
  peer.close();
  await s.closed;
});
