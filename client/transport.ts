/**
 * {@linkcode Transport}: connections pooled per origin, HTTP/1.1 or HTTP/2 as ALPN decides.
 *
 * @module
 */
import type { Conn } from "../conn/types.ts";
import { connect } from "../conn/connect.ts";
import { startTls } from "../conn/from.ts";
import { HTTP2Settings } from "../http2/settings.ts";
import { Http2ClientConnection } from "../http2/client_connection.ts";
import {
  type ProtocolConnection,
  type ProtocolRequest,
  type ProtocolResponse,
  RetryableRequestError,
} from "./_protocol.ts";
import { ConnectionClosedError, ConnectTimeoutError } from "./errors.ts";
import { H1ClientConnection } from "./h1_connection.ts";
import { connectThroughProxy, proxyAuthorization } from "./proxy.ts";
import { bareHostname, portOf } from "./_url.ts";
import { unrefTimer } from "./_ref.ts";

/** Which HTTP version a request may use: ALPN decides (`"auto"`), or one is forced. */
export type HttpProtocol = "auto" | "h1" | "h2";

/** Options of {@linkcode Transport}. */
export interface TransportOptions {
  /**
   * Idle connections kept per origin; more are closed as they become idle. Default 64,
   * enough for bursts of that many concurrent requests to reuse their connections.
   */
  maxIdlePerHost?: number;
  /**
   * The most connections per origin (idle, busy and being opened); requests beyond wait
   * for one to be free. Default 0: no limit.
   */
  maxConnsPerHost?: number;
  /** Milliseconds an idle connection is kept before it is closed. Default 30 000. */
  idleTimeout?: number;
  /** PEM certificates to trust (for servers and https:// proxies) besides the system's. */
  caCerts?: string[];
  /**
   * Offer HTTP/2 by ALPN on https:// connections (`["h2", "http/1.1"]`); `false` offers
   * only `http/1.1`. Default `true`.
   */
  preferHttp2?: boolean;
  /** The HTTP/2 settings of this side (flow-control windows and limits). */
  http2Settings?: HTTP2Settings;
  /**
   * Milliseconds to open a connection (TCP, TLS handshake, a proxy's CONNECT) before
   * failing with {@linkcode ConnectTimeoutError}; 0 waits forever. Default 30 000.
   */
  connectTimeout?: number;
  /** How long HTTP/1.1 waits for `100 Continue` before sending the body anyway (ms). Default 1000. */
  expectContinueTimeout?: number;
  /** The largest HTTP/1.1 response head accepted, in bytes. Default 256 KiB. */
  maxHeadSize?: number;
  /** The most header fields in an HTTP/1.1 response head. Default 500. */
  maxHeaderCount?: number;
}

/** A request for {@linkcode Transport.request}: a protocol request plus routing. */
export interface TransportRequest extends ProtocolRequest {
  /** The proxy to go through (from `ProxyConfig.proxyFor`), or none. */
  proxy?: URL | null;
  /**
   * `"auto"` (the default) lets ALPN pick on https:// and uses HTTP/1.1 on http://;
   * `"h1"` forces HTTP/1.1; `"h2"` forces HTTP/2 (prior knowledge on http://).
   */
  protocol?: HttpProtocol;
  /** Overrides the transport's `connectTimeout` for a connection opened for this request. */
  connectTimeout?: number;
  /** Called when the request is handed to a connection (again, if it is retried). */
  onStart?: () => void;
}

/** Counts of a transport's connections, for monitoring and tests. */
export interface TransportStats {
  /** Open connections, idle or busy. */
  connections: number;
  /** Open connections with no request in flight. */
  idle: number;
  /** Connections being opened. */
  connecting: number;
  /** Requests waiting for a connection. */
  waiting: number;
}

interface Entry {
  conn: ProtocolConnection;
  /** Requests started on it. */
  uses: number;
  /** When it last became idle (ms), 0 while busy. */
  idleSince: number;
}

interface Waiter {
  request: TransportRequest;
  /** Only a newly opened connection will do (a retry). */
  fresh: boolean;
  resolve: (response: Promise<ProtocolResponse>) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
}

class Pool {
  entries: Entry[] = [];
  waiters: Waiter[] = [];
  dialing = 0;
  processing = false;
  again = false;
  constructor(
    readonly key: string,
    readonly origin: string,
    readonly secure: boolean,
    readonly hostname: string,
    readonly port: number,
    readonly proxy: URL | null,
    readonly protocol: HttpProtocol,
  ) {}

  /** The connection a request should go to: the most recently idle one, else any with room. */
  pick(fresh: boolean): Entry | null {
    let best: Entry | null = null;
    for (const entry of this.entries) {
      if (!entry.conn.available || (fresh && entry.uses > 0)) continue;
      if (
        best === null || entry.conn.activeRequests < best.conn.activeRequests ||
        (entry.conn.activeRequests === best.conn.activeRequests &&
          entry.idleSince > best.idleSince)
      ) best = entry;
    }
    return best;
  }
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** Whether a request's body can be sent again. */
function replayable(body: ProtocolRequest["body"]): boolean {
  return body === null || body instanceof Uint8Array || !body.locked;
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", abort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", abort);
        reject(error);
      },
    );
  });
}

/**
 * A pool of connections per origin (scheme, host, port, proxy and forced protocol), shared
 * by every request that goes through it; a `Client` has one.
 *
 * https:// connections offer `h2` and `http/1.1` by ALPN (only `http/1.1` with
 * `preferHttp2: false`); the protocol is picked in one place after connecting, and origins
 * that answered `http/1.1` are remembered. HTTP/1.1 connections carry one request at a
 * time and are reused once a response body has been read to its end; an idle connection
 * whose peer closes it leaves the pool at once, and any idle longer than `idleTimeout`
 * is closed. Idle connections do not keep the process alive.
 *
 * A request that fails with `RetryableRequestError` (HTTP/2 refused it unprocessed), or
 * that went out on a reused keep-alive connection which turned out closed before any
 * response byte, is retried once on a fresh connection when that is safe: an idempotent
 * method with a body that can be sent again, or a streamed body not yet read from.
 *
 * @example
 * ```ts
 * import { Transport } from "./transport.ts";
 * import { serve } from "../server/mod.ts";
 *
 * await using server = await serve("127.0.0.1", 0, () => new Response("ok"));
 * await using transport = new Transport({ maxConnsPerHost: 4 });
 * const response = await transport.request({
 *   method: "GET",
 *   url: new URL(`http://127.0.0.1:${server.port}/`),
 *   headers: new Headers(),
 *   body: null,
 * });
 * console.log(response.status, await new Response(response.body).text()); // 200 "ok"
 * ```
 */
export class Transport implements AsyncDisposable {
  #maxIdlePerHost: number;
  #maxConnsPerHost: number;
  #idleTimeout: number;
  #caCerts: string[] | undefined;
  #preferHttp2: boolean;
  #http2Settings: HTTP2Settings | undefined;
  #defaultSettings: HTTP2Settings | undefined;
  /** Every open connection, including HTTP/2 ones draining after GOAWAY (out of their pool). */
  #live = new Set<ProtocolConnection>();
  #connectTimeout: number;
  #h1Limits: Pick<TransportOptions, "expectContinueTimeout" | "maxHeadSize" | "maxHeaderCount">;
  #pools = new Map<string, Pool>();
  #knownH1 = new Set<string>();
  #dials = new Set<AbortController>();
  #sweepTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #closing: Promise<void> | null = null;

  /**

   * Creates a transport; connections are opened as requests need them.

   * @param options Pool limits, TLS, HTTP/2 preference, timeouts.

   */
  constructor(options: TransportOptions = {}) {
    this.#maxIdlePerHost = options.maxIdlePerHost ?? 64;
    this.#maxConnsPerHost = options.maxConnsPerHost ?? 0;
    this.#idleTimeout = options.idleTimeout ?? 30_000;
    this.#caCerts = options.caCerts;
    this.#preferHttp2 = options.preferHttp2 ?? true;
    this.#http2Settings = options.http2Settings;
    this.#connectTimeout = options.connectTimeout ?? 30_000;
    this.#h1Limits = {
      expectContinueTimeout: options.expectContinueTimeout,
      maxHeadSize: options.maxHeadSize,
      maxHeaderCount: options.maxHeaderCount,
    };
  }

  /** Whether https:// connections offer HTTP/2. */
  get preferHttp2(): boolean {
    return this.#preferHttp2;
  }

  /** Whether {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Counts of connections and waiting requests, over every origin.
   *
   * @returns The counts.
   *
   * @example
   * ```ts
   * import { Transport } from "./transport.ts";
   *
   * await using transport = new Transport();
   * console.log(transport.stats()); // { connections: 0, idle: 0, connecting: 0, waiting: 0 }
   * ```
   */
  stats(): TransportStats {
    const stats: TransportStats = { connections: 0, idle: 0, connecting: 0, waiting: 0 };
    for (const pool of this.#pools.values()) {
      stats.connections += pool.entries.length;
      stats.connecting += pool.dialing;
      stats.waiting += pool.waiters.length;
      for (const e of pool.entries) {
        if (e.conn.activeRequests === 0 && e.conn.available) stats.idle++;
      }
    }
    return stats;
  }

  /**
   * Sends a request on a pooled connection to its origin (opening one if needed) and
   * resolves with the response once its head has arrived.
   *
   * @param request The request, with its proxy and protocol choice.
   * @returns The response; read its body to the end (or cancel it) to free the connection.
   */
  async request(request: TransportRequest): Promise<ProtocolResponse> {
    if (this.#closed) throw new Error("the transport is closed");
    try {
      return await this.#dispatch(request, false);
    } catch (error) {
      if (this.#closed || request.signal?.aborted || !this.#retryable(request, error)) throw error;
      return await this.#dispatch(request, true);
    }
  }

  #retryable(request: TransportRequest, error: unknown): boolean {
    if (error instanceof RetryableRequestError) return replayable(request.body);
    if (!(error instanceof ConnectionClosedError) || !error.reused) return false;
    if (IDEMPOTENT.has(request.method) && replayable(request.body)) return true;
    return request.body instanceof ReadableStream && !error.bodyStarted;
  }

  /**
   * Closes every connection and fails requests waiting for one. Requests in flight fail.
   *
   * @returns Resolves once the connections have let go of their sockets.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    const closed = new Error("the transport is closed");
    for (const dial of this.#dials) dial.abort(closed);
    const settling: Promise<void>[] = [];
    for (const pool of [...this.#pools.values()]) {
      for (const waiter of pool.waiters.splice(0)) {
        waiter.cleanup();
        waiter.reject(closed);
      }
      for (const entry of pool.entries) this.#live.add(entry.conn);
    }
    this.#pools.clear();
    for (const conn of this.#live) {
      conn.close();
      if (conn.finished) settling.push(conn.finished);
    }
    this.#live.clear();
    this.#closing = Promise.all(settling).then(() => {});
    return this.#closing;
  }

  /** Closes the transport: `await using transport = new Transport()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #pool(request: TransportRequest): Pool {
    const url = request.url;
    const protocol = request.protocol ?? "auto";
    const proxy = request.proxy ?? null;
    const origin = `${url.protocol}//${url.host}`;
    const key = proxy === null && protocol === "auto"
      ? origin
      : `${origin} ${protocol} ${proxy?.href ?? ""}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new TypeError(`unsupported URL scheme ${url.protocol} (http: or https: expected)`);
      }
      pool = new Pool(
        key,
        origin,
        url.protocol === "https:",
        bareHostname(url),
        portOf(url),
        proxy,
        protocol,
      );
      this.#pools.set(key, pool);
    }
    return pool;
  }

  #dispatch(request: TransportRequest, fresh: boolean): Promise<ProtocolResponse> {
    if (request.signal?.aborted) return Promise.reject(request.signal.reason);
    let pool: Pool;
    try {
      pool = this.#pool(request);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!fresh && pool.waiters.length === 0) {
      const entry = pool.pick(false);
      if (entry !== null) return this.#start(entry, request);
    }
    return new Promise<ProtocolResponse>((resolve, reject) => {
      const signal = request.signal;
      const waiter: Waiter = {
        request,
        fresh,
        resolve,
        reject,
        cleanup: () => {},
      };
      if (signal) {
        const onAbort = () => {
          const i = pool.waiters.indexOf(waiter);
          if (i !== -1) pool.waiters.splice(i, 1);
          reject(signal.reason);
          this.#process(pool);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      pool.waiters.push(waiter);
      this.#process(pool);
    });
  }

  #start(entry: Entry, request: TransportRequest): Promise<ProtocolResponse> {
    entry.uses++;
    entry.idleSince = 0;
    const response = entry.conn.request(request);
    request.onStart?.();
    return response;
  }

  /** Hands available connections to waiting requests, and opens connections for the rest. */
  #process(pool: Pool): void {
    if (pool.processing) {
      pool.again = true;
      return;
    }
    pool.processing = true;
    try {
      do {
        pool.again = false;
        this.#assign(pool);
      } while (pool.again);
    } finally {
      pool.processing = false;
    }
    if (pool.entries.length === 0 && pool.waiters.length === 0 && pool.dialing === 0) {
      if (this.#pools.get(pool.key) === pool) this.#pools.delete(pool.key);
    }
  }

  #assign(pool: Pool): void {
    while (pool.waiters.length > 0) {
      const waiter = pool.waiters[0];
      const entry = pool.pick(waiter.fresh);
      if (entry === null) break;
      pool.waiters.shift();
      waiter.cleanup();
      waiter.resolve(this.#start(entry, waiter.request));
    }
    if (pool.waiters.length === 0 || this.#closed) return;
    // HTTP/2 (known, or likely from ALPN) serves everyone on one connection: open one at a time.
    const multiplexed = pool.protocol === "h2" ||
      (pool.secure && pool.protocol === "auto" && this.#offersH2(pool) &&
        !this.#knownH1.has(pool.origin));
    let wanted = multiplexed ? (pool.dialing === 0 ? 1 : 0) : pool.waiters.length - pool.dialing;
    const max = this.#maxConnsPerHost;
    while (wanted > 0) {
      if (max > 0 && pool.entries.length + pool.dialing >= max) {
        // A retry needs a fresh connection: make room by closing an idle one.
        if (!pool.waiters.some((w) => w.fresh)) break;
        const idle = pool.entries.find((e) => e.conn.available && e.conn.activeRequests === 0);
        if (idle === undefined) break;
        idle.conn.close();
        this.#remove(pool, idle);
        continue;
      }
      this.#dial(pool, pool.waiters[0].request.connectTimeout ?? this.#connectTimeout);
      wanted--;
    }
  }

  #offersH2(pool: Pool): boolean {
    return this.#preferHttp2 && pool.protocol !== "h1";
  }

  #dial(pool: Pool, timeout: number): void {
    pool.dialing++;
    const controller = new AbortController();
    this.#dials.add(controller);
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (timeout > 0) {
      timer = setTimeout(() => controller.abort(new ConnectTimeoutError(timeout)), timeout);
    }
    const done = () => {
      pool.dialing--;
      this.#dials.delete(controller);
      if (timer !== undefined) clearTimeout(timer);
    };
    this.#connect(pool, controller.signal).then((conn) => {
      done();
      if (this.#closed) {
        conn.close();
        return;
      }
      const entry: Entry = { conn, uses: 0, idleSince: 0 };
      this.#live.add(conn);
      conn.onStateChange = () => this.#onStateChange(pool, entry);
      pool.entries.push(entry);
      if (!this.#pools.has(pool.key)) this.#pools.set(pool.key, pool);
      this.#process(pool);
      if (entry.uses === 0) this.#becameIdle(pool, entry);
    }, (error) => {
      done();
      // The waiters no other connection attempt is under way for get this error.
      let failed = Math.max(1, pool.waiters.length - pool.dialing);
      while (failed-- > 0 && pool.waiters.length > 0) {
        const waiter = pool.waiters.shift()!;
        waiter.cleanup();
        waiter.reject(error);
      }
      this.#process(pool);
    });
  }

  /**
   * Opens a connection for `pool` and wraps it in the protocol ALPN chose. This is the one
   * place that decides between HTTP/1.1 and HTTP/2.
   */
  async #connect(pool: Pool, signal: AbortSignal): Promise<ProtocolConnection> {
    const { secure, hostname, port, proxy, protocol } = pool;
    const caCerts = this.#caCerts;
    const alpnProtocols = protocol === "h2"
      ? ["h2"]
      : this.#offersH2(pool) && !this.#knownH1.has(pool.origin)
      ? ["h2", "http/1.1"]
      : ["http/1.1"];
    let conn: Conn;
    let forward = false;
    if (proxy !== null && (secure || protocol === "h2")) {
      if (secure && proxy.protocol === "https:") {
        // TLS inside TLS: startTls needs a plain socket under it.
        throw new Error(
          "https:// through an https:// proxy is not supported; use an http:// proxy URL",
        );
      }
      conn = await connectThroughProxy(hostname, port, proxy, { signal, caCerts });
      if (secure) {
        const plain = conn;
        conn = await raceSignal(
          startTls(plain, { hostname, caCerts, alpnProtocols }),
          signal,
          () => plain.close(),
        );
      }
    } else if (proxy !== null) {
      forward = true;
      conn = await connect({
        hostname: bareHostname(proxy),
        port: portOf(proxy),
        tls: proxy.protocol === "https:" ? { caCerts, alpnProtocols: ["http/1.1"] } : undefined,
        signal,
      });
    } else {
      conn = await connect({
        hostname,
        port,
        tls: secure ? { caCerts, alpnProtocols } : undefined,
        signal,
      });
    }

    // ---- The one place the HTTP version is picked. ----
    const h2 = forward ? false : secure ? conn.alpnProtocol === "h2" : protocol === "h2";
    if (protocol === "h2" && !h2) {
      conn.close();
      throw new Error(`${pool.origin} did not agree to HTTP/2 by ALPN`);
    }
    if (secure && !h2 && alpnProtocols.includes("h2")) this.#knownH1.add(pool.origin);
    if (h2) return await this.#http2(conn, signal);
    return new H1ClientConnection(conn, {
      absoluteForm: forward,
      proxyAuthorization: forward ? proxyAuthorization(proxy!) : undefined,
      ...this.#h1Limits,
    });
  }

  /** Starts HTTP/2 over `conn` (the preface and our SETTINGS). */
  #http2(conn: Conn, signal: AbortSignal): Promise<ProtocolConnection> {
    const settings = this.#http2Settings ?? (this.#defaultSettings ??= new HTTP2Settings());
    return raceSignal(
      Http2ClientConnection.connect(conn, { settings }),
      signal,
      () => conn.close(),
    );
  }

  #onStateChange(pool: Pool, entry: Entry): void {
    if (entry.conn.closed) {
      this.#retire(entry.conn);
      this.#remove(pool, entry);
      this.#process(pool);
      return;
    }
    if (entry.conn.available) {
      this.#process(pool);
      if (entry.conn.available && entry.conn.activeRequests === 0) this.#becameIdle(pool, entry);
    }
  }

  /** A finished connection leaves the live set once it has let go of its socket. */
  #retire(conn: ProtocolConnection): void {
    const finished = conn.finished;
    if (finished === undefined || conn.activeRequests === 0) this.#live.delete(conn);
    else finished.then(() => this.#live.delete(conn), () => this.#live.delete(conn));
  }

  #remove(pool: Pool, entry: Entry): void {
    const i = pool.entries.indexOf(entry);
    if (i !== -1) pool.entries.splice(i, 1);
  }

  #becameIdle(pool: Pool, entry: Entry): void {
    entry.idleSince = Date.now();
    let idle = 0;
    for (const e of pool.entries) if (e.conn.available && e.conn.activeRequests === 0) idle++;
    if (idle > this.#maxIdlePerHost) {
      // Keep the most recently used ones.
      let oldest: Entry | null = null;
      for (const e of pool.entries) {
        if (!e.conn.available || e.conn.activeRequests !== 0) continue;
        if (oldest === null || e.idleSince < oldest.idleSince) oldest = e;
      }
      oldest?.conn.close();
    }
    if (this.#sweepTimer === undefined && this.#idleTimeout > 0 && !this.#closed) {
      this.#scheduleSweep(this.#idleTimeout);
    }
  }

  #scheduleSweep(delay: number): void {
    this.#sweepTimer = setTimeout(() => this.#sweep(), delay);
    unrefTimer(this.#sweepTimer);
  }

  /** Closes connections idle longer than `idleTimeout`; runs while any connection is idle. */
  #sweep(): void {
    this.#sweepTimer = undefined;
    const now = Date.now();
    let next = Infinity;
    for (const pool of [...this.#pools.values()]) {
      for (const entry of [...pool.entries]) {
        const { conn } = entry;
        if (!conn.available || conn.activeRequests !== 0 || entry.idleSince === 0) continue;
        const expires = entry.idleSince + this.#idleTimeout;
        if (expires <= now) conn.close();
        else next = Math.min(next, expires);
      }
    }
    if (next !== Infinity && !this.#closed) this.#scheduleSweep(Math.max(1, next - now));
  }
}
