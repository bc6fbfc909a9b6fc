/**
 * The fuzzing peer: one end of a WebSocket that sends whatever frames a case asks for and
 * records what comes back, with the closing-handshake bookkeeping Autobahn judges by
 * (who closed first, whether the close was clean, the peer's close code, who dropped the
 * TCP connection). It holds the implementation under test to the RFC: a frame it must not
 * send (wrong masking, reserved bits or opcodes, bad control frames, invalid UTF-8) is
 * noted as a violation, which fails the case.
 */

import type { Conn } from "../../../conn/types.ts";
import { type CodecParams, FuzzCodec } from "./_codec.ts";
import { bytesOf, encodeFrame, FrameParser, join, type RawFrame, repeatTo } from "./_wire.ts";

/** What the peer saw, in order: Autobahn's `received` list. */
export type Event =
  | { type: "message"; data: Uint8Array; binary: boolean }
  | { type: "ping"; data: Uint8Array }
  | { type: "pong"; data: Uint8Array }
  | { type: "timeout"; tag: string };

/** Where the connection is: open, closing handshake under way, gone. */
export type PeerState = "open" | "closing" | "closed";

/** One frame to send, as a case describes it. */
export interface SendFrame {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  /** Reserved bits as Autobahn numbers them: 4 is RSV1, 2 is RSV2, 1 is RSV3. */
  rsv?: number;
  /** Repeat the payload up to this many bytes. */
  payloadLen?: number;
  /** Write the frame in pieces of this many bytes, one write each. */
  chopsize?: number;
  /** Write the frame on its own (the next frame waits for this one's write). */
  sync?: boolean;
}

/** Options of {@linkcode FuzzPeer.sendMessage}. */
export interface SendMessage {
  binary?: boolean;
  /** Split into frames of this many bytes (of the compressed payload when compressing). */
  fragmentSize?: number;
  /** Compress when permessage-deflate is in use (default `true`). */
  compress?: boolean;
}

const fatal = new TextDecoder("utf-8", { fatal: true });

/** Close codes a peer may send (RFC 6455 7.4), as Autobahn's receiver checks them. */
function allowedCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/** The fuzzing end of one connection. */
/** The least time a closing handshake gets, whatever the scale (see `#closeWait`). */
const CLOSE_WAIT_MIN_MS = 1000;

export class FuzzPeer {
  readonly role: "client" | "server";
  /** Milliseconds that stand for one of Autobahn's seconds. */
  readonly second: number;
  readonly received: Event[] = [];
  /** Frames sent per opcode (Autobahn's `txFrameStats`). */
  readonly txFrames: Map<number, number> = new Map();
  state: PeerState = "open";
  closedByMe = false;
  droppedByMe = false;
  failedByMe = false;
  wasClean = false;
  remoteCloseCode: number | null = null;
  remoteCloseReason = "";
  /** The first thing the implementation sent that the RFC forbids. */
  violation: string | null = null;
  /** What a case does with a message (default: record it). */
  onMessage: (data: Uint8Array, binary: boolean) => void;
  /** Called after every recorded event (Autobahn's `finishWhenDone`). */
  afterEvent: () => void = () => {};
  /** Resolves once the connection is gone. */
  readonly closed: Promise<void>;

  #conn: Conn;
  #codec: FuzzCodec | null;
  #parser = new FrameParser();
  #chain: Promise<void> = Promise.resolve();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #msgOpcode = 0;
  #msgCompressed = false;
  #parts: Uint8Array[] = [];
  #resolveClosed!: () => void;

  constructor(
    conn: Conn,
    role: "client" | "server",
    options: { deflate: CodecParams | null; rest: Uint8Array; second: number },
  ) {
    this.#conn = conn;
    this.role = role;
    this.second = options.second;
    this.#codec = options.deflate ? new FuzzCodec(options.deflate) : null;
    this.onMessage = (data, binary) => this.record({ type: "message", data, binary });
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#parser.push(options.rest);
    this.#readLoop();
  }

  /** Whether permessage-deflate is in use. */
  get compressing(): boolean {
    return this.#codec !== null;
  }

  /** Adds an event and lets the case react. */
  record(event: Event): void {
    this.received.push(event);
    this.afterEvent();
  }

  // -------------------------------------------------------------------------------------
  // Sending

  /** Sends one hand-made frame (never compressed). */
  sendFrame(f: SendFrame): Promise<void> {
    let payload = bytesOf(f.payload ?? "");
    if (f.payloadLen !== undefined) payload = repeatTo(payload, f.payloadLen);
    const bytes = encodeFrame({
      opcode: f.opcode,
      payload,
      fin: f.fin,
      rsv: f.rsv,
      mask: this.role === "client",
    });
    this.txFrames.set(f.opcode, (this.txFrames.get(f.opcode) ?? 0) + 1);
    return this.#send(async () => {
      const chop = f.chopsize ?? bytes.length;
      for (let at = 0; at < bytes.length; at += chop) {
        await this.#conn.write(bytes.subarray(at, Math.min(bytes.length, at + chop)));
      }
    });
  }

  /** Sends a message as a library would: compressed when negotiated, fragmented on request. */
  sendMessage(data: Uint8Array | string, options: SendMessage = {}): Promise<void> {
    const binary = options.binary ?? typeof data !== "string";
    const bytes = bytesOf(data);
    const codec = options.compress === false ? null : this.#codec;
    return this.#send(async () => {
      const payload = codec ? await codec.compress(bytes) : bytes;
      const size = options.fragmentSize && options.fragmentSize > 0
        ? options.fragmentSize
        : Math.max(1, payload.length);
      const frames: Uint8Array[] = [];
      let at = 0;
      do {
        const end = Math.min(payload.length, at + size);
        const opcode = at === 0 ? (binary ? 2 : 1) : 0;
        frames.push(encodeFrame({
          opcode,
          payload: payload.subarray(at, end),
          fin: end === payload.length,
          rsv: at === 0 && codec ? 4 : 0,
          mask: this.role === "client",
        }));
        this.txFrames.set(opcode, (this.txFrames.get(opcode) ?? 0) + 1);
        at = end;
      } while (at < payload.length);
      await this.#conn.write(join(frames));
    });
  }

  /** Sends raw bytes of an open frame's payload (the cases that chop one frame by hand). */
  sendRaw(bytes: Uint8Array): Promise<void> {
    return this.#send(() => this.#conn.write(bytes));
  }

  /** Whether frames are masked (the client role), for hand-built frames. */
  get masks(): boolean {
    return this.role === "client";
  }

  /**
   * Starts the closing handshake with a close frame of `code` (none: an empty payload) and
   * `reason` (any bytes, valid or not). Only the first call counts.
   */
  sendClose(code: number | null = 1000, reason: Uint8Array | string = ""): void {
    if (this.state !== "open") return;
    this.state = "closing";
    this.closedByMe = true;
    this.#writeClose(code, bytesOf(reason));
    this.#closeTimer = this.#timer(this.#closeWait(), () => {
      this.wasClean = false; // no close frame back in time
      this.drop();
    });
  }

  #writeClose(code: number | null, reason: Uint8Array): Promise<void> {
    const payload = code === null
      ? reason
      : join([new Uint8Array([code >>> 8, code & 0xff]), reason]);
    return this.sendFrame({ opcode: 8, payload });
  }

  /** Closes the TCP connection at once. */
  drop(): void {
    if (this.state === "closed") return;
    this.droppedByMe = true;
    this.#end();
  }

  #send(write: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(() => (this.state === "closed" ? undefined : write()));
    this.#chain = run.catch(() => {});
    return run.catch(() => {}); // a write after the peer left is not the case's concern
  }

  // -------------------------------------------------------------------------------------
  // Timers (Autobahn's killAfter, closeAfter, continueLater), in Autobahn seconds

  /** Fails the connection after `seconds` if it is still there (a case that did not end). */
  killAfter(seconds: number): void {
    this.#timer(seconds * this.second, () => {
      this.failedByMe = true;
      if (this.state === "open") this.sendClose(1001);
      else this.drop();
    });
  }

  /** Starts the closing handshake after `seconds`. */
  closeAfter(seconds: number): void {
    this.#timer(seconds * this.second, () => this.sendClose(null));
  }

  /** Runs `f` after `seconds` if the connection is still there. */
  continueLater(seconds: number, f: () => void): void {
    this.#timer(seconds * this.second, f);
  }

  /**
   * How long the closing handshake may take before the close counts as unclean: Autobahn's
   * one second, never scaled down (a loaded CI machine running three suites at once missed
   * a scaled half second now and then, in a case the peer had handled in full).
   */
  #closeWait(): number {
    return Math.max(this.second, CLOSE_WAIT_MIN_MS);
  }

  #timer(ms: number, f: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (this.state !== "closed") f();
    }, ms);
    this.#timers.add(t);
    return t;
  }

  // -------------------------------------------------------------------------------------
  // Receiving

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        const chunk = await this.#conn.read();
        if (chunk === null || this.#gone()) break;
        this.#parser.push(chunk);
        for (let f = this.#parser.next(); f !== null; f = this.#parser.next()) {
          this.#frame(f);
          if (this.#gone()) break;
        }
        if (this.#gone()) break;
      }
    } catch {
      // a reset counts as the connection going away
    }
    this.#end();
  }

  #gone(): boolean {
    return this.state === "closed";
  }

  #violate(why: string): void {
    this.violation ??= why;
    this.drop();
  }

  #frame(f: RawFrame): void {
    if (f.masked !== (this.role === "server")) {
      return this.#violate(
        this.role === "server" ? "unmasked client frame" : "masked server frame",
      );
    }
    if ((f.rsv & 3) !== 0) return this.#violate(`reserved bits ${f.rsv} set`);
    const rsv1 = (f.rsv & 4) !== 0;
    if (f.opcode >= 8) {
      if (f.opcode > 10) return this.#violate(`reserved opcode ${f.opcode}`);
      if (!f.fin || rsv1 || f.payload.length > 125) return this.#violate("bad control frame");
      return this.#control(f.opcode, f.payload);
    }
    if (f.opcode === 0) {
      if (this.#msgOpcode === 0) return this.#violate("continuation without a message");
      if (rsv1) return this.#violate("RSV1 on a continuation frame");
    } else if (f.opcode <= 2) {
      if (this.#msgOpcode !== 0) return this.#violate("new message inside a fragmented one");
      if (rsv1 && this.#codec === null) return this.#violate("RSV1 without permessage-deflate");
      this.#msgOpcode = f.opcode;
      this.#msgCompressed = rsv1;
    } else {
      return this.#violate(`reserved opcode ${f.opcode}`);
    }
    this.#parts.push(f.payload);
    if (!f.fin) return;
    let data = this.#parts.length === 1 ? this.#parts[0] : join(this.#parts);
    const binary = this.#msgOpcode === 2;
    this.#parts = [];
    this.#msgOpcode = 0;
    if (this.#msgCompressed) {
      try {
        data = this.#codec!.inflate(data);
      } catch {
        return this.#violate("corrupt compressed message");
      }
    }
    if (!binary) {
      try {
        fatal.decode(data);
      } catch {
        return this.#violate("invalid UTF-8 in a text message");
      }
    }
    this.onMessage(data, binary);
  }

  #control(opcode: number, payload: Uint8Array): void {
    if (opcode === 9) {
      this.record({ type: "ping", data: payload });
      if (this.state === "open") this.sendFrame({ opcode: 10, payload });
      return;
    }
    if (opcode === 10) {
      this.record({ type: "pong", data: payload });
      return;
    }
    if (payload.length === 1) return this.#violate("close payload of 1 byte");
    if (payload.length >= 2) {
      const code = (payload[0] << 8) | payload[1];
      if (!allowedCloseCode(code)) return this.#violate(`close code ${code}`);
      try {
        this.remoteCloseReason = fatal.decode(payload.subarray(2));
      } catch {
        return this.#violate("invalid UTF-8 in the close reason");
      }
      this.remoteCloseCode = code;
    }
    if (this.state === "closing") {
      clearTimeout(this.#closeTimer);
      this.wasClean = true;
    } else if (this.state === "open") {
      this.wasClean = true;
      this.state = "closing";
      this.#writeClose(1000, new Uint8Array(0));
    } else return;
    if (this.role === "server") {
      this.#chain.then(() => this.drop()); // the server drops TCP once its close is out
    } else {
      // A client waits for the server to drop the connection, and drops it itself late.
      this.#timer(this.#closeWait(), () => {
        this.wasClean = false;
        this.drop();
      });
    }
  }

  #end(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#codec?.close();
    this.#conn.close();
    this.#resolveClosed();
  }
}
