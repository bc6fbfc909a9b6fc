/**
 * The server side of an HTTP/2 connection: {@linkcode serveHttp2} runs one connection and
 * hands each request to a handler as a {@linkcode Stream} (the same low-level interface
 * HTTP/1.1 exchanges implement).
 *
 * @module
 */

import type { Conn } from "../conn/types.ts";
import { setTimerRef, unrefTimer } from "../client/_ref.ts";
import type { RequestHead, ServeInfo, Stream } from "../server/stream.ts";
import { Completion } from "../server/_completion.ts";
import { connectionError, Http2Error, Http2ErrorCode } from "./errors.ts";
import type { HeadersFrame } from "./frame/mod.ts";
import type { HpackError } from "./hpack/mod.ts";
import { Http2Connection, type Http2Limits } from "./proto/connection.ts";
import { appendFields, parseRequest, parseTrailers, toHeaders } from "./proto/headers.ts";
import { canRecv, recvHeaders, StreamState } from "./proto/streams/state.ts";
import { H2Stream } from "./proto/streams/stream.ts";
import { ignore, RESOLVED } from "../conn/_settled.ts";
import type { HTTP2Settings } from "./settings.ts";

/**
 * `outcome` with its failure marked as seen: a write or end that fails because the stream
 * was reset or the connection went away also aborts the exchange (its `info.signal`), so a
 * handler that leaves it unawaited (as node:http's `res.write()` is) gets no unhandled
 * rejection. The caller still sees the rejection if it awaits.
 */
function handled(outcome: Promise<void>): Promise<void> {
  if (outcome !== RESOLVED) outcome.then(undefined, ignore);
  return outcome;
}

/** Options of {@linkcode serveHttp2}. */
export interface Http2ServerOptions {
  /** Our settings: windows, concurrency, frame and header limits. */
  settings: HTTP2Settings;
  /**
   * Aborting it shuts the connection down gracefully, as `shutdown()` does: the GOAWAY
   * notice and a PING, then the final GOAWAY with the last processed stream, streams in
   * flight finish, new ones are refused, then the connection closes.
   */
  signal?: AbortSignal;
  /**
   * Bytes already read from `conn` (when the server sniffed the preface); they start with
   * the 24-byte client preface.
   */
  prefaceRead?: Uint8Array;
  /**
   * Milliseconds within which the client preface and its SETTINGS frame must arrive, else
   * GOAWAY(PROTOCOL_ERROR) and close. Default 10 000; 0 disables.
   */
  prefaceTimeout?: number;
  /**
   * Milliseconds within which the client must acknowledge our SETTINGS, else
   * GOAWAY(SETTINGS_TIMEOUT) and close (RFC 9113 section 6.5.3). Default 10 000; 0 disables.
   */
  settingsTimeout?: number;
  /**
   * Graceful shutdown (RFC 9113 section 6.8): `shutdown()` first sends GOAWAY with
   * last-stream-id 2^31-1 and a PING, still processes the streams the client opens
   * meanwhile, and sends the final GOAWAY (the last stream processed) once the PING is
   * acknowledged or after this many milliseconds. Default 1 000; 0 sends the final GOAWAY
   * at once.
   */
  shutdownPingTimeout?: number;
  /**
   * Milliseconds a connection may stay without open streams before it is closed with
   * GOAWAY(NO_ERROR). Default 60 000; 0 disables.
   */
  idleTimeout?: number;
  /**
   * Zero-window stalls: milliseconds sending may stay stuck (the client grants no
   * flow-control window to data waiting for it, or does not read what was written) before
   * the connection is closed with GOAWAY(ENHANCE_YOUR_CALM). Default 60 000; 0 disables.
   */
  stallTimeout?: number;
  /**
   * Milliseconds a request body may go without DATA while its handler waits to read it
   * (and the flow-control windows let the client send): then the stream is reset with
   * RST_STREAM(CANCEL) and the body's reader gets an {@linkcode Http2Error}, which is not
   * reported. The connection and its other streams live on. Default 30 000; 0 disables.
   */
  bodyIdleTimeout?: number;
  /**
   * Rapid Reset (CVE-2023-44487): RST_STREAM frames a client may send in a burst; the
   * bucket refills at {@linkcode Http2ServerOptions.resetRate} per second. Beyond it:
   * GOAWAY(ENHANCE_YOUR_CALM). Default 1000 (as nghttp2).
   */
  resetBurst?: number;
  /** Rapid Reset: RST_STREAM frames per second allowed after the burst. Default 33 (as nghttp2). */
  resetRate?: number;
  /**
   * CONTINUATION flood (CVE-2024-27316): CONTINUATION frames allowed after one HEADERS.
   * Beyond it: GOAWAY(ENHANCE_YOUR_CALM). Default 64.
   */
  maxContinuationFrames?: number;
  /**
   * CONTINUATION flood: bytes of one encoded field block (HEADERS and its CONTINUATIONs),
   * checked as the frames arrive. Beyond it: GOAWAY(ENHANCE_YOUR_CALM). Default 256 KiB.
   * The decoded list is capped separately by `settings.maxHeaderListSize`.
   */
  maxHeaderBlockSize?: number;
  /**
   * HPACK bomb: fields one request may decode to. Beyond it (or beyond
   * `settings.maxHeaderListSize` decoded bytes, 32 counted per field) the stream is
   * answered 431 and closed; the connection lives on. Default 500.
   */
  maxHeaderFieldCount?: number;
  /**
   * SETTINGS / PING floods: control frames (SETTINGS ACKs, PING ACKs, RST_STREAMs) queued
   * while the client does not read them. Beyond it: GOAWAY(ENHANCE_YOUR_CALM). Default 10 000.
   */
  maxQueuedControlFrames?: number;
  /**
   * Empty-DATA flood: consecutive DATA frames with no data and no END_STREAM. Beyond it:
   * GOAWAY(ENHANCE_YOUR_CALM). Default 100.
   */
  maxEmptyDataFrames?: number;
  /**
   * Memory cap for unread request-body bytes buffered per connection: the connection
   * window granted to the client never exceeds it, so a client cannot make the server
   * buffer more whatever the windows configured. Default 16 MiB.
   */
  maxBufferedBytes?: number;
  /** Told about handler failures (default: `console.error`). */
  onError?: (error: unknown) => void;
}

/** A running server connection, as {@linkcode serveHttp2} returns it. */
export interface Http2ServerConnection {
  /** Resolves once the connection is closed (it never rejects). */
  readonly closed: Promise<void>;
  /**
   * Graceful shutdown (RFC 9113 section 6.8): GOAWAY 2^31-1 and a PING, then after the PING
   * ACK (or `shutdownPingTimeout`) the final GOAWAY; in-flight streams finish, then close.
   * Idempotent.
   */
  shutdown(): void;
  /** Closes at once; open streams are aborted. */
  forceClose(): void;
  /** Lets the connection's timers keep the process alive again (the default). */
  ref(): void;
  /** Lets the process exit while the connection's timers (idle, preface) are pending. */
  unref(): void;
  /** Streams open now. */
  readonly activeStreams: number;
}

const PROTOCOL_INFO = "HTTP/2" as const;

const LIMIT_KEYS = [
  "maxContinuationFrames",
  "maxHeaderBlockSize",
  "maxHeaderFieldCount",
  "maxQueuedControlFrames",
  "maxEmptyDataFrames",
  "resetBurst",
  "resetRate",
] as const;

function definedLimits(options: Http2ServerOptions): Partial<Http2Limits> {
  const limits: Partial<Http2Limits> = {};
  for (const key of LIMIT_KEYS) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !(value >= 0)) {
      throw new RangeError(`serveHttp2: ${key} must be a non-negative number, got ${value}`);
    }
    limits[key] = value;
  }
  return limits;
}

/** The lazily built head of a request. */
class H2RequestHead implements RequestHead {
  readonly method: string;
  readonly target: string;
  readonly url: string;
  /** The header fields as parsed (no pseudo-headers). */
  readonly fields: readonly [string, string][];
  #headers: Headers | null = null;

  constructor(method: string, target: string, url: string, fields: [string, string][]) {
    this.method = method;
    this.target = target;
    this.url = url;
    this.fields = fields;
  }

  get headers(): Headers {
    return this.#headers ??= toHeaders(this.fields);
  }
}

/** The connection information of a stream, with a signal made on first use. */
class H2ServeInfo implements ServeInfo {
  readonly protocol = PROTOCOL_INFO;
  readonly remoteAddr: Conn["remoteAddr"];
  readonly localAddr: Conn["localAddr"];
  readonly secure: boolean;
  #controller: AbortController | null = null;
  #reason: unknown = undefined;
  #aborted = false;

  constructor(conn: Conn, private readonly completion: Completion) {
    this.remoteAddr = conn.remoteAddr;
    this.localAddr = conn.localAddr;
    this.secure = conn.secure;
  }

  get completed(): Promise<void> {
    return this.completion.promise;
  }

  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/** One request/response exchange on an HTTP/2 server connection. */
class ServerStream extends H2Stream implements Stream {
  readonly request: H2RequestHead;
  readonly info: H2ServeInfo;
  responded = false;
  handlerDone = false;
  /** Whether the request has a body (no END_STREAM on its HEADERS, no content-length 0). */
  hasBody = true;
  /** `info.completed`: resolved once our END_STREAM is framed, rejected if the stream fails first. */
  readonly completion: Completion = new Completion();
  /** The response's `content-length`, or -1: the body must match it (RFC 9113 section 8.1.1). */
  #declared = -1;
  readonly #server: ServerConnection;

  /**
   * What the request body failed with when the client's doing reset the stream (its
   * RST_STREAM, a frame of its that broke the protocol, a body that stopped coming): not the
   * handler's error, even when the handler throws it on (see `streamHandler`). A reset of our
   * own making (INTERNAL_ERROR, for a handler's fault) is none.
   */
  get requestBodyError(): unknown {
    const error = this.resetError;
    return error instanceof Http2Error && error.scope === "stream" &&
        error.code !== Http2ErrorCode.INTERNAL_ERROR
      ? error
      : undefined;
  }

  constructor(
    server: ServerConnection,
    id: number,
    request: H2RequestHead,
  ) {
    super(
      server,
      id,
      server.peerInitialWindowSize,
      server.initialRecvWindow(),
      server.settings.initialWindowSize,
    );
    this.#server = server;
    this.request = request;
    this.info = new H2ServeInfo(server.conn, this.completion);
  }

  get body(): ReadableStream<Uint8Array> {
    return this.inboundBody;
  }

  /** Appends the request header fields to `headers` (for a Request; see `toRequest`). */
  appendHeadersTo(headers: Headers): void {
    toHeaders(this.request.fields, headers);
  }

  get trailers(): Promise<Headers> {
    return this.inboundTrailers;
  }

  respond(
    status: number,
    headers?: HeadersInit,
    options?: { endStream?: boolean; statusText?: string },
  ): Promise<void> {
    return this.#respond(status, headers, options?.endStream === true, -1);
  }

  /**
   * A whole response at once, for bodies known up front (see `sendResponse`): the head
   * carries their `content-length`, as over HTTP/1.1, and the body goes out with END_STREAM.
   */
  respondWith(status: number, headers: Headers, body: Uint8Array | null): Promise<void> {
    const length = body === null ? -1 : body.byteLength;
    const sent = this.#respond(status, headers, length <= 0, length);
    if (length <= 0 || sent !== RESOLVED) return sent;
    // END_STREAM is queued behind the data (and rides on its last DATA frame).
    const written = this.#server.writeData(this, body!);
    const ended = this.end();
    if (written === RESOLVED) return ended;
    ended.catch(() => {}); // the write's failure is the one reported
    return written.then(() => ended);
  }

  #respond(
    status: number,
    headers: HeadersInit | undefined,
    endStream: boolean,
    bodyLength: number,
  ): Promise<void> {
    if (this.resetError !== null) return Promise.reject(this.resetError);
    if (this.responded) return Promise.reject(new TypeError("respond() was already called"));
    if (!Number.isInteger(status) || status < 100 || status > 999 || status === 101) {
      return Promise.reject(new RangeError(`invalid HTTP/2 status ${status}`));
    }
    const fields: [string, string][] = [[":status", String(status)]];
    try {
      appendFields(headers, fields);
    } catch (err) {
      return Promise.reject(err);
    }
    const bodiless = status === 204 || status === 304; // no content-length of a body either
    const head = this.request.method === "HEAD";
    const noBody = bodiless || head;
    const given = fields.findIndex(([name]) => name === "content-length");
    if (status >= 200 && !bodiless && bodyLength >= 0 && !(head && given !== -1)) {
      // The body's length replaces a handler's (a HEAD response keeps the GET's it was given).
      if (given !== -1) fields.splice(given, 1);
      fields.push(["content-length", String(bodyLength)]);
    } else if (status >= 200 && !noBody) {
      const length = given === -1 ? undefined : fields[given][1];
      if (length !== undefined) {
        if (!/^\d+$/.test(length)) {
          return Promise.reject(new TypeError(`invalid content-length ${length}`));
        }
        this.#declared = Number(length);
        if (endStream && this.#declared > 0) {
          return Promise.reject(new TypeError(`content-length ${length} with no body`));
        }
      }
    }
    if (this.#server.terminating) return handled(Promise.reject(this.#server.closedError()));
    if (status < 200) {
      // Informational (e.g. 103 Early Hints): more heads follow.
      this.#server.sendHeaders(this, fields, false);
      return RESOLVED;
    }
    this.responded = true;
    if (noBody) this.discardOutput = true;
    this.#server.sendHeaders(this, fields, endStream);
    return RESOLVED;
  }

  write(chunk: Uint8Array): Promise<void> {
    if (!this.responded) return Promise.reject(new TypeError("write() before respond()"));
    if (this.#declared >= 0 && this.queuedTotal + chunk.byteLength > this.#declared) {
      return this.#malformed("response body longer than its content-length");
    }
    return handled(this.#server.writeData(this, chunk));
  }

  /** A body that does not match its `content-length`: the stream is reset, the caller told. */
  #malformed(message: string): Promise<void> {
    const error = new Error(message);
    this.#server.resetStream(this, Http2ErrorCode.INTERNAL_ERROR, error);
    return Promise.reject(error);
  }

  end(trailers?: HeadersInit): Promise<void> {
    if (!this.responded) return Promise.reject(new TypeError("end() before respond()"));
    let list: [string, string][] | null = null;
    if (trailers !== undefined) {
      list = [];
      try {
        appendFields(trailers, list);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (this.#declared >= 0 && this.queuedTotal < this.#declared && this.resetError === null) {
      return this.#malformed("response body shorter than its content-length");
    }
    return handled(this.#server.endStream(this, list));
  }

  abort(reason?: unknown): void {
    if (this.state === StreamState.Closed) return;
    const code = reason instanceof Http2Error ? reason.code : Http2ErrorCode.CANCEL;
    this.#server.resetStream(
      this,
      code,
      reason ?? new Http2Error(code, `stream ${this.id} aborted`, {
        scope: "stream",
        streamId: this.id,
      }),
    );
  }

  override onClose(err: unknown): void {
    if (err !== null) this.info.abort(err);
    // A reset after our END_STREAM (RST_STREAM(NO_ERROR) to an upload not read) is no failure.
    if (err === null || this.localClosed) this.completion.resolve();
    else this.completion.reject(err);
  }
}

/** The server connection: accepts streams, validates requests, applies the limits. */
class ServerConnection extends Http2Connection {
  readonly #onStream: (stream: Stream) => void | Promise<void>;
  readonly #onError: (error: unknown) => void;
  readonly #idleTimeout: number;
  readonly #stallTimeout: number;
  readonly #bodyIdleTimeout: number;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #idleSince = 0;
  #prefaceTimer: ReturnType<typeof setTimeout> | null = null;
  /** Whether the timers keep the process alive (see `Server.unref`). */
  #refTimers = true;
  #scheme: string;
  #defaultAuthority: string;

  constructor(
    conn: Conn,
    onStream: (stream: Stream) => void | Promise<void>,
    options: Http2ServerOptions,
  ) {
    super(conn, {
      settings: options.settings,
      isServer: true,
      maxBufferedBytes: options.maxBufferedBytes ?? 16 * 1024 * 1024,
      limits: definedLimits(options),
      settingsTimeout: options.settingsTimeout,
      shutdownPingTimeout: options.shutdownPingTimeout,
    });
    this.#onStream = onStream;
    this.#onError = options.onError ?? ((err) => console.error("HTTP/2 handler failed:", err));
    this.#idleTimeout = options.idleTimeout ?? 60_000;
    this.#stallTimeout = options.stallTimeout ?? 60_000;
    this.#bodyIdleTimeout = options.bodyIdleTimeout ?? 30_000;
    this.#scheme = conn.secure ? "https" : "http";
    const local = conn.localAddr;
    this.#defaultAuthority = local.hostname
      ? (local.hostname.includes(":") ? `[${local.hostname}]` : local.hostname) +
        (local.port ? `:${local.port}` : "")
      : "localhost";
    const prefaceTimeout = options.prefaceTimeout ?? 10_000;
    if (prefaceTimeout > 0) {
      this.#prefaceTimer = setTimeout(() => {
        this.#prefaceTimer = null;
        this.terminate(
          connectionError(Http2ErrorCode.PROTOCOL_ERROR, "no client preface and SETTINGS in time"),
        );
      }, prefaceTimeout);
    }
    this.#idleSince = performance.now();
    this.#armIdle(this.#busyPeriod);
  }

  closedError(): Http2Error {
    return this.closeError ?? new Http2Error(Http2ErrorCode.CANCEL, "HTTP/2 connection closed");
  }

  /**
   * The watchdog period while streams are open: stalls and idle request bodies are noticed
   * within a quarter of their limits.
   */
  get #busyPeriod(): number {
    const periods = [this.#idleTimeout, this.#stallTimeout / 4, this.#bodyIdleTimeout / 4]
      .filter((t) => t > 0);
    return periods.length > 0 ? Math.min(...periods) : 0;
  }

  #armIdle(ms: number): void {
    if (ms <= 0 || this.terminating) return;
    this.#idleTimer = setTimeout(this.#onIdleTimer, ms);
    if (!this.#refTimers) unrefTimer(this.#idleTimer);
  }

  /** Whether the idle and preface timers keep the process alive (they do by default). */
  refTimers(ref: boolean): void {
    this.#refTimers = ref;
    for (const timer of [this.#idleTimer, this.#prefaceTimer]) {
      if (timer !== null) setTimerRef(timer, ref);
    }
  }

  #onIdleTimer = (): void => {
    this.#idleTimer = null;
    if (this.terminating) return;
    const now = performance.now();
    if (this.streams.size === 0) {
      if (this.#idleTimeout > 0) {
        const idle = now - this.#idleSince;
        if (idle >= this.#idleTimeout - 1) {
          this.shutdown();
          return;
        }
        this.#armIdle(Math.min(this.#idleTimeout - idle, this.#busyPeriod));
      } else this.#armIdle(this.#busyPeriod);
      return;
    }
    if (this.#stallTimeout > 0 && this.stalledFor(now) >= this.#stallTimeout) {
      this.terminate(
        connectionError(
          Http2ErrorCode.ENHANCE_YOUR_CALM,
          `sending stalled for ${
            Math.round(this.stalledFor(now))
          } ms (no window granted, or not read)`,
        ),
      );
      return;
    }
    if (this.#bodyIdleTimeout > 0) this.#resetIdleBodies(now);
    this.#armIdle(this.#busyPeriod);
  };

  /**
   * Resets the streams whose handler has waited `bodyIdleTimeout` for DATA the client could
   * send. Time the client spent held back by our own windows does not count.
   */
  #resetIdleBodies(now: number): void {
    const connBlocked = this.connRecv.window <= 0;
    for (const s of this.streams.values()) {
      const since = s.readWaitingSince;
      if (since === 0) continue;
      if (connBlocked || s.recv.window <= 0) {
        s.readWaitingSince = now;
        continue;
      }
      if (now - since < this.#bodyIdleTimeout) continue;
      const message = `request body idle for ${Math.round(now - since)} ms`;
      const error = new Http2Error(Http2ErrorCode.CANCEL, message, {
        scope: "stream",
        streamId: s.id,
      });
      this.resetStream(s, Http2ErrorCode.CANCEL, error);
    }
  }

  protected override onPrefaceComplete(): void {
    if (this.#prefaceTimer !== null) {
      clearTimeout(this.#prefaceTimer);
      this.#prefaceTimer = null;
    }
  }

  protected override onNewStream(
    f: HeadersFrame,
    fields: [string, string][] | null,
    tooLarge: HpackError | null,
  ): void {
    const id = f.streamId;
    if (this.goAwaySent) {
      // After our GOAWAY: not processed; the client may retry it elsewhere.
      this.refuseStream(id, Http2ErrorCode.REFUSED_STREAM);
      return;
    }
    if (this.streams.size >= this.settings.maxConcurrentStreams) {
      this.refuseStream(id, Http2ErrorCode.REFUSED_STREAM);
      return;
    }
    if (f.priority !== null && f.priority.dependency === id) {
      this.refuseStream(id, Http2ErrorCode.PROTOCOL_ERROR);
      return;
    }
    if (tooLarge !== null) {
      this.#reject431(f);
      return;
    }
    const parts = parseRequest(fields!);
    if (typeof parts === "string") {
      this.refuseStream(id, Http2ErrorCode.PROTOCOL_ERROR);
      return;
    }
    const authority = parts.authority || this.#defaultAuthority;
    const url = parts.method === "CONNECT"
      ? `${this.#scheme}://${authority}`
      : parts.path === "*"
      ? `${parts.scheme}://${authority}`
      : `${parts.scheme}://${authority}${parts.path}`;
    const head = new H2RequestHead(parts.method, parts.path, url, parts.fields);
    const s = new ServerStream(this, id, head);
    s.contentLength = parts.contentLength;
    s.hasBody = !f.endStream && parts.contentLength !== 0;
    s.state = recvHeaders(StreamState.Idle, f.endStream)!;
    this.addStream(s);
    this.lastProcessedPeerStreamId = id;
    if (f.endStream) {
      if (parts.contentLength > 0) {
        // Declared a body but sent none.
        this.resetStream(s, Http2ErrorCode.PROTOCOL_ERROR);
        return;
      }
      s.endInbound(null);
    }
    this.#run(s);
  }

  #reject431(f: HeadersFrame): void {
    const s = new H2Stream(
      this,
      f.streamId,
      this.peerInitialWindowSize,
      this.initialRecvWindow(),
      this.settings.initialWindowSize,
    );
    s.state = recvHeaders(StreamState.Idle, f.endStream)!;
    this.addStream(s);
    this.lastProcessedPeerStreamId = f.streamId;
    this.countControlFrame();
    this.sendHeaders(s, [[":status", "431"]], true);
    if (s.state !== StreamState.Closed) this.resetStream(s, Http2ErrorCode.NO_ERROR);
  }

  #run(s: ServerStream): void {
    let result: void | Promise<void>;
    try {
      result = this.#onStream(s);
    } catch (err) {
      this.#handlerFailed(s, err);
      return;
    }
    if (result !== undefined && typeof (result as Promise<void>).then === "function") {
      (result as Promise<void>).then(
        () => this.#handlerFinished(s),
        (err) => this.#handlerFailed(s, err),
      );
    } else this.#handlerFinished(s);
  }

  /** As over HTTP/1.1, the exchange ends with its handler: 500 if it did not respond, else `end()`. */
  #handlerFinished(s: ServerStream): void {
    s.handlerDone = true;
    if (s.state !== StreamState.Closed && !this.terminating) {
      if (!s.responded) {
        s.completion.reject(new Error("the handler returned without a response"));
        s.responded = true;
        this.sendHeaders(s, [[":status", "500"]], true);
      } else if (!s.localClosed) this.endStream(s, null).catch(() => {});
    }
    this.#stopUpload(s);
  }

  #handlerFailed(s: ServerStream, err: unknown): void {
    s.handlerDone = true;
    s.completion.reject(err);
    if (s.state !== StreamState.Closed && !this.terminating) {
      if (!s.responded) {
        s.responded = true;
        this.sendHeaders(s, [[":status", "500"]], true);
        this.#stopUpload(s);
      } else this.resetStream(s, Http2ErrorCode.INTERNAL_ERROR, err);
    }
    if (!(err instanceof Http2Error && err.scope === "stream" && err.streamId === s.id)) {
      this.#onError(err);
    }
  }

  /** After a complete response, a request body still coming is not wanted: RST_STREAM(NO_ERROR). */
  #stopUpload(s: ServerStream): void {
    if (s.localClosed && s.handlerDone && canRecv(s.state) && !this.terminating) {
      this.resetStream(s, Http2ErrorCode.NO_ERROR);
    }
  }

  protected override onLocalEnd(s: H2Stream): void {
    if (!(s instanceof ServerStream)) return;
    s.completion.resolve();
    this.#stopUpload(s);
  }

  protected override onStreamHeaders(
    s: H2Stream,
    f: HeadersFrame,
    fields: [string, string][],
  ): void {
    // On an open request stream, HEADERS can only be trailers, which end the stream.
    if (!f.endStream) {
      throw new Http2Error(
        Http2ErrorCode.PROTOCOL_ERROR,
        `HEADERS without END_STREAM after the request head on stream ${s.id}`,
        { scope: "stream", streamId: s.id },
      );
    }
    const trailers = parseTrailers(fields);
    if (typeof trailers === "string") {
      throw new Http2Error(Http2ErrorCode.PROTOCOL_ERROR, trailers, {
        scope: "stream",
        streamId: s.id,
      });
    }
    this.recvEnd(s, trailers);
  }

  protected override onStreamClosed(_s: H2Stream): void {
    if (this.streams.size === 0) this.#idleSince = performance.now();
  }

  protected override onTransportClosed(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    if (this.#prefaceTimer !== null) clearTimeout(this.#prefaceTimer);
    this.#idleTimer = this.#prefaceTimer = null;
  }
}

/**
 * Runs one HTTP/2 server connection over `conn` until it ends, handing each request to
 * `onStream`. The connection's own preface (SETTINGS) is sent at once.
 *
 * Returns a handle rather than a bare promise so the caller can shut the connection down:
 * `closed` resolves when the connection is closed (it never rejects; protocol errors end
 * the connection with GOAWAY), `shutdown()` is a graceful close (as aborting
 * `options.signal` is), `forceClose()` an immediate one.
 *
 * @param conn The accepted connection (TLS with ALPN `h2`, or cleartext by prior knowledge).
 * @param onStream Called for each request; a rejection answers 500 (or resets the stream
 *   when the response has started).
 * @param options Settings, shutdown signal, sniffed bytes, timeouts and attack limits.
 * @returns The running connection.
 *
 * @example
 * ```ts
 * import { memoryPair } from "../conn/memory.ts";
 * import { HTTP2Settings } from "./settings.ts";
 * import { serveHttp2 } from "./server_connection.ts";
 *
 * const [, serverSide] = memoryPair();
 * const h2 = serveHttp2(serverSide, async (stream) => {
 *   await stream.respond(200, { "content-type": "text/plain" });
 *   await stream.write(new TextEncoder().encode("hello"));
 *   await stream.end();
 * }, { settings: new HTTP2Settings() });
 * h2.shutdown();
 * await h2.closed;
 * ```
 */
export function serveHttp2(
  conn: Conn,
  onStream: (stream: Stream) => void | Promise<void>,
  options: Http2ServerOptions,
): Http2ServerConnection {
  const server = new ServerConnection(conn, onStream, options);
  const signal = options.signal;
  let onAbort: (() => void) | null = null;
  if (signal !== undefined) {
    if (signal.aborted) queueMicrotask(() => server.shutdown());
    else {
      onAbort = () => server.shutdown();
      signal.addEventListener("abort", onAbort, { once: true });
    }
  }
  const closed = server.finished.then(() => {
    if (onAbort !== null) signal!.removeEventListener("abort", onAbort);
  });
  server.start(options.prefaceRead);
  return {
    closed,
    shutdown: () => server.shutdown(),
    forceClose: () => server.forceClose(),
    ref: () => server.refTimers(true),
    unref: () => server.refTimers(false),
    get activeStreams() {
      return server.streams.size;
    },
  };
}
