/**
 * {@linkcode H1ClientConnection}: the client side of one HTTP/1.1 connection, in the
 * {@linkcode ProtocolConnection} shape the pool expects of both HTTP versions.
 *
 * @module
 */
import type { Conn } from "../conn/types.ts";
import {
  BufferedReader,
  concat,
  HeadTooLargeError,
  UnexpectedEofError,
} from "../http1/buffered_reader.ts";
import { BodyReader } from "../http1/body_reader.ts";
import { encodeChunk, encodeLastChunk } from "../http1/chunked.ts";
import {
  HttpParseError,
  type ParsedResponse,
  parseResponseHead,
  responseFraming,
  toHeaders,
} from "../http1/parse.ts";
import { encodeLatin1 } from "../http1/serialize.ts";
import { eachHeader } from "../http1/_fields.ts";
import type { ProtocolConnection, ProtocolRequest, ProtocolResponse } from "./_protocol.ts";
import { ConnectionClosedError } from "./errors.ts";
import { setRef } from "./_ref.ts";

/** Options of {@linkcode H1ClientConnection}. */
export interface H1ConnectionOptions {
  /**
   * Send the absolute URL as the request target (`GET http://host/path HTTP/1.1`), as a
   * forward proxy expects. Default `false` (origin form, `GET /path HTTP/1.1`).
   */
  absoluteForm?: boolean;
  /** A `Proxy-Authorization` value sent with every request (forward proxying). */
  proxyAuthorization?: string;
  /** The largest response head accepted, in bytes. Default 256 KiB. */
  maxHeadSize?: number;
  /** The most header fields in a response head. Default 500. */
  maxHeaderCount?: number;
  /**
   * With `Expect: 100-continue`, how long to wait for the server's `100 Continue` before
   * sending the body anyway, in milliseconds. Default 1000.
   */
  expectContinueTimeout?: number;
}

/** Bodies up to this size go out in the same write as the head. */
const COALESCE_LIMIT = 64 * 1024;
/** Stream chunks up to this size are framed by copying; larger ones go out in three writes. */
const COPY_CHUNK_LIMIT = 64 * 1024;
const CRLF = new Uint8Array([13, 10]);
const NEEDS_LENGTH = new Set(["POST", "PUT", "PATCH"]);
const DIGITS = /^\d{1,15}$/;
const noop = () => {};

/** An error of the caller's request body stream (not of the connection). */
class SourceError {
  constructor(readonly error: unknown) {}
}

/** The state of one request/response exchange. */
class Exchange {
  /** Why the exchange was aborted: the signal's reason or the body source's error. */
  error: unknown = undefined;
  aborted = false;
  /** A write to the connection failed (the peer may still have answered). */
  writeError: unknown = undefined;
  /** Whether a streamed body has been read from (it can no longer be replayed). */
  bodyStarted = false;
  /** Whether the whole request, body included, has been written. */
  sendDone = false;
  /** Whether the exchange has let go of the connection. */
  finished = false;
  /** Whether the response body has ended (read to its end, failed, or cancelled). */
  ended = false;
  source: ReadableStreamDefaultReader<Uint8Array> | null = null;
  bodyController: ReadableStreamDefaultController<Uint8Array> | null = null;
  rejectTrailers: ((reason: unknown) => void) | null = null;
  continueWaiter: ((proceed: boolean) => void) | null = null;
  removeAbortListener: (() => void) | null = null;

  proceed(go: boolean): void {
    this.continueWaiter?.(go);
  }
}

interface Head {
  bytes: Uint8Array;
  /** The declared length of a streamed body, or `null` for chunked. */
  length: number | null;
  expectContinue: boolean;
  keepAlive: boolean;
}

/**
 * The client side of one HTTP/1.1 connection: one exchange at a time, kept for the next
 * when both sides allow it.
 *
 * A request's head and a small body go out in one write; a streamed body is pulled chunk
 * by chunk as the connection takes it (chunked unless the caller set `content-length`,
 * trailers after the last chunk). `1xx` responses are skipped (`101` is returned and ends
 * the connection); `Expect: 100-continue` holds the body back until the server's `100`, a
 * final answer (the body is then not sent), or `expectContinueTimeout`. The response body
 * is read from the connection only as its consumer reads. The connection is `available`
 * again once that body has been read to its end and the request fully sent, unless either
 * side said `connection: close`, the body ran to the end of the connection, or something
 * failed; then it closes. An aborted `signal` rejects the request, or errors the response
 * body, with `signal.reason` and closes the connection.
 *
 * @example
 * ```ts
 * import { memoryPair } from "../conn/memory.ts";
 * import { H1ClientConnection } from "./h1_connection.ts";
 *
 * const [client, server] = memoryPair();
 * const h1 = new H1ClientConnection(client);
 * const pending = h1.request({
 *   method: "GET",
 *   url: new URL("http://example.com/"),
 *   headers: new Headers(),
 *   body: null,
 * });
 * await server.read(); // "GET / HTTP/1.1\r\nhost: example.com\r\n\r\n"
 * await server.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi"));
 * const response = await pending;
 * console.log(response.status, await new Response(response.body).text()); // 200 "hi"
 * console.log(h1.available); // true
 * h1.close();
 * ```
 */
export class H1ClientConnection implements ProtocolConnection {
  /** Always `"h1"`. */
  readonly protocol: "h1" = "h1";
  /** Called when the connection becomes available again or closes. */
  onStateChange?: () => void;
  /** The underlying connection. */
  readonly conn: Conn;
  #reader: BufferedReader;
  #absoluteForm: boolean;
  #proxyAuthorization: string | undefined;
  #maxHeadSize: number;
  #maxHeaderCount: number;
  #expectContinueTimeout: number;
  #busy = false;
  #closed = false;
  #requests = 0;
  /** The read that waits on an idle connection (for the next response, or the peer's close). */
  #idlePoll: Promise<void> | null = null;
  #idleError: unknown = undefined;

  /**

   * Wraps an open connection.
   * @param conn An open connection to the origin (or to a forward proxy).
   * @param options Request-target form, proxy credentials, limits.
   */
  constructor(conn: Conn, options: H1ConnectionOptions = {}) {
    this.conn = conn;
    this.#reader = new BufferedReader(conn);
    this.#absoluteForm = options.absoluteForm ?? false;
    this.#proxyAuthorization = options.proxyAuthorization;
    this.#maxHeadSize = options.maxHeadSize ?? 256 * 1024;
    this.#maxHeaderCount = options.maxHeaderCount ?? 500;
    this.#expectContinueTimeout = options.expectContinueTimeout ?? 1000;
  }

  /** Whether a request can start now: open and no exchange in flight. */
  get available(): boolean {
    return !this.#busy && !this.#closed;
  }

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** 1 while an exchange is in flight, else 0. */
  get activeRequests(): number {
    return this.#busy ? 1 : 0;
  }

  /** Resolves once the connection is closed and its pending read (if any) has settled. */
  get finished(): Promise<void> {
    return this.#idlePoll ?? Promise.resolve();
  }

  /** How many requests this connection has started. */
  get requestCount(): number {
    return this.#requests;
  }

  /**
   * Starts a request. Call it only while {@linkcode available}.
   *
   * @param request The request.
   * @returns The response, once its head has arrived; its body streams from the connection.
   */
  request(request: ProtocolRequest): Promise<ProtocolResponse> {
    if (this.#closed) {
      return Promise.reject(new ConnectionClosedError(this.#requests > 0, false));
    }
    if (this.#busy) {
      return Promise.reject(new Error("H1ClientConnection: an exchange is already in flight"));
    }
    if (request.signal?.aborted) return Promise.reject(request.signal.reason);
    let head: Head;
    try {
      head = this.#head(request);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#busy = true;
    const reused = this.#requests > 0;
    if (reused) setRef(this.conn, true);
    this.#requests++;
    return this.#exchange(request, head, reused);
  }

  /** Closes the connection at once; an exchange in flight fails. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#busy = false;
    this.conn.close();
    this.onStateChange?.();
  }

  #head(req: ProtocolRequest): Head {
    const { method, url, headers, body } = req;
    const target = this.#absoluteForm
      ? `${url.protocol}//${url.host}${url.pathname}${url.search}`
      : url.pathname + url.search;
    let text = `${method} ${target} HTTP/1.1\r\nhost: ${headers.get("host") ?? url.host}\r\n`;
    let declared = null as string | null; // (set in a callback, which narrowing does not see)
    let expectContinue = false;
    let keepAlive = true;
    eachHeader(headers, (name, value) => {
      switch (name) {
        case "host":
        case "transfer-encoding":
          return;
        case "content-length":
          declared = value;
          return;
        case "expect":
          if (value.toLowerCase() === "100-continue") expectContinue = true;
          break;
        case "connection":
          if (/(^|,)\s*close\s*(,|$)/i.test(value)) keepAlive = false;
          break;
      }
      text += name + ": " + value + "\r\n";
    });
    if (this.#proxyAuthorization !== undefined && !headers.has("proxy-authorization")) {
      text += "proxy-authorization: " + this.#proxyAuthorization + "\r\n";
    }
    let length: number | null = null;
    if (body === null) {
      if (NEEDS_LENGTH.has(method)) text += "content-length: 0\r\n";
      expectContinue = false;
    } else if (body instanceof Uint8Array) {
      text += "content-length: " + body.byteLength + "\r\n";
    } else if (declared !== null && DIGITS.test(declared.trim()) && !req.trailers) {
      length = Number(declared.trim());
      text += "content-length: " + length + "\r\n";
    } else {
      text += "transfer-encoding: chunked\r\n";
    }
    return { bytes: encodeLatin1(text + "\r\n"), length, expectContinue, keepAlive };
  }

  async #exchange(req: ProtocolRequest, head: Head, reused: boolean): Promise<ProtocolResponse> {
    const ex = new Exchange();
    const signal = req.signal;
    if (signal) {
      const onAbort = () => this.#abort(ex, signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      ex.removeAbortListener = () => signal.removeEventListener("abort", onAbort);
    }
    let parsed: ParsedResponse;
    try {
      this.#send(ex, req, head);
      parsed = await this.#readResponseHead(ex, reused);
    } catch (error) {
      this.#finish(ex, false);
      throw ex.aborted ? ex.error : error;
    }
    if (ex.aborted) {
      this.#finish(ex, false);
      throw ex.error;
    }
    const status = parsed.status;
    const headers = toHeaders(parsed.fields);
    if (status === 101) {
      // The connection now speaks another protocol, which this client does not; it ends here.
      this.#finish(ex, false);
      return { status, statusText: parsed.statusText, headers, body: null, trailers: noTrailers() };
    }
    let framing;
    try {
      framing = responseFraming(parsed, req.method);
    } catch (error) {
      this.#finish(ex, false);
      throw error;
    }
    const keepAlive = head.keepAlive && parsed.keepAlive && framing.kind !== "close";
    if (framing.kind === "none") {
      this.#finish(ex, keepAlive);
      return { status, statusText: parsed.statusText, headers, body: null, trailers: noTrailers() };
    }
    let resolveTrailers!: (trailers: Headers) => void;
    const trailers = new Promise<Headers>((resolve, reject) => {
      resolveTrailers = resolve;
      ex.rejectTrailers = reject;
    });
    trailers.catch(noop);
    const bodyReader = new BodyReader(this.#reader, framing, {
      maxHeaderCount: this.#maxHeaderCount,
    });
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        ex.bodyController = controller;
      },
      pull: async (controller) => {
        if (ex.ended) return;
        let piece: Uint8Array | null;
        try {
          piece = await bodyReader.read();
        } catch (error) {
          this.#fail(ex, ex.aborted ? ex.error : error);
          return;
        }
        if (ex.ended) return;
        if (piece !== null) {
          controller.enqueue(piece);
          return;
        }
        ex.ended = true;
        controller.close();
        resolveTrailers(
          bodyReader.trailers.length ? toHeaders(bodyReader.trailers) : new Headers(),
        );
        this.#finish(ex, keepAlive);
      },
      cancel: (reason) => {
        if (ex.ended) return;
        ex.ended = true;
        ex.rejectTrailers?.(reason ?? new Error("response body cancelled"));
        this.#finish(ex, false);
      },
    }, { highWaterMark: 0 });
    return { status, statusText: parsed.statusText, headers, body, trailers };
  }

  /** Writes the request: head, then body (after a `100 Continue` if one is expected). Never rejects. */
  async #send(ex: Exchange, req: ProtocolRequest, head: Head): Promise<void> {
    const { body } = req;
    const conn = this.conn;
    try {
      if (body === null) {
        await conn.write(head.bytes);
      } else if (head.expectContinue) {
        await conn.write(head.bytes);
        if (!(await this.#waitContinue(ex))) {
          if (!(body instanceof Uint8Array)) body.cancel().catch(noop);
          return;
        }
        if (body instanceof Uint8Array) await conn.write(body);
        else await this.#sendStream(ex, body, head.length, req.trailers);
      } else if (body instanceof Uint8Array) {
        if (body.byteLength <= COALESCE_LIMIT) await conn.write(concat(head.bytes, body));
        else await Promise.all([conn.write(head.bytes), conn.write(body)]);
      } else {
        await conn.write(head.bytes);
        await this.#sendStream(ex, body, head.length, req.trailers);
      }
      if (!ex.aborted) ex.sendDone = true;
    } catch (error) {
      if (ex.aborted) return;
      if (error instanceof SourceError) this.#abort(ex, error.error);
      else ex.writeError = error;
    }
  }

  async #sendStream(
    ex: Exchange,
    body: ReadableStream<Uint8Array>,
    length: number | null,
    trailers: Headers | undefined,
  ): Promise<void> {
    const conn = this.conn;
    const source = body.getReader();
    ex.source = source;
    let sent = 0;
    while (true) {
      ex.bodyStarted = true;
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await source.read();
      } catch (error) {
        throw new SourceError(error);
      }
      if (ex.aborted || ex.finished) return;
      if (result.done) break;
      const chunk = result.value;
      if (!(chunk instanceof Uint8Array)) {
        source.cancel().catch(noop);
        throw new SourceError(new TypeError("request body chunks must be Uint8Arrays"));
      }
      const n = chunk.byteLength;
      if (n === 0) continue;
      if (length !== null) {
        sent += n;
        if (sent > length) {
          source.cancel().catch(noop);
          throw new SourceError(
            new RangeError(`request body is longer than its content-length (${length})`),
          );
        }
        await conn.write(chunk);
      } else if (n <= COPY_CHUNK_LIMIT) {
        await conn.write(encodeChunk(chunk));
      } else {
        await Promise.all([
          conn.write(encodeLatin1(n.toString(16) + "\r\n")),
          conn.write(chunk),
          conn.write(CRLF),
        ]);
      }
    }
    if (length !== null) {
      if (sent !== length) {
        throw new SourceError(
          new RangeError(`request body is shorter (${sent}) than its content-length (${length})`),
        );
      }
    } else {
      await conn.write(encodeLastChunk(trailers));
    }
  }

  #waitContinue(ex: Exchange): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => ex.proceed(true), this.#expectContinueTimeout);
      ex.continueWaiter = (go) => {
        clearTimeout(timer);
        ex.continueWaiter = null;
        resolve(go && !ex.aborted);
      };
    });
  }

  async #readResponseHead(ex: Exchange, reused: boolean): Promise<ParsedResponse> {
    const reader = this.#reader;
    if (this.#idlePoll) {
      await this.#idlePoll;
      this.#idlePoll = null;
      if (this.#idleError !== undefined) {
        throw new ConnectionClosedError(reused, ex.bodyStarted, { cause: this.#idleError });
      }
    }
    let sawResponse = false;
    while (true) {
      let bytes: Uint8Array | null;
      try {
        bytes = await reader.readHead(this.#maxHeadSize);
      } catch (error) {
        const fromConn = !(error instanceof HeadTooLargeError) &&
          !(error instanceof UnexpectedEofError) && !(error instanceof HttpParseError);
        if (fromConn && !sawResponse && reader.buffered === 0 && !ex.aborted) {
          throw new ConnectionClosedError(reused, ex.bodyStarted, { cause: error });
        }
        throw error;
      }
      if (bytes === null) {
        if (ex.aborted) throw ex.error;
        throw new ConnectionClosedError(reused, ex.bodyStarted, { cause: ex.writeError });
      }
      const parsed = parseResponseHead(bytes, { maxHeaderCount: this.#maxHeaderCount });
      if (parsed.status < 200 && parsed.status !== 101) {
        sawResponse = true;
        if (parsed.status === 100) ex.proceed(true);
        continue;
      }
      ex.proceed(false);
      return parsed;
    }
  }

  /** Ends the exchange at once with `reason`: the connection closes, the body errors. */
  #abort(ex: Exchange, reason: unknown): void {
    if (ex.finished || ex.aborted) return;
    ex.aborted = true;
    ex.error = reason;
    ex.proceed(false);
    ex.source?.cancel(reason).catch(noop);
    if (ex.bodyController) this.#fail(ex, reason);
    else this.#finish(ex, false);
  }

  /** Fails the response body with `error` and closes the connection. */
  #fail(ex: Exchange, error: unknown): void {
    if (ex.ended) return;
    ex.ended = true;
    try {
      ex.bodyController?.error(error);
    } catch {
      // already closed
    }
    ex.rejectTrailers?.(error);
    this.#finish(ex, false);
  }

  /** Lets go of the connection: keeps it for the next request, or closes it. */
  #finish(ex: Exchange, reuse: boolean): void {
    if (ex.finished) return;
    ex.finished = true;
    ex.removeAbortListener?.();
    if (!ex.sendDone) {
      ex.proceed(false);
      ex.source?.cancel().catch(noop);
    }
    if (!reuse || !ex.sendDone || this.#closed || this.#reader.buffered > 0) {
      this.close();
      return;
    }
    this.#busy = false;
    this.#idleError = undefined;
    this.#idlePoll = this.#reader.fill().then(
      () => {
        // The peer closed the connection, or sent bytes nobody asked for.
        if (!this.#busy) this.close();
      },
      (error) => {
        this.#idleError = error;
        if (!this.#busy) this.close();
      },
    );
    setRef(this.conn, false);
    this.onStateChange?.();
  }
}

function noTrailers(): Promise<Headers> {
  return Promise.resolve(new Headers());
}
