/**
 * The per-stream record shared by both roles: its state, its windows, the body bytes
 * waiting to be framed, and the received body bytes waiting to be read (handed out through a
 * `ReadableStream` whose reads grant flow-control window back to the peer).
 *
 * @module
 */

import type { Http2Connection } from "../connection.ts";
import { RecvWindow } from "./flow_control.ts";
import { StreamState } from "./state.ts";
import { RESOLVED } from "../../../conn/_settled.ts";

/** A pending `write()` or `end()`: settled once its bytes are framed. */
interface Waiter {
  /** Settles when this many bytes of the stream have been framed. */
  upTo: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** How a stream ended, remembered for a while to judge late frames (RFC 9113 section 5.1). */
export enum ClosedKind {
  /** Both sides sent END_STREAM: further DATA / HEADERS are a connection error STREAM_CLOSED. */
  Ended = 1,
  /** We sent RST_STREAM (or ignored the stream): late frames are ignored. */
  ResetLocal = 2,
  /** The peer sent RST_STREAM: further DATA / HEADERS are a stream error STREAM_CLOSED. */
  ResetRemote = 3,
}

/**
 * One stream of a connection. The connection drives it; the role-specific subclasses
 * (server exchange, client request) add the API.
 */
export class H2Stream {
  /** The stream identifier. */
  readonly id: number;
  /** The connection. */
  readonly session: Http2Connection;
  /** The RFC 9113 section 5.1 state. */
  state: StreamState = StreamState.Idle;

  // ---- sending ----
  /** What we may still send (the peer's window for this stream); may go negative. */
  sendWindow: number;
  /** Body chunks not framed yet; the first one from `outOffset`. */
  outChunks: Uint8Array[] = [];
  /** Offset into `outChunks[0]`. */
  outOffset = 0;
  /** Bytes in `outChunks` not framed yet. */
  outBytes = 0;
  /** Bytes ever queued. */
  queuedTotal = 0;
  /** Bytes ever framed. */
  framedTotal = 0;
  /**
   * Bytes the caller may reuse: framed by copying, or framed by reference (a vectored
   * write) and written. Pending writes settle up to here.
   */
  releasedTotal = 0;
  /** Write batches (queued or in flight) that still reference this stream's bytes. */
  refBatches = 0;
  /** The batch serial and index of this stream's entry in the connection's queued batch. */
  refSerial = -1;
  /** Index of that entry. */
  refIndex = 0;
  /** Pending writes, in order. */
  waiters: Waiter[] = [];
  /**
   * Why the pending writes fail, held while write batches still reference this stream's
   * bytes: a caller must not reuse a buffer the transport is still sending from.
   */
  #heldFailure: { err: unknown } | null = null;
  /** `end()` was called: END_STREAM goes out after the queued bytes. */
  endQueued = false;
  /** Trailers to send (as HEADERS with END_STREAM) after the queued bytes. */
  outTrailers: [string, string][] | null = null;
  /** Whether we have sent END_STREAM (or RST_STREAM). */
  localClosed = false;
  /** Whether this stream is in the connection's send queue. */
  inSendQueue = false;
  /** Next stream in the connection's send queue. */
  nextSend: H2Stream | null = null;
  /** When sending on this stream last made progress (or data started waiting), `performance.now()`. */
  sendProgress = 0;
  /** Drop outgoing DATA (HEAD responses, 204, 304): the bytes count as sent. */
  discardOutput = false;

  // ---- receiving ----
  /** What the peer may still send, and what to grant back. */
  recv: RecvWindow;
  /** Received body chunks not read yet. */
  inChunks: Uint8Array[] = [];
  /** Bytes in `inChunks`. */
  inBytes = 0;
  /** The peer sent END_STREAM. */
  inEnded = false;
  /** Why the receiving side failed, if it did. */
  inError: unknown = null;
  /** The reader cancelled: arriving data is dropped (and its window granted back). */
  inDiscard = false;
  /** Declared `content-length` of what the peer sends, or -1. */
  contentLength = -1;
  /** Body bytes received so far. */
  received = 0;
  /** Trailers received. */
  inTrailers: Headers | null = null;
  /** Why the stream was reset (either side), once it was. */
  resetError: unknown = null;
  /**
   * Since when (`performance.now()`) a read of the body has been waiting for the peer's
   * next DATA; 0 while no read waits.
   */
  readWaitingSince = 0;

  #body: ReadableStream<Uint8Array> | null = null;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  #pullResolve: (() => void) | null = null;
  #trailers: Promise<Headers> | null = null;
  #trailersResolve: ((h: Headers) => void) | null = null;
  #trailersReject: ((err: unknown) => void) | null = null;

  /**
   * @param session The connection.
   * @param id The stream identifier.
   * @param sendWindow The peer's initial window for this stream.
   * @param recvWindow Our initial window for this stream (what the peer may send).
   * @param recvTarget The window to keep granting up to.
   */
  constructor(
    session: Http2Connection,
    id: number,
    sendWindow: number,
    recvWindow: number,
    recvTarget: number,
  ) {
    this.session = session;
    this.id = id;
    this.sendWindow = sendWindow;
    this.recv = new RecvWindow(recvWindow, recvTarget);
  }

  /** Whether the stream is closed. */
  get isClosed(): boolean {
    return this.state === StreamState.Closed;
  }

  // ---------------------------------------------------------------- inbound body

  /**
   * The received body as a stream. Created on first use; each read hands out one received
   * chunk and grants its bytes back to the peer (batched by the connection).
   */
  get inboundBody(): ReadableStream<Uint8Array> {
    if (this.#body === null) {
      this.#body = new ReadableStream<Uint8Array>({
        start: (c) => {
          this.#controller = c;
        },
        pull: (c) => this.#pull(c),
        cancel: (reason) => this.#cancel(reason),
      }, { highWaterMark: 0 });
    }
    return this.#body;
  }

  /** Resolves with the trailers once the body ended (empty if none); rejects if the stream fails. */
  get inboundTrailers(): Promise<Headers> {
    if (this.#trailers === null) {
      if (this.inEnded) this.#trailers = Promise.resolve(this.inTrailers ?? new Headers());
      else if (this.inError !== null) {
        this.#trailers = Promise.reject(this.inError);
        this.#trailers.catch(() => {});
      } else {
        this.#trailers = new Promise<Headers>((resolve, reject) => {
          this.#trailersResolve = resolve;
          this.#trailersReject = reject;
        });
        this.#trailers.catch(() => {});
      }
    }
    return this.#trailers;
  }

  #pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> | void {
    if (this.inChunks.length > 0) {
      const chunk = this.inChunks.shift()!;
      this.inBytes -= chunk.byteLength;
      c.enqueue(chunk);
      this.session.consumed(this, chunk.byteLength);
      if (this.inChunks.length === 0 && this.inEnded) c.close();
      return;
    }
    if (this.inError !== null) {
      c.error(this.inError);
      return;
    }
    if (this.inEnded) {
      c.close();
      return;
    }
    this.readWaitingSince = performance.now();
    return new Promise<void>((resolve) => {
      this.#pullResolve = resolve;
    });
  }

  #cancel(_reason: unknown): void {
    this.inDiscard = true;
    const n = this.inBytes;
    this.inChunks = [];
    this.inBytes = 0;
    if (n > 0) this.session.consumed(this, n);
    this.onBodyCancel();
  }

  /** Called when the reader cancels the body; subclasses decide what it means for the stream. */
  protected onBodyCancel(): void {}

  /**
   * Hands a received body chunk to the reader (at once when a read is waiting).
   *
   * @param data The bytes.
   */
  deliver(data: Uint8Array): void {
    if (this.inDiscard) {
      this.session.consumed(this, data.byteLength);
      return;
    }
    const resolve = this.#pullResolve;
    if (resolve !== null) {
      this.#pullResolve = null;
      this.readWaitingSince = 0;
      this.#controller!.enqueue(data);
      this.session.consumed(this, data.byteLength);
      resolve();
      return;
    }
    // A small view would keep its whole (peer-controlled) chunk alive while buffered.
    if (data.byteLength * 4 < data.buffer.byteLength) data = data.slice();
    this.inChunks.push(data);
    this.inBytes += data.byteLength;
  }

  /**
   * The peer ended its side (END_STREAM): the body ends after the buffered chunks.
   *
   * @param trailers The trailers, if they came.
   */
  endInbound(trailers: Headers | null): void {
    this.inEnded = true;
    this.inTrailers = trailers;
    const resolve = this.#pullResolve;
    if (resolve !== null) {
      this.#pullResolve = null;
      this.readWaitingSince = 0;
      this.#controller!.close();
      resolve();
    }
    if (this.#trailersResolve !== null) {
      this.#trailersResolve(trailers ?? new Headers());
      this.#trailersResolve = this.#trailersReject = null;
    }
  }

  /**
   * The receiving side fails: the body errors, trailers reject. Buffered bytes are dropped
   * (the caller grants them back to the connection), unless the body had already ended.
   *
   * @param err Why.
   * @returns The bytes that were buffered and are now dropped.
   */
  failInbound(err: unknown): number {
    // A body that was received whole stays readable.
    if (this.inEnded) return 0;
    const dropped = this.inBytes;
    this.inChunks = [];
    this.inBytes = 0;
    this.inError = err;
    const c = this.#controller;
    if (c !== null) {
      try {
        c.error(err);
      } catch { /* already closed or errored */ }
    }
    const resolve = this.#pullResolve;
    if (resolve !== null) {
      this.#pullResolve = null;
      this.readWaitingSince = 0;
      resolve();
    }
    if (this.#trailersReject !== null) {
      this.#trailersReject(err);
      this.#trailersResolve = this.#trailersReject = null;
    }
    return dropped;
  }

  // ---------------------------------------------------------------- outbound

  /**
   * Settles the writes whose bytes are all released (framed, or written when referenced).
   */
  settleWaiters(): void {
    const w = this.waiters;
    let i = 0;
    while (i < w.length && w[i].upTo <= this.releasedTotal) w[i++].resolve();
    if (i === w.length) this.waiters = [];
    else if (i > 0) this.waiters = w.slice(i);
    if (this.#heldFailure !== null && this.refBatches === 0) {
      const { err } = this.#heldFailure;
      this.#heldFailure = null;
      this.#rejectWaiters(err);
    }
  }

  /**
   * Fails the pending writes and drops the unframed bytes. While write batches still
   * reference this stream's bytes, the writes fail once those are written (see
   * {@linkcode H2Stream.settleWaiters}, and {@linkcode H2Stream.transportGone}).
   *
   * @param err Why.
   */
  failOutbound(err: unknown): void {
    this.outChunks = [];
    this.outBytes = 0;
    this.outOffset = 0;
    this.outTrailers = null;
    if (this.refBatches > 0) {
      this.#heldFailure ??= { err };
      return;
    }
    this.#heldFailure = null;
    this.#rejectWaiters(err);
  }

  /** The transport is closed: no batch will be written, so held failures go out now. */
  transportGone(): void {
    this.refBatches = 0;
    this.settleWaiters();
  }

  #rejectWaiters(err: unknown): void {
    const w = this.waiters;
    this.waiters = [];
    for (const waiter of w) waiter.reject(err);
  }

  /**
   * A promise for the current end of the queue being framed.
   *
   * @returns The promise.
   */
  waitFramed(): Promise<void> {
    const upTo = this.queuedTotal;
    if (this.releasedTotal >= upTo && this.outBytes === 0) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ upTo, resolve, reject });
    });
  }

  // ---------------------------------------------------------------- hooks

  /**
   * Called once when the stream closes: `err` is `null` after END_STREAM both ways, else
   * why it was reset or lost.
   *
   * @param _err Why, or `null`.
   */
  onClose(_err: unknown): void {}
}
