/**
 * A small DSL for writing raw HTTP/2 frames in tests, and a raw peer that sends them over
 * a `Conn` and reads frames back. It encodes frames itself (not with the code under test),
 * and header blocks as HPACK literals without indexing, so tests can build any frame,
 * well-formed or not.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { memoryPair, type MemoryPairOptions } from "../../conn/memory.ts";
import type { Conn } from "../../conn/types.ts";
import { join } from "../_bytes.ts";
import { HpackDecoder } from "../../http2/hpack/mod.ts";

/** Frame types. */
export const T = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

/** Flags. */
export const F = { END_STREAM: 1, ACK: 1, END_HEADERS: 4, PADDED: 8, PRIORITY: 0x20 } as const;

/** Setting ids. */
export const S = {
  HEADER_TABLE_SIZE: 1,
  ENABLE_PUSH: 2,
  MAX_CONCURRENT_STREAMS: 3,
  INITIAL_WINDOW_SIZE: 4,
  MAX_FRAME_SIZE: 5,
  MAX_HEADER_LIST_SIZE: 6,
} as const;

/** Error codes. */
export const E = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  FLOW_CONTROL_ERROR: 3,
  SETTINGS_TIMEOUT: 4,
  STREAM_CLOSED: 5,
  FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
  ENHANCE_YOUR_CALM: 11,
} as const;

/** The client connection preface. */
export const PREFACE: Uint8Array = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

const te = new TextEncoder();

/** Bytes from a string (latin1 for header strings) or bytes. */
function bytes(x: string | Uint8Array | number[]): Uint8Array {
  if (x instanceof Uint8Array) return x;
  if (Array.isArray(x)) return Uint8Array.from(x);
  return te.encode(x);
}

/**
 * Joins byte arrays.
 *
 * @param parts The parts.
 * @returns One array.
 */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return join(parts);
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/**
 * Any frame: a 9-byte header and the payload as given (the length field can be forced).
 *
 * @param type Frame type.
 * @param flags Flags.
 * @param streamId Stream id (the reserved bit can be set by passing >= 2^31).
 * @param payload The payload.
 * @param length Override of the length field.
 * @returns The frame bytes.
 */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array | number[] | string = new Uint8Array(0),
  length?: number,
): Uint8Array {
  const p = bytes(payload);
  const n = length ?? p.byteLength;
  return concat(
    Uint8Array.from([(n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff, type, flags, ...u32(streamId)]),
    p,
  );
}

/** SETTINGS with `[id, value]` pairs. */
export function settings(...pairs: [number, number][]): Uint8Array {
  return frame(T.SETTINGS, 0, 0, pairs.flatMap(([id, v]) => [id >> 8, id & 0xff, ...u32(v)]));
}

/** SETTINGS ACK. */
export function settingsAck(): Uint8Array {
  return frame(T.SETTINGS, F.ACK, 0);
}

/** HPACK block of literal fields without indexing (no Huffman), for any field. */
export function block(fields: [string, string][]): Uint8Array {
  const out: number[] = [];
  const int = (prefixBits: number, first: number, v: number) => {
    const max = (1 << prefixBits) - 1;
    if (v < max) return out.push(first | v);
    out.push(first | max);
    v -= max;
    while (v >= 128) {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(v);
  };
  const str = (s: string) => {
    int(7, 0, s.length);
    for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
  };
  for (const [name, value] of fields) {
    out.push(0x00);
    str(name);
    str(value);
  }
  return Uint8Array.from(out);
}

/** Options of {@linkcode headers}. */
export interface HeadersOpts {
  endStream?: boolean;
  /** Default true. */
  endHeaders?: boolean;
  /** Padding bytes (sets PADDED). */
  pad?: number;
  /** Force the pad length byte (for invalid padding). */
  padLength?: number;
  /** Priority fields (sets PRIORITY). */
  priority?: { dependency: number; weight?: number; exclusive?: boolean };
}

/** HEADERS carrying a field block (given as fields or raw bytes). */
export function headers(
  streamId: number,
  fields: [string, string][] | Uint8Array,
  opts: HeadersOpts = {},
): Uint8Array {
  const b = fields instanceof Uint8Array ? fields : block(fields);
  let flags = (opts.endStream ? F.END_STREAM : 0) | (opts.endHeaders === false ? 0 : F.END_HEADERS);
  const pre: number[] = [];
  if (opts.pad !== undefined) {
    flags |= F.PADDED;
    pre.push(opts.padLength ?? opts.pad);
  }
  if (opts.priority) {
    flags |= F.PRIORITY;
    pre.push(
      ...u32((opts.priority.exclusive ? 0x80000000 : 0) + opts.priority.dependency),
      (opts.priority.weight ?? 16) - 1,
    );
  }
  return frame(
    T.HEADERS,
    flags,
    streamId,
    concat(Uint8Array.from(pre), b, new Uint8Array(opts.pad ?? 0)),
  );
}

/** CONTINUATION. */
export function continuation(
  streamId: number,
  fragment: Uint8Array,
  endHeaders: boolean,
): Uint8Array {
  return frame(T.CONTINUATION, endHeaders ? F.END_HEADERS : 0, streamId, fragment);
}

/** DATA (with optional padding). */
export function data(
  streamId: number,
  payload: Uint8Array | string,
  opts: { endStream?: boolean; pad?: number; padLength?: number } = {},
): Uint8Array {
  let flags = opts.endStream ? F.END_STREAM : 0;
  const p = bytes(payload);
  if (opts.pad === undefined) return frame(T.DATA, flags, streamId, p);
  flags |= F.PADDED;
  return frame(
    T.DATA,
    flags,
    streamId,
    concat(Uint8Array.from([opts.padLength ?? opts.pad]), p, new Uint8Array(opts.pad)),
  );
}

/** RST_STREAM. */
export function rst(streamId: number, code: number): Uint8Array {
  return frame(T.RST_STREAM, 0, streamId, u32(code));
}

/** PING. */
export function ping(payload: number[] = [1, 2, 3, 4, 5, 6, 7, 8], ack = false): Uint8Array {
  return frame(T.PING, ack ? F.ACK : 0, 0, payload);
}

/** GOAWAY. */
export function goaway(lastStreamId: number, code: number): Uint8Array {
  return frame(T.GOAWAY, 0, 0, [...u32(lastStreamId), ...u32(code)]);
}

/** WINDOW_UPDATE. */
export function windowUpdate(streamId: number, increment: number): Uint8Array {
  return frame(T.WINDOW_UPDATE, 0, streamId, u32(increment));
}

/** PRIORITY. */
export function priority(
  streamId: number,
  dependency: number,
  weight = 16,
  exclusive = false,
): Uint8Array {
  return frame(T.PRIORITY, 0, streamId, [
    ...u32((exclusive ? 0x80000000 : 0) + dependency),
    weight - 1,
  ]);
}

/** The fields of a simple request. */
export function req(
  method = "GET",
  path = "/",
  extra: [string, string][] = [],
): [string, string][] {
  return [
    [":method", method],
    [":scheme", "http"],
    [":authority", "example.test"],
    [":path", path],
    ...extra,
  ];
}

/** A frame as read back. */
export interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
}

/** Reads a big-endian u32. */
export function readU32(b: Uint8Array, i = 0): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/**
 * The raw side of a connection: sends bytes, reads frames back, decodes header blocks.
 */
export class RawPeer {
  readonly conn: Conn;
  readonly hpack: HpackDecoder = new HpackDecoder({ maxHeaderListSize: 1 << 24 });
  #buf: Uint8Array = new Uint8Array(0);
  #eof = false;
  /** Every frame read, in order. */
  readonly log: RawFrame[] = [];
  /** Bytes of DATA payload received per stream. */
  readonly dataBytes = new Map<number, number>();

  constructor(conn: Conn) {
    this.conn = conn;
  }

  /** Sends frames (written as one chunk). */
  async send(...frames: Uint8Array[]): Promise<void> {
    await this.conn.write(concat(...frames));
  }

  /**
   * The next frame, or `null` at EOF (or after `timeoutMs` with nothing: `"timeout"`).
   */
  async next(timeoutMs = 2000): Promise<RawFrame | null | "timeout"> {
    for (;;) {
      if (this.#buf.byteLength >= 9) {
        const b = this.#buf;
        const len = (b[0] << 16) | (b[1] << 8) | b[2];
        if (b.byteLength >= 9 + len) {
          const f: RawFrame = {
            type: b[3],
            flags: b[4],
            streamId: readU32(b, 5) & 0x7fffffff,
            payload: b.slice(9, 9 + len),
          };
          this.#buf = b.slice(9 + len);
          this.log.push(f);
          if (f.type === T.DATA) {
            this.dataBytes.set(f.streamId, (this.dataBytes.get(f.streamId) ?? 0) + len);
          }
          if (f.type === T.HEADERS || f.type === T.PUSH_PROMISE) {
            (f as RawFrame & { fields?: [string, string][] }).fields = this.#decodeBlock(f);
          }
          return f;
        }
      }
      if (this.#eof) return null;
      let timer: ReturnType<typeof setTimeout> | undefined;
      this.#reading ??= this.conn.read();
      const chunk = await Promise.race([
        this.#reading,
        new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (chunk === "timeout") return "timeout";
      this.#reading = null;
      if (chunk === null) this.#eof = true;
      else this.#buf = concat(this.#buf, chunk);
    }
  }

  #reading: Promise<Uint8Array | null> | null = null;

  #decodeBlock(f: RawFrame): [string, string][] | undefined {
    if (f.type !== T.HEADERS || (f.flags & F.END_HEADERS) === 0) return undefined;
    let p = f.payload;
    let start = 0;
    let end = p.byteLength;
    if (f.flags & F.PADDED) {
      start = 1;
      end -= p[0];
    }
    if (f.flags & F.PRIORITY) start += 5;
    p = p.subarray(start, end);
    return this.hpack.decode(p);
  }

  /** As a server: reads the 24-byte client preface and checks it. */
  async expectPreface(): Promise<void> {
    while (this.#buf.byteLength < 24) {
      this.#reading ??= this.conn.read();
      const chunk = await this.#reading;
      this.#reading = null;
      if (chunk === null) throw new Error("closed before the preface");
      this.#buf = concat(this.#buf, chunk);
    }
    assertEquals(
      new TextDecoder().decode(this.#buf.subarray(0, 24)),
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    );
    this.#buf = this.#buf.slice(24);
  }

  /** Reads frames until one matches; fails at EOF or timeout. Skips others (returned in `skipped`). */
  async until(
    pred: (f: RawFrame) => boolean,
    timeoutMs = 2000,
  ): Promise<RawFrame & { fields?: [string, string][] }> {
    for (;;) {
      const f = await this.next(timeoutMs);
      if (f === null) throw new Error("connection closed before the expected frame");
      if (f === "timeout") throw new Error("timed out waiting for a frame");
      if (pred(f)) return f;
    }
  }

  /** Reads all frames until EOF. */
  async rest(timeoutMs = 3000): Promise<RawFrame[]> {
    const out: RawFrame[] = [];
    for (;;) {
      const f = await this.next(timeoutMs);
      if (f === null) return out;
      if (f === "timeout") throw new Error("timed out waiting for the connection to close");
      out.push(f);
    }
  }

  /** Reads frames until a GOAWAY; asserts its error code and that the connection then closes. */
  async expectGoAway(code: number, timeoutMs = 3000): Promise<RawFrame> {
    const f = await this.until((f) => f.type === T.GOAWAY, timeoutMs);
    assertEquals(
      readU32(f.payload, 4),
      code,
      `GOAWAY code (debug: ${new TextDecoder().decode(f.payload.subarray(8))})`,
    );
    await this.rest(timeoutMs);
    return f;
  }

  /** Reads frames until a RST_STREAM on `streamId`; asserts its code (fails on GOAWAY). */
  async expectRst(streamId: number, code: number, timeoutMs = 2000): Promise<void> {
    const f = await this.until(
      (f) => (f.type === T.RST_STREAM && f.streamId === streamId) || f.type === T.GOAWAY,
      timeoutMs,
    );
    assertEquals(
      f.type,
      T.RST_STREAM,
      `expected RST_STREAM, got GOAWAY code ${readU32(f.payload, 4)}`,
    );
    assertEquals(readU32(f.payload), code, "RST_STREAM code");
  }

  /** Reads the response HEADERS on `streamId` and returns its fields. */
  async response(streamId: number): Promise<[string, string][]> {
    const f = await this.until((f) => f.type === T.HEADERS && f.streamId === streamId);
    return f.fields!;
  }

  /**
   * As a client: sends the preface and SETTINGS, reads the server's SETTINGS and ACKs it,
   * then reads the ACK of ours (frames in between are in `log`).
   *
   * @param pairs Our settings.
   * @returns The server's SETTINGS frame.
   */
  async handshake(...pairs: [number, number][]): Promise<RawFrame> {
    await this.send(PREFACE, settings(...pairs));
    const s = await this.until((f) => f.type === T.SETTINGS && (f.flags & F.ACK) === 0);
    await this.send(settingsAck());
    await this.until((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0);
    return s;
  }

  /** Closes the raw side. */
  close(): void {
    this.conn.close();
  }
}

/**
 * A memory pair with a raw peer on one side.
 *
 * @param options Memory pair options.
 * @returns The raw peer and the other conn.
 */
export function rawPair(options?: MemoryPairOptions): { peer: RawPeer; conn: Conn } {
  const [a, b] = memoryPair(options);
  return { peer: new RawPeer(a), conn: b };
}

/**
 * Parses a SETTINGS payload.
 *
 * @param payload The payload.
 * @returns The pairs.
 */
export function parseSettings(payload: Uint8Array): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i + 6 <= payload.byteLength; i += 6) {
    m.set((payload[i] << 8) | payload[i + 1], readU32(payload, i + 2));
  }
  return m;
}
