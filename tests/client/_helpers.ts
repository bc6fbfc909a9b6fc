/** Shared helpers of the client tests: raw-byte servers, request readers, our own server. */
import type { Conn, ServerTlsOptions } from "../../conn/types.ts";
import { listen } from "../../conn/listen.ts";
import { BufferedReader } from "../../http1/buffered_reader.ts";
import { BodyReader } from "../../http1/body_reader.ts";
import { parseRequestHead, toHeaders } from "../../http1/parse.ts";
import { serve, type ServeOptions } from "../../server/serve.ts";
import type { Server } from "../../server/server.ts";
import type { Handler } from "../../server/stream_handler.ts";
import { Client, type ClientOptions } from "../../client/client.ts";
import { ProxyConfig } from "../../client/proxy.ts";

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

/** Bytes of a string, one character to one byte. */
export function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** A string of bytes, one byte to one character. */
export function str(data: Uint8Array): string {
  let out = "";
  for (let i = 0; i < data.byteLength; i += 8192) {
    out += String.fromCharCode(...data.subarray(i, i + 8192));
  }
  return out;
}

/** What a raw server's handler gets for each accepted connection. */
export interface RawContext {
  conn: Conn;
  reader: BufferedReader;
  /** 1 for the first accepted connection, 2 for the second, ... */
  index: number;
  /** Resolves when the server is closing: handlers that stall wait for it. */
  closed: Promise<void>;
  /** Writes text (one character to one byte). */
  send(text: string): Promise<void>;
}

/** A listener whose handler writes exact bytes. */
export interface RawServer extends AsyncDisposable {
  port: number;
  /** `http://127.0.0.1:PORT` (or https://). */
  origin: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 that hands each connection to `handle`, which speaks raw
 * bytes. The connection is closed when `handle` returns or the server closes.
 */
export async function rawServer(
  handle: (ctx: RawContext) => Promise<void> | void,
  tls?: ServerTlsOptions,
): Promise<RawServer> {
  const listener = await listen({ hostname: "127.0.0.1", port: 0, tls });
  const conns = new Set<Conn>();
  const tasks = new Set<Promise<void>>();
  let accepted = 0;
  let signalClosed!: () => void;
  const closed = new Promise<void>((resolve) => (signalClosed = resolve));
  const loop = (async () => {
    for await (const conn of listener) {
      const index = ++accepted;
      conns.add(conn);
      const ctx: RawContext = {
        conn,
        reader: new BufferedReader(conn),
        index,
        closed,
        send: (text) => conn.write(bytes(text)),
      };
      const task = (async () => {
        try {
          await handle(ctx);
        } catch {
          // the client went away
        } finally {
          conn.close();
          conns.delete(conn);
        }
      })();
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();
  const server: RawServer = {
    port: listener.addr.port,
    origin: `${tls ? "https" : "http"}://127.0.0.1:${listener.addr.port}`,
    get accepted() {
      return accepted;
    },
    async close() {
      signalClosed();
      listener.close();
      for (const conn of conns) conn.close();
      await loop;
      await Promise.all([...tasks]);
    },
    [Symbol.asyncDispose]() {
      return server.close();
    },
  };
  return server;
}

/** A request as a raw server read it. */
export interface ReadRequest {
  method: string;
  target: string;
  headers: Headers;
  /** The head's field names in the order sent (lowercase). */
  order: string[];
  body: Uint8Array;
  trailers: Headers;
  /** The raw head text. */
  head: string;
}

/** Reads one request (head and whole body) off a connection; `null` if it ended first. */
export async function readRequest(reader: BufferedReader): Promise<ReadRequest | null> {
  const head = await reader.readHead(64 * 1024);
  if (head === null) return null;
  const parsed = parseRequestHead(head);
  const body = new BodyReader(reader, parsed.framing);
  const parts: Uint8Array[] = [];
  for (let p = await body.read(); p !== null; p = await body.read()) parts.push(p.slice());
  return {
    method: parsed.method,
    target: parsed.target,
    headers: toHeaders(parsed.fields),
    order: parsed.fields.filter((_, i) => i % 2 === 0),
    body: join(parts),
    trailers: toHeaders(body.trailers),
    head: str(head),
  };
}

/** Reads just a request head. */
export async function readHead(reader: BufferedReader): Promise<string | null> {
  const head = await reader.readHead(64 * 1024);
  return head === null ? null : str(head);
}

import { join } from "../_bytes.ts";
export { join };

/** Our own server on loopback, counting the connections its requests came on. */
export interface CountingServer extends AsyncDisposable {
  server: Server;
  port: number;
  origin: string;
  /** Distinct client connections seen (by remote port). */
  readonly connections: number;
  close(): Promise<void>;
}

/** Starts `serve` on 127.0.0.1 with a handler, counting distinct client connections. */
export async function countingServe(
  handler: Handler,
  options: ServeOptions = {},
): Promise<CountingServer> {
  const ports = new Set<number>();
  const server = await serve("127.0.0.1", 0, (req, info) => {
    ports.add(info.remoteAddr.port);
    return handler(req, info);
  }, { onError: () => new Response(null, { status: 500 }), ...options });
  const s: CountingServer = {
    server,
    port: server.port,
    origin: `${options.tls ? "https" : "http"}://127.0.0.1:${server.port}`,
    get connections() {
      return ports.size;
    },
    close: () => server.close(),
    [Symbol.asyncDispose]: () => server.close(),
  };
  return s;
}

/** A client with no proxy (tests must not pick one up from the environment). */
export function testClient(options: ClientOptions = {}): Client {
  return new Client({ proxy: new ProxyConfig(), ...options });
}

/** A stream of `count` chunks of `size` bytes, made as they are read. */
export function lazyStream(count: number, size: number, fill = 120): ReadableStream<Uint8Array> {
  let made = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (made++ >= count) controller.close();
      else controller.enqueue(new Uint8Array(size).fill(fill));
    },
  }, { highWaterMark: 0 });
}

/** A stream of the given pieces (strings as UTF-8). */
export function streamOf(...pieces: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i >= pieces.length) return controller.close();
      const p = pieces[i++];
      controller.enqueue(typeof p === "string" ? encoder.encode(p) : p);
    },
  }, { highWaterMark: 0 });
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
