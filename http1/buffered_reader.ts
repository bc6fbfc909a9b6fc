import type { Conn } from "../conn/types.ts";
import { joinBytes } from "../conn/_bytes.ts";
import { HttpParseError } from "./parse.ts";

const EMPTY = new Uint8Array(0);

/** Thrown by {@linkcode BufferedReader.readHead} when a head outgrows its limit. */
export class HeadTooLargeError extends Error {
  /** The limit in bytes that was exceeded. */
  readonly limit: number;

  /**
   * Makes the error.
   *
   * @param limit The limit in bytes.
   */
  constructor(limit: number) {
    super(`message head larger than ${limit} bytes`);
    this.limit = limit;
    this.name = "HeadTooLargeError";
  }
}

/** Thrown when the connection ends in the middle of a message. */
export class UnexpectedEofError extends Error {
  /**
   * Makes the error.
   *
   * @param what What was being read.
   */
  constructor(what: string) {
    super(`connection closed in the middle of ${what}`);
    this.name = "UnexpectedEofError";
  }
}

/**
 * Bytes a reader in push mode (see {@linkcode BufferedReaderOptions.push}) takes in while
 * nobody waits for them before it steps back (`conn.setReadSink(null)`) and leaves further
 * chunks to the connection, which pauses reading once they pile up.
 */
const PUSH_BACKLOG = 64 * 1024;

/** Options of {@linkcode BufferedReader}. */
export interface BufferedReaderOptions {
  /**
   * Take chunks as the connection pushes them (`Conn.setReadSink`), when it can, rather than
   * reading with a promise per chunk (default `false`): a waiting {@linkcode whenFilled}
   * callback then runs within the connection's own callback. For a server, which always
   * reads on.
   */
  push?: boolean;
}

/**
 * Reads a {@linkcode Conn} for a message parser: whole heads (up to the blank line), and
 * body bytes as they come. Bytes read past what a caller asked for stay buffered for the
 * next call, or are handed over with {@linkcode takeBuffered} when the connection is
 * upgraded to another protocol.
 */
export class BufferedReader {
  #buf: Uint8Array = EMPTY;
  /**
   * Push mode: chunks pushed behind `#buf` and not joined to it yet (pipelined requests come
   * in while a handler runs: one join when they are needed, not a copy per chunk).
   */
  #more: Uint8Array[] = [];
  #moreBytes = 0;
  #eof = false;
  /** How the stream failed, in push mode (pull mode asks the connection again). */
  #error: Error | null = null;
  /** The read under way, which every `fill()` meanwhile shares. */
  #filling: Promise<boolean> | null = null;
  /** Push mode: what settles `#filling` at the next push. */
  #settle: { resolve: (more: boolean) => void; reject: (error: Error) => void } | null = null;
  /** Push mode: the `whenFilled` callbacks waiting for the next push. */
  #then: ((more: boolean) => void) | null = null;
  #failed: ((error: unknown) => void) | null = null;
  /** Push mode: whether the connection's sink is set (see `PUSH_BACKLOG`). */
  #attached = false;
  readonly #push: boolean;
  /** How far a head that is not whole yet has been searched, and the empty lines before it. */
  #scanned = 0;
  #skipped = 0;

  /** The connection being read. */
  readonly conn: Conn;

  /**
   * Makes a reader of `conn`.
   *
   * @param conn The connection to read.
   * @param options Whether to take pushed chunks.
   */
  constructor(conn: Conn, options: BufferedReaderOptions = {}) {
    this.conn = conn;
    this.#push = options.push === true && conn.setReadSink !== undefined;
    if (this.#push) this.#attach();
  }

  /** Bytes buffered and not yet consumed. */
  get buffered(): number {
    return this.#buf.byteLength + this.#moreBytes;
  }

  /** Whether the peer has finished sending and nothing is buffered. */
  get done(): boolean {
    return this.#eof && this.buffered === 0;
  }

  /** The buffered bytes in one array (joining what was pushed behind them). */
  #joined(): Uint8Array {
    if (this.#moreBytes === 0) return this.#buf;
    const more = this.#more;
    if (this.#buf.byteLength > 0) more.unshift(this.#buf);
    this.#buf = more.length === 1 ? more[0] : joinBytes(more, this.buffered);
    this.#more = [];
    this.#moreBytes = 0;
    return this.#buf;
  }

  /**
   * Reads more bytes into the buffer; returns false at the end of the stream. Calls made
   * while a read is under way share it (a server watches for the client going away while a
   * response is written, and the next request head is read from the same read).
   */
  fill(): Promise<boolean> {
    if (this.#filling !== null) return this.#filling;
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#eof) return Promise.resolve(false);
    if (!this.#push) return this.#filling = this.conn.read().then(this.#took, this.#readFailed);
    const filling = this.#filling = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    if (!this.#attached) this.#attach(); // may take chunks, and settle it, at once
    return filling;
  }

  /**
   * Calls `then` once more bytes are buffered (`true`) or the stream has ended (`false`), or
   * `failed` if the connection fails: {@linkcode fill} without a promise in push mode, where
   * it runs within the connection's callback. One callback waits at a time (a later call
   * replaces it).
   */
  whenFilled(then: (more: boolean) => void, failed: (error: unknown) => void): void {
    if (!this.#push || this.#eof) {
      this.fill().then(then, failed);
      return;
    }
    this.#then = then;
    this.#failed = failed;
    if (!this.#attached) this.#attach();
  }

  /** Takes a chunk that `fill()` read (a method made once, not a closure per read). */
  #took = (chunk: Uint8Array | null): boolean => {
    this.#filling = null;
    if (chunk === null) {
      this.#eof = true;
      return false;
    }
    this.#buf = this.#buf.byteLength === 0 ? chunk : concat(this.#buf, chunk);
    return true;
  };

  #readFailed = (error: unknown): never => {
    this.#filling = null;
    throw error;
  };

  #attach(): void {
    this.#attached = true;
    this.conn.setReadSink!(this.#sink);
  }

  /** Where the connection pushes chunks in push mode. */
  #sink = {
    data: (chunk: Uint8Array): void => {
      if (this.buffered === 0) this.#buf = chunk;
      else {
        this.#more.push(chunk);
        this.#moreBytes += chunk.byteLength;
      }
      if (this.#settle === null && this.#then === null) {
        if (this.buffered >= PUSH_BACKLOG) this.#detach();
        return;
      }
      this.#wake(true, null);
    },
    end: (error: Error | null): void => {
      this.#attached = false;
      this.#eof = true;
      this.#error = error;
      this.#wake(false, error);
    },
  };

  #detach(): void {
    this.#attached = false;
    this.conn.setReadSink!(null);
  }

  /** Settles what waits for a push: the shared `fill()` and the `whenFilled` callback. */
  #wake(more: boolean, error: Error | null): void {
    const settle = this.#settle;
    if (settle !== null) {
      this.#settle = this.#filling = null;
      if (error === null) settle.resolve(more);
      else settle.reject(error);
    }
    const then = this.#then;
    if (then !== null) {
      const failed = this.#failed!;
      this.#then = this.#failed = null;
      if (error === null) then(more);
      else failed(error);
    }
  }

  /**
   * Reads one message head, up to and including the empty line (CRLF CRLF), skipping empty
   * lines before it (RFC 9112 section 2.2).
   *
   * @param maxSize The most bytes a head may take.
   * @returns The head, or `null` if the stream ended cleanly before a head started.
   */
  async readHead(maxSize: number): Promise<Uint8Array | null> {
    while (true) {
      const head = this.takeHead(maxSize);
      if (head !== undefined) return head;
      if (!(await this.fill())) {
        if (this.buffered === 0) return null;
        throw new UnexpectedEofError("a message head");
      }
    }
  }

  /**
   * Takes one whole message head out of the bytes already buffered, as
   * {@linkcode readHead} does, without reading: the caller awaits {@linkcode fill} and
   * tries again when it returns `undefined` (a server's fast path: no promise when the head
   * is there).
   *
   * @param maxSize The most bytes a head may take.
   * @returns The head, or `undefined` if the buffer does not hold a whole one yet.
   * @throws {HeadTooLargeError} When the head (or the empty lines before it) outgrows
   * `maxSize`.
   * @throws {HttpParseError} 400 as soon as a line of the head ends in LF without CR.
   */
  takeHead(maxSize: number): Uint8Array | undefined {
    let buf = this.#joined();
    let start = 0;
    while (start + 1 < buf.byteLength && buf[start] === 13 && buf[start + 1] === 10) start += 2;
    if (start > 0) {
      // Empty lines before the head count toward its size.
      this.#skipped += start;
      if (this.#skipped > maxSize) throw new HeadTooLargeError(maxSize);
      buf = this.#buf = buf.subarray(start);
      this.#scanned = 0;
    }
    const end = findHeadEnd(buf, Math.max(0, this.#scanned - 3));
    if (end >= 0) {
      this.#scanned = 0;
      this.#skipped = 0;
      if (end > maxSize) throw new HeadTooLargeError(maxSize);
      this.#buf = buf.subarray(end);
      return buf.subarray(0, end);
    }
    if (buf.byteLength > maxSize) throw new HeadTooLargeError(maxSize);
    this.#scanned = buf.byteLength;
    return undefined;
  }

  /**
   * Reads one line, up to and including its LF, and returns it with its line ending (the
   * caller checks that it is CRLF).
   *
   * @param maxSize The most bytes the line may take, its line ending included.
   * @returns The line's bytes; `null` if the stream ended before any byte of it.
   * @throws {HeadTooLargeError} When the line is longer than `maxSize`.
   */
  async readLine(maxSize: number): Promise<Uint8Array | null> {
    let from = 0;
    while (true) {
      const buf = this.#joined();
      const lf = buf.indexOf(10, from);
      if (lf !== -1) {
        if (lf + 1 > maxSize) throw new HeadTooLargeError(maxSize);
        this.#buf = buf.subarray(lf + 1);
        return buf.subarray(0, lf + 1);
      }
      if (buf.byteLength > maxSize) throw new HeadTooLargeError(maxSize);
      from = buf.byteLength;
      if (!(await this.fill())) {
        if (this.buffered === 0) return null;
        throw new UnexpectedEofError("a line");
      }
    }
  }

  /**
   * Takes up to `max` buffered bytes, reading from the connection first if none are
   * buffered. Returns `null` at the end of the stream.
   */
  async read(max: number): Promise<Uint8Array | null> {
    if (this.buffered === 0 && !(await this.fill())) return null;
    return this.take(max);
  }

  /** Takes up to `max` already-buffered bytes without reading. */
  take(max: number): Uint8Array {
    const buf = this.#joined();
    if (buf.byteLength <= max) {
      this.#buf = EMPTY;
      return buf;
    }
    this.#buf = buf.subarray(max);
    return buf.subarray(0, max);
  }

  /** The buffered bytes, as a view (not consumed). */
  peek(): Uint8Array {
    return this.#joined();
  }

  /**
   * Hands over every buffered byte, for an upgrade to another protocol; the connection is
   * read with `read()` again from then on.
   */
  takeBuffered(): Uint8Array {
    if (this.#attached) this.#detach();
    const buf = this.#joined();
    this.#buf = EMPTY;
    return buf;
  }
}

/**
 * Index just past the first CRLF CRLF of a head, looking at its line ends from `from` on; -1
 * if it has not come yet.
 *
 * @throws {HttpParseError} 400 at a line that ends in LF without CR (RFC 9112 section 2.2
 * lets a recipient take LF alone for a line end; this one does not): a head of such lines
 * never ends in CRLF CRLF, and is refused at once rather than waited for until it times out.
 */
export function findHeadEnd(buf: Uint8Array, from: number): number {
  const last = buf.byteLength - 2;
  for (let i = buf.indexOf(10, from); i !== -1; i = buf.indexOf(10, i + 1)) {
    if (buf[i - 1] !== 13) {
      throw new HttpParseError(400, "a line of the head ends in LF without CR");
    }
    if (i < last && buf[i + 1] === 13 && buf[i + 2] === 10) return i + 3;
  }
  return -1;
}

/** Joins two byte arrays into a new one. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
