/**
 * The sending side: a pure frame encoder (RFC 6455 section 5.2) and a {@linkcode Sender}
 * that orders data messages, compresses them when permessage-deflate is on, and lets
 * control frames through between the fragments of a message.
 *
 * Every frame goes to the connection in one write call (header and payload together, for
 * big payloads: an unmasked one is passed as it is, a masked one is masked into a reused
 * buffer), and writes keep call order, so frames never interleave. A
 * {@linkcode WriteBatcher} gathers the frames written in one turn of the event loop into
 * one write.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { mask, maskInto, randomMaskKey } from "./_mask.ts";
import { Utf8Validator } from "./_utf8.ts";
import { allocBytes } from "../conn/_slab.ts";
import { buffers } from "../conn/_buffer_pool.ts";
import type { Deflater } from "./_deflate.ts";

/** Options of {@linkcode frame}. */
export interface FrameOptions {
  /** The FIN bit: this is the last frame of its message (default `true`). */
  fin?: boolean;
  /** The RSV1 bit: the message is compressed (first frame only). */
  rsv1?: boolean;
  /** Mask the payload with a fresh random key (clients must, servers must not). */
  mask?: boolean;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const TEXT = 0x1;
const BINARY = 0x2;

/**
 * Payloads from this size on are written after their header rather than copied into one
 * frame buffer: as they are when unmasked, masked into a reused buffer when masked.
 */
const ZERO_COPY_FROM = 64 * 1024;
/** ASCII strings up to this length are framed with a plain loop. */
const ASCII_TEXT_MAX = 256;
/** Strings up to this many UTF-16 units are encoded straight into the frame buffer. */
const DIRECT_TEXT_MAX = 8192;

/**
 * Writes a frame header into `buf` at `at`; returns its length. With `masked`, the key is
 * drawn and written as the header's last four bytes.
 */
function writeHeader(
  buf: Uint8Array,
  at: number,
  b0: number,
  len: number,
  masked: boolean,
): number {
  buf[at] = b0;
  const m = masked ? 0x80 : 0;
  let h: number;
  if (len < 126) {
    buf[at + 1] = m | len;
    h = 2;
  } else if (len < 65536) {
    buf[at + 1] = m | 126;
    buf[at + 2] = len >>> 8;
    buf[at + 3] = len & 0xff;
    h = 4;
  } else {
    buf[at + 1] = m | 127;
    const hi = Math.floor(len / 0x100000000);
    const lo = len >>> 0;
    buf[at + 2] = hi >>> 24;
    buf[at + 3] = (hi >>> 16) & 0xff;
    buf[at + 4] = (hi >>> 8) & 0xff;
    buf[at + 5] = hi & 0xff;
    buf[at + 6] = lo >>> 24;
    buf[at + 7] = (lo >>> 16) & 0xff;
    buf[at + 8] = (lo >>> 8) & 0xff;
    buf[at + 9] = lo & 0xff;
    h = 10;
  }
  if (masked) {
    randomMaskKey(buf, at + h);
    h += 4;
  }
  return h;
}

function headerLength(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

function firstByte(opcode: number, fin: boolean, rsv1: boolean): number {
  return (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
}

/**
 * Encodes one frame, header and payload in one buffer; the payload is masked with a key
 * from the CSPRNG when `options.mask` is set.
 *
 * @param opcode The opcode (0x0-0x2 data, 0x8-0xA control).
 * @param payload The payload (not changed).
 * @param options FIN, RSV1 and masking.
 * @returns The frame's bytes.
 *
 * @example
 * ```ts
 * import { frame } from "./_sender.ts";
 * console.log(frame(0x1, new TextEncoder().encode("Hello")));
 * // Uint8Array(7) [ 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f ]
 * ```
 */
export function frame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): Uint8Array {
  const len = payload.length;
  const masked = options.mask ?? false;
  const buf = allocBytes(headerLength(len, masked) + len);
  const h = writeHeader(
    buf,
    0,
    firstByte(opcode, options.fin ?? true, options.rsv1 ?? false),
    len,
    masked,
  );
  buf.set(payload, h);
  if (masked && len > 0) mask(buf.subarray(h), buf, h - 4);
  return buf;
}

/**
 * Encodes a frame header alone (with its mask key when masking).
 *
 * @param opcode The opcode.
 * @param length The payload length.
 * @param options FIN, RSV1 and masking.
 * @returns The header's bytes.
 */
export function frameHeader(
  opcode: number,
  length: number,
  options: FrameOptions = {},
): Uint8Array {
  const masked = options.mask ?? false;
  const buf = allocBytes(headerLength(length, masked));
  writeHeader(
    buf,
    0,
    firstByte(opcode, options.fin ?? true, options.rsv1 ?? false),
    length,
    masked,
  );
  return buf;
}

/**
 * Encodes a whole text message as one frame, UTF-8 encoding the string straight into the
 * frame buffer when it is short.
 *
 * @param text The message.
 * @param masked Whether to mask.
 * @returns The frame's bytes.
 */
export function textFrame(text: string, masked: boolean): Uint8Array {
  const n = text.length;
  if (n <= ASCII_TEXT_MAX) {
    const ascii = asciiTextFrame(text, masked);
    if (ascii !== null) return ascii;
  }
  if (n > DIRECT_TEXT_MAX) return frame(TEXT, encoder.encode(text), { mask: masked });
  // Room for the longest header a payload of up to 3n bytes needs, then the payload.
  const room = (n * 3 < 126 ? 2 : 4) + (masked ? 4 : 0);
  const buf = allocBytes(room + n * 3);
  const written = n === 0 ? 0 : encoder.encodeInto(text, buf.subarray(room)).written;
  const h = headerLength(written, masked);
  const start = room - h;
  writeHeader(buf, start, 0x80 | TEXT, written, masked);
  if (masked && written > 0) mask(buf.subarray(room, room + written), buf, room - 4);
  return buf.subarray(start, room + written);
}

/**
 * A short all-ASCII string framed with a plain loop: cheaper than a call into the native
 * encoder for the small messages that dominate chat and ticker traffic. `null` when the
 * string is not ASCII.
 */
function asciiTextFrame(text: string, masked: boolean): Uint8Array | null {
  const n = text.length;
  for (let i = 0; i < n; i++) if (text.charCodeAt(i) >= 0x80) return null;
  const buf = allocBytes(headerLength(n, masked) + n);
  const h = writeHeader(buf, 0, 0x80 | TEXT, n, masked);
  if (masked) {
    const k0 = buf[h - 4], k1 = buf[h - 3], k2 = buf[h - 2], k3 = buf[h - 1];
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      buf[h + i] = text.charCodeAt(i) ^ k0;
      buf[h + i + 1] = text.charCodeAt(i + 1) ^ k1;
      buf[h + i + 2] = text.charCodeAt(i + 2) ^ k2;
      buf[h + i + 3] = text.charCodeAt(i + 3) ^ k3;
    }
    const ks = [k0, k1, k2, k3];
    for (; i < n; i++) buf[h + i] = text.charCodeAt(i) ^ ks[i & 3];
  } else {
    for (let i = 0; i < n; i++) buf[h + i] = text.charCodeAt(i);
  }
  return buf;
}

/**
 * A frame as written: its bytes, or its header and the payload behind it, with the pooled
 * buffer to give back once written.
 */
type Encoded = Uint8Array | [Uint8Array, Uint8Array | undefined, Uint8Array?];

/** A message given in fragments. */
export type FragmentSource =
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>;

/** Settings of a {@linkcode Sender}. */
export interface SenderOptions {
  /** Mask frames (the client role). */
  mask: boolean;
  /** The compressor when permessage-deflate was negotiated. */
  deflater?: Deflater | null;
  /** Messages shorter than this many bytes go uncompressed (default 1024). */
  threshold?: number;
  /**
   * Whether a buffer may be reused once `write` has resolved, as the `Conn` contract says
   * (default `false`: only for connections known to copy or be done with the bytes by then).
   * With it, big masked payloads are masked into pooled buffers instead of fresh ones.
   */
  reuseBuffers?: boolean;
  /**
   * Called once when compressing a message fails: the compressor's shared state is lost, so
   * no later message can be sent and the connection must be failed (1011).
   */
  onCompressError?: (error: unknown) => void;
}

const noop = () => {};

/**
 * Writes bytes to the connection after everything written before; with `payload`, writes
 * it right behind `data` (a frame header and its big payload, which are not copied into
 * one buffer), as one unit.
 */
export type FrameWrite = (data: Uint8Array, payload?: Uint8Array) => Promise<void>;

/**
 * Sends frames over a write function. Whole messages with nothing before them in the
 * queue are framed and written synchronously; compressed messages whose compressor is
 * asynchronous and fragmented messages hold later data messages back until their frames
 * are written. Control frames never wait.
 */
export class Sender {
  #write: FrameWrite;
  #mask: boolean;
  #deflater: Deflater | null;
  #threshold: number;
  #closedError: () => Error;
  #reuse: boolean;
  #onCompressError: (error: unknown) => void;
  /** Settles once the last queued data message has been handed to `write`. */
  #tail: Promise<void> | null = null;
  #closed = false;
  #broken = false;
  #buffered = 0;

  /**
   * @param write Writes bytes to the connection, in call order.
   * @param options Masking and compression.
   * @param closedError Makes the error for sends after {@linkcode Sender.close}.
   */
  constructor(
    write: FrameWrite,
    options: SenderOptions,
    closedError: () => Error,
  ) {
    this.#write = write;
    this.#mask = options.mask;
    this.#deflater = options.deflater ?? null;
    this.#threshold = options.threshold ?? 1024;
    this.#closedError = closedError;
    this.#reuse = options.reuseBuffers ?? false;
    this.#onCompressError = options.onCompressError ?? noop;
  }

  /** Bytes of data messages waiting for an earlier message or their compressor. */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /**
   * Whether a fragmented message was cut off midway or a message could not be compressed
   * (the connection must be failed).
   */
  get broken(): boolean {
    return this.#broken;
  }

  /** No more data frames: a close frame was sent. Queued messages are dropped. */
  close(): void {
    this.#closed = true;
  }

  /**
   * Sends a control frame at once.
   *
   * @param opcode 0x8 close, 0x9 ping, 0xA pong.
   * @param payload At most 125 bytes.
   * @returns Resolves when written.
   */
  control(opcode: number, payload: Uint8Array): Promise<void> {
    return this.#write(frame(opcode, payload, { mask: this.#mask }));
  }

  /**
   * Whether sending `data` hands the caller's own bytes to the connection rather than a copy
   * (a big unmasked binary payload): the caller must not change them until the send is done.
   */
  passesByReference(data: string | Uint8Array): boolean {
    return typeof data !== "string" && !this.#mask && data.length >= ZERO_COPY_FROM;
  }

  /**
   * Sends a whole message: a string as text, bytes as binary.
   *
   * @param data The message.
   * @returns Resolves when its frame has been handed to the connection.
   */
  send(data: string | Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#tail === null) {
      const f = this.#encode(data);
      if (!(f instanceof Promise)) return this.#writeEncoded(f);
      return this.#counted(data.length, f);
    }
    // Encoded later: bytes are copied now, as an encoding now would have, since the send may
    // resolve before (see `sendHighWaterMark`) and the caller reuse them; not those passed
    // by reference, whose send waits for the connection.
    const own = typeof data === "string" || this.passesByReference(data) ? data : data.slice();
    return this.#counted(data.length, this.#tail.then(() => this.#encode(own)));
  }

  /** Queues a message that waits for earlier ones or for its compressor. */
  #counted(n: number, framed: Promise<Encoded>): Promise<void> {
    this.#buffered += n;
    const issued = framed.then((f) => {
      this.#buffered -= n;
      if (this.#closed) throw this.#closedError();
      return f;
    }, (err) => {
      this.#buffered -= n;
      throw err;
    });
    return this.#queue(issued);
  }

  /**
   * Sends a message in fragments, one frame per item (strings UTF-8 encoded), each sent
   * before the next item is asked for; an array's last item ends the message, any other
   * source's end sends an empty final frame. The first item sets the type: a string makes
   * a text message, bytes a binary one; bytes in a text message must continue valid UTF-8.
   * An empty source sends an empty binary message.
   *
   * @param source The fragments.
   * @returns Resolves when the last frame has been handed to the connection.
   */
  sendFragments(source: FragmentSource): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const prev = this.#tail;
    const run = prev === null ? this.#fragments(source) : prev.then(() => this.#fragments(source));
    this.#setTail(run);
    return run;
  }

  #setTail(p: Promise<unknown>): void {
    const tail = p.then(noop, noop);
    this.#tail = tail;
    tail.then(() => {
      if (this.#tail === tail) this.#tail = null;
    });
  }

  #queue(framed: Promise<Encoded>): Promise<void> {
    let written: Promise<void> | undefined;
    const issued = framed.then((f) => {
      written = this.#writeEncoded(f);
    });
    this.#setTail(issued);
    return issued.then(() => written);
  }

  #writeEncoded(f: Encoded): Promise<void> {
    if (f instanceof Uint8Array) return this.#write(f);
    const written = this.#write(f[0], f[1]);
    const pooled = f[2];
    // Back to the pool once written; after a failed write the connection may still hold it.
    if (pooled !== undefined) written.then(() => buffers.give(pooled), noop);
    return written;
  }

  #plain(opcode: number, bytes: Uint8Array, fin: boolean, rsv1: boolean): Encoded {
    const n = bytes.length;
    if (n >= ZERO_COPY_FROM) {
      if (!this.#mask) return [frameHeader(opcode, n, { fin, rsv1 }), bytes];
      if (this.#reuse) {
        // Header and masked payload in one pooled buffer (one write, one TCP segment fewer),
        // the payload placed at the source's offset modulo 4 so that it is masked by words.
        const h = headerLength(n, true);
        const at = h + ((bytes.byteOffset - h) & 3);
        const buf = buffers.take(at + n);
        writeHeader(buf, at - h, firstByte(opcode, fin, rsv1), n, true);
        maskInto(bytes, buf.subarray(at, at + n), buf, at - 4);
        return [buf.subarray(at - h, at + n), undefined, buf];
      }
    }
    return frame(opcode, bytes, { fin, rsv1, mask: this.#mask });
  }

  #encode(data: string | Uint8Array): Encoded | Promise<Encoded> {
    const deflater = this.#deflater;
    const text = typeof data === "string";
    if (deflater === null || data.length * (text ? 3 : 1) < this.#threshold) {
      if (!text) return this.#plain(BINARY, data, true, false);
      if (data.length <= DIRECT_TEXT_MAX) return textFrame(data, this.#mask);
      return this.#plain(TEXT, encoder.encode(data), true, false);
    }
    const bytes = text ? encoder.encode(data) : data;
    const opcode = text ? TEXT : BINARY;
    if (bytes.length < this.#threshold) return this.#plain(opcode, bytes, true, false);
    let c: ReturnType<Deflater["compress"]>;
    try {
      c = deflater.compress(bytes);
    } catch (error) {
      return Promise.reject(this.#compressFailed(error));
    }
    if (c instanceof Promise) {
      return c.then((out) => this.#compressed(opcode, bytes, out), (error) => {
        throw this.#compressFailed(error);
      });
    }
    return this.#compressed(opcode, bytes, c);
  }

  #compressFailed(error: unknown): unknown {
    if (!this.#broken) {
      this.#broken = true;
      this.#onCompressError(error);
    }
    return error;
  }

  #compressed(opcode: number, bytes: Uint8Array, out: Uint8Array | null): Encoded {
    if (out === null) return this.#plain(opcode, bytes, true, false);
    // RFC 7692 7.2.1: drop the 00 00 ff ff that ends the sync flush.
    return this.#plain(opcode, out.subarray(0, out.length - 4), true, true);
  }

  async #fragments(source: FragmentSource): Promise<void> {
    // An array's last item carries FIN. Any other source may reuse its buffer for the next
    // item, so each item is sent before the next is asked for, and an empty final frame
    // ends the message (nothing is held back to learn which item is the last).
    const last = Array.isArray(source) ? source.length - 1 : -1;
    let opcode = 0;
    let sent = 0;
    const utf8 = new Utf8Validator();
    try {
      for await (const item of source) {
        if (this.#closed) throw this.#closedError();
        let bytes: Uint8Array;
        if (typeof item === "string") {
          bytes = encoder.encode(item);
          if (opcode === 0) opcode = TEXT;
        } else if (item instanceof Uint8Array) {
          bytes = item;
          if (opcode === 0) opcode = BINARY;
          else if (opcode === TEXT && !utf8.write(bytes)) {
            throw new TypeError("bytes in a text message must be valid UTF-8");
          }
        } else {
          throw new TypeError("message fragments must be strings or Uint8Arrays");
        }
        const fin = sent === last;
        if (fin && opcode === TEXT && !utf8.complete) {
          throw new TypeError("bytes in a text message must be valid UTF-8");
        }
        await this.#fragment(opcode, bytes, sent++ === 0, fin);
        if (fin) return;
      }
      if (opcode === TEXT && !utf8.complete) {
        throw new TypeError("bytes in a text message must be valid UTF-8");
      }
      if (sent === 0) await this.#fragment(BINARY, EMPTY, true, true);
      else await this.#fragment(opcode, EMPTY, false, true);
    } catch (err) {
      // Cut off midway by anything but a close frame: the message cannot be finished.
      if (sent > 0 && !this.#closed) this.#broken = true;
      throw err;
    }
  }

  async #fragment(opcode: number, bytes: Uint8Array, first: boolean, fin: boolean): Promise<void> {
    if (this.#closed) throw this.#closedError();
    const op = first ? opcode : 0x0;
    const deflater = this.#deflater;
    if (deflater !== null) {
      let out: ReturnType<Deflater["compress"]>;
      try {
        out = deflater.compress(bytes);
        if (out instanceof Promise) out = await out;
      } catch (error) {
        throw this.#compressFailed(error);
      }
      if (this.#closed) throw this.#closedError();
      if (out !== null) {
        // Each fragment ends in a sync flush; only the message's last drops the trailer.
        const payload = fin ? out.subarray(0, out.length - 4) : out;
        await this.#writeEncoded(this.#plain(op, payload, fin, first));
        return;
      }
    }
    await this.#writeEncoded(this.#plain(op, bytes, fin, false));
  }
}

/** Buffers below this size are joined with their neighbours when writes are batched. */
const JOIN_BELOW = 16 * 1024;
/** The most bytes joined into one write. */
const JOIN_MAX = 64 * 1024;
/**
 * The byte cap on holding writes back for the end of the turn: once this much is queued and
 * nothing is in flight, it goes out at once.
 */
const BATCH_MAX = 64 * 1024;

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(noop);
  return { promise, resolve, reject };
}

/**
 * Passes writes on in call order, in batches. A write with nothing before it goes out at
 * once, unless {@linkcode WriteBatcher.holdTurn} said that more are coming; the writes that follow it in the same turn of the event loop (the echoes of the
 * messages of one read, say) wait for the end of that turn (`setImmediate`, which runs once
 * the microtasks are done) or for `BATCH_MAX` bytes, and go out together. Writes made while
 * a batch is in flight wait for it. So a burst of frames costs two writes (two syscalls) and
 * two promises, not one each, and a lone frame waits for nothing. A batch goes to the
 * connection's vectored write when it has one (Deno's adapter copies it into a pooled
 * buffer, Node's makes one `writev`); otherwise its small writes are joined into one buffer.
 */
export class WriteBatcher {
  #write: (data: Uint8Array) => Promise<void>;
  #writev: ((chunks: Uint8Array[]) => Promise<void>) | null;
  #onError: (err: unknown) => unknown;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #inFlight = 0;
  #busy = false;
  /** A batch went out in this turn of the event loop: later writes wait for its end. */
  #holding = false;
  #since = 0;
  #done: Deferred | null = null;
  #current: Deferred | null = null;
  #failed: { error: unknown } | null = null;
  #turnEnded = (): void => {
    this.#holding = false;
    if (!this.#busy) this.#next();
  };

  /**
   * @param write The connection's write.
   * @param onError Told of a failed write; returns the error to reject the writes with.
   * @param writev The connection's vectored write, if it has one (see `Conn.writev`).
   */
  constructor(
    write: (data: Uint8Array) => Promise<void>,
    onError: (err: unknown) => unknown,
    writev: ((chunks: Uint8Array[]) => Promise<void>) | null = null,
  ) {
    this.#write = write;
    this.#writev = writev;
    this.#onError = onError;
  }

  /** Bytes written here and not yet handed to the connection. */
  get pending(): number {
    return this.#queued + this.#inFlight;
  }

  /** Since when (`Date.now()`) a batch has been in flight without progress, or 0 when idle. */
  get stalledSince(): number {
    return this.#busy ? this.#since : 0;
  }

  /**
   * Writes `data` after everything written before.
   *
   * @param data The bytes (not copied when written alone or when large).
   * @param payload Bytes written right behind `data`, in the same batch.
   * @returns Resolves once handed to the connection. Writes batched together share one
   * promise.
   */
  write(data: Uint8Array, payload?: Uint8Array): Promise<void> {
    if (this.#failed !== null) return Promise.reject(this.#failed.error);
    this.#queue.push(data);
    this.#queued += data.length;
    if (payload !== undefined) {
      this.#queue.push(payload);
      this.#queued += payload.length;
    }
    const done = this.#done ??= deferred();
    if (!this.#busy && (!this.#holding || this.#queued >= BATCH_MAX)) this.#next();
    return done.promise;
  }

  /**
   * Holds the writes made from now to the end of this turn of the event loop, so that they
   * go out together: for when several replies are coming (the messages of one read), where
   * the first would otherwise go out alone.
   */
  holdTurn(): void {
    if (this.#holding || this.#failed !== null) return;
    this.#holding = true;
    setImmediate(this.#turnEnded);
  }

  /** Fails what is queued or in flight, and every later write, with `error`. */
  fail(error: unknown): void {
    if (this.#failed !== null) return;
    this.#failed = { error };
    this.#current?.reject(error);
    this.#done?.reject(error);
    this.#current = this.#done = null;
    this.#queue = [];
    this.#queued = this.#inFlight = 0;
  }

  /** Issues what is queued as one batch (the caller checked that nothing is in flight). */
  #next(): void {
    if (this.#queue.length === 0 || this.#failed !== null) return;
    const buffers = this.#queue;
    const done = this.#current = this.#done!;
    this.#queue = [];
    this.#done = null;
    this.#inFlight = this.#queued;
    this.#queued = 0;
    this.#busy = true;
    this.#since = Date.now();
    this.holdTurn();
    this.#issue(buffers).then(() => {
      if (this.#current !== done) return; // failed meanwhile
      this.#current = null;
      this.#inFlight = 0;
      this.#busy = false;
      done.resolve();
      if (!this.#holding || this.#queued >= BATCH_MAX) this.#next();
    }, (err) => {
      if (this.#current !== done) return;
      this.#busy = false;
      this.fail(this.#onError(err));
    });
  }

  #issue(buffers: Uint8Array[]): Promise<void> {
    if (buffers.length === 1) return this.#write(buffers[0]);
    if (this.#writev !== null) return this.#writev(buffers);
    let last: Promise<void> | null = null;
    const flush = (group: Uint8Array[], size: number) => {
      last?.catch(noop); // a failure shows in the last write too
      last = this.#write(group.length === 1 ? group[0] : join(group, size));
    };
    let group: Uint8Array[] = [];
    let size = 0;
    for (const b of buffers) {
      if (b.length >= JOIN_BELOW) {
        if (group.length > 0) flush(group, size);
        group = [];
        size = 0;
        flush([b], b.length);
      } else {
        if (size + b.length > JOIN_MAX && group.length > 0) {
          flush(group, size);
          group = [];
          size = 0;
        }
        group.push(b);
        size += b.length;
      }
    }
    if (group.length > 0) flush(group, size);
    return last!;
  }
}

function join(parts: Uint8Array[], size: number): Uint8Array {
  const out = allocBytes(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
