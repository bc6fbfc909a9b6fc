import type { Addr, Conn, ReadSink } from "./types.ts";

const MEMORY_ADDR: Addr = { transport: "memory", hostname: "", port: 0 };

/** Options of {@linkcode memoryPair}. */
export interface MemoryPairOptions {
  /**
   * Bytes one side may have written and the other not yet read before `write()` waits
   * (default 64 KiB), so backpressure behaves as on a socket.
   */
  highWaterMark?: number;
  /** The ALPN protocol both ends report (default `null`). */
  alpnProtocol?: string | null;
}

/** One direction of a memory pair: a queue of chunks with a byte budget. */
class Pipe {
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #reader: ((chunk: Uint8Array | null) => void) | null = null;
  #sink: ReadSink | null = null;
  #writers: (() => void)[] = [];

  constructor(readonly highWaterMark: number) {}

  get ended(): boolean {
    return this.#ended;
  }

  push(data: Uint8Array): Promise<void> {
    if (this.#ended) return Promise.reject(new Error("connection closed"));
    if (data.byteLength === 0) return Promise.resolve();
    const copy = data.slice();
    if (this.#sink !== null) {
      this.#sink.data(copy);
      return Promise.resolve();
    }
    if (this.#reader) {
      const resolve = this.#reader;
      this.#reader = null;
      resolve(copy);
      return Promise.resolve();
    }
    this.#chunks.push(copy);
    this.#queued += copy.byteLength;
    if (this.#queued <= this.highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.#writers.push(resolve));
  }

  setSink(sink: ReadSink | null): void {
    this.#sink = sink;
    if (sink === null) return;
    // What was written meanwhile first, unless the sink steps back again while taking it.
    while (this.#sink === sink && this.#chunks.length > 0) sink.data(this.#unqueue());
    if (this.#sink === sink && this.#ended) {
      this.#sink = null;
      sink.end(null);
    }
  }

  #unqueue(): Uint8Array {
    const chunk = this.#chunks.shift()!;
    this.#queued -= chunk.byteLength;
    if (this.#queued <= this.highWaterMark) this.#wakeWriters();
    return chunk;
  }

  pull(): Promise<Uint8Array | null> {
    if (this.#chunks.length > 0) return Promise.resolve(this.#unqueue());
    if (this.#ended) return Promise.resolve(null);
    if (this.#reader) return Promise.reject(new Error("overlapping read() calls"));
    return new Promise((resolve) => (this.#reader = resolve));
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#wakeWriters();
    if (this.#sink !== null && this.#chunks.length === 0) {
      const sink = this.#sink;
      this.#sink = null;
      sink.end(null);
    }
    if (this.#reader) {
      const resolve = this.#reader;
      this.#reader = null;
      resolve(null);
    }
  }

  /** Drops what is queued and ends: what an abrupt close does to unread bytes. */
  abort(): void {
    this.#chunks = [];
    this.#queued = 0;
    this.end();
  }

  #wakeWriters(): void {
    const writers = this.#writers;
    this.#writers = [];
    for (const wake of writers) wake();
  }
}

class MemoryConn implements Conn {
  readonly localAddr: Addr = MEMORY_ADDR;
  readonly remoteAddr: Addr = MEMORY_ADDR;
  readonly secure = false;

  constructor(
    readonly alpnProtocol: string | null,
    private readonly incoming: Pipe,
    private readonly outgoing: Pipe,
  ) {}

  read(): Promise<Uint8Array | null> {
    return this.incoming.pull();
  }

  setReadSink(sink: ReadSink | null): void {
    this.incoming.setSink(sink);
  }

  write(data: Uint8Array): Promise<void> {
    return this.outgoing.push(data);
  }

  closeWrite(): Promise<void> {
    this.outgoing.end();
    return Promise.resolve();
  }

  close(): void {
    this.outgoing.end();
    this.incoming.abort();
  }

  setNoDelay(_noDelay: boolean): void {}
}

/**
 * Two connected in-memory {@linkcode Conn}s: what one writes, the other reads. For tests,
 * and for running a client and a server in one process without a socket.
 *
 * @param options Buffering and the ALPN protocol to report.
 * @returns The two ends.
 *
 * @example
 * ```ts
 * import { memoryPair } from "./mod.ts";
 *
 * const [client, server] = memoryPair();
 * await client.write(new Uint8Array([1, 2, 3]));
 * await client.closeWrite();
 * console.log(await server.read()); // Uint8Array(3) [ 1, 2, 3 ]
 * console.log(await server.read()); // null
 * ```
 */
export function memoryPair(options: MemoryPairOptions = {}): [Conn, Conn] {
  const highWaterMark = options.highWaterMark ?? 64 * 1024;
  const alpn = options.alpnProtocol ?? null;
  const ab = new Pipe(highWaterMark);
  const ba = new Pipe(highWaterMark);
  return [new MemoryConn(alpn, ba, ab), new MemoryConn(alpn, ab, ba)];
}
