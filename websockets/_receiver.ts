/**
 * The frame parser: an explicit state machine that consumes bytes from a queue of chunks
 * and reports messages, control frames and protocol errors (RFC 6455 section 5, RFC 7692
 * section 6). Each violation fails with the close code the RFCs name for it.
 *
 * ```
 *            +--------+  126   +--------+
 *  bytes --> | HEADER | -----> | LEN_16 | ---+
 *            +--------+  127   +--------+    |       masked   +----------+
 *                |  \--------> | LEN_64 | ---+-----> ... ---> | MASK_KEY |
 *                |             +--------+    |                +----------+
 *                |  (length <= 125)          v                      |
 *                +-------------------> +---------+ <----------------+
 *                                      | PAYLOAD | --> frame --> HEADER
 *                                      +---------+       |
 *                                                        +--> INFLATING (async) --> HEADER
 *  A close frame or an error moves to DONE: later bytes are ignored.
 * ```
 *
 * @module
 */

import { isValidCloseCode, protocolError, WebSocketError } from "./errors.ts";
import { mask } from "./_mask.ts";
import { Slab } from "../conn/_slab.ts";
import { Utf8Validator } from "./_utf8.ts";
import type { Inflater } from "./_deflate.ts";
import { joinBytes } from "../conn/_bytes.ts";

/** The opcodes of RFC 6455 section 5.2. */
export interface Opcodes {
  /** 0x0: continues a fragmented message. */
  readonly Continuation: 0x0;
  /** 0x1: a text message. */
  readonly Text: 0x1;
  /** 0x2: a binary message. */
  readonly Binary: 0x2;
  /** 0x8: close. */
  readonly Close: 0x8;
  /** 0x9: ping. */
  readonly Ping: 0x9;
  /** 0xA: pong. */
  readonly Pong: 0xa;
}

/** Opcodes by name. */
export const Opcode: Opcodes = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

const HEADER = 0;
const LEN_16 = 1;
const LEN_64 = 2;
const MASK_KEY = 3;
const PAYLOAD = 4;
const INFLATING = 5;
const DONE = 6;

const EMPTY = new Uint8Array(0);
const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const looseDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Binary messages shorter than this are copied out of the connection's read buffer. */
const COPY_BELOW = 16 * 1024;
/**
 * Copies of messages under 4 KiB share 8 KiB pools, as Node's `Buffer.from` does: a
 * `new Uint8Array` costs 1-2 µs whatever its size, a pool view 0.1 µs, and a message kept
 * for long keeps at most its pool's 8 KiB alive.
 */
const POOL = new Slab(8 * 1024, 4 * 1024 - 1);

/**
 * A binary message as handed to the application: a small one is copied (into a shared
 * pool when tiny), so that keeping it does not keep the connection's whole read buffer
 * alive; a large one stays a view of it (no copy), as a plain `Uint8Array` even when the
 * connection reads Node `Buffer`s.
 */
function ownBytes(data: Uint8Array): Uint8Array {
  if (data.length < COPY_BELOW) {
    const copy = POOL.alloc(data.length);
    copy.set(data);
    return copy;
  }
  return Object.getPrototypeOf(data) === Uint8Array.prototype
    ? data
    : new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Settings of a {@linkcode Receiver}. */
export interface ReceiverOptions {
  /** `"server"` requires masked frames, `"client"` requires unmasked ones. */
  role: "client" | "server";
  /** The largest message (sum of its frames, and its inflated size), in bytes. */
  maxFrameSize: number;
  /** The most frames one message may have. */
  maxFragmentation: number;
  /** The inflater when permessage-deflate was negotiated (RSV1 marks compressed messages). */
  inflater?: Inflater | null;
}

/** What a {@linkcode Receiver} reports. */
export interface ReceiverHandler {
  /** A whole message: a string for text, bytes for binary. */
  onMessage(data: string | Uint8Array): void;
  /** A ping with its payload. */
  onPing(data: Uint8Array): void;
  /** A pong with its payload. */
  onPong(data: Uint8Array): void;
  /** A close frame: its code (1005 when it had none) and reason. Nothing follows. */
  onClose(code: number, reason: string): void;
  /** A protocol error, with the close code to fail the connection with. Nothing follows. */
  onError(error: WebSocketError): void;
}

/**
 * Parses the frames of one connection. Feed it chunks with {@linkcode Receiver.push}; it
 * calls its handler synchronously, except after a compressed message, whose inflation may
 * finish later (see {@linkcode Receiver.idle}).
 */
export class Receiver {
  #h: ReceiverHandler;
  #server: boolean;
  #maxSize: number;
  #maxFrames: number;
  #inflater: Inflater | null;

  // The chunk queue: bytes from #chunks[0][#offset] on, #buffered in all.
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #buffered = 0;
  #state = HEADER;

  // The frame being read.
  #fin = false;
  #rsv1 = false;
  #opcode = 0;
  #masked = false;
  #length = 0;
  #key = new Uint8Array(4);

  // The message being assembled: #msgOpcode is 0 when none is open.
  #msgOpcode = 0;
  #msgCompressed = false;
  #msgSize = 0;
  #msgFrames = 0;
  #parts: Uint8Array[] = [];
  #utf8 = new Utf8Validator();

  #idle: Promise<void> | null = null;
  #wake: (() => void) | null = null;

  /**
   * @param options Role and limits.
   * @param handler Receives what is parsed.
   */
  constructor(options: ReceiverOptions, handler: ReceiverHandler) {
    this.#h = handler;
    this.#server = options.role === "server";
    this.#maxSize = options.maxFrameSize;
    this.#maxFrames = options.maxFragmentation;
    this.#inflater = options.inflater ?? null;
  }

  /** Whether parsing has stopped for good (after a close frame or an error). */
  get done(): boolean {
    return this.#state === DONE;
  }

  /** Whether a compressed message is being inflated (parsing resumes when it is done). */
  get busy(): boolean {
    return this.#state === INFLATING;
  }

  /** Resolves once no inflation is under way. */
  idle(): Promise<void> {
    return this.#idle ?? Promise.resolve();
  }

  /** Stops parsing for good; later bytes are ignored. */
  stop(): void {
    this.#finish();
  }

  /**
   * Adds bytes and parses as far as they go. The chunk is kept and may be unmasked in
   * place; binary messages may be views into it.
   *
   * @param chunk The next bytes from the connection.
   */
  push(chunk: Uint8Array): void {
    if (this.#state === DONE || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#state !== INFLATING) this.#run();
  }

  // -------------------------------------------------------------------------------------
  // The byte queue

  #byte(): number {
    const c = this.#chunks[0];
    const b = c[this.#offset++];
    if (this.#offset === c.length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
    this.#buffered--;
    return b;
  }

  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0];
    const off = this.#offset;
    if (first.length - off >= n) {
      const out = first.subarray(off, off + n);
      if (off + n === first.length) {
        this.#chunks.shift();
        this.#offset = 0;
      } else {
        this.#offset = off + n;
      }
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0];
      const avail = c.length - this.#offset;
      const k = Math.min(avail, n - filled);
      out.set(c.subarray(this.#offset, this.#offset + k), filled);
      filled += k;
      if (k === avail) {
        this.#chunks.shift();
        this.#offset = 0;
      } else {
        this.#offset += k;
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------
  // The state machine

  #run(): void {
    for (;;) {
      switch (this.#state) {
        case HEADER: {
          if (this.#buffered < 2) return;
          const b0 = this.#byte();
          if (!this.#header(b0, this.#byte())) return;
          break;
        }
        case LEN_16: {
          if (this.#buffered < 2) return;
          this.#length = (this.#byte() << 8) | this.#byte();
          if (!this.#afterLength()) return;
          break;
        }
        case LEN_64: {
          if (this.#buffered < 8) return;
          const hi = ((this.#byte() << 24) | (this.#byte() << 16) | (this.#byte() << 8) |
            this.#byte()) >>> 0;
          const lo = ((this.#byte() << 24) | (this.#byte() << 16) | (this.#byte() << 8) |
            this.#byte()) >>> 0;
          if (hi >= 0x80000000) {
            this.#fail(1002, "the most significant bit of a 64-bit length must be 0");
            return;
          }
          this.#length = hi * 0x100000000 + lo;
          if (!this.#afterLength()) return;
          break;
        }
        case MASK_KEY: {
          if (this.#buffered < 4) return;
          const k = this.#key;
          k[0] = this.#byte();
          k[1] = this.#byte();
          k[2] = this.#byte();
          k[3] = this.#byte();
          this.#state = PAYLOAD;
          break;
        }
        case PAYLOAD: {
          const n = this.#length;
          if (this.#buffered < n) return;
          const data = n === 0 ? EMPTY : this.#take(n);
          if (this.#masked && n > 0) mask(data, this.#key);
          this.#state = HEADER;
          this.#frame(data);
          break;
        }
        default:
          return; // INFLATING or DONE
      }
    }
  }

  /** Checks the first two header bytes; `false` if the connection failed. */
  #header(b0: number, b1: number): boolean {
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x30) !== 0) return this.#fail(1002, "RSV2 and RSV3 must be clear");
    if (opcode >= 0x8) {
      if (opcode > 0xa) return this.#fail(1002, `unknown opcode ${opcode}`);
      if (!fin) return this.#fail(1002, "control frames must not be fragmented");
      if (rsv1) return this.#fail(1002, "RSV1 must be clear on control frames");
      if ((b1 & 0x7f) > 125) return this.#fail(1002, "control frame payload over 125 bytes");
    } else if (opcode === 0x0) {
      if (this.#msgOpcode === 0) return this.#fail(1002, "continuation frame without a message");
      if (rsv1) return this.#fail(1002, "RSV1 must be clear on continuation frames");
    } else if (opcode <= 0x2) {
      if (this.#msgOpcode !== 0) {
        return this.#fail(1002, "new message before the fragmented one ended");
      }
      if (rsv1 && this.#inflater === null) {
        return this.#fail(1002, "RSV1 must be clear without a negotiated extension");
      }
    } else {
      return this.#fail(1002, `unknown opcode ${opcode}`);
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.#server) {
      return this.#fail(
        1002,
        this.#server ? "client frames must be masked" : "server frames must not be masked",
      );
    }
    this.#fin = fin;
    this.#rsv1 = rsv1;
    this.#opcode = opcode;
    this.#masked = masked;
    const len = b1 & 0x7f;
    if (len === 126) {
      this.#state = LEN_16;
      return true;
    }
    if (len === 127) {
      this.#state = LEN_64;
      return true;
    }
    this.#length = len;
    return this.#afterLength();
  }

  /** Applies the size limits once the length is known, before the payload is read. */
  #afterLength(): boolean {
    const op = this.#opcode;
    if (op < 0x8) {
      const first = op !== 0x0;
      const size = (first ? 0 : this.#msgSize) + this.#length;
      if (size > this.#maxSize) {
        return this.#fail(1009, `message over ${this.#maxSize} bytes`);
      }
      const frames = (first ? 0 : this.#msgFrames) + 1;
      if (frames > this.#maxFrames) {
        return this.#fail(1009, `message in more than ${this.#maxFrames} frames`);
      }
      if (first) {
        this.#msgOpcode = op;
        this.#msgCompressed = this.#rsv1;
      }
      this.#msgSize = size;
      this.#msgFrames = frames;
    }
    this.#state = this.#masked ? MASK_KEY : PAYLOAD;
    return true;
  }

  #frame(data: Uint8Array): void {
    const op = this.#opcode;
    if (op >= 0x8) {
      this.#control(op, data);
      return;
    }
    const fin = this.#fin;
    if (this.#msgCompressed) {
      this.#parts.push(data);
      if (fin) this.#inflate();
      return;
    }
    if (this.#msgOpcode === Opcode.Text) {
      if (fin && this.#parts.length === 0) {
        // A single-frame text message: the native decoder validates it.
        this.#msgOpcode = 0;
        this.#deliverText(data);
        return;
      }
      // Fragments are validated as they come, so a bad one fails at once.
      if (!this.#utf8.write(data)) {
        this.#fail(1007, "invalid UTF-8 in a text message");
        return;
      }
      this.#parts.push(data);
      if (!fin) return;
      if (!this.#utf8.complete) {
        this.#fail(1007, "text message ends inside a UTF-8 sequence");
        return;
      }
      this.#utf8.reset();
      const text = looseDecoder.decode(this.#joinParts());
      this.#msgOpcode = 0;
      this.#h.onMessage(text);
      return;
    }
    // Binary.
    if (fin && this.#parts.length === 0) {
      this.#msgOpcode = 0;
      this.#h.onMessage(ownBytes(data));
      return;
    }
    this.#parts.push(data);
    if (!fin) return;
    const bytes = this.#joinParts();
    this.#msgOpcode = 0;
    this.#h.onMessage(bytes);
  }

  #joinParts(): Uint8Array {
    const parts = this.#parts;
    this.#parts = [];
    return parts.length === 1 ? parts[0] : joinBytes(parts, this.#msgSize);
  }

  #deliverText(bytes: Uint8Array): void {
    let text: string;
    try {
      text = fatalDecoder.decode(bytes);
    } catch {
      this.#fail(1007, "invalid UTF-8 in a text message");
      return;
    }
    this.#h.onMessage(text);
  }

  #deliver(opcode: number, bytes: Uint8Array): void {
    if (opcode === Opcode.Text) this.#deliverText(bytes);
    else this.#h.onMessage(bytes);
  }

  #inflate(): void {
    const parts = this.#parts;
    this.#parts = [];
    const opcode = this.#msgOpcode;
    this.#msgOpcode = 0;
    let result: Uint8Array | Promise<Uint8Array>;
    try {
      result = this.#inflater!.inflate(parts, this.#maxSize);
    } catch (err) {
      this.#failWith(err);
      return;
    }
    if (!(result instanceof Promise)) {
      this.#deliver(opcode, result);
      return;
    }
    this.#state = INFLATING;
    this.#idle = new Promise((resolve) => (this.#wake = resolve));
    result.then(
      (bytes) => {
        if (this.#state !== INFLATING) return;
        this.#state = HEADER;
        this.#resume();
        this.#deliver(opcode, bytes);
        this.#run();
      },
      (err) => {
        this.#resume();
        this.#failWith(err);
      },
    );
  }

  #resume(): void {
    const wake = this.#wake;
    this.#idle = null;
    this.#wake = null;
    wake?.();
  }

  #control(op: number, data: Uint8Array): void {
    if (op === Opcode.Ping) {
      this.#h.onPing(data);
    } else if (op === Opcode.Pong) {
      this.#h.onPong(data);
    } else {
      let code = 1005;
      let reason = "";
      if (data.length === 1) {
        this.#fail(1002, "close frame payload of 1 byte");
        return;
      }
      if (data.length >= 2) {
        code = (data[0] << 8) | data[1];
        if (!isValidCloseCode(code)) {
          this.#fail(1002, `invalid close code ${code}`);
          return;
        }
        try {
          reason = fatalDecoder.decode(data.subarray(2));
        } catch {
          this.#fail(1007, "invalid UTF-8 in the close reason");
          return;
        }
      }
      this.#finish();
      this.#h.onClose(code, reason);
    }
  }

  #finish(): void {
    this.#state = DONE;
    this.#chunks = [];
    this.#parts = [];
    this.#buffered = 0;
    this.#resume();
  }

  #fail(code: number, reason: string): false {
    this.#failWith(protocolError(code, reason));
    return false;
  }

  #failWith(err: unknown): void {
    if (this.#state === DONE) return;
    this.#finish();
    this.#h.onError(
      err instanceof WebSocketError
        ? err
        : new WebSocketError(1011, "internal error while receiving", { cause: err }),
    );
  }
}
