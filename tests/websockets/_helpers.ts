/** Shared helpers of the WebSocket tests: hex frames, a recording receiver, raw peers. */
import { assertEquals } from "@std/assert";
import zlib from "node:zlib";
import { Receiver, type ReceiverOptions } from "../../websockets/_receiver.ts";
import type { Inflater } from "../../websockets/_deflate.ts";
import type { Conn } from "../../conn/types.ts";

/** Bytes from hex with optional spaces: `"81 05 48"`. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  if (clean.length % 2 !== 0) throw new Error(`odd hex ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Hex of bytes, spaced. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

/** Concatenates byte arrays. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The RFC 6455 5.7 example key. */
export const KEY = [0x37, 0xfa, 0x21, 0x3d];

/**
 * A frame with explicit bits, for building bad frames: b0 is the first byte (FIN, RSV,
 * opcode), `mask` a key to mask with (a client's frame), `len` an override of the
 * length field encoding: "7", "16" or "64".
 */
export function rawFrame(
  b0: number,
  payload: Uint8Array,
  opts: { mask?: number[] | null; len?: "7" | "16" | "64" } = {},
): Uint8Array {
  const n = payload.length;
  const enc = opts.len ?? (n < 126 ? "7" : n < 65536 ? "16" : "64");
  const m = opts.mask ? 0x80 : 0;
  let head: number[];
  if (enc === "7") head = [b0, m | n];
  else if (enc === "16") head = [b0, m | 126, n >>> 8, n & 0xff];
  else {
    const hi = Math.floor(n / 2 ** 32);
    const lo = n >>> 0;
    head = [
      b0,
      m | 127,
      hi >>> 24,
      (hi >>> 16) & 255,
      (hi >>> 8) & 255,
      hi & 255,
      lo >>> 24,
      (lo >>> 16) & 255,
      (lo >>> 8) & 255,
      lo & 255,
    ];
  }
  const body = payload.slice();
  if (opts.mask) {
    head.push(...opts.mask);
    for (let i = 0; i < body.length; i++) body[i] ^= opts.mask[i & 3];
  }
  return cat(new Uint8Array(head), body);
}

/** A masked (client to server) frame with the RFC example key. */
export function clientFrame(b0: number, payload: Uint8Array | string): Uint8Array {
  return rawFrame(b0, typeof payload === "string" ? utf8(payload) : payload, { mask: KEY });
}

/** A recorded receiver event. */
export type Event =
  | { message: string | Uint8Array }
  | { ping: Uint8Array }
  | { pong: Uint8Array }
  | { close: number; reason: string }
  | { error: number };

/** Receiver options for {@linkcode record}; `inflater` makes one per run. */
export type RecordOptions = Partial<Omit<ReceiverOptions, "inflater">> & {
  inflater?: () => Inflater | null;
};

/** Runs a fresh receiver over the chunks and records what it reports. */
export async function record(
  chunks: Uint8Array[],
  options: RecordOptions = {},
): Promise<Event[]> {
  const events: Event[] = [];
  const r = new Receiver({
    role: options.role ?? "client",
    maxFrameSize: options.maxFrameSize ?? 16 * 1024 * 1024,
    maxFragmentation: options.maxFragmentation ?? 1024,
    inflater: options.inflater ? options.inflater() : null,
  }, {
    onMessage: (data) => events.push({ message: data instanceof Uint8Array ? data.slice() : data }),
    onPing: (data) => events.push({ ping: data.slice() }),
    onPong: (data) => events.push({ pong: data.slice() }),
    onClose: (code, reason) => events.push({ close: code, reason }),
    onError: (err) => events.push({ error: err.code }),
  });
  for (const c of chunks) {
    r.push(c.slice()); // the receiver may unmask in place
    await r.idle();
  }
  await r.idle();
  return events;
}

/**
 * Feeds `bytes` whole, split in two at every position, and one byte at a time, and
 * asserts each run reports `expected`.
 */
export async function assertFrames(
  bytes: Uint8Array,
  expected: Event[],
  options: RecordOptions = {},
): Promise<void> {
  assertEquals(await record([bytes], options), expected, "whole");
  for (let i = 1; i < bytes.length; i++) {
    assertEquals(
      await record([bytes.subarray(0, i), bytes.subarray(i)], options),
      expected,
      `split at ${i}`,
    );
  }
  const singles = Array.from(bytes, (b) => new Uint8Array([b]));
  assertEquals(await record(singles, options), expected, "byte by byte");
}

/** Reads from a raw connection until `n` bytes have arrived (or the end). */
export class RawReader {
  #buf: Uint8Array = new Uint8Array(0);
  constructor(readonly conn: Conn) {}

  async bytes(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) {
      const chunk = await this.conn.read();
      if (chunk === null) {
        throw new Error(`connection ended with ${this.#buf.length} of ${n} bytes`);
      }
      this.#buf = cat(this.#buf, chunk);
    }
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Reads one frame: header fields and the unmasked payload. */
  async frame(): Promise<
    { fin: boolean; rsv1: boolean; opcode: number; masked: boolean; payload: Uint8Array }
  > {
    const [b0, b1] = await this.bytes(2);
    let len = b1 & 0x7f;
    if (len === 126) {
      const b = await this.bytes(2);
      len = (b[0] << 8) | b[1];
    } else if (len === 127) {
      const b = await this.bytes(8);
      len = new DataView(b.buffer, b.byteOffset).getUint32(0) * 2 ** 32 +
        new DataView(b.buffer, b.byteOffset).getUint32(4);
    }
    const masked = (b1 & 0x80) !== 0;
    const key = masked ? (await this.bytes(4)).slice() : null;
    const payload = (await this.bytes(len)).slice();
    if (key) { for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3]; }
    return { fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, masked, payload };
  }

  /** Whether the connection ends with nothing more to read. */
  async ended(): Promise<boolean> {
    if (this.#buf.length > 0) return false;
    return (await this.conn.read()) === null;
  }
}

/** Rejects after `ms` (for bounding waits in tests); call `cancel` when done. */
export function deadline(ms: number, what: string): { promise: Promise<never>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  promise.catch(() => {});
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Which runtime runs the tests (they also run on Node and Bun through tests/_node). */
export const RUNTIME: "deno" | "node" | "bun" = "Bun" in globalThis
  ? "bun"
  : (globalThis as { Deno?: { version?: { deno?: string } } }).Deno?.version?.deno
  ? "deno"
  : "node";

/** The resident set size, in bytes, on any of the three runtimes. */
export function rss(): number {
  const proc = (globalThis as { process?: { memoryUsage(): { rss: number } } }).process;
  if (RUNTIME !== "deno" && proc) return proc.memoryUsage().rss;
  return Deno.memoryUsage().rss;
}

/**
 * `plain` through a raw deflate stream that keeps its context (a permessage-deflate peer with
 * context takeover), sync-flushed, without the 00 00 ff ff that ends the flush.
 */
export function syncFlushed(
  stream: ReturnType<typeof zlib.createDeflateRaw>,
  plain: Uint8Array,
): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const out: Uint8Array[] = [];
    const onData = (c: Uint8Array) => out.push(c);
    stream.on("data", onData);
    stream.write(plain);
    stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      stream.off("data", onData);
      const all = cat(...out);
      resolve(all.slice(0, all.length - 4));
    });
  });
}
