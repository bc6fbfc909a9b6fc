/**
 * The WebSocket client: {@linkcode open} connects to a `ws://` or `wss://` URL (directly or
 * through an HTTP proxy's `CONNECT` tunnel), or runs the opening handshake over a
 * connection the caller already has, and hands back a {@linkcode WebSocket}.
 *
 * @module
 */

import type { Conn } from "../conn/types.ts";
import { connect } from "../conn/connect.ts";
import { type ConnLike, startTls, toConn } from "../conn/from.ts";
import { BufferedReader } from "../http1/buffered_reader.ts";
import { parseResponseHead, toHeaders } from "../http1/parse.ts";
import { encodeLatin1, requestHead } from "../http1/serialize.ts";
import { connectThroughProxy, ProxyConfig } from "../client/proxy.ts";
import {
  ConnectTimeoutError,
  RequestTimeoutError,
  ResponseHeaderTimeoutError,
} from "../client/errors.ts";
import { clientRequestHeaders, generateKey, validateResponse } from "./handshake.ts";
import type { DeflateOptions } from "./permessage_deflate.ts";
import { WebSocket } from "./websocket.ts";

/**
 * The server answered the opening handshake with something other than
 * `101 Switching Protocols`.
 *
 * @example
 * ```ts
 * import { WebSocketHandshakeError } from "./open.ts";
 *
 * const error = new WebSocketHandshakeError(403, "Forbidden", new Headers(), "no");
 * console.log(error.status, error.body); // 403 "no"
 * ```
 */
export class WebSocketHandshakeError extends Error {
  /** The response status. */
  readonly status: number;
  /** The reason phrase. */
  readonly statusText: string;
  /** The response headers. */
  readonly headers: Headers;
  /** The response body as text, when it was small (at most 64 KiB) and delimited; else `""`. */
  readonly body: string;

  /**
   * Creates the error.
   *
   * @param status The response status.
   * @param statusText The reason phrase.
   * @param headers The response headers.
   * @param body The response body text (or `""`).
   */
  constructor(status: number, statusText: string, headers: Headers, body: string = "") {
    super(
      `WebSocket handshake refused: ${status} ${statusText}`.trimEnd() +
        (body ? `: ${body.slice(0, 200)}` : ""),
    );
    this.name = "WebSocketHandshakeError";
    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
    this.body = body;
  }
}

/** Options of the handshake and the WebSocket, for a URL and a caller-supplied connection alike. */
export interface HandshakeOptions {
  /** Offer permessage-deflate (`true` for the defaults, or its options). Default `false`. */
  compress?: boolean | DeflateOptions;
  /** Extra header fields for the upgrade request (`Origin`, `Authorization`, ...). */
  headers?: HeadersInit;
  /** Subprotocols to offer, most preferred first. */
  subprotocols?: string[];
  /** The largest message accepted, in bytes, also after inflating (default 16 MiB). */
  maxFrameSize?: number;
  /** The most frames one message may come in (default 1024). */
  maxFragmentation?: number;
  /** Milliseconds the whole handshake may take, from the start (default 0: off); `RequestTimeoutError`. */
  requestTimeout?: number;
  /** Milliseconds from the request written to the response head read (default 0: off); `ResponseHeaderTimeoutError`. */
  responseHeaderTimeout?: number;
  /** Give up the open WebSocket when nothing arrives for this long, in ms (default 0: off). */
  readIdleTimeout?: number;
  /** Give up the open WebSocket when a write stalls this long, in ms (default 0: off). */
  writeIdleTimeout?: number;
  /** How long `close()` waits for the peer's close frame, in ms (default 5000). */
  closeTimeout?: number;
  /** Abandons the handshake when aborted (the WebSocket, once open, is not affected). */
  signal?: AbortSignal;
}

/** Options of {@linkcode open} with a `ws://` or `wss://` URL. */
export interface OpenOptions extends HandshakeOptions {
  /** Which proxy to use (default `ProxyConfig.fromEnv()`; `new ProxyConfig()` for none). */
  proxy?: ProxyConfig;
  /** Milliseconds connecting may take: TCP, a proxy's `CONNECT`, TLS (default 30 000); `ConnectTimeoutError`. */
  connectTimeout?: number;
  /** PEM certificates to trust for `wss://` (and an https:// proxy). */
  caCerts?: string[];
}

/** Options of {@linkcode open} over a caller-supplied connection. */
export interface OpenConnOptions extends HandshakeOptions {
  /** The request target (default `"/"`). */
  target?: string;
  /** The `Host` header (default: the connection's remote address, else `"localhost"`). */
  host?: string;
}

/** What a caller may pass as a connection: a `Deno.Conn`, a Node socket, a stream pair, a `Conn`. */
export type OpenableConn = ConnLike;

/** The function {@linkcode open} runs with the open WebSocket. */
export type WebSocketFunction<T> = (ws: WebSocket) => T | Promise<T>;

/** One abort signal for the handshake's timers and the caller's signal. */
class Phases {
  readonly controller: AbortController = new AbortController();
  #timers: ReturnType<typeof setTimeout>[] = [];
  #user: AbortSignal | undefined;
  #onUser = () => this.controller.abort(this.#user!.reason);
  conn: Conn | null = null;

  constructor(user: AbortSignal | undefined, requestTimeout: number) {
    this.#user = user;
    if (user?.aborted) this.controller.abort(user.reason);
    else user?.addEventListener("abort", this.#onUser, { once: true });
    this.controller.signal.addEventListener("abort", () => this.conn?.close(), { once: true });
    if (requestTimeout > 0) {
      this.timer(requestTimeout, () => new RequestTimeoutError(requestTimeout));
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Aborts with `error()` after `ms`; returns a function that stops this timer. */
  timer(ms: number, error: () => Error): () => void {
    const t = setTimeout(() => this.controller.abort(error()), ms);
    this.#timers.push(t);
    return () => clearTimeout(t);
  }

  /** Resolves `promise`, or rejects with the abort reason as soon as the signal aborts. */
  race<T>(promise: Promise<T>, onLate?: (value: T) => void): Promise<T> {
    const signal = this.signal;
    if (signal.aborted) {
      promise.then((v) => onLate?.(v), () => {});
      return Promise.reject(signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        promise.then((v) => onLate?.(v), () => {});
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      promise.then((v) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) {
          onLate?.(v);
          reject(signal.reason);
        } else resolve(v);
      }, (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(signal.aborted ? signal.reason : e);
      });
    });
  }

  dispose(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#user?.removeEventListener("abort", this.#onUser);
    this.conn = null;
  }
}

function defaultPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === "wss:" || url.protocol === "https:" ? 443 : 80;
}

function bare(hostname: string): string {
  return hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
}

/** Reads a small delimited body for the error message; `""` if it is not small or not there in time. */
async function smallBody(reader: BufferedReader, headers: Headers): Promise<string> {
  const length = Number(headers.get("content-length") ?? "NaN");
  if (!Number.isInteger(length) || length <= 0 || length > 64 * 1024) return "";
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < length) {
    const piece = await reader.read(length - got);
    if (piece === null) break;
    parts.push(piece);
    got += piece.length;
  }
  const all = new Uint8Array(got);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return new TextDecoder().decode(all);
}

/** The opening handshake over `conn`; returns the WebSocket. */
async function handshake(
  conn: Conn,
  target: string,
  host: string,
  options: HandshakeOptions,
  phases: Phases,
  ownsConn: boolean,
): Promise<WebSocket> {
  const key = generateKey();
  const protocols = options.subprotocols ?? [];
  const offered = options.compress ? (options.compress === true ? {} : options.compress) : null;
  const headers = new Headers(options.headers);
  if (!headers.has("host")) headers.set("host", host);
  for (const [name, value] of clientRequestHeaders(key, { protocols, deflate: offered })) {
    headers.set(name, value);
  }
  await phases.race(conn.write(encodeLatin1(requestHead("GET", target, headers))));
  const rht = options.responseHeaderTimeout ?? 0;
  const stop = rht > 0 ? phases.timer(rht, () => new ResponseHeaderTimeoutError(rht)) : () => {};
  const reader = new BufferedReader(conn);
  let parsed;
  while (true) {
    const head = await phases.race(reader.readHead(64 * 1024));
    if (head === null) {
      throw new Error("the server closed the connection during the WebSocket handshake");
    }
    parsed = parseResponseHead(head);
    if (parsed.status >= 100 && parsed.status < 200 && parsed.status !== 101) continue;
    break;
  }
  stop();
  const responseHeaders = toHeaders(parsed.fields);
  if (parsed.status !== 101) {
    const body = await phases.race(smallBody(reader, responseHeaders)).catch(() => "");
    throw new WebSocketHandshakeError(parsed.status, parsed.statusText, responseHeaders, body);
  }
  const agreed = await validateResponse(101, responseHeaders, key, protocols, offered);
  phases.signal.throwIfAborted();
  return new WebSocket(conn, {
    role: "client",
    head: reader.takeBuffered(),
    protocol: agreed.protocol,
    extensions: agreed.extensions,
    deflate: agreed.deflate,
    compressThreshold: offered?.threshold,
    maxFrameSize: options.maxFrameSize ?? 16 * 1024 * 1024,
    maxFragmentation: options.maxFragmentation ?? 1024,
    readIdleTimeout: options.readIdleTimeout,
    writeIdleTimeout: options.writeIdleTimeout,
    closeTimeout: options.closeTimeout,
    ownsConn,
  });
}

async function connectUrl(url: URL, options: OpenOptions, phases: Phases): Promise<Conn> {
  const secure = url.protocol === "wss:";
  const hostname = bare(url.hostname);
  const port = defaultPort(url);
  const connectTimeout = options.connectTimeout ?? 30_000;
  const stop = connectTimeout > 0
    ? phases.timer(connectTimeout, () => new ConnectTimeoutError(connectTimeout))
    : () => {};
  const proxy = (options.proxy ?? ProxyConfig.fromEnv()).proxyFor(url);
  const late = (c: Conn) => c.close();
  let conn: Conn;
  if (proxy !== null) {
    conn = await phases.race(
      connectThroughProxy(hostname, port, proxy, {
        signal: phases.signal,
        caCerts: options.caCerts,
      }),
      late,
    );
    phases.conn = conn;
    if (secure) {
      conn = await phases.race(
        startTls(conn, { hostname, caCerts: options.caCerts, alpnProtocols: ["http/1.1"] }),
        late,
      );
    }
  } else {
    conn = await phases.race(
      connect({
        hostname,
        port,
        tls: secure ? { caCerts: options.caCerts, alpnProtocols: ["http/1.1"] } : undefined,
        signal: phases.signal,
      }),
      late,
    );
  }
  phases.conn = conn;
  stop();
  return conn;
}

async function runWith<T>(ws: WebSocket, f: WebSocketFunction<T>): Promise<T> {
  try {
    return await f(ws);
  } finally {
    await ws.close().catch(() => {});
  }
}

/**
 * Opens a WebSocket to a `ws://` or `wss://` URL and runs `f` with it; the socket is
 * closed when `f` is done (or throws), and `f`'s result is returned.
 *
 * @param url The `ws://` or `wss://` URL.
 * @param f What to do with the open WebSocket.
 * @param options Proxy, compression, headers, subprotocols, limits, timeouts, TLS.
 * @returns What `f` returned.
 * @throws {WebSocketHandshakeError} When the server answers other than 101.
 * @throws {ConnectTimeoutError} / {RequestTimeoutError} / {ResponseHeaderTimeoutError} When a handshake timeout fires.
 *
 * @example
 * ```ts ignore
 * import { open } from "./open.ts";
 *
 * const reply = await open("ws://127.0.0.1:8080/echo", async (ws) => {
 *   await ws.send("hello");
 *   return await ws.receive();
 * }, { compress: true });
 * ```
 */
export function open<T>(
  url: string | URL,
  f: WebSocketFunction<T>,
  options?: OpenOptions,
): Promise<T>;
/**
 * Opens a WebSocket to a `ws://` or `wss://` URL and returns it; close it when done.
 *
 * @param url The `ws://` or `wss://` URL.
 * @param options Proxy, compression, headers, subprotocols, limits, timeouts, TLS.
 * @returns The open WebSocket.
 *
 * @example
 * ```ts ignore
 * import { open } from "./open.ts";
 *
 * await using ws = await open("wss://example.com/socket");
 * await ws.send("hi");
 * ```
 */
export function open(url: string | URL, options?: OpenOptions): Promise<WebSocket>;
/**
 * Runs the opening handshake over a connection the caller already has (a `Deno.Conn`, a
 * TLS connection, a Node socket, a stream pair or a `Conn`) and runs `f` with the
 * WebSocket. The connection is never closed here, also when the handshake fails: once the
 * WebSocket is closed it is simply no longer used. Close it then rather than reuse it: a read
 * of ours may still be waiting on it (a `Deno.Conn`'s read cannot be withdrawn), and bytes
 * that arrive later would go to that read.
 *
 * @param conn The connection.
 * @param f What to do with the open WebSocket.
 * @param options The request target and `Host`, compression, headers, limits, timeouts.
 * @returns What `f` returned.
 *
 * @example
 * ```ts ignore
 * import { open } from "./open.ts";
 *
 * const tcp = await Deno.connect({ hostname: "127.0.0.1", port: 8080 });
 * await open(tcp, (ws) => ws.send("hi"), { target: "/echo", host: "example.com" });
 * tcp.close(); // ours to close
 * ```
 */
export function open<T>(
  conn: OpenableConn,
  f: WebSocketFunction<T>,
  options?: OpenConnOptions,
): Promise<T>;
/**
 * Runs the opening handshake over a connection the caller already has and returns the
 * WebSocket. The connection is never closed here; close it once the WebSocket is closed or
 * the handshake failed, rather than reuse it (see the overload with `f`).
 *
 * @param conn The connection.
 * @param options The request target and `Host`, compression, headers, limits, timeouts.
 * @returns The open WebSocket.
 */
export function open(conn: OpenableConn, options?: OpenConnOptions): Promise<WebSocket>;
export async function open<T>(
  where: string | URL | OpenableConn,
  f?: WebSocketFunction<T> | OpenOptions | OpenConnOptions,
  options?: OpenOptions | OpenConnOptions,
): Promise<T | WebSocket> {
  let fn: WebSocketFunction<T> | undefined;
  if (typeof f === "function") fn = f;
  else if (f !== undefined) options = f;
  const opts = options ?? {};
  const phases = new Phases(opts.signal, opts.requestTimeout ?? 0);
  let ws: WebSocket;
  try {
    if (typeof where === "string" || where instanceof URL) {
      const url = new URL(where);
      if (url.protocol === "http:") url.protocol = "ws:";
      if (url.protocol === "https:") url.protocol = "wss:";
      if (url.protocol !== "ws:" && url.protocol !== "wss:") {
        throw new TypeError(`not a ws:// or wss:// URL: ${url.href}`);
      }
      const conn = await connectUrl(url, opts as OpenOptions, phases);
      try {
        ws = await handshake(conn, url.pathname + url.search, url.host, opts, phases, true);
      } catch (error) {
        conn.close();
        throw error;
      }
    } else {
      const o = opts as OpenConnOptions;
      const conn = await phases.race(toConn(where));
      const remote = conn.remoteAddr;
      const host = o.host ??
        (remote.transport === "tcp" && remote.hostname
          ? (remote.hostname.includes(":") ? `[${remote.hostname}]` : remote.hostname) +
            `:${remote.port}`
          : "localhost");
      // The caller's connection is never closed: aborts only stop waiting for it.
      ws = await handshake(conn, o.target ?? "/", host, o, phases, false);
    }
  } catch (error) {
    throw phases.signal.aborted ? phases.signal.reason : error;
  } finally {
    phases.dispose();
  }
  return fn ? await runWith(ws, fn) : ws;
}
