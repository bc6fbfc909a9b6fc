/**
 * The HTTP/2 connection core shared by client and server: the SETTINGS exchange and ACK,
 * PING, GOAWAY, the stream table and the per-frame rules of RFC 9113, flow control both
 * ways, and the write path (frames of one event-loop turn coalesced into one `write()`).
 *
 * Reading is one loop: each chunk is pushed into the frame decoder and every complete frame
 * is handled synchronously; no promise is created per frame. Writing goes through one
 * buffer: frames are appended as they are produced and a microtask hands the buffer to the
 * connection; while that write is in flight the next buffer fills, so that under load many
 * responses leave in one write. Stream bodies wait in per-stream queues and are framed
 * round-robin as the flow-control windows allow.
 *
 * @module
 */

import type { Conn } from "../../conn/types.ts";
import { FrameDecoder } from "../codec/decoder.ts";
import { FrameEncoder } from "../codec/encoder.ts";
import {
  connectionError,
  errorCodeName,
  Http2Error,
  Http2ErrorCode,
  streamError,
} from "../errors.ts";
import {
  type DataFrame,
  Flags,
  type Frame,
  FrameType,
  type GoAwayFrame,
  type HeadersFrame,
  type PingFrame,
  type RstStreamFrame,
  SettingId,
  type SettingsFrame,
  type UnknownFrame,
  type WindowUpdateFrame,
} from "../frame/mod.ts";
import { HpackDecoder, HpackEncoder, HpackError } from "../hpack/mod.ts";
import { DEFAULT_WINDOW_SIZE, type HTTP2Settings } from "../settings.ts";
import { unrefTimer } from "../../client/_ref.ts";
import { growWindow, RecvWindow } from "./streams/flow_control.ts";
import {
  canRecv,
  recvEndStream,
  sendEndStream,
  sendHeaders as nextStateOnSendHeaders,
  StreamState,
} from "./streams/state.ts";
import { ClosedKind, type H2Stream } from "./streams/stream.ts";
import { RESOLVED } from "../../conn/_settled.ts";

/** Limits against abusive peers (DESIGN section 5). */
export interface Http2Limits {
  /** CONTINUATION frames allowed after one HEADERS; more is a connection ENHANCE_YOUR_CALM. */
  maxContinuationFrames: number;
  /** Encoded size of one field block (HEADERS + CONTINUATIONs); more is ENHANCE_YOUR_CALM. */
  maxHeaderBlockSize: number;
  /** Fields one decoded header list may hold (HPACK); more refuses the stream. */
  maxHeaderFieldCount: number;
  /** Control frames (SETTINGS / PING ACKs, RST_STREAMs) queued unwritten; more is ENHANCE_YOUR_CALM. */
  maxQueuedControlFrames: number;
  /** Consecutive empty DATA frames without END_STREAM; more is ENHANCE_YOUR_CALM. */
  maxEmptyDataFrames: number;
  /** RST_STREAM frames the peer may send in a burst (token bucket size). */
  resetBurst: number;
  /** RST_STREAM frames per second the bucket refills with; beyond that ENHANCE_YOUR_CALM. */
  resetRate: number;
}

/** The default {@linkcode Http2Limits}. */
export const DEFAULT_LIMITS: Readonly<Http2Limits> = Object.freeze({
  maxContinuationFrames: 64,
  maxHeaderBlockSize: 256 * 1024,
  maxHeaderFieldCount: 500,
  maxQueuedControlFrames: 10000,
  maxEmptyDataFrames: 100,
  resetBurst: 1000,
  resetRate: 33,
});

/**
 * Bytes of frames (referenced payloads included) batched before body data stops being framed
 * until the write in flight completes. Large, so that bulk data leaves in few writes: with
 * 64 KiB a 1 MiB response took 16 `send` syscalls, with 512 KiB about 2.4 (strace, h2load).
 */
const OUT_HIGH_WATER = 512 * 1024;
/**
 * DATA payload pieces at least this large are written by reference (`Conn.writev`) rather
 * than copied into the frame buffer; smaller ones are copied (and released at once).
 */
const REF_MIN = 4096;
/** Frame buffers larger than this are dropped once nothing waits to be sent. */
const OUT_KEEP = 64 * 1024;
/**
 * When frames are written: `setImmediate` (Deno 2, Node, Bun) runs once the microtasks of
 * the current turn are done, so every handler that answers without waiting for I/O lands
 * in the same write (measured with h2load: about 1.7x the requests/s of flushing at the
 * first microtask). Without it, the flush waits a few microtask turns instead, enough for
 * an awaited `respond()`, `write()` and `end()` to share one write.
 */
const setImmediateFn = (globalThis as { setImmediate?: (fn: () => void) => unknown })
  .setImmediate;
const FLUSH_HOPS = 4;
/** How long closing waits for the last frames to be written. */
const LINGER_MS = 2000;
/** How many closed streams are remembered to judge late frames. */
const MAX_REMEMBERED = 1024;
/** Longest GOAWAY debug data sent. */
const MAX_DEBUG = 256;
/** The largest stream id: the last-stream-id of the shutdown notice GOAWAY (RFC 9113 section 6.8). */
const MAX_STREAM_ID = 0x7fffffff;
/** The opaque data of the PING sent with the shutdown notice, to know its ACK. */
const SHUTDOWN_PING = new Uint8Array([0x68, 0x77, 0x2d, 0x62, 0x79, 0x65, 0x00, 0x01]);
/** Default of {@linkcode Http2ConnectionOptions.settingsTimeout}. */
export const DEFAULT_SETTINGS_TIMEOUT = 10_000;
/** Default of {@linkcode Http2ConnectionOptions.shutdownPingTimeout}. */
export const DEFAULT_SHUTDOWN_PING_TIMEOUT = 1_000;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/** Options of {@linkcode Http2Connection}. */
export interface Http2ConnectionOptions {
  /** Our settings. */
  settings: HTTP2Settings;
  /** Whether this end is the server. */
  isServer: boolean;
  /** Abuse limits (defaults: {@linkcode DEFAULT_LIMITS}). */
  limits?: Partial<Http2Limits>;
  /**
   * Cap on unread received body bytes buffered for the whole connection: the connection
   * window granted to the peer never exceeds it (default: no cap beyond
   * `settings.connectionWindowSize`).
   */
  maxBufferedBytes?: number;
  /**
   * Milliseconds within which the peer must acknowledge our SETTINGS, else the connection
   * ends with GOAWAY(SETTINGS_TIMEOUT) (RFC 9113 section 6.5.3). Default 10 000; 0 disables.
   */
  settingsTimeout?: number;
  /**
   * Graceful shutdown of a server (RFC 9113 section 6.8): the first GOAWAY (last-stream-id
   * 2^31-1) goes out with a PING, and the final GOAWAY (the real last stream) once the PING
   * is acknowledged or after this many milliseconds. Default 1 000; 0 sends only the final
   * GOAWAY. Clients always send one GOAWAY.
   */
  shutdownPingTimeout?: number;
}

/**
 * One HTTP/2 connection, either end. Subclasses (the server and client connections) open
 * streams and interpret field blocks; this class owns everything else.
 */
export abstract class Http2Connection {
  /** The transport. */
  readonly conn: Conn;
  /** Our settings. */
  readonly settings: HTTP2Settings;
  /** Whether this end is the server. */
  readonly isServer: boolean;
  /** The abuse limits in force. */
  readonly limits: Http2Limits;
  /** Streams not yet closed, by id. */
  readonly streams: Map<number, H2Stream> = new Map();
  /** HPACK context for what we send. */
  readonly hpackEncoder: HpackEncoder;
  /** HPACK context for what the peer sends. */
  readonly hpackDecoder: HpackDecoder;
  /** Bytes to frames. */
  readonly decoder: FrameDecoder;
  /** Resolves once the transport is closed. */
  readonly finished: Promise<void>;

  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS (unlimited until it says). */
  peerMaxConcurrentStreams = Infinity;
  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE. */
  peerInitialWindowSize = DEFAULT_WINDOW_SIZE;
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  peerMaxFrameSize = 16384;
  /** The peer's SETTINGS_MAX_HEADER_LIST_SIZE. */
  peerMaxHeaderListSize = Infinity;
  /** The peer's SETTINGS_HEADER_TABLE_SIZE. */
  peerHeaderTableSize = 4096;
  /** Whether the peer's first SETTINGS arrived. */
  peerSettingsReceived = false;
  /** Whether the peer acknowledged our SETTINGS. */
  localSettingsAcked = false;

  /** What we may still send on the connection. */
  connSendWindow = DEFAULT_WINDOW_SIZE;
  /** What the peer may still send on the connection. */
  readonly connRecv: RecvWindow;
  /** The connection receive window granted (settings, capped by `maxBufferedBytes`). */
  readonly connectionWindow: number;

  /** Highest stream id the peer opened (or tried to). */
  highestPeerStreamId = 0;
  /** Highest peer stream id processed: the GOAWAY last-stream-id. */
  lastProcessedPeerStreamId = 0;
  /** Next id for a stream we open (odd for clients, even for servers). */
  nextLocalStreamId: number;

  /** Whether we sent GOAWAY (no new streams accepted). */
  goAwaySent = false;
  /** The GOAWAY the peer sent, if any. */
  goAwayReceived: GoAwayFrame | null = null;
  /** Whether the connection is being torn down (no more frames are processed). */
  terminating = false;
  /** Whether the transport is closed. */
  transportClosed = false;
  /** The connection error that ended the connection, if one did. */
  closeError: Http2Error | null = null;

  #resolveFinished!: () => void;
  #preAckStreamWindow: number;
  #out = new FrameEncoder(16384);
  #spare: FrameEncoder | null = new FrameEncoder(16384);
  #inflight: FrameEncoder | null = null;
  /** Whether the transport has a vectored write: large DATA payloads are not copied. */
  readonly #vectored: boolean;
  /** Payload pieces referenced by the queued batch, and the offsets in `#out` they go at. */
  #refs: Uint8Array[] = [];
  #refAt: number[] = [];
  #refBytes = 0;
  /** Streams whose referenced bytes (up to `#settleUpTo`) the queued batch holds. */
  #settle: H2Stream[] = [];
  #settleUpTo: number[] = [];
  /** The same, for the batch being written. */
  #inflightSettle: H2Stream[] = [];
  #inflightSettleUpTo: number[] = [];
  /** Serial of the queued batch. */
  #batch = 0;
  #writing = false;
  #flushQueued = false;
  #flushHops = 0;
  #outControl = 0;
  #inflightControl = 0;
  #sendHead: H2Stream | null = null;
  #sendTail: H2Stream | null = null;
  #lastDataStream = 0;
  #lastDataFlagsAt = -1;
  #lastDataEnd = -1;
  /** Recently closed streams, a ring: ids, and how each closed (0 = empty slot). */
  #closedIds = new Uint32Array(MAX_REMEMBERED);
  #closedKinds = new Uint8Array(MAX_REMEMBERED);
  #closedAt = 0;
  #emptyData = 0;
  #resetTokens: number;
  #resetStamp = 0;
  #gotFirstSettings = false;
  #lingerTimer: ReturnType<typeof setTimeout> | null = null;
  #settingsTimeout: number;
  #settingsTimer: ReturnType<typeof setTimeout> | null = null;
  #shutdownPingTimeout: number;
  #shutdownTimer: ReturnType<typeof setTimeout> | null = null;
  /** The shutdown notice (GOAWAY 2^31-1 and a PING) was sent; the final GOAWAY was not yet. */
  #shutdownNotice = false;
  #sendProgress = 0;
  #writeStarted = 0;

  /**
   * @param conn The transport.
   * @param options Settings, role, limits.
   */
  constructor(conn: Conn, options: Http2ConnectionOptions) {
    this.conn = conn;
    this.#vectored = typeof conn.writev === "function";
    this.settings = options.settings;
    this.isServer = options.isServer;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    const s = this.settings;
    this.nextLocalStreamId = this.isServer ? 2 : 1;
    this.hpackEncoder = new HpackEncoder();
    this.hpackDecoder = new HpackDecoder({
      maxTableSize: Math.max(4096, s.headerTableSize),
      maxHeaderListSize: s.maxHeaderListSize,
      maxFieldCount: this.limits.maxHeaderFieldCount,
    });
    this.decoder = new FrameDecoder({
      maxFrameSize: s.maxFrameSize,
      maxContinuationFrames: this.limits.maxContinuationFrames,
      maxHeaderBlockSize: this.limits.maxHeaderBlockSize,
      expectPreface: this.isServer,
    });
    this.connectionWindow = Math.max(
      DEFAULT_WINDOW_SIZE,
      Math.min(s.connectionWindowSize, options.maxBufferedBytes ?? Infinity),
    );
    this.connRecv = new RecvWindow(this.connectionWindow, this.connectionWindow);
    this.#preAckStreamWindow = Math.max(DEFAULT_WINDOW_SIZE, s.initialWindowSize);
    this.#resetTokens = this.limits.resetBurst;
    this.#settingsTimeout = nonNegative("settingsTimeout", options.settingsTimeout) ??
      DEFAULT_SETTINGS_TIMEOUT;
    this.#shutdownPingTimeout = nonNegative("shutdownPingTimeout", options.shutdownPingTimeout) ??
      DEFAULT_SHUTDOWN_PING_TIMEOUT;
    this.finished = new Promise<void>((resolve) => (this.#resolveFinished = resolve));
  }

  // ================================================================ start

  /**
   * Sends our preface (client: the magic string; both: SETTINGS and the connection
   * WINDOW_UPDATE) and starts reading.
   *
   * @param initial Bytes already read from the transport (a sniffed preface).
   */
  start(initial?: Uint8Array): void {
    const s = this.settings;
    const out = this.#out;
    if (!this.isServer) {
      out.reserve(24);
      out.append(new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    }
    const list: [number, number][] = [];
    if (!this.isServer) list.push([SettingId.ENABLE_PUSH, 0]);
    else list.push([SettingId.MAX_CONCURRENT_STREAMS, s.maxConcurrentStreams]);
    if (s.initialWindowSize !== DEFAULT_WINDOW_SIZE) {
      list.push([SettingId.INITIAL_WINDOW_SIZE, s.initialWindowSize]);
    }
    if (s.maxFrameSize !== 16384) list.push([SettingId.MAX_FRAME_SIZE, s.maxFrameSize]);
    list.push([SettingId.MAX_HEADER_LIST_SIZE, s.maxHeaderListSize]);
    if (s.headerTableSize !== 4096) list.push([SettingId.HEADER_TABLE_SIZE, s.headerTableSize]);
    out.settings(list);
    if (this.#settingsTimeout > 0) {
      this.#settingsTimer = setTimeout(this.#onSettingsTimeout, this.#settingsTimeout);
      // The timer alone must not keep the process alive (an idle client connection).
      unrefTimer(this.#settingsTimer);
    }
    if (this.connectionWindow > DEFAULT_WINDOW_SIZE) {
      out.windowUpdate(0, this.connectionWindow - DEFAULT_WINDOW_SIZE);
    }
    this.#scheduleFlush();
    this.#readLoop(initial);
  }

  #onSettingsTimeout = (): void => {
    this.#settingsTimer = null;
    if (this.localSettingsAcked || this.terminating) return;
    this.terminate(
      connectionError(
        Http2ErrorCode.SETTINGS_TIMEOUT,
        `SETTINGS not acknowledged within ${this.#settingsTimeout} ms`,
      ),
    );
  };

  // ================================================================ hooks

  /**
   * A HEADERS frame opens a new stream of the peer (an idle id of the peer's parity, above
   * all before it).
   *
   * @param frame The frame (whole field block).
   * @param fields The decoded fields, or `null` when the list was too large.
   * @param tooLarge The HPACK error when the list went over our limits.
   */
  protected abstract onNewStream(
    frame: HeadersFrame,
    fields: [string, string][] | null,
    tooLarge: HpackError | null,
  ): void;

  /**
   * A HEADERS frame arrives on an open stream (response head, informational, trailers).
   *
   * @param stream The stream.
   * @param frame The frame.
   * @param fields The decoded fields.
   */
  protected abstract onStreamHeaders(
    stream: H2Stream,
    frame: HeadersFrame,
    fields: [string, string][],
  ): void;

  /**
   * Whether DATA may arrive on this stream yet (a client gets none before the response head).
   *
   * @param _stream The stream.
   * @returns Whether DATA is acceptable.
   */
  protected acceptsData(_stream: H2Stream): boolean {
    return true;
  }

  /**
   * A stream closed (normally or not); it is no longer in `streams`.
   *
   * @param _stream The stream.
   */
  protected onStreamClosed(_stream: H2Stream): void {}

  /** The peer's SETTINGS were applied. */
  protected onPeerSettings(): void {}

  /** The peer's first SETTINGS arrived (the preface is complete). */
  protected onPrefaceComplete(): void {}

  /**
   * The peer sent GOAWAY.
   *
   * @param _frame The frame.
   */
  protected onGoAway(_frame: GoAwayFrame): void {}

  /**
   * The connection is being torn down; open streams are about to fail.
   *
   * @param _err The connection error, or `null` for a clean close.
   */
  protected onTerminate(_err: Http2Error | null): void {}

  /** The transport is closed. */
  protected onTransportClosed(): void {}

  /** Work other than open streams that keeps a draining connection open (queued requests). */
  protected get pendingWork(): number {
    return 0;
  }

  // ================================================================ reading

  async #readLoop(initial?: Uint8Array): Promise<void> {
    try {
      if (initial !== undefined && initial.byteLength > 0) this.#receive(initial);
      while (!this.terminating) {
        let chunk: Uint8Array | null;
        try {
          chunk = await this.conn.read();
        } catch (err) {
          this.#transportFailed(err);
          return;
        }
        if (this.terminating) return;
        if (chunk === null) {
          this.#onPeerEof();
          return;
        }
        this.#receive(chunk);
      }
    } catch (err) {
      if (err instanceof Http2Error) this.terminate(err);
      else {
        this.terminate(
          new Http2Error(Http2ErrorCode.INTERNAL_ERROR, `internal error: ${String(err)}`, {
            cause: err,
          }),
        );
      }
    }
  }

  #receive(chunk: Uint8Array): void {
    this.decoder.push(chunk);
    while (!this.terminating) {
      try {
        const frame = this.decoder.next();
        if (frame === null) return;
        this.#dispatch(frame);
      } catch (err) {
        if (!(err instanceof Http2Error) || err.scope !== "stream") throw err;
        if (!this.#gotFirstSettings) {
          // A frame that fails its own checks as a stream error (a WINDOW_UPDATE of 0, a bad
          // PRIORITY) is no SETTINGS either: as the peer's first frame, a broken preface
          // (RFC 9113 section 3.4), not a RST_STREAM and a connection that goes on.
          throw connectionError(
            Http2ErrorCode.PROTOCOL_ERROR,
            `the connection preface must start with a SETTINGS frame (${err.message})`,
          );
        }
        this.#onStreamError(err);
      }
    }
  }

  #dispatch(frame: Frame | UnknownFrame): void {
    if (!this.#gotFirstSettings) {
      if (frame.type !== FrameType.SETTINGS || (frame.flags & Flags.ACK) !== 0) {
        throw connectionError(
          Http2ErrorCode.PROTOCOL_ERROR,
          "the connection preface must start with a SETTINGS frame",
        );
      }
      this.#gotFirstSettings = true;
    }
    switch (frame.type) {
      case FrameType.DATA:
        return this.#onData(frame as DataFrame);
      case FrameType.HEADERS:
        return this.#onHeaders(frame as HeadersFrame);
      case FrameType.PRIORITY:
        return; // checked by the decoder, otherwise ignored (RFC 9113 section 5.3.2)
      case FrameType.RST_STREAM:
        return this.#onRstStream(frame as RstStreamFrame);
      case FrameType.SETTINGS:
        return this.#onSettings(frame as SettingsFrame);
      case FrameType.PUSH_PROMISE:
        throw connectionError(
          Http2ErrorCode.PROTOCOL_ERROR,
          this.isServer ? "PUSH_PROMISE sent by a client" : "PUSH_PROMISE while push is disabled",
        );
      case FrameType.PING:
        return this.#onPing(frame as PingFrame);
      case FrameType.GOAWAY:
        return this.#onGoAway(frame as GoAwayFrame);
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(frame as WindowUpdateFrame);
      default:
        return; // unknown frame types are ignored (RFC 9113 section 4.1)
    }
  }

  /**
   * Whether `id` is idle: never opened by its initiator.
   *
   * @param id The stream id.
   * @returns Whether it is idle.
   */
  isIdle(id: number): boolean {
    if (this.#isPeerInitiated(id)) return id > this.highestPeerStreamId;
    return id >= this.nextLocalStreamId;
  }

  #isPeerInitiated(id: number): boolean {
    return this.isServer ? (id & 1) === 1 : (id & 1) === 0;
  }

  /**
   * Judges a DATA or HEADERS frame on a stream that is no longer in the table.
   *
   * @param id The stream.
   * @param type The frame type.
   * @returns Nothing when the frame is to be ignored.
   * @throws {Http2Error} the error RFC 9113 section 5.1 asks for.
   */
  #onClosedStreamFrame(id: number, type: number): void {
    const name = type === FrameType.DATA ? "DATA" : "HEADERS";
    if (this.isIdle(id)) {
      throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, `${name} on idle stream ${id}`);
    }
    const kind = this.#closedKind(id);
    if (kind === ClosedKind.ResetLocal) return;
    if (kind === ClosedKind.Ended) {
      throw connectionError(Http2ErrorCode.STREAM_CLOSED, `${name} on closed stream ${id}`);
    }
    if (kind === undefined && type === FrameType.HEADERS) {
      throw connectionError(
        Http2ErrorCode.PROTOCOL_ERROR,
        `HEADERS on stream ${id}, below the streams already opened`,
      );
    }
    throw streamError(Http2ErrorCode.STREAM_CLOSED, id, `${name} on closed stream ${id}`);
  }

  #remember(id: number, kind: ClosedKind): void {
    const i = this.#closedAt;
    this.#closedIds[i] = id;
    this.#closedKinds[i] = kind;
    this.#closedAt = i + 1 === MAX_REMEMBERED ? 0 : i + 1;
  }

  /** How a recently closed stream closed (the latest record wins), or `undefined`. */
  #closedKind(id: number): ClosedKind | undefined {
    const ids = this.#closedIds;
    for (let n = 0, i = this.#closedAt; n < MAX_REMEMBERED; n++) {
      i = i === 0 ? MAX_REMEMBERED - 1 : i - 1;
      if (ids[i] === id && this.#closedKinds[i] !== 0) return this.#closedKinds[i] as ClosedKind;
    }
    return undefined;
  }

  /**
   * Marks a peer stream as refused or ignored without creating it, so late frames on it
   * are ignored.
   *
   * @param id The stream.
   */
  forgetStream(id: number): void {
    this.#remember(id, ClosedKind.ResetLocal);
  }

  #onStreamError(err: Http2Error): void {
    const id = err.streamId;
    if (this.isIdle(id)) {
      // No RST_STREAM may be sent on an idle stream: it becomes a connection error.
      throw connectionError(err.code, `${err.message} (idle stream ${id})`);
    }
    const s = this.streams.get(id);
    // A RST_STREAM is the last frame sent on a stream (RFC 9113 section 5.4.2): frames that
    // arrive after ours are ignored (section 5.1), malformed ones (a WINDOW_UPDATE of 0, a
    // bad PRIORITY) too, rather than answered with another RST_STREAM.
    if (s === undefined && this.#closedKind(id) === ClosedKind.ResetLocal) return;
    this.countControlFrame();
    this.#out.rstStream(id, err.code);
    this.#lastDataEnd = -1;
    this.#scheduleFlush();
    if (s !== undefined) this.#closeStream(s, ClosedKind.ResetLocal, err);
    else this.#remember(id, ClosedKind.ResetLocal);
  }

  #onData(f: DataFrame): void {
    const id = f.streamId;
    const len = f.flowLength;
    if (!this.connRecv.receive(len)) {
      throw connectionError(
        Http2ErrorCode.FLOW_CONTROL_ERROR,
        `DATA of ${len} bytes exceeds the connection window (${this.connRecv.window})`,
      );
    }
    const s = this.streams.get(id);
    if (s === undefined || !canRecv(s.state)) {
      this.#creditConnection(len);
      if (s === undefined) return this.#onClosedStreamFrame(id, FrameType.DATA);
      throw streamError(Http2ErrorCode.STREAM_CLOSED, id, `DATA on half-closed stream ${id}`);
    }
    if (!this.acceptsData(s)) {
      this.#creditConnection(len);
      throw streamError(Http2ErrorCode.PROTOCOL_ERROR, id, `DATA before HEADERS on stream ${id}`);
    }
    if (!s.recv.receive(len)) {
      this.#creditConnection(len);
      throw streamError(
        Http2ErrorCode.FLOW_CONTROL_ERROR,
        id,
        `DATA of ${len} bytes exceeds the window of stream ${id} (${s.recv.window})`,
      );
    }
    const data = f.data;
    const n = data.byteLength;
    if (n !== len) this.consumed(s, len - n); // padding is consumed at once
    if (n === 0) {
      if (!f.endStream && ++this.#emptyData > this.limits.maxEmptyDataFrames) {
        throw connectionError(
          Http2ErrorCode.ENHANCE_YOUR_CALM,
          `more than ${this.limits.maxEmptyDataFrames} empty DATA frames`,
        );
      }
    } else {
      this.#emptyData = 0;
      s.received += n;
      if (s.contentLength >= 0 && s.received > s.contentLength) {
        this.#creditConnection(n);
        throw streamError(
          Http2ErrorCode.PROTOCOL_ERROR,
          id,
          `more DATA than content-length ${s.contentLength} on stream ${id}`,
        );
      }
      s.deliver(data);
    }
    if (f.endStream) this.recvEnd(s, null);
  }

  /**
   * The peer ended its side of a stream (END_STREAM on DATA or trailers).
   *
   * @param s The stream.
   * @param trailers Trailers, if they came.
   */
  recvEnd(s: H2Stream, trailers: Headers | null): void {
    if (s.contentLength >= 0 && s.received !== s.contentLength) {
      throw streamError(
        Http2ErrorCode.PROTOCOL_ERROR,
        s.id,
        `${s.received} bytes of DATA, content-length ${s.contentLength} on stream ${s.id}`,
      );
    }
    s.state = recvEndStream(s.state)!;
    s.endInbound(trailers);
    if (s.state === StreamState.Closed) this.#closeStream(s, ClosedKind.Ended, null);
  }

  #onHeaders(f: HeadersFrame): void {
    let fields: [string, string][] | null = null;
    let tooLarge: HpackError | null = null;
    try {
      fields = this.hpackDecoder.decode(f.fragment);
    } catch (err) {
      if (!(err instanceof HpackError)) throw err;
      if (err.code !== "header_list_too_large") {
        throw connectionError(Http2ErrorCode.COMPRESSION_ERROR, err.message);
      }
      tooLarge = err;
    }
    const id = f.streamId;
    const s = this.streams.get(id);
    if (s !== undefined) {
      if (!canRecv(s.state)) {
        throw streamError(Http2ErrorCode.STREAM_CLOSED, id, `HEADERS on half-closed stream ${id}`);
      }
      if (tooLarge !== null) {
        throw streamError(Http2ErrorCode.PROTOCOL_ERROR, id, tooLarge.message);
      }
      if (f.priority !== null && f.priority.dependency === id) {
        throw streamError(Http2ErrorCode.PROTOCOL_ERROR, id, `stream ${id} depends on itself`);
      }
      this.onStreamHeaders(s, f, fields!);
      return;
    }
    if (this.isIdle(id)) {
      if (!this.#isPeerInitiated(id)) {
        throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, `HEADERS on idle stream ${id}`);
      }
      this.highestPeerStreamId = id;
      this.onNewStream(f, fields, tooLarge);
      return;
    }
    this.#onClosedStreamFrame(id, FrameType.HEADERS);
  }

  #onRstStream(f: RstStreamFrame): void {
    this.#takeResetToken();
    const id = f.streamId;
    const s = this.streams.get(id);
    if (s === undefined) {
      if (this.isIdle(id)) {
        throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
      }
      return;
    }
    const err = new Http2Error(
      f.errorCode,
      `stream ${id} reset by the peer (${errorCodeName(f.errorCode)})`,
      { scope: "stream", streamId: id, remote: true },
    );
    this.#closeStream(s, ClosedKind.ResetRemote, err);
  }

  #takeResetToken(): void {
    const { resetBurst, resetRate } = this.limits;
    if (!Number.isFinite(resetBurst)) return;
    const now = performance.now();
    if (this.#resetStamp !== 0) {
      this.#resetTokens = Math.min(
        resetBurst,
        this.#resetTokens + (now - this.#resetStamp) * resetRate / 1000,
      );
    }
    this.#resetStamp = now;
    if (this.#resetTokens < 1) {
      throw connectionError(
        Http2ErrorCode.ENHANCE_YOUR_CALM,
        `too many RST_STREAM frames (more than ${resetBurst} at once, ${resetRate}/s after)`,
      );
    }
    this.#resetTokens -= 1;
  }

  #onSettings(f: SettingsFrame): void {
    if (f.ack) {
      if (!this.localSettingsAcked) {
        this.localSettingsAcked = true;
        if (this.#settingsTimer !== null) {
          clearTimeout(this.#settingsTimer);
          this.#settingsTimer = null;
        }
        const s = this.settings;
        const delta = s.initialWindowSize - this.#preAckStreamWindow;
        if (delta !== 0) {
          for (const stream of this.streams.values()) stream.recv.window += delta;
        }
        if (s.headerTableSize < 4096) this.hpackDecoder.setMaxTableSize(s.headerTableSize);
      }
      return;
    }
    // Until the first SETTINGS a client may assume a limit; absent from it means unlimited.
    if (!this.peerSettingsReceived) this.peerMaxConcurrentStreams = Infinity;
    for (const [id, value] of f.settings) {
      switch (id) {
        case SettingId.HEADER_TABLE_SIZE:
          if (value !== this.peerHeaderTableSize) {
            this.peerHeaderTableSize = value;
            this.hpackEncoder.setMaxTableSize(value);
          }
          break;
        case SettingId.ENABLE_PUSH:
          if (!this.isServer && value !== 0) {
            throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, "a server sent ENABLE_PUSH 1");
          }
          break;
        case SettingId.MAX_CONCURRENT_STREAMS:
          this.peerMaxConcurrentStreams = value;
          break;
        case SettingId.INITIAL_WINDOW_SIZE: {
          const delta = value - this.peerInitialWindowSize;
          this.peerInitialWindowSize = value;
          if (delta === 0) break;
          for (const s of this.streams.values()) {
            const w = growWindow(s.sendWindow, delta);
            if (w === null) {
              throw connectionError(
                Http2ErrorCode.FLOW_CONTROL_ERROR,
                `SETTINGS_INITIAL_WINDOW_SIZE overflows the window of stream ${s.id}`,
              );
            }
            s.sendWindow = w;
            if (delta > 0 && s.outBytes > 0) this.#queueSend(s);
            s.sendProgress = performance.now();
          }
          break;
        }
        case SettingId.MAX_FRAME_SIZE:
          this.peerMaxFrameSize = value;
          break;
        case SettingId.MAX_HEADER_LIST_SIZE:
          this.peerMaxHeaderListSize = value;
          break;
      }
    }
    this.countControlFrame();
    this.#out.settingsAck();
    this.#lastDataEnd = -1;
    this.#scheduleFlush();
    if (!this.peerSettingsReceived) {
      this.peerSettingsReceived = true;
      this.onPrefaceComplete();
    }
    this.onPeerSettings();
  }

  #onPing(f: PingFrame): void {
    if (f.ack) {
      // The only PING we send is the shutdown notice's; its ACK means the peer has seen the
      // first GOAWAY, so every stream it opened before that has arrived.
      if (this.#shutdownNotice && !this.goAwaySent && sameBytes(f.data, SHUTDOWN_PING)) {
        this.#finalGoAway();
      }
      return;
    }
    this.countControlFrame();
    this.#out.ping(f.data, true);
    this.#lastDataEnd = -1;
    this.#scheduleFlush();
  }

  #onGoAway(f: GoAwayFrame): void {
    const prev = this.goAwayReceived;
    if (prev !== null && f.lastStreamId > prev.lastStreamId) {
      // The last-stream-id may only go down (RFC 9113 section 6.8).
      throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, "GOAWAY raised its last stream id");
    }
    this.goAwayReceived = f;
    this.onGoAway(f);
    this.#maybeFinish();
  }

  #onWindowUpdate(f: WindowUpdateFrame): void {
    const id = f.streamId;
    if (id === 0) {
      const w = growWindow(this.connSendWindow, f.increment);
      if (w === null) {
        throw connectionError(
          Http2ErrorCode.FLOW_CONTROL_ERROR,
          "WINDOW_UPDATE grows the connection window beyond 2^31-1",
        );
      }
      this.connSendWindow = w;
      this.#sendProgress = performance.now();
      if (this.#sendHead !== null) this.#scheduleFlush();
      return;
    }
    const s = this.streams.get(id);
    if (s === undefined) {
      if (this.isIdle(id)) {
        throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
      }
      return;
    }
    const w = growWindow(s.sendWindow, f.increment);
    if (w === null) {
      throw streamError(
        Http2ErrorCode.FLOW_CONTROL_ERROR,
        id,
        `WINDOW_UPDATE grows the window of stream ${id} beyond 2^31-1`,
      );
    }
    s.sendWindow = w;
    s.sendProgress = performance.now();
    if (s.outBytes > 0) {
      this.#queueSend(s);
      this.#scheduleFlush();
    }
  }

  /**
   * Counts a control frame queued in answer to the peer; too many unwritten ones (a peer
   * that sends PINGs or SETTINGS but does not read) is ENHANCE_YOUR_CALM.
   */
  countControlFrame(): void {
    if (++this.#outControl + this.#inflightControl > this.limits.maxQueuedControlFrames) {
      throw connectionError(
        Http2ErrorCode.ENHANCE_YOUR_CALM,
        `more than ${this.limits.maxQueuedControlFrames} control frames queued unwritten`,
      );
    }
  }

  // ================================================================ flow control, receiving

  /**
   * Bytes of a stream's received data were consumed (read, or dropped): grant them back,
   * batched.
   *
   * @param s The stream.
   * @param n The bytes.
   */
  consumed(s: H2Stream, n: number): void {
    if (n <= 0 || this.terminating) return;
    const c = this.connRecv.consume(n);
    if (c > 0) {
      this.#out.windowUpdate(0, c);
      this.#lastDataEnd = -1;
      this.#scheduleFlush();
    }
    if (canRecv(s.state) && !s.inEnded) {
      const i = s.recv.consume(n);
      if (i > 0) {
        this.#out.windowUpdate(s.id, i);
        this.#lastDataEnd = -1;
        this.#scheduleFlush();
      }
    }
  }

  #creditConnection(n: number): void {
    if (n <= 0 || this.terminating) return;
    const c = this.connRecv.consume(n);
    if (c > 0) {
      this.#out.windowUpdate(0, c);
      this.#lastDataEnd = -1;
      this.#scheduleFlush();
    }
  }

  // ================================================================ streams

  /**
   * The initial receive window for a new stream (before our SETTINGS are acknowledged the
   * peer may still use the larger of the default and ours).
   *
   * @returns The window.
   */
  initialRecvWindow(): number {
    return this.localSettingsAcked ? this.settings.initialWindowSize : this.#preAckStreamWindow;
  }

  /**
   * Adds a stream to the table.
   *
   * @param s The stream.
   */
  addStream(s: H2Stream): void {
    this.streams.set(s.id, s);
  }

  #closeStream(s: H2Stream, kind: ClosedKind, err: unknown): void {
    if (!this.streams.has(s.id) && s.state === StreamState.Closed) return;
    s.state = StreamState.Closed;
    this.streams.delete(s.id);
    this.#remember(s.id, kind);
    if (err !== null) {
      s.resetError = err;
      const dropped = s.failInbound(err);
      s.failOutbound(err);
      this.#creditConnection(dropped);
    }
    s.onClose(err);
    this.onStreamClosed(s);
    this.#maybeFinish();
  }

  /**
   * Resets a stream: sends RST_STREAM and closes it.
   *
   * @param s The stream.
   * @param code The error code.
   * @param err The error its users see (default: an `Http2Error` with `code`).
   */
  resetStream(s: H2Stream, code: number, err?: unknown): void {
    if (s.state === StreamState.Closed) return;
    if (!this.transportClosed && !this.terminating) {
      this.#out.rstStream(s.id, code);
      this.#lastDataEnd = -1;
      this.#scheduleFlush();
    }
    this.#closeStream(
      s,
      ClosedKind.ResetLocal,
      err ?? new Http2Error(code, `stream ${s.id} reset (${errorCodeName(code)})`, {
        scope: "stream",
        streamId: s.id,
      }),
    );
  }

  /**
   * Closes a stream without telling the peer (it never processed it, per its GOAWAY).
   *
   * @param s The stream.
   * @param err The error its users see.
   */
  abandonStream(s: H2Stream, err: unknown): void {
    if (s.state === StreamState.Closed) return;
    this.#closeStream(s, ClosedKind.ResetLocal, err);
  }

  /**
   * Sends RST_STREAM for a stream id that has no record (refused before creation).
   *
   * @param id The stream.
   * @param code The error code.
   */
  refuseStream(id: number, code: number): void {
    this.countControlFrame();
    this.#out.rstStream(id, code);
    this.#lastDataEnd = -1;
    this.#remember(id, ClosedKind.ResetLocal);
    this.#scheduleFlush();
  }

  // ================================================================ sending

  /**
   * HPACK-encodes a field list and queues it as HEADERS (+ CONTINUATION).
   *
   * @param s The stream.
   * @param fields The fields, pseudo-headers first.
   * @param endStream Whether this ends our side.
   */
  sendHeaders(s: H2Stream, fields: [string, string][], endStream: boolean): void {
    const block = this.hpackEncoder.encode(fields);
    this.#out.headers(s.id, block, endStream, this.peerMaxFrameSize);
    this.#lastDataEnd = -1;
    s.state = nextStateOnSendHeaders(s.state, endStream);
    this.#scheduleFlush();
    if (endStream) this.#localEnded(s);
  }

  /**
   * Queues body bytes; they are framed as the windows allow.
   *
   * @param s The stream.
   * @param chunk The bytes, not to be changed until the promise settles: kept until framed,
   *   and when the transport has a vectored write (`Conn.writev`) written from where they
   *   are, without a copy.
   * @returns Resolves once the bytes are framed (within the peer's windows) and, when
   *   referenced rather than copied, written.
   */
  writeData(s: H2Stream, chunk: Uint8Array): Promise<void> {
    if (s.resetError !== null) return Promise.reject(s.resetError);
    if (s.localClosed || s.endQueued) {
      return Promise.reject(new TypeError(`stream ${s.id}: write after end`));
    }
    if (this.terminating) return Promise.reject(this.#closedError());
    const n = chunk.byteLength;
    if (n === 0) return RESOLVED;
    if (s.discardOutput) {
      // Dropped (HEAD, 204, 304); resolving on the next turn keeps a writing loop from
      // starving the event loop.
      return new Promise<void>((resolve) =>
        setImmediateFn !== undefined ? setImmediateFn(resolve) : setTimeout(resolve, 0)
      );
    }
    if (s.outBytes === 0) s.sendProgress = performance.now();
    s.outChunks.push(chunk);
    s.outBytes += n;
    s.queuedTotal += n;
    this.#queueSend(s);
    this.#pump();
    this.#scheduleFlush();
    if (s.releasedTotal >= s.queuedTotal) return RESOLVED;
    return s.waitFramed();
  }

  /**
   * Ends our side of a stream after the queued bytes: END_STREAM on the last DATA frame, an
   * empty DATA frame, or trailers.
   *
   * @param s The stream.
   * @param trailers Trailer fields, if any.
   * @returns Resolves once END_STREAM is framed.
   */
  endStream(s: H2Stream, trailers: [string, string][] | null): Promise<void> {
    if (s.resetError !== null) return Promise.reject(s.resetError);
    if (s.localClosed || s.endQueued) return RESOLVED;
    if (this.terminating) return Promise.reject(this.#closedError());
    s.endQueued = true;
    s.outTrailers = trailers !== null && trailers.length > 0 ? trailers : null;
    if (s.outBytes === 0) {
      this.#emitEnd(s);
      return RESOLVED;
    }
    this.#queueSend(s);
    this.#pump();
    this.#scheduleFlush();
    if (s.localClosed) return RESOLVED;
    return s.waitFramed();
  }

  #emitEnd(s: H2Stream): void {
    if (s.outTrailers !== null) {
      const t = s.outTrailers;
      s.outTrailers = null;
      this.sendHeaders(s, t, true);
      return;
    }
    const out = this.#out;
    if (this.#lastDataStream === s.id && this.#lastDataEnd === out.length) {
      out.bytes[this.#lastDataFlagsAt] |= Flags.END_STREAM;
    } else {
      out.data(s.id, EMPTY, true);
    }
    this.#lastDataEnd = -1;
    s.state = sendEndStream(s.state);
    this.#scheduleFlush();
    this.#localEnded(s);
  }

  #localEnded(s: H2Stream): void {
    s.localClosed = true;
    s.settleWaiters();
    if (s.state === StreamState.Closed) this.#closeStream(s, ClosedKind.Ended, null);
    else this.onLocalEnd(s);
  }

  /**
   * Our side of a stream ended while the peer's is open.
   *
   * @param _s The stream.
   */
  protected onLocalEnd(_s: H2Stream): void {}

  #queueSend(s: H2Stream): void {
    if (s.inSendQueue || s.state === StreamState.Closed) return;
    s.inSendQueue = true;
    s.nextSend = null;
    if (this.#sendTail === null) this.#sendHead = s;
    else this.#sendTail.nextSend = s;
    this.#sendTail = s;
  }

  /** Frames queued body bytes round-robin, as far as the windows and the buffer allow. */
  #pump(): void {
    const out = this.#out;
    let now = 0;
    while (
      this.#sendHead !== null && out.length + this.#refBytes < OUT_HIGH_WATER &&
      this.connSendWindow > 0
    ) {
      const s = this.#sendHead;
      this.#sendHead = s.nextSend;
      if (this.#sendHead === null) this.#sendTail = null;
      s.nextSend = null;
      s.inSendQueue = false;
      if (s.state === StreamState.Closed || s.localClosed) continue;
      if (s.outBytes > 0) {
        const max = Math.min(this.peerMaxFrameSize, s.sendWindow, this.connSendWindow);
        if (max > 0) {
          if (now === 0) now = performance.now();
          this.#frameData(s, max < s.outBytes ? max : s.outBytes, now);
          s.settleWaiters();
        }
      }
      if (s.outBytes === 0) {
        if (s.endQueued) this.#emitEnd(s);
      } else if (s.sendWindow > 0) this.#queueSend(s);
    }
  }

  #frameData(s: H2Stream, n: number, now: number): void {
    const out = this.#out;
    const vectored = this.#vectored;
    out.reserve(vectored ? 9 + Math.min(n, REF_MIN) : 9 + n);
    const start = out.length;
    out.header(n, FrameType.DATA, 0, s.id);
    let left = n;
    let referenced = false;
    const chunks = s.outChunks;
    while (left > 0) {
      const c = chunks[0];
      const off = s.outOffset;
      const avail = c.byteLength - off;
      let piece: Uint8Array;
      if (avail <= left) {
        piece = off === 0 ? c : c.subarray(off);
        left -= avail;
        chunks.shift();
        s.outOffset = 0;
      } else {
        piece = c.subarray(off, off + left);
        s.outOffset = off + left;
        left = 0;
      }
      if (vectored && piece.byteLength >= REF_MIN) {
        // Written from the caller's buffer: no copy; released once written.
        this.#refAt.push(out.length);
        this.#refs.push(piece);
        this.#refBytes += piece.byteLength;
        referenced = true;
      } else {
        out.reserve(piece.byteLength);
        out.append(piece);
      }
    }
    s.outBytes -= n;
    s.framedTotal += n;
    s.sendWindow -= n;
    this.connSendWindow -= n;
    this.#lastDataStream = s.id;
    s.sendProgress = now;
    this.#lastDataFlagsAt = start + 4;
    this.#lastDataEnd = out.length;
    if (referenced || s.refBatches > 0) this.#releaseWhenWritten(s);
    else s.releasedTotal = s.framedTotal;
  }

  /** The stream's bytes framed so far are released once the queued batch is written. */
  #releaseWhenWritten(s: H2Stream): void {
    if (s.refSerial === this.#batch) {
      this.#settleUpTo[s.refIndex] = s.framedTotal;
      return;
    }
    s.refSerial = this.#batch;
    s.refIndex = this.#settle.length;
    s.refBatches++;
    this.#settle.push(s);
    this.#settleUpTo.push(s.framedTotal);
  }

  #scheduleFlush(): void {
    if (this.#flushQueued || this.transportClosed) return;
    this.#flushQueued = true;
    if (setImmediateFn !== undefined) setImmediateFn(this.#flushTask);
    else queueMicrotask(this.#flushTask);
  }

  #flushTask = (): void => {
    if (setImmediateFn === undefined && ++this.#flushHops < FLUSH_HOPS) {
      queueMicrotask(this.#flushTask);
      return;
    }
    this.#flushHops = 0;
    this.#flushQueued = false;
    this.#flush();
  };

  #flush(): void {
    if (this.#writing || this.transportClosed) return;
    if (this.#sendHead !== null) this.#pump();
    const out = this.#out;
    if (out.length === 0 && this.#refs.length === 0) {
      if (this.terminating) this.#closeTransport();
      return;
    }
    this.#out = this.#spare!;
    this.#spare = null;
    this.#inflight = out;
    this.#lastDataEnd = -1;
    this.#inflightControl = this.#outControl;
    this.#outControl = 0;
    const settle = this.#inflightSettle;
    const settleUpTo = this.#inflightSettleUpTo;
    this.#inflightSettle = this.#settle;
    this.#inflightSettleUpTo = this.#settleUpTo;
    this.#settle = settle;
    this.#settleUpTo = settleUpTo;
    this.#batch++;
    this.#writing = true;
    this.#writeStarted = performance.now();
    let p: Promise<void>;
    try {
      if (this.#refs.length === 0) p = this.conn.write(out.bytes.subarray(0, out.length));
      else p = this.conn.writev!(this.#gather(out));
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(this.#onWritten, this.#onWriteFailed);
  }

  /** The batch as a list of chunks: frame bytes with the referenced payloads in between. */
  #gather(out: FrameEncoder): Uint8Array[] {
    const refs = this.#refs;
    const at = this.#refAt;
    const bytes = out.bytes;
    const chunks: Uint8Array[] = [];
    let pos = 0;
    for (let i = 0; i < refs.length; i++) {
      const a = at[i];
      if (a > pos) chunks.push(bytes.subarray(pos, a));
      pos = a;
      chunks.push(refs[i]);
    }
    if (out.length > pos) chunks.push(bytes.subarray(pos, out.length));
    this.#refs = [];
    this.#refAt = [];
    this.#refBytes = 0;
    return chunks;
  }

  #onWritten = (): void => {
    this.#writeStarted = 0;
    const buf = this.#inflight!;
    this.#inflight = null;
    buf.clear();
    if (buf.bytes.byteLength > OUT_KEEP && this.#sendHead === null) {
      buf.bytes = new Uint8Array(16384);
    }
    this.#spare = buf;
    this.#writing = false;
    this.#inflightControl = 0;
    const settle = this.#inflightSettle;
    if (settle.length > 0) {
      const upTo = this.#inflightSettleUpTo;
      for (let i = 0; i < settle.length; i++) {
        const s = settle[i];
        s.refBatches--;
        if (upTo[i] > s.releasedTotal) s.releasedTotal = upTo[i];
        s.settleWaiters();
      }
      settle.length = 0;
      upTo.length = 0;
    }
    this.#flush();
  };

  #onWriteFailed = (err: unknown): void => {
    this.#writing = false;
    this.#transportFailed(err);
  };

  /**
   * How long sending has been stuck, in milliseconds: a transport write that has not
   * completed, or body bytes waiting for flow-control window the peer does not grant
   * (0 when nothing waits).
   *
   * @param now `performance.now()`.
   * @returns The time stuck.
   */
  stalledFor(now: number): number {
    let stalled = this.#writeStarted > 0 ? now - this.#writeStarted : 0;
    for (const s of this.streams.values()) {
      if (s.outBytes > 0) {
        stalled = Math.max(stalled, now - Math.max(s.sendProgress, this.#sendProgress));
      }
    }
    return stalled;
  }

  // ================================================================ closing

  #closedError(): Http2Error {
    return this.closeError ?? new Http2Error(Http2ErrorCode.CANCEL, "HTTP/2 connection closed");
  }

  /**
   * Starts a graceful shutdown (RFC 9113 section 6.8): no new streams, open ones finish,
   * then the connection closes. A server first sends GOAWAY with last-stream-id 2^31-1 and
   * a PING, keeps processing the streams the client opens meanwhile, and sends the final
   * GOAWAY with the last stream it processed once the PING is acknowledged (or after
   * `shutdownPingTimeout`). A client sends its one GOAWAY at once.
   */
  shutdown(): void {
    if (this.terminating) return;
    if (!this.goAwaySent && !this.#shutdownNotice) {
      if (this.isServer && this.#shutdownPingTimeout > 0) {
        this.#shutdownNotice = true;
        this.#out.goAway(MAX_STREAM_ID, Http2ErrorCode.NO_ERROR);
        this.#out.ping(SHUTDOWN_PING, false);
        this.#lastDataEnd = -1;
        this.#shutdownTimer = setTimeout(this.#finalGoAway, this.#shutdownPingTimeout);
        this.#scheduleFlush();
        return;
      }
      this.#finalGoAway();
      return;
    }
    this.#maybeFinish();
  }

  /** Whether the shutdown notice went out and the final GOAWAY did not yet. */
  get shutdownNoticeSent(): boolean {
    return this.#shutdownNotice && !this.goAwaySent;
  }

  /** The GOAWAY that names the last processed stream: no stream above it is processed. */
  #finalGoAway = (): void => {
    if (this.#shutdownTimer !== null) {
      clearTimeout(this.#shutdownTimer);
      this.#shutdownTimer = null;
    }
    if (this.terminating || this.goAwaySent) return;
    this.goAwaySent = true;
    this.#out.goAway(this.lastProcessedPeerStreamId, Http2ErrorCode.NO_ERROR);
    this.#lastDataEnd = -1;
    this.#scheduleFlush();
    this.#maybeFinish();
  };

  #maybeFinish(): void {
    if (this.terminating) return;
    if (
      (this.goAwaySent || this.goAwayReceived !== null) && this.streams.size === 0 &&
      this.pendingWork === 0
    ) {
      this.terminate(null);
    }
  }

  /**
   * Tears the connection down: a GOAWAY with the error's code (or NO_ERROR) unless one was
   * sent, open streams fail, the last frames are written (waiting at most 2 s), the
   * transport closes.
   *
   * @param err The connection error, or `null` for a clean close.
   */
  terminate(err: Http2Error | null): void {
    if (this.terminating) return;
    this.terminating = true;
    if (err !== null) this.closeError = err;
    if (!this.transportClosed) {
      const code = err?.code ?? Http2ErrorCode.NO_ERROR;
      if (!this.goAwaySent || code !== Http2ErrorCode.NO_ERROR) {
        const debug = err && !err.remote
          ? encoder.encode(err.message).subarray(0, MAX_DEBUG)
          : undefined;
        this.#out.goAway(this.lastProcessedPeerStreamId, code, debug);
        this.#lastDataEnd = -1;
      }
      this.goAwaySent = true;
    }
    this.#failAll(err);
    if (this.transportClosed) {
      this.#closeTransport();
      return;
    }
    this.#lingerTimer = setTimeout(() => this.#closeTransport(), LINGER_MS);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flushTask);
    }
  }

  #failAll(err: Http2Error | null): void {
    this.onTerminate(err);
    if (this.streams.size === 0) return;
    const e = err ?? new Http2Error(Http2ErrorCode.CANCEL, "HTTP/2 connection closed");
    for (const s of [...this.streams.values()]) this.#closeStream(s, ClosedKind.ResetLocal, e);
  }

  /** Closes the transport at once, failing whatever is open. */
  forceClose(): void {
    if (!this.terminating) {
      this.terminating = true;
      this.#failAll(null);
    }
    this.#closeTransport();
  }

  #closeTransport(): void {
    if (this.transportClosed) return;
    this.transportClosed = true;
    if (this.#lingerTimer !== null) {
      clearTimeout(this.#lingerTimer);
      this.#lingerTimer = null;
    }
    if (this.#settingsTimer !== null) {
      clearTimeout(this.#settingsTimer);
      this.#settingsTimer = null;
    }
    if (this.#shutdownTimer !== null) {
      clearTimeout(this.#shutdownTimer);
      this.#shutdownTimer = null;
    }
    try {
      this.conn.close();
    } catch { /* already closed */ }
    for (const s of this.#inflightSettle) s.transportGone();
    for (const s of this.#settle) s.transportGone();
    this.onTransportClosed();
    this.#resolveFinished();
  }

  #transportFailed(err: unknown): void {
    const e = err instanceof Http2Error ? err : new Http2Error(
      Http2ErrorCode.CONNECT_ERROR,
      `HTTP/2 connection lost: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
    if (!this.terminating) {
      // Nothing more is written: the streams fail without RST_STREAMs or a GOAWAY.
      this.terminating = true;
      this.closeError = e;
      this.#failAll(e);
    }
    this.#closeTransport();
  }

  #onPeerEof(): void {
    // HTTP/2 has no half-close: the peer is gone, and so are its streams.
    this.#transportFailed(
      new Http2Error(Http2ErrorCode.CANCEL, "HTTP/2 connection closed by the peer"),
    );
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function nonNegative(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(`HTTP/2: ${name} must be a non-negative number, got ${value}`);
  }
  return value;
}
