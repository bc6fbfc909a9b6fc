/**
 * Test helpers: an HTTP/2 server connection over a memory pair with a raw client peer.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import type { MemoryPairOptions } from "../../conn/memory.ts";
import type { Stream } from "../../server/stream.ts";
import {
  type Http2ServerConnection,
  type Http2ServerOptions,
  serveHttp2,
} from "../../http2/server_connection.ts";
import { HTTP2Settings } from "../../http2/settings.ts";
import { data, F, headers, rawPair, type RawPeer, req, T } from "./_frames.ts";

/** Resolves once the exchange is cut off (its `info.signal` aborts). */
export function untilAborted(stream: Stream): Promise<void> {
  return new Promise<void>((resolve) => {
    const signal = stream.info.signal;
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * The default test handler: `/hold` keeps the stream open until it is aborted; anything
 * else reads the request body and answers 200 with `ok` and the body length.
 */
export async function testHandler(stream: Stream): Promise<void> {
  if (stream.request.target === "/hold") return await untilAborted(stream);
  let n = 0;
  for await (const chunk of stream.body) n += chunk.byteLength;
  await stream.respond(200, { "x-body-length": String(n) });
  await stream.write(new TextEncoder().encode("ok"));
  await stream.end();
}

/** A server connection with a raw client. */
export interface RawServer {
  peer: RawPeer;
  h2: Http2ServerConnection;
  /** Streams handed to the handler. */
  streams: Stream[];
}

/**
 * Starts a server connection over a memory pair; the raw client has done nothing yet.
 *
 * @param options Server options (settings default to `new HTTP2Settings()`).
 * @param handler The stream handler (default {@linkcode testHandler}).
 * @param pair Memory pair options.
 */
export function startServer(
  options: Partial<Http2ServerOptions> = {},
  handler: (stream: Stream) => void | Promise<void> = testHandler,
  pair?: MemoryPairOptions,
): RawServer {
  const { peer, conn } = rawPair(pair);
  const streams: Stream[] = [];
  const h2 = serveHttp2(conn, (s) => {
    streams.push(s);
    return handler(s);
  }, { settings: new HTTP2Settings(), onError: () => {}, ...options });
  return { peer, h2, streams };
}

/**
 * Starts a server connection and completes the handshake.
 *
 * @param options Server options.
 * @param handler The stream handler.
 * @param pair Memory pair options.
 */
export async function startHandshaken(
  options: Partial<Http2ServerOptions> = {},
  handler?: (stream: Stream) => void | Promise<void>,
  pair?: MemoryPairOptions,
): Promise<RawServer> {
  const s = startServer(options, handler, pair);
  await s.peer.handshake();
  return s;
}

/**
 * Sends a GET on `streamId` and checks the 200 `ok` answer arrives (the connection works).
 *
 * @param peer The raw client.
 * @param streamId A fresh odd stream id.
 */
export async function checkAlive(peer: RawPeer, streamId: number): Promise<void> {
  await peer.send(headers(streamId, req("GET", "/"), { endStream: true }));
  const fields = await peer.response(streamId);
  assertEquals(fields.find(([n]) => n === ":status")?.[1], "200");
  const body = await peer.until((f) =>
    (f.type === T.DATA && f.streamId === streamId && (f.flags & F.END_STREAM) !== 0) ||
    f.type === T.GOAWAY
  );
  assertEquals(body.type, T.DATA);
}

/** Closes the raw side and waits for the server connection to end. */
export async function finish(s: RawServer): Promise<void> {
  s.peer.close();
  await s.h2.closed;
}

export { data };
