/**
 * The permessage-deflate codec (RFC 7692 section 7.2): compressing outgoing messages and
 * inflating incoming ones, over whatever the runtime offers, chosen by probing.
 *
 * What the probe finds (see {@linkcode probeStreams}), and what follows from it:
 * - Deno 2.9: `CompressionStream("deflate-raw")` sync-flushes every write (its output ends
 *   with 00 00 ff ff) and hands it out before the write resolves, so one long-lived stream
 *   compresses message after message with context takeover. `DecompressionStream` hands out
 *   each write's output, but as one chunk however large, and it rejects bytes after a final
 *   (BFINAL) block, which RFC 7692 7.2.3.3 messages carry.
 * - Node 20: neither stream hands out anything before `close()`.
 * - Bun 1.x: like Node for compression; like Deno for decompression.
 * So compression uses a long-lived `CompressionStream` where it flushes per write and the
 * negotiation allows context takeover with a 15-bit window, and `node:zlib` otherwise (any
 * window of 9-15 bits): a long-lived `DeflateRaw` stream sync-flushed after each message
 * with context takeover, `deflateRawSync` when the negotiation forbids it; inflation always uses `node:zlib` (present on Deno, Node and Bun): a long-lived
 * `InflateRaw` stream when the peer keeps context, `inflateRawSync` when it does not, both
 * stopped as soon as the output passes the size limit.
 *
 * @module
 */

import { joinBytes } from "../conn/_bytes.ts";
import { WebSocketError } from "./errors.ts";
import type { DeflateParams } from "./permessage_deflate.ts";

type Zlib = typeof import("node:zlib");
type InflateRaw = ReturnType<Zlib["createInflateRaw"]>;
type DeflateRaw = ReturnType<Zlib["createDeflateRaw"]>;

/** The empty stored block that ends a sync flush; stripped on send, added back on receive. */
export const TRAILER: Uint8Array = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** Compresses messages for one connection. */
export interface Deflater {
  /**
   * Compresses a message, or one fragment of one, sync-flushed: the output ends with
   * 00 00 ff ff. `null` means: send it uncompressed (no backend honours the window).
   */
  compress(data: Uint8Array): Uint8Array | null | Promise<Uint8Array | null>;
  /** Frees the compressor. */
  close(): void;
}

/** Inflates messages for one connection. */
export interface Inflater {
  /**
   * Inflates one whole message given as its frames' payloads.
   * Fails with a {@linkcode WebSocketError}: 1009 once the output passes `limit` bytes
   * (without ever holding much more), 1007 for corrupt data.
   */
  inflate(parts: Uint8Array[], limit: number): Uint8Array | Promise<Uint8Array>;
  /** Frees the decompressor. */
  close(): void;
}

/** Which implementation to use; `"auto"` follows the probe. */
export type DeflateBackend = "auto" | "web" | "zlib";

// ---------------------------------------------------------------------------------------
// Loading node:zlib

let zlibPromise: Promise<Zlib | null> | null = null;

/** `node:zlib`, or `null` where the runtime has none. Loaded once, on first use. */
export function loadZlib(): Promise<Zlib | null> {
  return zlibPromise ??= import("node:zlib").then(
    (m) => ((m as { default?: Zlib }).default ?? m) as Zlib,
    () => null,
  );
}

// ---------------------------------------------------------------------------------------
// Web streams: pumping a transform stream write by write

const WRITTEN: unique symbol = Symbol("written");
const NOTHING: unique symbol = Symbol("nothing");
const NOTHING_YET: Promise<typeof NOTHING> = Promise.resolve(NOTHING);
const noop = () => {};

type ReadResult = ReadableStreamReadResult<Uint8Array>;
/** The shape of `CompressionStream` and `DecompressionStream`. */
type ByteTransform = {
  writable: WritableStream<BufferSource>;
  readable: ReadableStream<Uint8Array>;
};

/**
 * Drives a `CompressionStream` / `DecompressionStream` one write at a time, always keeping
 * one read pending so output never stalls the stream.
 */
class StreamPump {
  #writer: WritableStreamDefaultWriter<BufferSource>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #pending: Promise<ReadResult>;

  constructor(stream: ByteTransform) {
    this.#writer = stream.writable.getWriter();
    this.#reader = stream.readable.getReader();
    this.#pending = this.#read();
  }

  #read(): Promise<ReadResult> {
    const p = this.#reader.read();
    p.catch(noop);
    return p;
  }

  /** Writes `data`; resolves with the output handed out by the time the write resolved. */
  async write(data: Uint8Array): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    const written = this.#writer.write(data as Uint8Array<ArrayBuffer>).then(
      (): typeof WRITTEN => WRITTEN,
    );
    for (;;) {
      const r: ReadResult | typeof WRITTEN = await Promise.race([this.#pending, written]);
      if (r === WRITTEN) break;
      this.#take(r, out);
    }
    // Whatever is already queued: a read of a non-empty queue is settled at once, so it
    // wins the race against an already-resolved promise listed after it.
    for (;;) {
      const r: ReadResult | typeof NOTHING = await Promise.race([this.#pending, NOTHING_YET]);
      if (r === NOTHING) break;
      this.#take(r, out);
    }
    return out;
  }

  #take(r: ReadResult, out: Uint8Array[]): void {
    if (r.done) throw new Error("compression stream ended");
    out.push(r.value);
    this.#pending = this.#read();
  }

  close(): void {
    this.#writer.abort().catch(noop);
    this.#reader.cancel().catch(noop);
  }
}

// ---------------------------------------------------------------------------------------
// The probe

/** What the runtime's compression streams do, as far as permessage-deflate cares. */
export interface StreamProbe {
  /** `CompressionStream("deflate-raw")` hands out each write's output, ending with 00 00 ff ff, before the write resolves. */
  compressFlushesEachWrite: boolean;
  /** `DecompressionStream("deflate-raw")` hands out each write's output before the write resolves. */
  decompressOutputsEachWrite: boolean;
  /** `DecompressionStream` accepts a final (BFINAL) block followed by more bytes, as in RFC 7692 7.2.3.3. */
  decompressAcceptsFinalBlock: boolean;
}

/** "Hello" as a fixed-Huffman block, sync-flushed (RFC 7692 7.2.3.1 plus the trailer). */
const SYNC_HELLO = new Uint8Array([
  0xf2,
  0x48,
  0xcd,
  0xc9,
  0xc9,
  0x07,
  0x00,
  0x00,
  0x00,
  0xff,
  0xff,
]);
/** "Hello" in a BFINAL block plus the 0x00 of RFC 7692 7.2.3.3, plus the receiver's trailer. */
const FINAL_HELLO = new Uint8Array([
  0xf3,
  0x48,
  0xcd,
  0xc9,
  0xc9,
  0x07,
  0x00,
  0x00,
  0x00,
  0x00,
  0xff,
  0xff,
]);
const HELLO = new TextEncoder().encode("Hello");

let probePromise: Promise<StreamProbe> | null = null;

/**
 * Probes the runtime's `CompressionStream` / `DecompressionStream` once (cached).
 *
 * @returns What the streams do.
 */
export function probeStreams(): Promise<StreamProbe> {
  return probePromise ??= runProbe();
}

async function pumpOnce(
  make: () => ByteTransform,
  input: Uint8Array,
): Promise<Uint8Array | null> {
  let pump: StreamPump | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    pump = new StreamPump(make());
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 1000)));
    const out = await Promise.race([pump.write(input), timeout]);
    return out === null || out.length === 0 ? null : joinBytes(out);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    pump?.close();
  }
}

async function runProbe(): Promise<StreamProbe> {
  const result: StreamProbe = {
    compressFlushesEachWrite: false,
    decompressOutputsEachWrite: false,
    decompressAcceptsFinalBlock: false,
  };
  const decoder = new TextDecoder();
  if (typeof CompressionStream === "function") {
    const out = await pumpOnce(() => new CompressionStream("deflate-raw"), HELLO);
    result.compressFlushesEachWrite = out !== null && endsWithTrailer(out);
  }
  if (typeof DecompressionStream === "function") {
    const a = await pumpOnce(() => new DecompressionStream("deflate-raw"), SYNC_HELLO);
    result.decompressOutputsEachWrite = a !== null && decoder.decode(a) === "Hello";
    const b = await pumpOnce(() => new DecompressionStream("deflate-raw"), FINAL_HELLO);
    result.decompressAcceptsFinalBlock = b !== null && decoder.decode(b) === "Hello";
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// Deflaters

/** The most bytes handed to a `CompressionStream` in one write (its output fits in one flush). */
const WEB_WRITE_MAX = 16 * 1024;

/** A long-lived `CompressionStream`: each write is sync-flushed, the window carries over. */
class WebDeflater implements Deflater {
  #pump: StreamPump | null = null;
  /** A fresh stream per message (no context takeover) when true. */
  #fresh: boolean;
  /** Messages compress one at a time. */
  #busy: Promise<unknown> = Promise.resolve();

  constructor(fresh: boolean) {
    this.#fresh = fresh;
  }

  compress(data: Uint8Array): Promise<Uint8Array | null> {
    const run = this.#busy.then(() => this.#compress(data));
    this.#busy = run.catch(noop);
    return run;
  }

  async #compress(data: Uint8Array): Promise<Uint8Array> {
    const pump = this.#pump ??= new StreamPump(new CompressionStream("deflate-raw"));
    try {
      // A write whose output passes some 32 KiB is not flushed whole (Deno 2.9: the rest
      // waits for the next write), so big messages go in in pieces, each flushed.
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < data.length || at === 0; at += WEB_WRITE_MAX) {
        chunks.push(...await pump.write(data.subarray(at, at + WEB_WRITE_MAX)));
      }
      const out = joinBytes(chunks);
      if (!endsWithTrailer(out)) throw new Error("CompressionStream did not flush");
      return out;
    } catch (err) {
      this.close();
      throw new WebSocketError(1011, "compression failed", { cause: err });
    } finally {
      if (this.#fresh) this.close();
    }
  }

  close(): void {
    this.#pump?.close();
    this.#pump = null;
  }
}

/** `deflateRawSync` with a sync flush: each message compressed on its own, any window 9-15. */
class ZlibDeflater implements Deflater {
  #zlib: Zlib;
  #options: { finishFlush: number; windowBits: number };

  constructor(zlib: Zlib, windowBits: number) {
    this.#zlib = zlib;
    this.#options = { finishFlush: zlib.constants.Z_SYNC_FLUSH, windowBits };
  }

  compress(data: Uint8Array): Uint8Array {
    return this.#zlib.deflateRawSync(data, this.#options);
  }

  close(): void {}
}

/**
 * A long-lived `node:zlib` deflate stream, sync-flushed after each message: context
 * takeover (the window carries over, as python websockets, ws and browsers do) where the
 * runtime's `CompressionStream` cannot flush per write (Node, Bun). Any window of 9-15 bits.
 */
class ZlibStreamDeflater implements Deflater {
  #zlib: Zlib;
  #windowBits: number;
  #stream: DeflateRaw | null = null;
  /** Messages compress one at a time. */
  #busy: Promise<unknown> = Promise.resolve();

  constructor(zlib: Zlib, windowBits: number) {
    this.#zlib = zlib;
    this.#windowBits = windowBits;
  }

  compress(data: Uint8Array): Promise<Uint8Array> {
    const run = this.#busy.then(() => this.#compress(data));
    this.#busy = run.catch(noop);
    return run;
  }

  #compress(data: Uint8Array): Promise<Uint8Array> {
    const z = this.#zlib;
    const s = this.#stream ??= z.createDeflateRaw({
      windowBits: this.#windowBits,
      chunkSize: ZLIB_CHUNK,
    });
    return new Promise<Uint8Array>((resolve, reject) => {
      const out: Uint8Array[] = [];
      let total = 0;
      const onData = (chunk: Uint8Array) => {
        out.push(chunk);
        total += chunk.length;
      };
      const onError = (err: unknown) => done(err);
      const done = (err?: unknown) => {
        s.off("data", onData);
        s.off("error", onError);
        if (err) {
          this.close();
          reject(new WebSocketError(1011, "compression failed", { cause: err }));
          return;
        }
        const result = out.length === 1 ? plain(out[0]) : joinBytes(out, total);
        if (!endsWithTrailer(result)) {
          this.close();
          reject(new WebSocketError(1011, "compression did not flush"));
        } else resolve(result);
      };
      s.on("data", onData);
      s.on("error", onError);
      s.write(data);
      s.flush(z.constants.Z_SYNC_FLUSH, (err?: unknown) => done(err ?? s.errored ?? undefined));
    });
  }

  close(): void {
    const s = this.#stream;
    this.#stream = null;
    if (s) {
      s.removeAllListeners("data");
      s.on("error", noop);
      s.close();
    }
  }
}

// ---------------------------------------------------------------------------------------
// Inflaters

const ZLIB_CHUNK = 64 * 1024;

function inflateError(err: unknown, limit: number): WebSocketError {
  if (err instanceof WebSocketError) return err;
  const code = (err as { code?: string } | null)?.code;
  if (err instanceof RangeError || code === "ERR_BUFFER_TOO_LARGE") {
    return new WebSocketError(1009, `message inflates to more than ${limit} bytes`);
  }
  return new WebSocketError(1007, "invalid compressed data", { cause: err });
}

/** Inflates with `node:zlib`: a long-lived stream for a peer with context takeover. */
class ZlibInflater implements Inflater {
  #zlib: Zlib;
  #noContext: boolean;
  #stream: InflateRaw | null = null;
  /** The stream saw a final block: the next message needs a fresh one. */
  #ended = false;

  constructor(zlib: Zlib, peerNoContextTakeover: boolean) {
    this.#zlib = zlib;
    this.#noContext = peerNoContextTakeover;
  }

  inflate(parts: Uint8Array[], limit: number): Uint8Array | Promise<Uint8Array> {
    if (this.#noContext) return this.#inflateSync(parts, limit);
    return this.#inflateStream(parts, limit);
  }

  #inflateSync(parts: Uint8Array[], limit: number): Uint8Array {
    const z = this.#zlib;
    try {
      return plain(z.inflateRawSync(joinBytes([...parts, TRAILER]), {
        finishFlush: z.constants.Z_SYNC_FLUSH,
        maxOutputLength: Math.max(1, Math.min(limit, 2 ** 31 - 1)),
        chunkSize: ZLIB_CHUNK,
      }));
    } catch (err) {
      throw inflateError(err, limit);
    }
  }

  #inflateStream(parts: Uint8Array[], limit: number): Promise<Uint8Array> {
    const z = this.#zlib;
    if (this.#stream === null || this.#ended) {
      this.#discard();
      const s = z.createInflateRaw({ chunkSize: ZLIB_CHUNK });
      s.on("error", noop); // reported through the per-message listener below
      s.on("end", () => {
        if (this.#stream === s) this.#ended = true;
      });
      this.#stream = s;
      this.#ended = false;
    }
    const s = this.#stream!;
    return new Promise<Uint8Array>((resolve, reject) => {
      const out: Uint8Array[] = [];
      let total = 0;
      let settled = false;
      const finish = (err?: WebSocketError) => {
        if (settled) return;
        settled = true;
        s.off("data", onData);
        s.off("error", onError);
        if (err) {
          this.#discard();
          reject(err);
        } else {
          resolve(out.length === 1 ? plain(out[0]) : joinBytes(out, total));
        }
      };
      const onData = (chunk: Uint8Array) => {
        total += chunk.length;
        if (total > limit) {
          finish(new WebSocketError(1009, `message inflates to more than ${limit} bytes`));
        } else {
          out.push(chunk);
        }
      };
      const onError = (err: unknown) => finish(inflateError(err, limit));
      s.on("data", onData);
      s.on("error", onError);
      for (const p of parts) s.write(p);
      s.write(TRAILER);
      // Deno passes an error to the flush callback; Node and Bun emit "error" instead.
      s.flush(z.constants.Z_SYNC_FLUSH, (err?: unknown) => {
        if (err || s.destroyed) finish(inflateError(err ?? s.errored, limit));
        else finish();
      });
    });
  }

  #discard(): void {
    const s = this.#stream;
    this.#stream = null;
    if (s) {
      s.removeAllListeners("data");
      s.close();
    }
  }

  close(): void {
    this.#discard();
  }
}

// ---------------------------------------------------------------------------------------
// The codec of one connection

/** Compressor and decompressor of one connection. */
export interface Codec {
  /** Compresses this end's messages. */
  deflater: Deflater;
  /** Inflates the peer's messages. */
  inflater: Inflater;
}

interface Ready {
  deflater: Deflater | null;
  inflater: Inflater | null;
}

/**
 * Builds the codec for negotiated parameters. It is ready at once; the backends load on
 * first use (probe, `node:zlib`), and until then calls return promises.
 *
 * @param params The negotiated parameters.
 * @param role This end's role.
 * @param backend `"auto"` to follow the probe; `"web"` / `"zlib"` to force one (tests).
 * @returns The codec.
 */
export function createCodec(
  params: DeflateParams,
  role: "client" | "server",
  backend: DeflateBackend = "auto",
): Codec {
  const server = role === "server";
  const ownBits = server ? params.serverMaxWindowBits : params.clientMaxWindowBits;
  const ownNoContext = server ? params.serverNoContextTakeover : params.clientNoContextTakeover;
  const peerNoContext = server ? params.clientNoContextTakeover : params.serverNoContextTakeover;

  let ready: Ready | null = null;
  let closed = false;
  const init = (async (): Promise<Ready> => {
    const [probe, zlib] = await Promise.all([
      backend === "zlib" ? null : probeStreams(),
      loadZlib(), // inflation always needs it
    ]);
    let deflater: Deflater | null = null;
    const webOk = probe !== null && probe.compressFlushesEachWrite && ownBits === 15;
    if (webOk && (!ownNoContext || backend === "web" || zlib === null)) {
      deflater = new WebDeflater(ownNoContext);
    } else if (zlib !== null && backend !== "web" && ownBits >= 9) {
      deflater = ownNoContext
        ? new ZlibDeflater(zlib, ownBits)
        : new ZlibStreamDeflater(zlib, ownBits);
    }
    const inflater = zlib === null ? null : new ZlibInflater(zlib, peerNoContext);
    ready = { deflater, inflater };
    if (closed) {
      deflater?.close();
      inflater?.close();
    }
    return ready;
  })();
  init.catch(noop);

  const noInflater = () =>
    new WebSocketError(1011, "permessage-deflate needs node:zlib, which this runtime lacks");

  return {
    deflater: {
      compress(data) {
        if (ready !== null) return ready.deflater === null ? null : ready.deflater.compress(data);
        return init.then((r) => (r.deflater === null ? null : r.deflater.compress(data)));
      },
      close() {
        closed = true;
        ready?.deflater?.close();
      },
    },
    inflater: {
      inflate(parts, limit) {
        if (ready !== null) {
          if (ready.inflater === null) throw noInflater();
          return ready.inflater.inflate(parts, limit);
        }
        return init.then((r) => {
          if (r.inflater === null) throw noInflater();
          return r.inflater.inflate(parts, limit);
        });
      },
      close() {
        closed = true;
        ready?.inflater?.close();
      },
    },
  };
}

// ---------------------------------------------------------------------------------------
// Helpers

/** A plain `Uint8Array` view of a Node `Buffer` (whose `slice` would not copy). */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Whether `b` ends with 00 00 ff ff. */
export function endsWithTrailer(b: Uint8Array): boolean {
  const n = b.length;
  return n >= 4 && b[n - 4] === 0 && b[n - 3] === 0 && b[n - 2] === 0xff && b[n - 1] === 0xff;
}
