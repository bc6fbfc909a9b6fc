import type { Addr, Conn, Listener, ServerTlsOptions } from "../conn/types.ts";
import { listen as listenConn } from "../conn/listen.ts";
import { BufferedReader } from "../http1/buffered_reader.ts";
import { type H1Config, type H1ConnState, serveHttp1 } from "./_h1_connection.ts";
import { type Deadline, Deadlines } from "./_deadlines.ts";
import { setRef } from "../client/_ref.ts";
import type { StreamHandler } from "./stream_handler.ts";
import { HTTP2Settings } from "../http2/settings.ts";
import {
  type Http2ServerConnection,
  type Http2ServerOptions,
  serveHttp2,
} from "../http2/server_connection.ts";

/** The HTTP/2 attack limits and timeouts a server can tune (see `Http2ServerOptions`). */
export type Http2Limits = Omit<
  Http2ServerOptions,
  "settings" | "signal" | "prefaceRead" | "onError" | "bodyIdleTimeout"
>;

/** Options of `listen` and `serve`: where to listen, TLS, limits and timeouts. */
export interface ServerOptions {
  /** If the port is taken, try the next ones (up to 100); with port 0 the system picks one. Default `false`. */
  listenAny?: boolean;
  /** Serve TLS with this certificate and key; ALPN offers `h2` and `http/1.1` unless `tls.alpnProtocols` says otherwise. */
  tls?: ServerTlsOptions;
  /** Let several processes bind the same port (Linux `SO_REUSEPORT`). Default `false`. */
  reusePort?: boolean;
  /** Aborting it closes the server gracefully, as `close()` does. */
  signal?: AbortSignal;
  /** The largest request head (request line and header fields) in bytes; larger ones get 431. Default 64 KiB. */
  maxHeadSize?: number;
  /** The most header fields in a request; more get 431. Default 100. */
  maxHeaderCount?: number;
  /** Milliseconds a client has to send a whole request head; a late one gets 408. Default 30 000. */
  headTimeout?: number;
  /** Milliseconds an idle keep-alive connection is kept open waiting for the next request. Default 5 000. */
  keepAliveTimeout?: number;
  /**
   * Milliseconds a request body may go without a byte while it is read, so that a client
   * that stops sending mid-body cannot hold a handler for ever. HTTP/1.1 (the handler reads,
   * or the server drops what the handler left): the connection is closed. HTTP/2 (the
   * handler waits for DATA the flow-control windows allow): the stream is reset with
   * RST_STREAM(CANCEL), the connection lives on. Either way the body's reader gets an error
   * and nothing is reported. `0` turns it off. Default 30 000.
   */
  bodyIdleTimeout?: number;
  /**
   * Milliseconds HTTP/1.1 response writes may wait without one completing, so that a client
   * that takes no bytes (a slow-read attack) cannot hold its exchange and buffers for ever:
   * the connection is closed, `info.signal` aborts, and nothing is reported. Writes of more
   * than 1 MiB go out in pieces, each completion counting as progress. `0` turns it off.
   * Default 60 000. (HTTP/2 has `http2Limits.stallTimeout`.)
   */
  writeIdleTimeout?: number;
  /** Unread request body bytes the server reads and drops to keep a connection alive after an early response. Default 64 KiB. */
  maxDiscardBytes?: number;
  /**
   * Called with every error the server handles on its own (a handler's throw, a failed
   * connection). Default: `console.error`. The client's faults are answered, not reported: a
   * bad head, and a handler's throw of what its request body failed with (over HTTP/1.1 a
   * 400, and the connection closes; over HTTP/2 the stream was reset already).
   */
  onError?: (error: unknown) => void;
  /** Called once the server listens. */
  onListen?: (addr: Addr) => void;
  /** Serve connections from this listener instead of binding one (e.g. a unix socket listener). */
  listener?: Listener;
  /**
   * HTTP/2 settings: flow-control windows, `maxConcurrentStreams` (default 100), frame and
   * header limits. Default `new HTTP2Settings()` (the protocol's 65 535-byte windows).
   */
  http2Settings?: HTTP2Settings;
  /** HTTP/2 attack limits and timeouts (Rapid Reset, CONTINUATION and control-frame floods, idle and preface timeouts). */
  http2Limits?: Http2Limits;
  /**
   * Whether to speak HTTP/2: by ALPN over TLS, and on cleartext when a connection starts
   * with the prior-knowledge preface. Default `true`.
   */
  http2?: boolean;
}

const PREFACE = "PRI * HTTP/2.0\r\n";

/** Something a server closes when it shuts down: an upgraded connection, say. */
export interface ServerResource {
  /** Closes gracefully. */
  close(): void | Promise<void>;
  /** Closes at once. */
  forceClose(): void;
}

/** The state of one connection the server serves. */
interface Tracked {
  conn: Conn;
  h1: H1ConnState;
  h2: Http2ServerConnection | null;
}

/**
 * A running server, from `serve` or `listen`. `close()` stops it gracefully (requests in
 * flight finish, idle connections close), `forceClose()` at once; `await using` closes it.
 *
 * @example
 * ```ts
 * import { serve } from "./mod.ts";
 *
 * await using server = await serve("127.0.0.1", 0, () => new Response("hi"));
 * console.log(server.addr.port > 0); // true
 * ```
 */
export class Server implements AsyncDisposable {
  /** The bound address. */
  readonly addr: Addr;
  /** Resolves when the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
  #listener: Listener;
  #handler: StreamHandler;
  #options: ServerOptions;
  #conns = new Map<Conn, Tracked>();
  #resources = new Set<ServerResource>();
  #tasks = new Set<Promise<void>>();
  #deadlines: Deadlines;
  /** What every HTTP/1.1 connection is served with: the limits with their defaults resolved. */
  #h1: H1Config;
  #closing = false;
  /** Whether the server keeps the process alive (see `unref`). */
  #ref = true;
  #resolveFinished!: () => void;

  /** @internal Use `listen` or `serve`. */
  constructor(listener: Listener, handler: StreamHandler, options: ServerOptions) {
    this.addr = listener.addr;
    this.#listener = listener;
    this.#handler = handler;
    this.#options = options;
    const headTimeout = options.headTimeout ?? 30_000;
    const keepAliveTimeout = options.keepAliveTimeout ?? 5_000;
    const bodyIdleTimeout = options.bodyIdleTimeout ?? 30_000;
    const writeIdleTimeout = options.writeIdleTimeout ?? 60_000;
    const shortest = Math.min(
      headTimeout,
      keepAliveTimeout,
      bodyIdleTimeout || Infinity,
      writeIdleTimeout || Infinity,
    );
    this.#deadlines = new Deadlines(Math.max(10, Math.min(1000, Math.floor(shortest / 4))));
    this.#h1 = {
      maxHeadSize: options.maxHeadSize ?? 64 * 1024,
      maxHeaderCount: options.maxHeaderCount ?? 100,
      headTimeout,
      keepAliveTimeout,
      bodyIdleTimeout,
      writeIdleTimeout,
      maxDiscardBytes: options.maxDiscardBytes ?? 64 * 1024,
      deadlines: this.#deadlines,
      closing: () => this.#closing,
      report: (error) => this.#report(error),
      owner: this,
    };
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
    this.#acceptLoop();
  }

  /** The bound port. */
  get port(): number {
    return this.addr.port;
  }

  /** The bound host name or address. */
  get hostname(): string {
    return this.addr.hostname;
  }

  /** Whether the server is shutting down. */
  get closing(): boolean {
    return this.#closing;
  }

  async #acceptLoop(): Promise<void> {
    for await (const conn of this.#listener) {
      if (this.#closing) {
        conn.close();
        continue;
      }
      this.#run(this.#serveConn(conn));
    }
  }

  #run(task: Promise<void>): void {
    this.#tasks.add(task);
    task.catch((error) => this.#report(error)).finally(() => {
      this.#tasks.delete(task);
      this.#maybeFinished();
    });
  }

  #report(error: unknown): void {
    (this.#options.onError ?? console.error)(error);
  }

  /** The one place a connection is handed to HTTP/1.1 or HTTP/2. */
  async #serveConn(conn: Conn): Promise<void> {
    const tracked: Tracked = { conn, h1: { idle: true, current: null }, h2: null };
    this.#conns.set(conn, tracked);
    if (!this.#ref) setRef(conn, false);
    const reader = new BufferedReader(conn, { push: true });
    const options = this.#options;
    try {
      let h2 = conn.alpnProtocol === "h2";
      if (!h2 && options.http2 !== false) {
        // Sniff for the HTTP/2 prior-knowledge preface before choosing HTTP/1.1.
        const sniff: Deadline = { at: 0, queued: false, expire: () => conn.close() };
        this.#deadlines.arm(sniff, this.#h1.headTimeout);
        try {
          while (reader.buffered < PREFACE.length && startsLikePreface(reader.peek())) {
            if (!(await reader.fill())) break;
          }
        } finally {
          this.#deadlines.disarm(sniff);
        }
        h2 = reader.buffered >= PREFACE.length && startsLikePreface(reader.peek());
      }
      if (h2) {
        tracked.h2 = serveHttp2(conn, this.#handler, {
          ...options.http2Limits,
          bodyIdleTimeout: this.#h1.bodyIdleTimeout,
          settings: options.http2Settings ?? new HTTP2Settings(),
          prefaceRead: reader.takeBuffered(),
          onError: (error) => this.#report(error),
        });
        if (this.#closing) tracked.h2.shutdown();
        if (!this.#ref) tracked.h2.unref();
        return await tracked.h2.closed;
      }
      await serveHttp1(conn, reader, this.#handler, this.#h1, tracked.h1);
    } catch (error) {
      conn.close();
      if (!this.#closing) throw error;
    } finally {
      this.#conns.delete(conn);
    }
  }

  /**
   * Registers something the server must close when it shuts down (an upgraded connection's
   * protocol, say). Returns a function that unregisters it.
   */
  track(resource: ServerResource): () => void {
    this.#resources.add(resource);
    return () => {
      this.#resources.delete(resource);
      this.#maybeFinished();
    };
  }

  #maybeFinished(): void {
    if (this.#closing && this.#tasks.size === 0 && this.#resources.size === 0) {
      this.#deadlines.stop();
      this.#resolveFinished();
    }
  }

  /**
   * Stops accepting connections, lets requests in flight finish, closes idle connections,
   * and resolves when everything is closed.
   */
  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#listener.close();
      for (const { conn, h1, h2 } of this.#conns.values()) {
        if (h2) h2.shutdown();
        else if (h1.idle) conn.close();
      }
      for (const resource of this.#resources) {
        Promise.resolve(resource.close()).catch((error) => this.#report(error));
      }
      this.#maybeFinished();
    }
    await this.finished;
  }

  /** Stops accepting and closes every connection at once. */
  async forceClose(): Promise<void> {
    this.#closing = true;
    this.#listener.close();
    for (const { conn, h1, h2 } of this.#conns.values()) {
      h1.current?.controller.abort(new Error("server closed"));
      h2?.forceClose();
      conn.close();
    }
    for (const resource of this.#resources) resource.forceClose();
    this.#resources.clear();
    this.#maybeFinished();
    await this.finished;
  }

  /** The same as {@linkcode close}, under `Deno.HttpServer`'s name. */
  shutdown(): Promise<void> {
    return this.close();
  }

  /**
   * Lets the process exit while the server waits for connections and requests, as
   * `Deno.HttpServer.unref()` does: the listener, the open connections and their timers no
   * longer keep it alive (a handler's own work still does). Connections accepted later
   * start unref'd too.
   */
  unref(): void {
    this.#setRef(false);
  }

  /** Undoes {@linkcode unref}: the server keeps the process alive again (the default). */
  ref(): void {
    this.#setRef(true);
  }

  #setRef(ref: boolean): void {
    this.#ref = ref;
    if (ref) this.#listener.ref?.();
    else this.#listener.unref?.();
    for (const { conn, h2 } of this.#conns.values()) {
      setRef(conn, ref);
      if (ref) h2?.ref();
      else h2?.unref();
    }
  }

  /** Closes the server gracefully. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function startsLikePreface(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.byteLength && i < PREFACE.length; i++) {
    if (bytes[i] !== PREFACE.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Binds the listener a server needs: the given one, or a new one on `hostname:port`
 * (trying the next ports with `listenAny`).
 */
export async function bindListener(
  hostname: string,
  port: number,
  options: ServerOptions,
): Promise<Listener> {
  if (options.listener) return options.listener;
  const alpn = options.http2 === false ? ["http/1.1"] : ["h2", "http/1.1"];
  const tls = options.tls
    ? { ...options.tls, alpnProtocols: options.tls.alpnProtocols ?? alpn }
    : undefined;
  const attempts = options.listenAny && port !== 0 ? 100 : 1;
  for (let i = 0;; i++) {
    try {
      return await listenConn({ hostname, port: port + i, tls, reusePort: options.reusePort });
    } catch (error) {
      const inUse = (error as { code?: string }).code === "EADDRINUSE" ||
        (error as Error).name === "AddrInUse";
      if (!inUse || i + 1 >= attempts) throw error;
    }
  }
}

/**
 * Listens on `hostname:port` and serves every request with a low-level
 * {@linkcode StreamHandler}, which gets the request head and body and writes the response
 * itself (`streamHandler` turns a `Request => Response` handler into one).
 *
 * @param hostname Address to bind, e.g. `"127.0.0.1"` or `"0.0.0.0"`.
 * @param port Port to bind; 0 lets the system pick.
 * @param handler Handles each exchange.
 * @param options TLS, limits, timeouts, shutdown signal.
 * @returns The running server.
 *
 * @example
 * ```ts
 * import { listen } from "./mod.ts";
 *
 * const server = await listen("127.0.0.1", 0, async (stream) => {
 *   await stream.respond(200, { "content-type": "text/plain" });
 *   await stream.write(new TextEncoder().encode("streamed"));
 *   await stream.end();
 * });
 * console.log(await (await fetch(`http://127.0.0.1:${server.port}/`)).text()); // "streamed"
 * await server.close();
 * ```
 */
export async function listen(
  hostname: string,
  port: number,
  handler: StreamHandler,
  options: ServerOptions = {},
): Promise<Server> {
  const listener = await bindListener(hostname, port, options);
  const server = new Server(listener, handler, options);
  options.onListen?.(server.addr);
  return server;
}
