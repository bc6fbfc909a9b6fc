/**
 * The attacks of DESIGN section 5, each mounted with raw frames over a memory pair: the
 * limit holds with the documented error code, and another connection of the same server
 * (same handler, running at the same time) is untouched.
 */

import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import { HTTP2Settings } from "../../http2/settings.ts";
import {
  block,
  concat,
  continuation,
  data,
  E,
  frame,
  headers,
  ping,
  PREFACE,
  readU32,
  req,
  rst,
  settings,
  T,
  windowUpdate,
} from "./_frames.ts";
import { Http2Error } from "../../http2/errors.ts";
import {
  checkAlive,
  finish,
  type RawServer,
  startHandshaken,
  startServer,
  testHandler,
  untilAborted,
} from "./_server.ts";

/** Runs `attack` on one connection while a bystander connection stays usable. */
async function withBystander(attack: () => Promise<void>): Promise<void> {
  const bystander = await startHandshaken();
  await checkAlive(bystander.peer, 1);
  await attack();
  await checkAlive(bystander.peer, 3);
  await finish(bystander);
}

async function closedWith(s: RawServer, code: number): Promise<void> {
  await s.peer.expectGoAway(code, 5000);
  await s.h2.closed;
}

Deno.test("Rapid Reset: a burst of resets beyond 1000 is answered with GOAWAY ENHANCE_YOUR_CALM", async () => {
  await withBystander(async () => {
    const s = await startHandshaken();
    const frames: Uint8Array[] = [];
    // 1000 tokens, refilled at 33/s while the burst is processed: 1200 is well beyond.
    for (let i = 0; i < 1200; i++) {
      const id = 1 + 2 * i;
      frames.push(headers(id, req("GET", "/hold"), { endStream: true }), rst(id, E.CANCEL));
    }
    await s.peer.send(...frames);
    await closedWith(s, E.ENHANCE_YOUR_CALM);
  });
});

Deno.test("Rapid Reset: 1000 resets at once are tolerated", async () => {
  const s = await startHandshaken();
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) {
    const id = 1 + 2 * i;
    frames.push(headers(id, req("GET", "/hold"), { endStream: true }), rst(id, E.CANCEL));
  }
  await s.peer.send(...frames);
  await checkAlive(s.peer, 2001);
  await finish(s);
});

Deno.test("Rapid Reset: after the burst, resets are allowed at the configured rate", async () => {
  const s = await startHandshaken({ resetBurst: 5, resetRate: 20 });
  const reset = async (id: number) =>
    await s.peer.send(headers(id, req("GET", "/hold"), { endStream: true }), rst(id, E.CANCEL));
  for (let id = 1; id <= 9; id += 2) await reset(id); // the burst
  await new Promise((r) => setTimeout(r, 120)); // refills about 2 tokens
  await reset(11);
  await reset(13);
  await checkAlive(s.peer, 15);
  await s.peer.send(
    headers(17, req("GET", "/hold"), { endStream: true }),
    rst(17, E.CANCEL),
    headers(19, req("GET", "/hold"), { endStream: true }),
    rst(19, E.CANCEL),
  );
  await closedWith(s, E.ENHANCE_YOUR_CALM);
});

Deno.test("CONTINUATION flood: too many CONTINUATION frames is answered with GOAWAY ENHANCE_YOUR_CALM", async () => {
  await withBystander(async () => {
    const s = await startHandshaken();
    const frames = [headers(1, block(req()).subarray(0, 3), { endHeaders: false })];
    for (let i = 0; i < 100; i++) frames.push(continuation(1, new Uint8Array(0), false));
    await s.peer.send(...frames);
    await closedWith(s, E.ENHANCE_YOUR_CALM);
  });
});

Deno.test("CONTINUATION flood: a header block beyond maxHeaderBlockSize is answered with GOAWAY ENHANCE_YOUR_CALM", async () => {
  await withBystander(async () => {
    const s = await startHandshaken({ maxHeaderBlockSize: 32768 });
    const frames = [headers(1, new Uint8Array(16000), { endHeaders: false })];
    for (let i = 0; i < 3; i++) frames.push(continuation(1, new Uint8Array(16000), false));
    await s.peer.send(...frames);
    await closedWith(s, E.ENHANCE_YOUR_CALM);
  });
});

/** A block that adds a `size`-byte field to the HPACK dynamic table, then refers to it `n` times. */
function bomb(size: number, n: number): Uint8Array {
  const name = "x-bomb";
  const value = "a".repeat(size);
  const lit = [0x40, name.length, ...new TextEncoder().encode(name)];
  // value length as an HPACK integer with a 7-bit prefix
  const len: number[] = [];
  let v = size - 127;
  len.push(0x7f);
  while (v >= 128) {
    len.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  len.push(v);
  return concat(
    block(req()),
    Uint8Array.from([...lit, ...len]),
    new TextEncoder().encode(value),
    new Uint8Array(n).fill(0x80 | 62), // indexed: the newest dynamic entry
  );
}

Deno.test("HPACK bomb: a header list decoding beyond maxHeaderListSize gets 431 and the connection lives", async () => {
  await withBystander(async () => {
    const s = await startHandshaken();
    const b = bomb(4000, 40); // 200 bytes on the wire, about 164 KB decoded
    assert(b.byteLength < 4300);
    await s.peer.send(headers(1, b, { endStream: true }));
    const fields = await s.peer.response(1);
    assertEquals(fields, [[":status", "431"]]);
    assertEquals(s.streams.length, 0);
    // The HPACK context is intact: the next request decodes fine.
    await checkAlive(s.peer, 3);
    await finish(s);
  });
});

Deno.test("HPACK bomb: more fields than maxHeaderFieldCount gets 431 and the connection lives", async () => {
  const s = await startHandshaken({ maxHeaderFieldCount: 50 });
  const fields = req();
  for (let i = 0; i < 60; i++) fields.push([`x-${i}`, "1"]);
  await s.peer.send(headers(1, fields, { endStream: true }));
  assertEquals((await s.peer.response(1))[0], [":status", "431"]);
  await checkAlive(s.peer, 3);
  await finish(s);
});

/**
 * Sends `bursts` writes of 1000 frames without reading; stops when the server stops
 * reading (its buffers full, or closed) for half a second.
 */
async function floodWithoutReading(s: RawServer, make: () => Uint8Array): Promise<void> {
  let stop = false;
  const flood = (async () => {
    for (let i = 0; i < 100 && !stop; i++) {
      const burst: Uint8Array[] = [];
      for (let j = 0; j < 1000; j++) burst.push(make());
      if (!await s.peer.send(...burst).then(() => true, () => false)) return;
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([flood, new Promise((r) => (timer = setTimeout(r, 500)))]);
  clearTimeout(timer);
  stop = true;
  await closedWith(s, E.ENHANCE_YOUR_CALM);
  await flood;
}

Deno.test("PING flood: a client that sends PINGs but does not read gets GOAWAY ENHANCE_YOUR_CALM", async () => {
  await withBystander(async () => {
    const s = await startHandshaken({ maxQueuedControlFrames: 1000 });
    await floodWithoutReading(s, () => ping());
  });
});

Deno.test("SETTINGS flood: a client that sends SETTINGS but does not read gets GOAWAY ENHANCE_YOUR_CALM", async () => {
  await withBystander(async () => {
    const s = await startHandshaken({ maxQueuedControlFrames: 1000 });
    await floodWithoutReading(s, () => settings());
  });
});

Deno.test("the control-frame cap is 10000 by default: 10001 PINGs in one read trip it", async () => {
  const s = await startHandshaken();
  const burst: Uint8Array[] = [];
  for (let j = 0; j < 10001; j++) burst.push(ping());
  await s.peer.send(...burst);
  await closedWith(s, E.ENHANCE_YOUR_CALM);
});

Deno.test("empty-DATA flood: more than 100 empty DATA frames is answered with GOAWAY ENHANCE_YOUR_CALM", async () => {
  await withBystander(async () => {
    const s = await startHandshaken();
    const frames = [headers(1, req("POST", "/hold"))];
    for (let i = 0; i < 101; i++) frames.push(data(1, ""));
    await s.peer.send(...frames);
    await closedWith(s, E.ENHANCE_YOUR_CALM);
  });
});

Deno.test("empty-DATA flood: 100 empty DATA frames are tolerated", async () => {
  const s = await startHandshaken();
  const frames = [headers(1, req("POST", "/"))];
  for (let i = 0; i < 100; i++) frames.push(data(1, ""));
  frames.push(data(1, "x", { endStream: true }));
  await s.peer.send(...frames);
  assertEquals((await s.peer.response(1))[0], [":status", "200"]);
  await finish(s);
});

Deno.test("idle timeout: a connection with no streams is closed with GOAWAY NO_ERROR", async () => {
  await withBystander(async () => {
    const t0 = performance.now();
    const s = await startHandshaken({ idleTimeout: 150 });
    await checkAlive(s.peer, 1);
    await closedWith(s, E.NO_ERROR);
    const took = performance.now() - t0;
    assert(took >= 140 && took < 2000, `closed after ${took} ms`);
  });
});

Deno.test("idle timeout: an open stream keeps the connection", async () => {
  const s = await startHandshaken({ idleTimeout: 100 });
  await s.peer.send(headers(1, req("GET", "/hold"), { endStream: true }));
  assertEquals(await s.peer.next(300), "timeout");
  await s.peer.send(rst(1, E.CANCEL));
  await closedWith(s, E.NO_ERROR);
});

Deno.test("zero-window stall: a client that never grants window is closed with GOAWAY ENHANCE_YOUR_CALM", async () => {
  await withBystander(async () => {
    const s = await startHandshaken({ stallTimeout: 200 }, async (stream) => {
      await stream.respond(200);
      try {
        await stream.write(new Uint8Array(200_000));
        await stream.end();
      } catch { /* the connection was closed */ }
    });
    const t0 = performance.now();
    await s.peer.send(headers(1, req(), { endStream: true }));
    await closedWith(s, E.ENHANCE_YOUR_CALM);
    const took = performance.now() - t0;
    assert(took >= 190 && took < 2000, `closed after ${took} ms`);
    assertEquals(s.peer.dataBytes.get(1), 65535);
  });
});

Deno.test("zero-window stall: a slow but progressing reader is not cut off", async () => {
  const s = await startHandshaken({ stallTimeout: 200 }, async (stream) => {
    await stream.respond(200);
    await stream.write(new Uint8Array(100_000));
    await stream.end();
  });
  await s.peer.send(headers(1, req(), { endStream: true }));
  for (;;) {
    // Grant a little every 100 ms: slower than the data, faster than the stall limit.
    const f = await s.peer.next(100);
    if (f !== "timeout" && f !== null && f.type === T.DATA && (f.flags & 1)) break;
    if (f === "timeout") await s.peer.send(windowUpdate(1, 10000), windowUpdate(0, 10000));
  }
  assertEquals(s.peer.dataBytes.get(1), 100_000);
  await finish(s);
});

Deno.test("zero-window stall: a stream quietly waiting for its handler is not a stall", async () => {
  const s = await startHandshaken({ stallTimeout: 100 });
  await s.peer.send(headers(1, req("GET", "/hold"), { endStream: true }));
  assertEquals(await s.peer.next(400), "timeout");
  await checkAlive(s.peer, 3);
  await finish(s);
});

Deno.test("request body idle timeout: a body that stops arriving is reset with RST_STREAM CANCEL, and nothing is reported", async () => {
  await withBystander(async () => {
    const reported: unknown[] = [];
    let readError: unknown = null;
    const s = await startHandshaken(
      { bodyIdleTimeout: 200, onError: (error) => reported.push(error) },
      async (stream) => {
        if (stream.request.target !== "/upload") return await testHandler(stream);
        try {
          for await (const _ of stream.body) { /* reading */ }
        } catch (error) {
          readError = error;
          throw error; // the client's stall: not reported
        }
      },
    );
    const t0 = performance.now();
    await s.peer.send(headers(1, req("POST", "/upload")), data(1, "abc"));
    await s.peer.expectRst(1, E.CANCEL, 3000);
    const took = performance.now() - t0;
    assert(took >= 190 && took < 2000, `reset after ${took} ms`);
    assertInstanceOf(readError, Http2Error, "the handler's read of the body failed");
    assertEquals((readError as Http2Error).code, E.CANCEL);
    await checkAlive(s.peer, 3); // the connection lives on
    assertEquals(reported, []);
    await finish(s);
  });
});

Deno.test("request body idle timeout: a body that keeps arriving, however slowly, is not cut off", async () => {
  const s = await startHandshaken({ bodyIdleTimeout: 200 });
  await s.peer.send(headers(1, req("POST", "/")));
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    await s.peer.send(data(1, "x"));
  }
  await s.peer.send(data(1, "", { endStream: true }));
  const fields = await s.peer.response(1);
  assertEquals(fields.find(([n]) => n === ":status")?.[1], "200");
  assertEquals(fields.find(([n]) => n === "x-body-length")?.[1], "5");
  await finish(s);
});

Deno.test("request body idle timeout: a body its handler does not read is not the client's stall", async () => {
  const s = await startHandshaken({ bodyIdleTimeout: 100 }, async (stream) => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    await stream.respond(200, {}, { endStream: true });
  });
  await s.peer.send(headers(1, req("POST", "/")), data(1, "abc"));
  const fields = await s.peer.response(1);
  assertEquals(fields.find(([n]) => n === ":status")?.[1], "200");
  await finish(s);
});

Deno.test("request body idle timeout: a read held back by our own flow-control window is not the client's stall", async () => {
  // The handler of stream 1 never reads: its 65 535 bytes fill the connection window, so the
  // client cannot send stream 3's body however much it wants to.
  const s = await startHandshaken(
    { bodyIdleTimeout: 100, settings: new HTTP2Settings({ connectionWindowSize: 65_535 }) },
    async (stream) => {
      if (stream.request.target === "/hold") return await untilAborted(stream);
      await testHandler(stream);
    },
  );
  const fill = [16_384, 16_384, 16_384, 16_383].map((n) => data(1, new Uint8Array(n)));
  await s.peer.send(headers(1, req("POST", "/hold")), ...fill);
  await s.peer.send(headers(3, req("POST", "/")));
  assertEquals(await s.peer.next(400), "timeout");
  await s.peer.send(rst(1, E.CANCEL));
  await s.peer.until((f) => f.type === T.WINDOW_UPDATE && f.streamId === 0);
  await s.peer.send(data(3, "abc", { endStream: true }));
  const fields = await s.peer.response(3);
  assertEquals(fields.find(([n]) => n === "x-body-length")?.[1], "3");
  await finish(s);
});

Deno.test("preface timeout: no preface in time is answered with GOAWAY PROTOCOL_ERROR and close", async () => {
  await withBystander(async () => {
    const s = startServer({ prefaceTimeout: 100 });
    await closedWith(s, E.PROTOCOL_ERROR);
  });
});

Deno.test("preface timeout: a preface without SETTINGS in time is answered the same way", async () => {
  const s = startServer({ prefaceTimeout: 100 });
  await s.peer.send(PREFACE);
  await closedWith(s, E.PROTOCOL_ERROR);
});

Deno.test("maxConcurrentStreams: the 101st open stream is refused with REFUSED_STREAM", async () => {
  const s = await startHandshaken();
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 101; i++) {
    frames.push(headers(1 + 2 * i, req("GET", "/hold"), { endStream: true }));
  }
  await s.peer.send(...frames);
  await s.peer.expectRst(201, E.REFUSED_STREAM);
  assertEquals(s.h2.activeStreams, 100);
  await finish(s);
});

Deno.test("memory cap: unread request bodies never exceed maxBufferedBytes on a connection", async () => {
  await withBystander(async () => {
    const cap = 128 * 1024;
    const s = startServer(
      {
        settings: new HTTP2Settings({ initialWindowSize: 1 << 20, connectionWindowSize: 1 << 22 }),
        maxBufferedBytes: cap,
      },
      () => new Promise(() => {}), // never reads
    );
    await s.peer.handshake();
    const wu = s.peer.log.find((f) => f.type === T.WINDOW_UPDATE)!;
    assertEquals(readU32(wu.payload), cap - 65535);
    await s.peer.send(headers(1, req("POST", "/")), headers(3, req("POST", "/")));
    const chunk = new Uint8Array(16384);
    for (let i = 0; i < cap / 16384; i++) await s.peer.send(data(i % 2 ? 3 : 1, chunk));
    assertEquals(await s.peer.next(100), "timeout"); // all accepted, nothing granted
    await s.peer.send(data(1, "x"));
    await closedWith(s, E.FLOW_CONTROL_ERROR);
  });
});

Deno.test("a frame over the frame size limit is refused before its payload arrives", async () => {
  await withBystander(async () => {
    const s = await startHandshaken();
    // A header announcing 16 MiB: the connection fails on the 9 bytes alone.
    await s.peer.send(frame(T.DATA, 0, 1, new Uint8Array(0), 0xffffff));
    await closedWith(s, E.FRAME_SIZE_ERROR);
  });
});
