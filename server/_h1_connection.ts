import type { Conn } from "../conn/types.ts";
import {
  type BufferedReader,
  HeadTooLargeError,
  UnexpectedEofError,
} from "../http1/buffered_reader.ts";
import { HttpParseError, parseRequestHead } from "../http1/parse.ts";
import { encodeLatin1, responseHead } from "../http1/serialize.ts";
import { H1Stream, requestUrl, type Where } from "./_h1_stream.ts";
import { ignore, RESOLVED } from "../conn/_settled.ts";
import { registerUpgrade, type UpgradeOwner } from "./_upgrade.ts";
import type { Deadline, Deadlines } from "./_deadlines.ts";
import { WriteWatch } from "./_write_watch.ts";
import { respondText } from "./_respond_text.ts";
import type { Stream } from "./stream.ts";

/** What an HTTP/1.1 server connection needs from its server. */
export interface H1Config {
  maxHeadSize: number;
  maxHeaderCount: number;
  headTimeout: number;
  keepAliveTimeout: number;
  /** How long a request body may go without a byte while it is read (0: no limit). */
  bodyIdleTimeout: number;
  /** How long response writes may wait without one completing (0: no limit). */
  writeIdleTimeout: number;
  /** Request body bytes the server reads and drops to keep a connection after an early response. */
  maxDiscardBytes: number;
  deadlines: Deadlines;
  /** Whether the server is shutting down (finish the exchange in flight, then close). */
  closing(): boolean;
  /** Reports an error that did not reach a handler. */
  report(error: unknown): void;
  /** The server, for what an upgraded connection starts (see `UpgradeHandle.owner`). */
  owner?: UpgradeOwner;
}

/** The connection's state between exchanges, for graceful shutdown. */
export interface H1ConnState {
  /** Whether the connection is waiting for the next request head. */
  idle: boolean;
  /** The exchange in flight, if any. */
  current: H1Stream | null;
}

function errorResponse(status: number, message: string): Uint8Array {
  const body = message + "\n";
  const headers = new Headers({
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(body.length),
    connection: "close",
  });
  return encodeLatin1(responseHead(status, "", headers) + body);
}

/**
 * Serves HTTP/1.1 exchanges on one connection until it ends: parses each request head,
 * hands the exchange to `handler` as a {@linkcode Stream}, and keeps the connection for the
 * next one when both sides allow. Bad heads are answered with their status and the
 * connection is closed; a head that does not arrive in time gets 408. Resolves once the
 * connection is closed or handed over to another protocol.
 */
export function serveHttp1(
  conn: Conn,
  reader: BufferedReader,
  handler: (stream: Stream) => void | Promise<void>,
  config: H1Config,
  state: H1ConnState,
): Promise<void> {
  return new H1Connection(conn, reader, handler, config, state).closed;
}

/**
 * Where a connection is:
 * - `head`: between exchanges, about to take the next request head;
 * - `wait`: waiting for the rest of that head (idle);
 * - `exchange`: a handler runs, or its response is being finished;
 * - `discard`: dropping the request body a handler left unread, to keep the connection;
 * - `closed`: closed, or handed over to another protocol.
 */
type ConnState = "head" | "wait" | "exchange" | "discard" | "closed";

/**
 * One HTTP/1.1 server connection, driven by callbacks: a head that arrives is parsed and its
 * handler called within the read's own callback (in push mode, the socket's), and a handler
 * that returns at once is followed by the next buffered head in the same loop; promises are
 * only waited for where a handler or a write makes one.
 */
class H1Connection {
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  #state: ConnState = "head";
  /** Whether `#run` is on the stack (an exchange that ends within it continues its loop). */
  #running = false;
  /** Whether the head deadline is armed for the head being waited for. */
  #waiting = false;
  #first = true;
  #timedOut = false;
  #stream: H1Stream | null = null;
  /** The last Host of an origin-form request whose URL parsed (most requests repeat it). */
  #goodHost: string | null = null;
  readonly #where: Where;
  readonly #limits: { maxHeaderCount: number };
  readonly #bodyIdle: { deadlines: Deadlines; ms: number };
  readonly #writeWatch: WriteWatch | null;
  readonly #deadline: Deadline;

  constructor(
    readonly conn: Conn,
    readonly reader: BufferedReader,
    readonly handler: (stream: Stream) => void | Promise<void>,
    readonly config: H1Config,
    readonly shared: H1ConnState,
  ) {
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    const local = conn.localAddr;
    this.#where = {
      remoteAddr: conn.remoteAddr,
      localAddr: local,
      secure: conn.secure,
      scheme: conn.secure ? "https" : "http",
      local: local.transport !== "tcp"
        ? "localhost"
        : local.hostname.includes(":")
        ? `[${local.hostname}]:${local.port}`
        : `${local.hostname}:${local.port}`,
    };
    this.#limits = { maxHeaderCount: config.maxHeaderCount };
    this.#bodyIdle = { deadlines: config.deadlines, ms: config.bodyIdleTimeout };
    this.#deadline = { at: 0, queued: false, expire: () => this.#headTimedOut() };
    this.#writeWatch = config.writeIdleTimeout > 0
      ? new WriteWatch(config.deadlines, config.writeIdleTimeout, () => this.#writeStalled())
      : null;
    this.#run();
  }

  /**
   * Takes and serves the buffered heads one after another until one must be waited for (its
   * bytes, or a handler's promise); what is waited for calls it again.
   */
  #run(): void {
    this.#running = true;
    try {
      while (this.#state === "head") this.#nextHead();
    } catch (error) {
      // A fault of this module, not of the peer: report it rather than throw it into the
      // connection's callback.
      this.config.report(error);
      this.#close();
    } finally {
      this.#running = false;
    }
  }

  /** Continues the loop after something waited for (not within `#run`). */
  #resume = (): void => {
    if (!this.#running) this.#run();
  };

  /** Takes one head and starts its exchange, or arranges to be called when bytes come. */
  #nextHead(): void {
    const { config, reader } = this;
    if (config.closing()) return this.#close();
    this.shared.idle = true;
    let stream: H1Stream;
    try {
      const head = reader.takeHead(config.maxHeadSize);
      if (head === undefined) {
        if (!this.#waiting) {
          this.#waiting = true;
          const ms = this.#first ? config.headTimeout : config.keepAliveTimeout;
          config.deadlines.arm(this.#deadline, ms);
        }
        this.#state = "wait"; // first: whenFilled may call #onBytes at once
        reader.whenFilled(this.#onBytes, this.#onReadError);
        return;
      }
      this.#stopWaiting();
      stream = this.#exchange(head);
    } catch (error) {
      return this.#badHead(error);
    }
    this.shared.idle = false;
    this.shared.current = this.#stream = stream;
    this.#first = false;
    this.#state = "exchange";
    let result: void | Promise<void>;
    try {
      result = stream.runHandler(this.handler);
    } catch (error) {
      return this.#handlerFailed(error);
    }
    // A handler that returns at once (or returns `end()` of a body already out, which is
    // RESOLVED) is followed at once, not a turn later.
    if (result === undefined || result === RESOLVED || typeof result.then !== "function") {
      this.#handled();
    } else result.then(this.#handled, this.#handlerFailed);
  }

  #onBytes = (more: boolean): void => {
    if (this.#state !== "wait") return;
    this.#state = "head";
    if (more) return this.#resume();
    this.#stopWaiting();
    if (this.#timedOut || this.reader.buffered === 0) return this.#close();
    this.#badHead(new UnexpectedEofError("a message head"));
  };

  #onReadError = (error: unknown): void => {
    if (this.#state !== "wait") return;
    this.#state = "head";
    this.#stopWaiting();
    this.#badHead(error);
  };

  #stopWaiting(): void {
    if (!this.#waiting) return;
    this.#waiting = false;
    this.config.deadlines.disarm(this.#deadline);
  }

  #headTimedOut(): void {
    this.#timedOut = true;
    const conn = this.conn;
    if (this.reader.buffered === 0) return conn.close();
    conn.write(errorResponse(408, "request head timed out")).catch(ignore).finally(() =>
      conn.close()
    );
  }

  /**
   * Response writes waited `writeIdleTimeout` without one completing: the client takes no
   * bytes. The exchange is cut off (its signal aborts) and the connection closed; the
   * client's failure, so nothing is reported.
   */
  #writeStalled(): void {
    const stream = this.#stream;
    if (stream === null) return this.conn.close();
    stream.broken = true;
    stream.abort(new Error("response write idle timeout: the client takes no bytes"));
  }

  /** Parses a head into the exchange's stream. */
  #exchange(head: Uint8Array): H1Stream {
    const parsed = parseRequestHead(head, this.#limits);
    // The handler gets a URL that parses: a Host the URL standard refuses (a port above
    // 65535, 10.0.0.256, %zz) is the client's error (RFC 9112 section 3.2: 400). The URL is
    // made when first asked for, unless it is checked here.
    let url: string | null = null;
    const originForm = parsed.target.charCodeAt(0) === 47; // "/"
    if (!originForm || parsed.host !== this.#goodHost) {
      url = requestUrl(parsed, this.#where.scheme, this.#where.local);
      if (!URL.canParse(url)) throw new HttpParseError(400, "invalid Host or request target");
      if (originForm) this.#goodHost = parsed.host;
    }
    const stream = new H1Stream(
      this.conn,
      this.reader,
      parsed,
      url,
      this.#where,
      this.#bodyIdle,
      this.#writeWatch,
    );
    if (parsed.upgrade !== null || parsed.method === "CONNECT") {
      registerUpgrade(stream, {
        accept: (status, headers) => stream.upgrade(status, headers),
        owner: this.config.owner,
        method: parsed.method,
      });
    }
    return stream;
  }

  /** Answers a head that cannot be served (if it has a status) and closes. */
  #badHead(error: unknown): void {
    if (this.#timedOut) return this.#close();
    const status = error instanceof HttpParseError
      ? error.status
      : error instanceof HeadTooLargeError
      ? 431
      : 0;
    if (status === 0) return this.#close();
    this.#state = "exchange";
    const answered = this.conn.write(errorResponse(status, (error as Error).message));
    answered.then(this.#close, this.#close);
  }

  /** The handler is done: finish the response if it did not. */
  #handled = (): void => {
    const stream = this.#stream!;
    let finishing: Promise<void> | null = null;
    try {
      if (!stream.responded) {
        stream.completion.reject(new Error("the handler returned without a response"));
        finishing = stream.respondWith(500, new Headers(), null);
      } else if (!stream.finished) finishing = stream.end();
    } catch (error) {
      return this.#handlerFailed(error);
    }
    if (finishing === null) this.#exchanged();
    else finishing.then(this.#exchanged, this.#handlerFailed);
  };

  /**
   * The handler failed: a 500, or a close if the response had started, and the error is
   * reported. Unless it failed with what its request body failed with (malformed, cut
   * short): that is the client's fault, answered like a bad head (400, or the parse error's
   * status) and not reported. Either way the connection closes.
   */
  #handlerFailed = (error: unknown): void => {
    const stream = this.#stream!;
    stream.completion.reject(error);
    if (stream.broken) return this.#close(); // the client went away: nothing to report
    const clientsFault = error !== undefined && error === stream.requestBodyError;
    if (!clientsFault) this.config.report(error);
    if (stream.responded) {
      stream.abort(error);
      return this.#close();
    }
    stream.keepAlive = false;
    const answered = clientsFault
      ? respondText(
        stream,
        error instanceof HttpParseError ? error.status : 400,
        error instanceof Error ? error.message : "bad request body",
      )
      : stream.respondWith(500, new Headers(), null);
    answered.then(this.#close, this.#close);
  };

  /** The exchange is over: take the next head, after dropping a body left unread. */
  #exchanged = (): void => {
    const stream = this.#stream!;
    stream.completion.resolve(); // unless a failed write or an abort rejected it
    this.shared.current = this.#stream = null;
    if (stream.upgraded) {
      this.#state = "closed";
      return this.#finish();
    }
    if (!stream.keepAlive) return this.#close();
    if (!stream.bodyFinished) {
      // The handler answered without reading the whole body: read and drop a little of it
      // to keep the connection, unless the client still waits for 100 Continue.
      if (stream.parsed.expectContinue) return this.#close();
      this.#state = "discard";
      stream.discardBody(this.config.maxDiscardBytes).then(this.#discarded, this.#close);
      return;
    }
    this.#state = "head";
    this.#resume();
  };

  #discarded = (done: boolean): void => {
    if (!done) return this.#close();
    this.#state = "head";
    this.#resume();
  };

  #close = (): void => {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.conn.close();
    this.#finish();
  };

  #finish(): void {
    this.#stopWaiting();
    this.shared.idle = false;
    this.shared.current = null;
    this.#resolveClosed();
  }
}
