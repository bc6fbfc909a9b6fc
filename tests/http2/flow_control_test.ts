/**
 * Flow control end to end over a memory pair: a reader that stops reading stops the sender
 * at exactly the window, window is granted back as data is read (batched), and the windows
 * configured by HTTP2Settings are the ones announced.
 */

import { assert, assertEquals } from "@std/assert";
import { HTTP2Settings } from "../../http2/settings.ts";
import type { Stream } from "../../server/stream.ts";
import {
  data,
  E,
  F,
  headers,
  parseSettings,
  type RawPeer,
  readU32,
  req,
  S,
  settings,
  T,
  windowUpdate,
} from "./_frames.ts";
import { finish, startHandshaken, startServer } from "./_server.ts";

/** A handler answering with `size` bytes in 16 KiB writes. */
function sender(size: number) {
  return async (stream: Stream) => {
    await stream.respond(200);
    const chunk = new Uint8Array(16384).fill(0x61);
    for (let sent = 0; sent < size; sent += chunk.byteLength) {
      await stream.write(sent + chunk.byteLength <= size ? chunk : chunk.subarray(0, size - sent));
    }
    await stream.end();
  };
}

/** Reads frames until none arrives for `quietMs`; returns the DATA bytes seen on `id`. */
async function dataUntilQuiet(peer: RawPeer, id: number, quietMs = 150): Promise<number> {
  const before = peer.dataBytes.get(id) ?? 0;
  for (;;) {
    const f = await peer.next(quietMs);
    if (f === "timeout" || f === null) break;
  }
  return (peer.dataBytes.get(id) ?? 0) - before;
}

Deno.test("a client that does not read stops the server's response at exactly 65535 bytes", async () => {
  const s = await startHandshaken({}, sender(1 << 20));
  await s.peer.send(headers(1, req(), { endStream: true }));
  assertEquals(await dataUntilQuiet(s.peer, 1), 65535);
  // Granting 1000 bytes on both windows lets exactly 1000 more through.
  await s.peer.send(windowUpdate(1, 1000), windowUpdate(0, 1000));
  assertEquals(await dataUntilQuiet(s.peer, 1), 1000);
  await finish(s);
});

Deno.test("the stream window the client sets in SETTINGS bounds the response", async () => {
  const s = startServer({}, sender(100000));
  await s.peer.handshake([S.INITIAL_WINDOW_SIZE, 777]);
  await s.peer.send(headers(1, req(), { endStream: true }));
  assertEquals(await dataUntilQuiet(s.peer, 1), 777);
  await finish(s);
});

Deno.test("the connection window bounds all streams together", async () => {
  const s = startServer({}, sender(100000));
  await s.peer.handshake([S.INITIAL_WINDOW_SIZE, 50000]);
  await s.peer.send(
    headers(1, req(), { endStream: true }),
    headers(3, req(), { endStream: true }),
  );
  const n1 = await dataUntilQuiet(s.peer, 1, 200);
  const n3 = s.peer.dataBytes.get(3) ?? 0;
  assertEquals(n1 + n3, 65535);
  assert(n1 > 0 && n3 > 0, `both streams progress (${n1}, ${n3})`);
  await finish(s);
});

Deno.test("a SETTINGS_INITIAL_WINDOW_SIZE decrease makes open stream windows negative", async () => {
  const s = await startHandshaken({}, sender(200000));
  await s.peer.send(headers(1, req(), { endStream: true }), windowUpdate(0, 1 << 20));
  assertEquals(await dataUntilQuiet(s.peer, 1), 65535);
  // The window of stream 1 becomes 1000 - 65535 = -64535.
  await s.peer.send(settings([S.INITIAL_WINDOW_SIZE, 1000]));
  await s.peer.send(windowUpdate(1, 64535));
  assertEquals(await dataUntilQuiet(s.peer, 1), 0);
  await s.peer.send(windowUpdate(1, 10));
  assertEquals(await dataUntilQuiet(s.peer, 1), 10);
  // An increase grows it by the difference.
  await s.peer.send(settings([S.INITIAL_WINDOW_SIZE, 3000]));
  assertEquals(await dataUntilQuiet(s.peer, 1), 2000);
  await finish(s);
});

Deno.test("the server sends frames no larger than the client's SETTINGS_MAX_FRAME_SIZE", async () => {
  const s = startServer({}, async (stream) => {
    await stream.respond(200);
    await stream.write(new Uint8Array(100000));
    await stream.end();
  });
  await s.peer.handshake([S.MAX_FRAME_SIZE, 20000], [S.INITIAL_WINDOW_SIZE, 1 << 20]);
  await s.peer.send(windowUpdate(0, 1 << 20), headers(1, req(), { endStream: true }));
  let biggest = 0;
  for (;;) {
    const f = await s.peer.until((f) => f.type === T.DATA);
    biggest = Math.max(biggest, f.payload.byteLength);
    if (f.flags & F.END_STREAM) break;
  }
  assertEquals(biggest, 20000);
  await finish(s);
});

Deno.test("a server handler that does not read stops the client at the window; reading grants it back in batches", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let total = 0;
  const s = await startHandshaken({}, async (stream) => {
    await gate;
    for await (const chunk of stream.body) total += chunk.byteLength;
    await stream.respond(200, {}, { endStream: true });
  });
  await s.peer.send(headers(1, req("POST", "/")));
  const chunk = new Uint8Array(16384);
  await s.peer.send(
    data(1, chunk),
    data(1, chunk),
    data(1, chunk),
    data(1, chunk.subarray(0, 16383)),
  );
  // Nothing read yet: no window is granted, whatever time passes.
  const early = await s.peer.next(200);
  assertEquals(early, "timeout");
  release();
  const updates: [number, number][] = [];
  while (updates.filter(([id]) => id === 1).length === 0) {
    const f = await s.peer.until((f) => f.type === T.WINDOW_UPDATE);
    updates.push([f.streamId, readU32(f.payload)]);
  }
  // Batched: each update covers at least half of the 65535-byte window.
  for (const [, inc] of updates) assert(inc >= 32768, `increment ${inc}`);
  await s.peer.send(data(1, "", { endStream: true }));
  await s.peer.response(1);
  assertEquals(total, 65535);
  await finish(s);
});

Deno.test("one byte beyond the stream window, while the handler does not read, is a FLOW_CONTROL_ERROR", async () => {
  const s = await startHandshaken(
    { settings: new HTTP2Settings({ connectionWindowSize: 1 << 20 }) },
    () => new Promise(() => {}),
  );
  await s.peer.send(headers(1, req("POST", "/")));
  const chunk = new Uint8Array(16384);
  await s.peer.send(
    data(1, chunk),
    data(1, chunk),
    data(1, chunk),
    data(1, chunk.subarray(0, 16383)),
  );
  await s.peer.send(data(1, "x"));
  await s.peer.expectRst(1, E.FLOW_CONTROL_ERROR);
  await finish(s);
});

Deno.test("larger windows from HTTP2Settings are announced in SETTINGS and a connection WINDOW_UPDATE", async () => {
  const s = startServer({
    settings: new HTTP2Settings({ initialWindowSize: 1 << 20, connectionWindowSize: 1 << 21 }),
  }, sender(0));
  const first = await s.peer.handshake();
  const values = parseSettings(first.payload);
  assertEquals(values.get(S.INITIAL_WINDOW_SIZE), 1 << 20);
  assertEquals(values.get(S.MAX_CONCURRENT_STREAMS), 100);
  const wu = s.peer.log.find((f) => f.type === T.WINDOW_UPDATE)!;
  assertEquals([wu.streamId, readU32(wu.payload)], [0, (1 << 21) - 65535]);
  await finish(s);
});

Deno.test("a client may send a whole configured 1 MiB stream window once SETTINGS are acknowledged", async () => {
  let total = 0;
  const s = startServer({
    settings: new HTTP2Settings({ initialWindowSize: 1 << 20, connectionWindowSize: 1 << 21 }),
  }, async (stream) => {
    await new Promise((r) => setTimeout(r, 50)); // let it all arrive first
    for await (const chunk of stream.body) total += chunk.byteLength;
    await stream.respond(200, {}, { endStream: true });
  });
  await s.peer.handshake();
  await s.peer.send(headers(1, req("POST", "/")));
  const chunk = new Uint8Array(16384);
  for (let i = 0; i < 64; i++) await s.peer.send(data(1, chunk, { endStream: i === 63 }));
  const fields = await s.peer.response(1);
  assertEquals(fields[0], [":status", "200"]);
  assertEquals(total, 1 << 20);
  await finish(s);
});

Deno.test("the default settings announce no window changes", async () => {
  const s = startServer({}, sender(0));
  const first = await s.peer.handshake();
  const values = parseSettings(first.payload);
  assertEquals(values.has(S.INITIAL_WINDOW_SIZE), false);
  assertEquals(values.get(S.MAX_HEADER_LIST_SIZE), 65536);
  assertEquals(await s.peer.next(100), "timeout"); // no WINDOW_UPDATE follows
  await finish(s);
});
