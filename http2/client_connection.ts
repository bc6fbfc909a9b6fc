/**
 * The client side of an HTTP/2 connection: {@linkcode Http2ClientConnection} presents the
 * {@linkcode ProtocolConnection} shape the pool uses for both HTTP versions.
 *
 * @module
 */

import {
  type ProtocolConnection,
  type ProtocolRequest,
  type ProtocolResponse,
  RetryableRequestError,
} from "../client/_protocol.ts";
import { setRef } from "../client/_ref.ts";
import type { Conn } from "../conn/types.ts";
import { connectionError, Http2Error, Http2ErrorCode } from "./errors.ts";
import type { GoAwayFrame, HeadersFrame } from "./frame/mod.ts";
import type { HpackError } from "./hpack/mod.ts";
import { Http2Connection, type Http2Limits } from "./proto/connection.ts";
import { appendFields, parseResponse, parseTrailers, toHeaders } from "./proto/headers.ts";
import { StreamState } from "./proto/streams/state.ts";
import { H2Stream } from "./proto/streams/stream.ts";
import type { HTTP2Settings } from "./settings.ts";

/** Options of {@linkcode Http2ClientConnection.connect}. */
export interface Http2ClientOptions {
  /** Our settings: the receive windows (downloads depend on them), frame and header limits. */
  settings: HTTP2Settings;
  /** Fields one response head may decode to (default 500); more fails that request. */
  maxHeaderFieldCount?: number;
  /** CONTINUATION frames allowed after one HEADERS (default 64). */
  maxContinuationFrames?: number;
  /** Bytes of one encoded field block (default 256 KiB). */
  maxHeaderBlockSize?: number;
  /** Control frames queued unwritten (default 10 000). */
  maxQueuedControlFrames?: number;
  /**
   * Milliseconds within which the server must acknowledge our SETTINGS, else
   * GOAWAY(SETTINGS_TIMEOUT) and close (RFC 9113 section 6.5.3). Default 10 000; 0 disables.
   */
  settingsTimeout?: number;
}

/** The largest stream id. */
const MAX_STREAM_ID = 0x7fffffff;
/** What a client assumes of SETTINGS_MAX_CONCURRENT_STREAMS until the server's SETTINGS arrive. */
const ASSUMED_MAX_CONCURRENT = 100;

/** A request waiting for a stream (or being opened). */
interface Pending {
  req: ProtocolRequest;
  fields: [string, string][];
  resolve: (res: ProtocolResponse) => void;
  reject: (err: unknown) => void;
  stream: ClientStream | null;
  onAbort: (() => void) | null;
}

/** One request's stream. */
class ClientStream extends H2Stream {
  readonly pending: Pending;
  readonly noBody: boolean;
  headReceived = false;
  settled = false;
  bodyReader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  readonly #client: ClientSession;

  constructor(client: ClientSession, id: number, pending: Pending) {
    super(
      client,
      id,
      client.peerInitialWindowSize,
      client.initialRecvWindow(),
      client.settings.initialWindowSize,
    );
    this.#client = client;
    this.pending = pending;
    this.noBody = pending.req.method === "HEAD";
  }

  protected override onBodyCancel(): void {
    // The response body is not wanted: stop the server sending it.
    if (this.state !== StreamState.Closed) this.#client.resetStream(this, Http2ErrorCode.CANCEL);
  }

  override onClose(err: unknown): void {
    const p = this.pending;
    if (p.onAbort !== null) {
      p.req.signal?.removeEventListener("abort", p.onAbort);
      p.onAbort = null;
    }
    if (this.bodyReader !== null) {
      this.bodyReader.cancel(err ?? undefined).catch(() => {});
      this.bodyReader = null;
    }
    if (err !== null && !this.settled) {
      this.settled = true;
      if (
        err instanceof Http2Error && err.remote && err.code === Http2ErrorCode.REFUSED_STREAM
      ) {
        // Never processed: the pool may retry it.
        p.reject(new RetryableRequestError(`stream ${this.id} refused by the server`));
      } else p.reject(err);
    }
  }
}

/** The connection core, client role. */
class ClientSession extends Http2Connection {
  readonly queue: Pending[] = [];
  readonly owner: Http2ClientConnection;
  /** Whether the transport keeps the process alive (it does while requests are in flight). */
  #refd = true;

  constructor(conn: Conn, options: Http2ClientOptions, owner: Http2ClientConnection) {
    const limits: Partial<Http2Limits> = { resetBurst: Infinity };
    if (options.maxHeaderFieldCount !== undefined) {
      limits.maxHeaderFieldCount = options.maxHeaderFieldCount;
    }
    if (options.maxContinuationFrames !== undefined) {
      limits.maxContinuationFrames = options.maxContinuationFrames;
    }
    if (options.maxHeaderBlockSize !== undefined) {
      limits.maxHeaderBlockSize = options.maxHeaderBlockSize;
    }
    if (options.maxQueuedControlFrames !== undefined) {
      limits.maxQueuedControlFrames = options.maxQueuedControlFrames;
    }
    super(conn, {
      settings: options.settings,
      isServer: false,
      limits,
      settingsTimeout: options.settingsTimeout,
    });
    this.owner = owner;
    this.peerMaxConcurrentStreams = ASSUMED_MAX_CONCURRENT;
  }

  get canOpen(): boolean {
    return !this.terminating && !this.goAwaySent && this.goAwayReceived === null &&
      this.streams.size < this.peerMaxConcurrentStreams &&
      this.nextLocalStreamId <= MAX_STREAM_ID;
  }

  protected override get pendingWork(): number {
    return this.queue.length;
  }

  /**
   * An idle connection (no stream open, no request queued) lets the process exit, as an
   * idle keep-alive connection of `fetch` does; a busy one keeps it alive.
   */
  updateRef(): void {
    const busy = this.streams.size + this.queue.length > 0;
    if (busy === this.#refd || this.transportClosed) return;
    this.#refd = busy;
    setRef(this.conn, busy);
  }

  open(p: Pending): void {
    const id = this.nextLocalStreamId;
    this.nextLocalStreamId += 2;
    const s = new ClientStream(this, id, p);
    p.stream = s;
    this.addStream(s);
    this.updateRef();
    const req = p.req;
    const body = req.body;
    const trailers: [string, string][] = [];
    if (req.trailers !== undefined) appendFields(req.trailers, trailers);
    const empty = body === null || (body instanceof Uint8Array && body.byteLength === 0);
    const endStream = empty && trailers.length === 0;
    this.sendHeaders(s, p.fields, endStream);
    if (endStream) return;
    if (body instanceof Uint8Array || body === null) {
      if (body !== null && body.byteLength > 0) this.writeData(s, body).catch(() => {});
      this.endStream(s, trailers).catch(() => {});
      return;
    }
    this.#pumpBody(s, body, trailers);
  }

  async #pumpBody(
    s: ClientStream,
    body: ReadableStream<Uint8Array>,
    trailers: [string, string][],
  ): Promise<void> {
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      reader = body.getReader();
    } catch (err) {
      this.resetStream(s, Http2ErrorCode.CANCEL, err);
      return;
    }
    s.bodyReader = reader;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (s.state === StreamState.Closed) return;
        if (!(value instanceof Uint8Array)) {
          throw new TypeError("a request body stream must yield Uint8Array chunks");
        }
        await this.writeData(s, value);
      }
      s.bodyReader = null;
      if (s.state !== StreamState.Closed) await this.endStream(s, trailers);
    } catch (err) {
      if (s.state !== StreamState.Closed) {
        // The body source failed: the request cannot complete.
        this.resetStream(s, Http2ErrorCode.CANCEL, err);
      }
      s.bodyReader = null;
      reader.cancel(err).catch(() => {});
    }
  }

  /** Opens queued requests while capacity allows. */
  drainQueue(): void {
    while (this.queue.length > 0 && this.canOpen) {
      const p = this.queue.shift()!;
      this.open(p);
    }
  }

  protected override acceptsData(s: H2Stream): boolean {
    return (s as ClientStream).headReceived;
  }

  protected override onNewStream(
    f: HeadersFrame,
    _fields: [string, string][] | null,
    _tooLarge: HpackError | null,
  ): void {
    // Servers only open streams by PUSH_PROMISE, which we disabled.
    throw connectionError(
      Http2ErrorCode.PROTOCOL_ERROR,
      `HEADERS opening stream ${f.streamId} from a server`,
    );
  }

  protected override onStreamHeaders(
    stream: H2Stream,
    f: HeadersFrame,
    fields: [string, string][],
  ): void {
    const s = stream as ClientStream;
    const fail = (message: string): never => {
      throw new Http2Error(Http2ErrorCode.PROTOCOL_ERROR, message, {
        scope: "stream",
        streamId: s.id,
      });
    };
    if (!s.headReceived) {
      const parts = parseResponse(fields);
      if (typeof parts === "string") return fail(`malformed response: ${parts}`);
      if (parts.status < 200) {
        if (parts.status === 101) fail("101 is not allowed in HTTP/2");
        if (f.endStream) fail("END_STREAM on an informational response");
        return;
      }
      s.headReceived = true;
      const noBody = s.noBody || parts.status === 204 || parts.status === 304;
      s.contentLength = noBody ? -1 : parts.contentLength;
      if (noBody) s.inDiscard = true;
      const response: ProtocolResponse = {
        status: parts.status,
        statusText: "",
        headers: toHeaders(parts.fields),
        body: noBody ? null : s.inboundBody,
        trailers: s.inboundTrailers,
      };
      s.settled = true;
      s.pending.resolve(response);
      if (f.endStream) this.recvEnd(s, null);
      return;
    }
    if (!f.endStream) return fail("HEADERS without END_STREAM after the response head");
    const trailers = parseTrailers(fields);
    if (typeof trailers === "string") return fail(`malformed trailers: ${trailers}`);
    this.recvEnd(s, trailers);
  }

  protected override onStreamClosed(_stream: H2Stream): void {
    this.drainQueue();
    this.updateRef();
    this.owner.notify();
  }

  protected override onPeerSettings(): void {
    if (this.queue.length > 0) this.drainQueue();
    this.owner.notify();
  }

  protected override onGoAway(f: GoAwayFrame): void {
    for (const s of [...this.streams.values()]) {
      if (s.id > f.lastStreamId) {
        this.abandonStream(
          s,
          new RetryableRequestError(
            `stream ${s.id} not processed: the server sent GOAWAY (last stream ${f.lastStreamId})`,
          ),
        );
      }
    }
    this.#rejectQueue(new RetryableRequestError("the server sent GOAWAY"));
    this.owner.notify();
  }

  protected override onTerminate(_err: Http2Error | null): void {
    this.#rejectQueue(new RetryableRequestError("the HTTP/2 connection closed"));
  }

  protected override onTransportClosed(): void {
    this.owner.notify();
  }

  #rejectQueue(err: unknown): void {
    const q = this.queue.splice(0);
    for (const p of q) {
      if (p.onAbort !== null) p.req.signal?.removeEventListener("abort", p.onAbort);
      p.reject(err);
    }
    this.updateRef();
  }
}

/**
 * One HTTP/2 connection to an origin, as the client pool uses it: requests become streams
 * (queued while the server's SETTINGS_MAX_CONCURRENT_STREAMS is reached), bodies stream both
 * ways at once under flow control, and a stream the server never processed (REFUSED_STREAM,
 * or above a GOAWAY's last stream id) fails with {@linkcode RetryableRequestError}.
 *
 * @example
 * ```ts
 * import { memoryPair } from "../conn/memory.ts";
 * import { Http2ClientConnection } from "./client_connection.ts";
 * import { HTTP2Settings } from "./settings.ts";
 *
 * const [clientSide] = memoryPair();
 * const h2 = await Http2ClientConnection.connect(clientSide, { settings: new HTTP2Settings() });
 * // const res = await h2.request({ method: "GET", url: new URL("http://localhost/"), headers: new Headers(), body: null });
 * h2.close();
 * ```
 */
export class Http2ClientConnection implements ProtocolConnection {
  /** Always `"h2"`. */
  readonly protocol = "h2" as const;
  /** Called when the connection becomes available again or closes. Set by the pool. */
  onStateChange?: () => void;
  readonly #session: ClientSession;

  private constructor(conn: Conn, options: Http2ClientOptions) {
    this.#session = new ClientSession(conn, options, this);
  }

  /**
   * Starts HTTP/2 on a connected transport: sends the preface, SETTINGS (ENABLE_PUSH 0 and
   * our windows) and a connection WINDOW_UPDATE when the connection window is larger than
   * 65535. Does not wait for the server's SETTINGS.
   *
   * @param conn The transport (TLS with ALPN `h2`, or cleartext by prior knowledge).
   * @param options Our settings and limits.
   * @returns The connection.
   */
  static connect(conn: Conn, options: Http2ClientOptions): Promise<Http2ClientConnection> {
    const c = new Http2ClientConnection(conn, options);
    c.#session.start();
    c.#session.updateRef();
    return Promise.resolve(c);
  }

  /** Whether a new request can start now (not closed, below the server's stream limit). */
  get available(): boolean {
    const s = this.#session;
    return s.canOpen && s.queue.length === 0;
  }

  /** Whether the connection is finished: closed, failed, or draining after GOAWAY. */
  get closed(): boolean {
    const s = this.#session;
    return s.terminating || s.goAwaySent || s.goAwayReceived !== null ||
      s.nextLocalStreamId > MAX_STREAM_ID;
  }

  /** Requests in flight, queued ones included. */
  get activeRequests(): number {
    return this.#session.streams.size + this.#session.queue.length;
  }

  /** Resolves once the transport is closed. */
  get finished(): Promise<void> {
    return this.#session.finished;
  }

  /**
   * Sends a request on a new stream (or queues it until one can be opened).
   *
   * @param req The request.
   * @returns The response, once its head arrives.
   */
  request(req: ProtocolRequest): Promise<ProtocolResponse> {
    const session = this.#session;
    const signal = req.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closed) {
      return Promise.reject(
        new RetryableRequestError(
          session.goAwayReceived !== null
            ? "the server sent GOAWAY"
            : "the HTTP/2 connection is closed",
        ),
      );
    }
    let fields: [string, string][];
    try {
      fields = requestFields(req);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<ProtocolResponse>((resolve, reject) => {
      const p: Pending = { req, fields, resolve, reject, stream: null, onAbort: null };
      if (signal !== undefined) {
        p.onAbort = () => {
          p.onAbort = null;
          const s = p.stream;
          if (s === null) {
            const i = session.queue.indexOf(p);
            if (i >= 0) session.queue.splice(i, 1);
            session.updateRef();
            reject(signal.reason);
            this.notify();
          } else if (s.state !== StreamState.Closed) {
            session.resetStream(s, Http2ErrorCode.CANCEL, signal.reason);
          }
        };
        signal.addEventListener("abort", p.onAbort, { once: true });
      }
      if (session.canOpen && session.queue.length === 0) session.open(p);
      else {
        session.queue.push(p);
        session.updateRef();
      }
    });
  }

  /** Closes the connection at once; in-flight requests fail. */
  close(): void {
    this.#session.forceClose();
  }

  /**
   * Graceful close: GOAWAY, requests in flight finish, then the connection closes.
   *
   * @returns Resolves once closed.
   */
  shutdown(): Promise<void> {
    this.#session.shutdown();
    return this.#session.finished;
  }

  /** Calls `onStateChange`, shielding the connection from its errors. */
  notify(): void {
    const cb = this.onStateChange;
    if (cb === undefined) return;
    try {
      cb();
    } catch { /* the pool's problem */ }
  }
}

/**
 * The HEADERS field list of a request: pseudo-headers from the URL, connection-specific
 * fields dropped, `host` moved to `:authority`.
 *
 * @param req The request.
 * @returns The fields.
 */
function requestFields(req: ProtocolRequest): [string, string][] {
  const url = req.url;
  const method = req.method;
  const host = req.headers.get("host");
  const authority = host ?? url.host;
  const fields: [string, string][] = [[":method", method]];
  if (method === "CONNECT") fields.push([":authority", authority]);
  else {
    fields.push(
      [":scheme", url.protocol.slice(0, -1)],
      [":authority", authority],
      [":path", (url.pathname || "/") + url.search],
    );
  }
  appendFields(req.headers, fields, true);
  const body = req.body;
  if (body instanceof Uint8Array && !req.headers.has("content-length")) {
    fields.push(["content-length", String(body.byteLength)]);
  }
  return fields;
}
