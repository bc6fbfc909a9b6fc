/**
 * The {@linkcode WebSocket}: messages, pings and the closing handshake (RFC 6455) over any
 * {@linkcode Conn}, with permessage-deflate (RFC 7692) when it was negotiated.
 *
 * @module
 */

import type { Conn } from "../conn/types.ts";
import { DenoConn } from "../conn/_deno.ts";
import { NodeConn } from "../conn/_node.ts";
import { RESOLVED } from "../conn/_settled.ts";
import {
  isValidCloseCode,
  WebSocketError,
  WebSocketReadIdleTimeoutError,
  WebSocketWriteIdleTimeoutError,
} from "./errors.ts";
import { Opcode, Receiver, type ReceiverHandler } from "./_receiver.ts";
import { type FragmentSource, Sender, WriteBatcher } from "./_sender.ts";
import { type Codec, createCodec } from "./_deflate.ts";
import { type DeflateParams, formatDeflateParams } from "./permessage_deflate.ts";

/** A received message: a string for text, bytes for binary. */
export type WebSocketMessage = string | Uint8Array;

/**
 * What {@linkcode WebSocket.send} takes: a string (a text message), bytes (a binary
 * message), or an iterable / async iterable of strings and bytes (one message in fragments).
 */
export type WebSocketData =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>;

/** Options of a {@linkcode WebSocket}. */
export interface WebSocketOptions {
  /** Which end this is: a client masks its frames, a server requires masked frames. */
  role: "client" | "server";
  /** Bytes already read from the connection after the handshake; parsed first. */
  head?: Uint8Array | null;
  /** The subprotocol agreed in the handshake (default `""`). */
  protocol?: string | null;
  /** The agreed `Sec-WebSocket-Extensions` value (default: formatted from `deflate`). */
  extensions?: string | null;
  /** The agreed permessage-deflate parameters, or `null` without compression. */
  deflate?: DeflateParams | null;
  /** Messages shorter than this many bytes are sent uncompressed (default 1024). */
  compressThreshold?: number;
  /**
   * The largest message accepted, in bytes (default 16 MiB): the sum of its frames, checked
   * from each frame header before the payload is read, and its inflated size. Larger
   * messages fail the connection with 1009.
   */
  maxFrameSize?: number;
  /** The most frames one message may come in (default 1024); more fail with 1009. */
  maxFragmentation?: number;
  /** How long `close()` waits for the peer's close frame, and a client for the server to end the connection after it (default 5000 ms). */
  closeTimeout?: number;
  /** Give up when nothing has been read for this long, in ms (default 0: off). */
  readIdleTimeout?: number;
  /** Give up when a write has made no progress for this long, in ms (default 0: off). */
  writeIdleTimeout?: number;
  /**
   * `send()` of a whole message resolves at once while no more than this many bytes wait
   * for the connection (default 64 KiB), and once its frame has been handed to the
   * connection otherwise. So `await ws.send(...)` paces a sender to the connection
   * without costing a round trip through the transport per message. 0: always wait. A
   * server's binary message of 64 KiB or more always waits: it is written without a copy,
   * so its bytes must stay as they are until then.
   */
  sendHighWaterMark?: number;
  /**
   * Whether the WebSocket owns the connection (default `true`): it closes it when done.
   * With `false` the connection is never closed here; once the WebSocket is closed it is
   * simply no longer used (a read already pending at that moment stays pending).
   */
  ownsConn?: boolean;
}

const OPEN = 0;
const CLOSING = 1;
const CLOSED = 2;

/** Messages received but not yet taken by `receive()` before reading pauses. */
const QUEUE_HIGH = 64;
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const noop = () => {};

interface Waiter {
  resolve(message: WebSocketMessage): void;
  reject(err: unknown): void;
}

interface PendingPing {
  payload: Uint8Array;
  resolve(): void;
  reject(err: unknown): void;
}

function closePayload(code: number, reason: string): Uint8Array {
  let r = encoder.encode(reason);
  if (r.length > 123) r = r.subarray(0, 123);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

/** A normal end: close codes 1000, 1001 and 1005 end iteration quietly. */
function isQuiet(err: unknown): boolean {
  return err instanceof WebSocketError &&
    (err.code === 1000 || err.code === 1001 || err.code === 1005);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A WebSocket over a {@linkcode Conn} whose opening handshake is done.
 *
 * Messages arrive through {@linkcode WebSocket.receive} or `for await`; pings are
 * answered automatically; {@linkcode WebSocket.close} runs the closing handshake. Once the
 * connection is closed, `receive()` rejects with a {@linkcode WebSocketError} carrying the
 * close code (1000, 1001 and 1005 too, so a caller can tell), while `for await` ends
 * quietly on 1000, 1001 and 1005 and throws on anything else.
 *
 * @example A client and a server over an in-memory pair
 * ```ts
 * import { memoryPair } from "../conn/memory.ts";
 * import { WebSocket } from "./websocket.ts";
 *
 * const [a, b] = memoryPair();
 * const server = new WebSocket(b, { role: "server" });
 * const client = new WebSocket(a, { role: "client" });
 *
 * (async () => {
 *   for await (const msg of server) await server.send(typeof msg === "string" ? msg.toUpperCase() : msg);
 * })();
 *
 * await client.send("hello");
 * console.log(await client.receive()); // "HELLO"
 * await client.close();
 * console.log(client.closeCode); // 1000
 * ```
 */
export class WebSocket implements AsyncIterable<WebSocketMessage>, AsyncDisposable {
  /** The subprotocol agreed in the handshake, or `""`. */
  readonly protocol: string;
  /** The agreed `Sec-WebSocket-Extensions` value, or `""`. */
  readonly extensions: string;
  /** Which end this is. */
  readonly role: "client" | "server";

  #conn: Conn;
  #out: WriteBatcher;
  #owns: boolean;
  #server: boolean;
  #receiver: Receiver;
  #sender: Sender;
  #codec: Codec | null;
  #closeTimeout: number;
  #readIdle: number;
  #writeIdle: number;
  #sendHwm: number;
  /** The last send promise given a rejection handler (batched sends share one). */
  #lastSent: Promise<void> | null = null;

  #state = OPEN;
  #closeSent = false;
  #closeReceived = false;
  #sentCode = 1000;
  #closeCode: number | null = null;
  #closeReason = "";
  /** Set once no more messages can arrive; what `receive()` rejects with then. */
  #error: WebSocketError | null = null;
  #stopReading = false;
  /** The write of our close frame while it is under way (see `#eof`). */
  #closeWriting: Promise<void> | null = null;

  /** Messages received so far. */
  #received = 0;
  #queue: (WebSocketMessage | undefined)[] = [];
  #qHead = 0;
  #waiters: Waiter[] = [];
  #pings: PendingPing[] = [];
  #pingId = 0;
  #resumeRead: (() => void) | null = null;
  #closed: Promise<void>;
  #resolveClosed!: () => void;
  #readable: ReadableStream<WebSocketMessage> | undefined;
  #writable: WritableStream<WebSocketData> | undefined;

  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #readTimer: ReturnType<typeof setTimeout> | undefined;
  #lastRead = 0;
  #writeTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Starts a WebSocket over a connection whose opening handshake is done, and starts
   * reading from it.
   *
   * @param conn The connection, with the opening handshake done.
   * @param options Role, negotiated parameters, limits and timeouts.
   */
  constructor(conn: Conn, options: WebSocketOptions) {
    if (options.role !== "client" && options.role !== "server") {
      throw new TypeError(`role must be "client" or "server", not ${options.role}`);
    }
    this.#conn = conn;
    this.#out = new WriteBatcher((data) => conn.write(data), (err) => {
      this.#eof(err);
      return this.#error;
    }, conn.writev ? (chunks) => conn.writev!(chunks) : null);
    this.role = options.role;
    this.#server = options.role === "server";
    this.#owns = options.ownsConn ?? true;
    this.protocol = options.protocol ?? "";
    const deflate = options.deflate ?? null;
    this.extensions = options.extensions ?? (deflate ? formatDeflateParams(deflate) : "");
    this.#closeTimeout = options.closeTimeout ?? 5000;
    this.#readIdle = options.readIdleTimeout ?? 0;
    this.#writeIdle = options.writeIdleTimeout ?? 0;
    this.#sendHwm = options.sendHighWaterMark ?? 64 * 1024;
    this.#codec = deflate ? createCodec(deflate, options.role) : null;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));

    const handler: ReceiverHandler = {
      onMessage: (data) => this.#onMessage(data),
      onPing: (data) => this.#onPing(data),
      onPong: (data) => this.#onPong(data),
      onClose: (code, reason) => this.#onClose(code, reason),
      onError: (err) => this.#fail(err),
    };
    this.#receiver = new Receiver({
      role: options.role,
      maxFrameSize: options.maxFrameSize ?? 16 * 1024 * 1024,
      maxFragmentation: options.maxFragmentation ?? 1024,
      inflater: this.#codec?.inflater ?? null,
    }, handler);
    this.#sender = new Sender(
      (data, payload) => this.#out.write(data, payload),
      {
        mask: !this.#server,
        deflater: this.#codec?.deflater ?? null,
        threshold: options.compressThreshold ?? 1024,
        // Our adapters are done with a buffer once write() resolves (the Conn contract);
        // a caller's stream pair may still hold it then.
        reuseBuffers: conn instanceof DenoConn || conn instanceof NodeConn,
        onCompressError: () =>
          this.#fail(new WebSocketError(1011, "a message could not be compressed")),
      },
      () => this.#sendError(),
    );
    if (this.#readIdle > 0) {
      this.#lastRead = Date.now();
      this.#readTimer = setTimeout(() => this.#checkReadIdle(), this.#readIdle);
    }
    if (this.#writeIdle > 0) {
      this.#writeTimer = setTimeout(() => this.#checkWriteIdle(), this.#writeIdle);
    }
    this.#readLoop(options.head ?? null);
  }

  /** Whether messages can be sent: open, and no close frame sent yet. */
  get isReady(): boolean {
    return this.#state === OPEN;
  }

  /**
   * Bytes of messages passed to `send()` and not yet handed to the connection (frame
   * headers included once framed).
   */
  get bufferedAmount(): number {
    return this.#sender.bufferedAmount + this.#out.pending;
  }

  /**
   * The close code once it is known (no more messages can arrive), else `null`: the code
   * of the peer's close frame (1005 if it had none), the code this end failed the
   * connection with, or 1006 if the connection ended without a close frame.
   */
  get closeCode(): number | null {
    return this.#error !== null ? this.#closeCode : null;
  }

  /** The close reason once the close code is known (may be empty). */
  get closeReason(): string {
    return this.#error !== null ? this.#closeReason : "";
  }

  /** Resolves once the connection is closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Sends a message: a string as text, bytes as binary, an iterable or async iterable as
   * one message in fragments (one frame per item; see {@linkcode WebSocketData}). Each item
   * is sent before the next is asked for, so a source may reuse its buffer; unless it is an
   * array, whose last item ends the message, an empty final frame ends it. Control frames
   * may go out between the fragments; other messages wait for the last one.
   *
   * @param message The message.
   * @returns Resolves once the message has been handed to the connection, or at once for
   * a whole message while at most `sendHighWaterMark` bytes wait for the connection.
   * @throws {WebSocketError} (as a rejection) once a close frame has been sent.
   */
  send(message: WebSocketData): Promise<void> {
    if (this.#state !== OPEN) return Promise.reject(this.#sendError());
    if (typeof message === "string" || message instanceof Uint8Array) {
      return this.#paced(message);
    }
    if (message instanceof ArrayBuffer) return this.#paced(new Uint8Array(message));
    if (ArrayBuffer.isView(message)) {
      return this.#paced(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
    }
    if (
      message !== null && typeof message === "object" &&
      (Symbol.asyncIterator in message || Symbol.iterator in message)
    ) {
      return this.#sender.sendFragments(message as FragmentSource).catch((err) => {
        if (this.#sender.broken) {
          this.#fail(new WebSocketError(1011, "a fragmented message could not be finished"));
        }
        throw err;
      });
    }
    return Promise.reject(new TypeError("Cannot send this value as a WebSocket message"));
  }

  /**
   * The next message.
   *
   * @returns The message: a string for text, bytes for binary.
   * @throws {WebSocketError} (as a rejection) once the connection is closed, with its close code.
   */
  receive(): Promise<WebSocketMessage> {
    const message = this.#dequeue();
    if (message !== undefined) return Promise.resolve(message);
    if (this.#error !== null) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Takes the next received message that waits in the queue, if any. */
  #dequeue(): WebSocketMessage | undefined {
    if (this.#qHead === this.#queue.length) return undefined;
    const message = this.#queue[this.#qHead]!;
    this.#queue[this.#qHead++] = undefined;
    const left = this.#queue.length - this.#qHead;
    if (left === 0) {
      this.#queue.length = 0;
      this.#qHead = 0;
    } else if (this.#qHead >= 1024) {
      this.#queue = this.#queue.slice(this.#qHead);
      this.#qHead = 0;
    }
    if (this.#resumeRead !== null && left < QUEUE_HIGH / 2) this.#wakeReader();
    return message;
  }

  /**
   * Sends a ping and waits for the matching pong (a pong answers its ping and any sent
   * before it).
   *
   * @param data The payload, at most 125 bytes (default: 4 bytes counting pings).
   * @returns Resolves when the pong arrives.
   */
  ping(data?: Uint8Array | string): Promise<void> {
    if (this.#state !== OPEN) return Promise.reject(this.#sendError());
    let payload: Uint8Array;
    if (data === undefined) {
      payload = new Uint8Array(4);
      new DataView(payload.buffer).setUint32(0, ++this.#pingId >>> 0);
    } else {
      payload = typeof data === "string" ? encoder.encode(data) : data.slice();
    }
    if (payload.length > 125) {
      return Promise.reject(new RangeError("A ping payload is at most 125 bytes"));
    }
    return new Promise<void>((resolve, reject) => {
      this.#pings.push({ payload, resolve, reject });
      this.#sender.control(Opcode.Ping, payload).catch(noop);
    });
  }

  /**
   * Runs the closing handshake: sends a close frame, waits up to `closeTimeout` for the
   * peer's, then closes the connection (a server at once, a client once the server has
   * closed it or the timeout passed, RFC 6455 section 7.1.1). Calling it again returns the
   * same promise.
   *
   * @param code The close code (default 1000); 1000-1003, 1007-1014 or 3000-4999.
   * @param reason The close reason, at most 123 bytes of UTF-8.
   * @returns Resolves once the connection is closed.
   * @throws {RangeError} (as a rejection) for a code or reason that cannot be sent.
   */
  close(code: number = 1000, reason: string = ""): Promise<void> {
    if (!isValidCloseCode(code)) {
      return Promise.reject(new RangeError(`Invalid close code ${code}`));
    }
    const payload = encoder.encode(reason);
    if (payload.length > 123) {
      return Promise.reject(new RangeError("A close reason is at most 123 bytes of UTF-8"));
    }
    if (this.#closeSent || this.#state === CLOSED) return this.#closed;
    this.#closeSent = true;
    this.#sentCode = code;
    this.#state = CLOSING;
    this.#sender.close();
    this.#sendClose(closePayload(code, reason)).catch(noop);
    this.#armCloseTimer();
    this.#wakeReader();
    return this.#closed;
  }

  /**
   * The incoming messages as a stream (created on first use; use it or `receive()`, not
   * both). It ends on close codes 1000, 1001 and 1005 and errors with the
   * {@linkcode WebSocketError} otherwise; cancelling it closes the WebSocket.
   */
  get readable(): ReadableStream<WebSocketMessage> {
    return this.#readable ??= new ReadableStream<WebSocketMessage>({
      pull: async (controller) => {
        try {
          controller.enqueue(await this.receive());
        } catch (err) {
          if (isQuiet(err)) controller.close();
          else controller.error(err);
        }
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
  }

  /**
   * A stream to send messages through (created on first use): each chunk is one message,
   * as {@linkcode WebSocket.send} takes it. Closing it closes the WebSocket with 1000;
   * aborting it, with 1011.
   */
  get writable(): WritableStream<WebSocketData> {
    return this.#writable ??= new WritableStream<WebSocketData>({
      write: (chunk) => this.send(chunk),
      close: () => this.close(),
      abort: () => this.close(1011, "the message stream was aborted"),
    });
  }

  /** Closes with 1000 (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Iterates over messages until the connection closes: it ends quietly on close codes
   * 1000, 1001 and 1005 and throws the {@linkcode WebSocketError} otherwise. Breaking out
   * of the loop does not close the WebSocket.
   *
   * @returns The messages.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<WebSocketMessage> {
    // Written out rather than an async generator: a message that waits in the queue costs
    // one promise and one result, which matters at tens of thousands of messages a second.
    let ended = false;
    const end = (): IteratorResult<WebSocketMessage> => {
      ended = true;
      return { done: true, value: undefined };
    };
    const next = (value: WebSocketMessage): IteratorResult<WebSocketMessage> => ({
      done: false,
      value,
    });
    const failed = (err: unknown): IteratorResult<WebSocketMessage> => {
      if (isQuiet(err)) return end();
      ended = true;
      throw err;
    };
    const iterator: AsyncIterableIterator<WebSocketMessage> = {
      next: () => {
        if (ended) return Promise.resolve(end());
        const message = this.#dequeue();
        if (message !== undefined) return Promise.resolve(next(message));
        return this.receive().then(next, failed);
      },
      return: () => Promise.resolve(end()),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  // -------------------------------------------------------------------------------------
  // Reading

  async #readLoop(head: Uint8Array | null): Promise<void> {
    let failure: unknown = null;
    let ended = false;
    try {
      if (head !== null && head.length > 0) this.#receiver.push(head);
      while (this.#state !== CLOSED && !this.#stopReading) {
        // Each inflation may start the next (a later message already buffered): wait for
        // them all, or an end read now would cut off messages that fully arrived.
        while (this.#receiver.busy) await this.#receiver.idle();
        // Nothing more to parse: an owned connection is read on to its end; one that is
        // not ours is left alone, so no read is pending when it goes back to its owner.
        if (this.#receiver.done && !this.#owns) break;
        // Backpressure: pause while received messages wait to be taken, unless closing
        // (the peer's close frame must still be read).
        if (
          this.#queue.length - this.#qHead >= QUEUE_HIGH && !this.#receiver.done &&
          !this.#closeSent
        ) {
          await new Promise<void>((resolve) => (this.#resumeRead = resolve));
          continue;
        }
        const chunk = await this.#conn.read();
        if (chunk === null) {
          ended = true;
          break;
        }
        if (this.#readIdle > 0) this.#lastRead = Date.now();
        const before = this.#received;
        this.#receiver.push(chunk);
        // Several messages in one read: their replies, if any, go out in one write.
        if (this.#received - before > 1) this.#out.holdTurn();
      }
    } catch (err) {
      failure = err;
    }
    if (ended || failure !== null) this.#eof(failure);
  }

  #wakeReader(): void {
    const resume = this.#resumeRead;
    this.#resumeRead = null;
    resume?.();
  }

  #onMessage(data: WebSocketMessage): void {
    if (this.#error !== null) return;
    this.#received++;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(data);
    else this.#queue.push(data);
  }

  #onPing(data: Uint8Array): void {
    if (this.#closeSent) return;
    this.#sender.control(Opcode.Pong, data).catch(noop);
  }

  #onPong(data: Uint8Array): void {
    const i = this.#pings.findIndex((p) => sameBytes(p.payload, data));
    if (i < 0) return; // unsolicited
    for (const p of this.#pings.splice(0, i + 1)) p.resolve();
  }

  /** The peer's close frame. */
  #onClose(code: number, reason: string): void {
    this.#closeReceived = true;
    this.#closeCode = code;
    this.#closeReason = reason;
    this.#error = new WebSocketError(code, reason);
    this.#rejectWaiters();
    let written: Promise<void> = Promise.resolve();
    if (!this.#closeSent) {
      // Echo the status code (RFC 6455 5.5.1); none if the peer sent none.
      this.#closeSent = true;
      this.#sentCode = code;
      this.#state = CLOSING;
      this.#sender.close();
      written = this.#sendClose(code === 1005 ? EMPTY : closePayload(code, ""));
    }
    clearTimeout(this.#closeTimer);
    const next = () => this.#afterClosingHandshake();
    written.then(next, next);
  }

  #afterClosingHandshake(): void {
    if (this.#state === CLOSED) return;
    if (!this.#owns) {
      this.#stopReading = true;
      this.#finish();
    } else if (this.#server) {
      this.#finish(); // the server closes the TCP connection first
    } else {
      this.#armCloseTimer(); // the client waits for the server to close it
    }
  }

  // -------------------------------------------------------------------------------------
  // Writing

  /**
   * Sends a whole message; resolves at once while little waits for the connection (see
   * `sendHighWaterMark`), unless the connection is handed the caller's own bytes.
   */
  #paced(message: string | Uint8Array): Promise<void> {
    const sent = this.#sender.send(message);
    if (
      this.#sendHwm === 0 || this.bufferedAmount > this.#sendHwm ||
      this.#sender.passesByReference(message)
    ) return sent;
    if (sent !== this.#lastSent) {
      this.#lastSent = sent;
      sent.catch(noop); // a failure fails the WebSocket, which later calls report
    }
    return RESOLVED;
  }

  /** Sends our close frame, remembered until it is written. */
  #sendClose(payload: Uint8Array): Promise<void> {
    const written = this.#sender.control(Opcode.Close, payload);
    this.#closeWriting = written;
    const settled = () => {
      if (this.#closeWriting === written) this.#closeWriting = null;
    };
    written.then(settled, settled);
    return written;
  }

  #sendError(): WebSocketError {
    return this.#error ?? new WebSocketError(this.#sentCode, "the WebSocket is closing");
  }

  // -------------------------------------------------------------------------------------
  // Closing

  /** Fails the connection for a protocol error found in the peer's frames. */
  #fail(err: WebSocketError): void {
    if (this.#state === CLOSED) return;
    if (this.#error === null) {
      this.#error = err;
      this.#closeCode = err.code;
      this.#closeReason = err.reason;
    }
    this.#receiver.stop();
    this.#rejectWaiters();
    let written: Promise<void> = Promise.resolve();
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#sentCode = err.code;
      this.#state = CLOSING;
      this.#sender.close();
      written = this.#sendClose(closePayload(err.code, err.reason));
    }
    const next = () => {
      if (this.#state === CLOSED) return;
      if (!this.#owns) {
        this.#stopReading = true;
        this.#finish();
        return;
      }
      // Half-close so the close frame is read before the connection goes, then wait for
      // the peer to close it, up to closeTimeout.
      this.#conn.closeWrite().catch(noop);
      this.#armCloseTimer();
    };
    written.then(next, next);
  }

  /** The connection ended (read returned null or failed, or a write failed). */
  #eof(failure: unknown): void {
    if (this.#state === CLOSED) return;
    // The peer ended its side while our close frame still waits behind other frames (a
    // pong batched in the same turn): it may still read, so the frame goes out first
    // (RFC 6455 5.5.1, 7.1.7), or closeTimeout passes.
    const writing = this.#closeWriting;
    if (failure === null && writing !== null) {
      this.#armCloseTimer();
      const end = () => this.#eof(null);
      writing.then(end, end);
      return;
    }
    if (this.#error === null) {
      const why = failure === null
        ? "connection closed without a close frame"
        : `connection failed: ${(failure as Error)?.message ?? failure}`;
      this.#error = new WebSocketError(
        1006,
        why,
        failure === null ? undefined : { cause: failure },
      );
      this.#closeCode = 1006;
      this.#closeReason = "";
    }
    this.#finish();
  }

  #armCloseTimer(): void {
    clearTimeout(this.#closeTimer);
    this.#closeTimer = setTimeout(() => {
      if (this.#state === CLOSED) return;
      if (this.#error === null) {
        this.#error = new WebSocketError(1006, "no close frame from the peer in time");
        this.#closeCode = 1006;
        this.#closeReason = "";
      }
      this.#finish();
    }, this.#closeTimeout);
  }

  #checkReadIdle(): void {
    this.#readTimer = undefined;
    if (this.#state === CLOSED) return;
    const idle = Date.now() - this.#lastRead;
    if (idle >= this.#readIdle) {
      this.#abort(new WebSocketReadIdleTimeoutError(this.#readIdle));
    } else {
      this.#readTimer = setTimeout(() => this.#checkReadIdle(), this.#readIdle - idle);
    }
  }

  /** Checks every so often whether the write in flight has stalled for `writeIdleTimeout`. */
  #checkWriteIdle(): void {
    this.#writeTimer = undefined;
    if (this.#state === CLOSED) return;
    const since = this.#out.stalledSince;
    const stalled = since === 0 ? 0 : Date.now() - since;
    if (stalled >= this.#writeIdle) {
      this.#abort(new WebSocketWriteIdleTimeoutError(this.#writeIdle));
    } else {
      this.#writeTimer = setTimeout(() => this.#checkWriteIdle(), this.#writeIdle - stalled);
    }
  }

  /** Gives the connection up at once, without a closing handshake. */
  #abort(err: WebSocketError): void {
    this.#out.fail(err); // writes still in flight did not go out in time
    if (this.#state === CLOSED) return;
    this.#error = err;
    this.#closeCode = err.code;
    this.#closeReason = err.reason;
    this.#finish();
  }

  #rejectWaiters(): void {
    const err = this.#error!;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(err);
    const pings = this.#pings;
    this.#pings = [];
    for (const p of pings) p.reject(err);
  }

  #finish(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    clearTimeout(this.#closeTimer);
    clearTimeout(this.#readTimer);
    clearTimeout(this.#writeTimer);
    this.#closeTimer = this.#readTimer = this.#writeTimer = undefined;
    if (this.#error === null) this.#error = new WebSocketError(1006, "closed");
    if (this.#closeCode === null) {
      this.#closeCode = this.#error.code;
      this.#closeReason = this.#error.reason;
    }
    this.#rejectWaiters();
    this.#sender.close();
    this.#receiver.stop();
    this.#codec?.deflater.close();
    this.#codec?.inflater.close();
    if (this.#owns) this.#conn.close();
    else this.#stopReading = true;
    this.#wakeReader();
    this.#resolveClosed();
  }
}
