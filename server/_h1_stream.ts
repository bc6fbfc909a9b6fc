import type { Addr, Conn } from "../conn/types.ts";
import type { BufferedReader } from "../http1/buffered_reader.ts";
import { BodyReader, bodyStream } from "../http1/body_reader.ts";
import { encodeChunk, encodeLastChunk } from "../http1/chunked.ts";
import { type ParsedRequest, toHeaders } from "../http1/parse.ts";
import { encodeLatin1, encodeLatin1Into, responseHead } from "../http1/serialize.ts";
import { eachField } from "../http1/_fields.ts";
import { allocBytes } from "../conn/_slab.ts";
import { ignore, RESOLVED } from "../conn/_settled.ts";
import { httpDate } from "./_date.ts";
import type { RequestHead, ServeInfo, Stream } from "./stream.ts";
import type { UpgradedConn } from "./_upgrade.ts";
import { Completion } from "./_completion.ts";
import type { Deadline, Deadlines } from "./_deadlines.ts";
import type { WriteWatch } from "./_write_watch.ts";
import { WriteChain } from "../conn/_write_chain.ts";

const CONTINUE = encodeLatin1("HTTP/1.1 100 Continue\r\n\r\n");

/** Microtask turns a held response head waits for the first body bytes (see `respond`). */
const HOLD_HEAD_TURNS = 4;

/**
 * Body bytes up to which the held head and the first chunk are copied into one buffer;
 * above it they go to the connection's vectored write (one system call on Node; on Deno,
 * one write of a pooled copy below 256 KiB), or are two writes without one.
 */
const COPY_WITH_HEAD_LIMIT = 16 * 1024;

/**
 * The most bytes of one write while writes are watched for stalls (see `WriteWatch`): a
 * larger response body goes out in pieces, so that a slow client's progress shows.
 */
const WRITE_PIECE = 1024 * 1024;

/** Writes `a` then `b`: in one vectored write when the connection has one. */
function writeTwo(conn: Conn, a: Uint8Array, b: Uint8Array): Promise<void> {
  if (conn.writev !== undefined) return conn.writev([a, b]);
  conn.write(a).catch(ignore); // a failure shows in the second write too
  return conn.write(b);
}

/** Where the response of an exchange is. */
type ResponseState = "head" | "body" | "done" | "upgraded";

/** How the response body is delimited on the wire. */
type ResponseFraming = "none" | "length" | "chunked" | "close";

function noBodyStatus(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/**
 * The absolute URL of a request: an origin-form target (`/path`) on `Host` (or, without one,
 * the local address `local`), `*` on the host, an authority-form target (CONNECT) as an
 * origin, and an absolute-form target as it is (the parser lets no other form through).
 */
export function requestUrl(parsed: ParsedRequest, scheme: string, local: string): string {
  const { target, host } = parsed;
  if (target.charCodeAt(0) === 47 /* / */) return `${scheme}://${host || local}${target}`;
  if (target === "*") return `${scheme}://${host || local}/*`;
  if (parsed.method === "CONNECT") return `${scheme}://${target}/`;
  return target;
}

/** A request head whose URL and `Headers` are made on first use (classes: object literals with getters cost more). */
class H1RequestHead implements RequestHead {
  readonly method: string;
  readonly target: string;
  #headers: Headers | null = null;
  #url: string | null;
  constructor(private readonly parsed: ParsedRequest, url: string | null, readonly where: Where) {
    this.method = parsed.method;
    this.target = parsed.target;
    this.#url = url;
  }
  get url(): string {
    return this.#url ??= requestUrl(this.parsed, this.where.scheme, this.where.local);
  }
  get headers(): Headers {
    return this.#headers ??= toHeaders(this.parsed.fields);
  }
}

/** Where a connection is: its addresses, and what a request URL is made of. */
export interface Where extends Pick<ServeInfo, "remoteAddr" | "localAddr" | "secure"> {
  /** `http` or `https`. */
  scheme: string;
  /** The local address as a URL's host, for requests without a Host. */
  local: string;
}

/** An exchange's ServeInfo, whose `signal` (an AbortController) is made on first use. */
class H1ServeInfo implements ServeInfo {
  readonly remoteAddr: Addr;
  readonly localAddr: Addr;
  readonly secure: boolean;
  constructor(
    private readonly stream: H1Stream,
    addrs: Where,
    readonly protocol: "HTTP/1.0" | "HTTP/1.1",
  ) {
    this.remoteAddr = addrs.remoteAddr;
    this.localAddr = addrs.localAddr;
    this.secure = addrs.secure;
  }
  get signal(): AbortSignal {
    this.stream.watchPeer(); // a handler that looks at the signal wants to know
    return this.stream.controller.signal;
  }
  get completed(): Promise<void> {
    return this.stream.completion.promise;
  }
}

/** One HTTP/1.1 request/response exchange in the {@linkcode Stream} shape. */
export class H1Stream implements Stream {
  readonly request: RequestHead;
  #info: ServeInfo | null = null;
  #trailers: Promise<Headers> | null = null;
  #controller: AbortController | null = null;
  /** `info.completed`: settled by the connection once the exchange is over. */
  readonly completion: Completion = new Completion();
  /** Whether the connection may carry another exchange after this one. */
  keepAlive: boolean;
  /** Whether a write to the connection failed (the client went away). */
  broken = false;
  #state: ResponseState = "head";
  #framing: ResponseFraming = "none";
  #remaining = 0;
  #bodyReader: BodyReader;
  #body: ReadableStream<Uint8Array> | null = null;
  #bodyError: unknown = undefined;
  #continueSent = false;
  #resolveTrailers!: (headers: Headers) => void;
  /** The response head that respond() holds back for the first body bytes (see there). */
  #heldHead: string | null = null;
  /** 0: nobody asked; 1: watch the connection once the body is read (`watchPeer`); 2: watching. */
  #watch: 0 | 1 | 2 = 0;
  /** Armed while the request body is read (see `bodyIdleTimeout`); made on first use. */
  #bodyDeadline: (Deadline & { disarm: () => void }) | null = null;
  /** Microtask turns left before a held head goes out on its own (see `#releaseHeadSoon`). */
  #turns = 0;
  /** Orders the writes made while a large one goes out in pieces (see `#send`); made then. */
  #chain: WriteChain | null = null;
  /** Whether the handler's synchronous part runs (see `runHandler`). */
  #inHandler = false;

  constructor(
    readonly conn: Conn,
    readonly reader: BufferedReader,
    readonly parsed: ParsedRequest,
    url: string | null,
    private readonly where: Where,
    private readonly bodyIdle: { deadlines: Deadlines; ms: number } | null = null,
    private readonly writeWatch: WriteWatch | null = null,
  ) {
    this.request = new H1RequestHead(parsed, url, where);
    this.keepAlive = parsed.keepAlive;
    this.#bodyReader = new BodyReader(reader, parsed.framing);
    if (parsed.framing.kind === "chunked") {
      this.#trailers = new Promise((resolve) => (this.#resolveTrailers = resolve));
    }
  }

  get info(): ServeInfo {
    return this.#info ??= new H1ServeInfo(
      this,
      this.where,
      this.parsed.minor === 0 ? "HTTP/1.0" : "HTTP/1.1",
    );
  }

  get controller(): AbortController {
    return this.#controller ??= new AbortController();
  }

  get trailers(): Promise<Headers> {
    return this.#trailers ??= Promise.resolve(new Headers());
  }

  /** Appends the request header fields to `headers` (for a Request; see `toRequest`). */
  appendHeadersTo(headers: Headers): void {
    toHeaders(this.parsed.fields, headers);
  }

  /** Whether the request has a body at all. */
  get hasBody(): boolean {
    return this.parsed.framing.kind !== "none";
  }

  get body(): ReadableStream<Uint8Array> {
    if (this.#body !== null) return this.#body;
    const failed = (error: unknown): never => {
      this.#bodyError = error;
      throw error;
    };
    this.#body = bodyStream({ read: () => this.#timed(this.#bodyReader.read()).catch(failed) }, {
      onFirstPull: () => this.#sendContinue(),
      onEnd: (error) => {
        if (error !== undefined) this.keepAlive = false;
        this.#resolveTrailers?.(toHeaders(this.#bodyReader.trailers));
        if (this.#watch === 1) this.watchPeer();
      },
    });
    return this.#body;
  }

  /**
   * What reading the request body failed with, if it did: a malformed chunked body, one cut
   * short, one that stopped coming. The client's fault, not the handler's, even when the
   * handler throws it on (see `streamHandler`, `serveHttp1`).
   */
  get requestBodyError(): unknown {
    return this.#bodyError;
  }

  get responded(): boolean {
    return this.#state !== "head";
  }

  /** Whether the response has been written in full. */
  get finished(): boolean {
    return this.#state === "done" || this.#state === "upgraded";
  }

  /** Whether the connection was handed over to another protocol. */
  get upgraded(): boolean {
    return this.#state === "upgraded";
  }

  /** Whether the request body was read to its end. */
  get bodyFinished(): boolean {
    return this.#bodyReader.finished;
  }

  /**
   * Writes to the connection; a failure means the client is gone: abort the exchange. The
   * write's own promise is returned, with that handled on it, so a caller may leave it
   * unawaited (as node:http's `res.write()` is) without an unhandled rejection. A write of
   * more than `WRITE_PIECE` goes out in pieces while writes are watched for stalls, and the
   * writes made meanwhile wait behind it, in order.
   */
  #send(bytes: Uint8Array, more?: Uint8Array): Promise<void> {
    const large = this.writeWatch !== null &&
      bytes.byteLength + (more?.byteLength ?? 0) > WRITE_PIECE;
    if (!large && !this.#chain?.busy) return this.#write(bytes, more);
    const task = large
      ? () => this.#writeInPieces(more === undefined ? [bytes] : [bytes, more])
      : () => this.#write(bytes, more);
    return (this.#chain ??= new WriteChain()).run(task);
  }

  /** One write to the connection, watched for stalls (see `WriteWatch`). */
  #write(bytes: Uint8Array, more?: Uint8Array): Promise<void> {
    const written = more === undefined ? this.conn.write(bytes) : writeTwo(this.conn, bytes, more);
    const watch = this.writeWatch;
    watch?.started();
    written.then(watch?.settled, this.#sendFailed); // which settles the watch too
    return written;
  }

  /** Writes `parts` one `WRITE_PIECE` at a time, each one's completion a sign of progress. */
  async #writeInPieces(parts: Uint8Array[]): Promise<void> {
    for (const part of parts) {
      for (let at = 0; at < part.byteLength; at += WRITE_PIECE) {
        await this.#write(part.subarray(at, at + WRITE_PIECE));
      }
    }
  }

  #sendFailed = (error: unknown): void => {
    this.writeWatch?.settled(); // a watched write is over
    this.broken = true;
    this.keepAlive = false;
    this.completion.reject(error);
    this.controller.abort(error);
  };

  /**
   * Notices the client closing the connection while the response is under way: once the
   * request body is read, the connection is read on (the bytes, if any, are the next
   * request's); its end, or an error, cuts the exchange off: `info.signal` aborts and a
   * response body that is waited for is cancelled. Hyper does the same by default (no
   * half-closed connections). Not for requests that may switch protocols, whose bytes after
   * the head belong to the new protocol.
   */
  watchPeer(): void {
    if (this.#watch === 2 || this.finished) return;
    if (this.parsed.upgrade !== null || this.parsed.method === "CONNECT") return;
    if (!this.#bodyReader.finished) {
      this.#watch = 1; // started when the body ends
      return;
    }
    this.#watch = 2;
    this.reader.fill().then((more) => {
      if (!more) this.#peerGone(new Error("the client closed the connection"));
    }, (error) => this.#peerGone(error));
  }

  #peerGone(reason: unknown): void {
    if (this.finished) return; // the response was out already
    this.broken = true;
    this.abort(reason);
  }

  /** Reads and drops what is left of the request body, up to `maxBytes`; true if it ended. */
  discardBody(maxBytes: number): Promise<boolean> {
    return this.#timed(this.#bodyReader.discard(maxBytes));
  }

  /** `reading`, with the body idle deadline armed until it settles. */
  #timed<T>(reading: Promise<T>): Promise<T> {
    const idle = this.bodyIdle;
    if (idle === null || !(idle.ms > 0)) return reading;
    const deadline = this.#bodyDeadline ??= {
      at: 0,
      queued: false,
      expire: () => {
        // The client stopped sending: its failure, not the handler's (nothing is reported).
        this.broken = true;
        this.abort(new Error("request body idle timeout"));
      },
      disarm: () => idle.deadlines.disarm(deadline),
    };
    idle.deadlines.arm(deadline, idle.ms);
    reading.then(deadline.disarm, deadline.disarm);
    return reading;
  }

  async #sendContinue(): Promise<void> {
    if (!this.parsed.expectContinue || this.#continueSent || this.#state !== "head") return;
    this.#continueSent = true;
    await this.#send(CONTINUE);
  }

  /** Builds the response head and settles the body framing. */
  #head(
    status: number,
    init: HeadersInit | undefined,
    endStream: boolean,
    statusText = "",
    bodyLength = -1,
  ): string {
    if (this.#state !== "head") throw new Error("response already started");
    // One pass over the fields: the lines to send, and the fields that decide the framing.
    let lines = "";
    let connection: string | null = null;
    let length: string | null = null;
    let hasDate = false;
    eachField(init, (name, value) => {
      switch (name) {
        case "connection":
          connection = value;
          return;
        case "transfer-encoding":
        case "keep-alive":
          return;
        case "content-length":
          if (bodyLength >= 0) return;
          length = value;
          break;
        case "date":
          hasDate = true;
          break;
      }
      lines += name + ": " + value + "\r\n";
    });
    if (bodyLength >= 0) {
      length = String(bodyLength);
      lines += "content-length: " + length + "\r\n";
    }
    if (connection && /(^|,)\s*close\s*(,|$)/i.test(connection)) this.keepAlive = false;
    let extra = lines;
    if (this.parsed.method === "HEAD" || noBodyStatus(status)) {
      this.#framing = "none";
    } else if (length !== null) {
      this.#framing = "length";
      this.#remaining = Number(length);
      if (!/^\d+$/.test(length)) throw new TypeError(`invalid content-length ${length}`);
      if (endStream && this.#remaining > 0) {
        throw new TypeError(`content-length ${length} with no body`);
      }
    } else if (endStream) {
      this.#framing = "none";
      extra += "content-length: 0\r\n";
    } else if (this.parsed.minor >= 1) {
      this.#framing = "chunked";
      extra += "transfer-encoding: chunked\r\n";
    } else {
      this.#framing = "close";
      this.keepAlive = false;
    }
    if (!hasDate) extra += "date: " + httpDate() + "\r\n";
    if (!this.keepAlive) extra += "connection: close\r\n";
    else if (this.parsed.minor === 0) extra += "connection: keep-alive\r\n";
    this.#state = "body";
    return responseHead(status, statusText, null, extra);
  }

  /**
   * Sends the response head. Unless the response ends here, the head is held back for a
   * few microtask turns so that it goes out in one write with the first body bytes (as
   * node:http's `writeHead` does), which halves the writes of a small response.
   */
  respond(
    status: number,
    headers?: HeadersInit,
    options: { endStream?: boolean; statusText?: string } = {},
  ): Promise<void> {
    let head: string;
    try {
      head = this.#head(status, headers, options.endStream === true, options.statusText);
    } catch (error) {
      return Promise.reject(error);
    }
    if (options.endStream) {
      this.#state = "done";
      return this.#send(encodeLatin1(head));
    }
    this.#heldHead = head;
    if (!this.#inHandler) this.#releaseHeadSoon();
    return RESOLVED;
  }

  /**
   * Calls `handler` with this exchange. A head that `respond()` holds while the handler's
   * synchronous part runs starts its turns when that part is over, if the body has not
   * carried it out by then: a handler that writes its body at once costs no turn.
   */
  runHandler(handler: (stream: Stream) => void | Promise<void>): void | Promise<void> {
    this.#inHandler = true;
    try {
      return handler(this);
    } finally {
      this.#inHandler = false;
      if (this.#heldHead !== null) this.#releaseHeadSoon();
    }
  }

  /**
   * Sends the held head on its own if no body bytes came to carry it within a few turns
   * (each turn one reaction on a settled promise, not an async function's await).
   */
  #releaseHeadSoon(): void {
    this.#turns = HOLD_HEAD_TURNS;
    RESOLVED.then(this.#turn);
  }

  #turn = (): void => {
    if (this.#heldHead === null) return; // it went out with body bytes
    if (--this.#turns > 0) {
      RESOLVED.then(this.#turn);
      return;
    }
    // A failure is seen by the next write, or ends the exchange.
    this.#releaseHead().catch(ignore);
  };

  /** Sends the held head, if any; resolves once it is written. */
  #releaseHead(): Promise<void> {
    if (this.#heldHead === null) return RESOLVED;
    const head = encodeLatin1(this.#heldHead);
    this.#heldHead = null;
    return this.#send(head);
  }

  /** Sends body bytes, with the held head in front of them if it has not gone out yet. */
  #sendBody(bytes: Uint8Array): Promise<void> {
    const head = this.#heldHead;
    if (head === null) return this.#send(bytes);
    this.#heldHead = null;
    if (bytes.byteLength > COPY_WITH_HEAD_LIMIT) return this.#send(encodeLatin1(head), bytes);
    const out = allocBytes(head.length + bytes.byteLength);
    encodeLatin1Into(head, out);
    out.set(bytes, head.length);
    return this.#send(out);
  }

  /**
   * Sends a whole response at once (one write, or head and body back to back when the body is
   * large): the fast path for bodies known up front. `body` sets the content-length.
   */
  respondWith(
    status: number,
    headers: Headers,
    body: Uint8Array | null,
    statusText?: string,
  ): Promise<void> {
    // The body's length, which replaces a handler's content-length; but a HEAD response
    // keeps the one its handler gave (that of the GET).
    const sized = body !== null && !noBodyStatus(status) &&
      !(this.parsed.method === "HEAD" && headers.has("content-length"));
    const bodyLength = sized ? body.byteLength : -1;
    let text: string;
    try {
      text = this.#head(status, headers, body === null, statusText, bodyLength);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#state = "done";
    if (body === null || body.byteLength === 0 || this.#framing === "none") {
      return this.#send(encodeLatin1(text));
    }
    this.#heldHead = text;
    return this.#sendBody(body);
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== "body") {
      return Promise.reject(
        new Error(this.#state === "head" ? "respond() first" : "response ended"),
      );
    }
    if (chunk.byteLength === 0 || this.#framing === "none") return RESOLVED;
    if (this.#framing === "chunked") return this.#sendBody(encodeChunk(chunk));
    if (this.#framing === "length") {
      if (chunk.byteLength > this.#remaining) {
        this.abort();
        return Promise.reject(new Error("response body longer than its content-length"));
      }
      this.#remaining -= chunk.byteLength;
    }
    return this.#sendBody(chunk);
  }

  end(trailers?: HeadersInit): Promise<void> {
    if (this.#state === "head") return this.respond(200, undefined, { endStream: true });
    if (this.#state !== "body") return RESOLVED;
    this.#state = "done";
    if (this.#framing === "chunked") {
      let last: Uint8Array;
      try {
        last = encodeLastChunk(trailers ? new Headers(trailers) : undefined);
      } catch (error) {
        return Promise.reject(error);
      }
      return this.#sendBody(last);
    }
    const short = this.#framing === "length" && this.#remaining > 0;
    if (this.#heldHead === null) return short ? this.#endShort() : RESOLVED;
    // Written before end() settles: the connection may be closed right after it.
    const released = this.#releaseHead();
    return short ? released.then(() => this.#endShort()) : released;
  }

  /** Ends a body shorter than its content-length: the connection cannot be reused. */
  #endShort(): Promise<never> {
    this.keepAlive = false;
    const error = new Error("response body shorter than its content-length");
    this.completion.reject(error);
    return Promise.reject(error);
  }

  abort(reason?: unknown): void {
    this.completion.reject(reason ?? new Error("the exchange was aborted"));
    this.#heldHead = null;
    this.keepAlive = false;
    if (this.#state !== "upgraded") this.#state = "done";
    this.controller.abort(reason);
    this.conn.close();
  }

  /** Sends the switching head and hands the connection over (see `server/_upgrade.ts`). */
  async upgrade(status: number, headers: Headers): Promise<UpgradedConn> {
    if (this.#state !== "head") throw new Error("response already started");
    const head = responseHead(status, "", headers);
    this.#state = "upgraded";
    this.keepAlive = false;
    await this.#send(encodeLatin1(head));
    return { conn: this.conn, head: this.reader.takeBuffered() };
  }
}
