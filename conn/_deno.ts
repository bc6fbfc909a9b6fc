// The Deno adapter: Deno.connect / connectTls / startTls / listen / listenTls in the Conn shape.
import type { Addr, Conn, ConnectOptions, Listener, ListenOptions } from "./types.ts";
import { AcceptQueue } from "./_accept_queue.ts";
import { WriteChain } from "./_write_chain.ts";
import { buffers } from "./_buffer_pool.ts";

/**
 * How much one read may take, and the slab reads are carved from. A read of 128 KiB (rather
 * than 64) lets a 64 KiB WebSocket message arrive in one read, so it is handed over as a view
 * rather than copied out of two (server CPU per message 1.135x lower at 64 KiB x 50
 * connections, the same at 1 KiB).
 */
const READ_SIZE = 128 * 1024;
const SLAB_SIZE = 512 * 1024;

/**
 * Chunks at least this large are written by `writev()` as they are, not gathered: below it,
 * copying a chunk next to its neighbours costs less than a write of its own (a 64 KiB
 * WebSocket payload behind its 4-byte header was two writes and two TCP segments).
 */
const DIRECT_WRITE = 256 * 1024;
/** The most bytes `writev()` gathers into one buffer (one write). */
const GATHER_MAX = 1024 * 1024;

/** How long an accepted TLS connection may take to finish its handshake. */
const TLS_HANDSHAKE_TIMEOUT = 10_000;

function toAddr(addr: Deno.Addr): Addr {
  if (addr.transport === "unix" || addr.transport === "unixpacket") {
    return { transport: "unix", hostname: "", port: 0, path: addr.path };
  }
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return { transport: "tcp", hostname: addr.hostname, port: addr.port };
  }
  return { transport: "memory", hostname: "", port: 0 };
}

function isBrokenPipe(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.NotConnected;
}

/** A Deno.Conn in the Conn shape. `raw` is kept so that TLS can be started over it. */
export class DenoConn implements Conn {
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  #slab = new Uint8Array(SLAB_SIZE);
  #offset = 0;
  #closed = false;
  #writes = new WriteChain();

  constructor(
    readonly raw: Deno.Conn,
    readonly alpnProtocol: string | null,
    readonly secure: boolean,
  ) {
    this.localAddr = toAddr(raw.localAddr);
    this.remoteAddr = toAddr(raw.remoteAddr);
  }

  /** Where in the slab the read in flight reads to (reads do not overlap). */
  #readStart = 0;

  // Reads and writes are chained on the runtime's promises with methods made once, not async
  // functions: each exchange of an HTTP/1.1 server costs one frame and a promise less per
  // read and per write (0.950x server CPU per request, paired, on wrk's hello world).
  read(): Promise<Uint8Array | null> {
    if (this.#closed) return Promise.resolve(null);
    if (SLAB_SIZE - this.#offset < READ_SIZE) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#offset = 0;
    }
    const start = this.#readStart = this.#offset;
    return this.raw.read(this.#slab.subarray(start, start + READ_SIZE)).then(
      this.#took,
      this.#readFailed,
    );
  }

  #took = (n: number | null): Uint8Array | null => {
    if (n === null) return null;
    const start = this.#readStart;
    this.#offset = start + n;
    return this.#slab.subarray(start, start + n);
  };

  #readFailed = (error: unknown): null => {
    if (this.#closed || error instanceof Deno.errors.BadResource) return null;
    throw error;
  };

  write(data: Uint8Array): Promise<void> {
    return this.#writes.run(() => this.#writeAll(data));
  }

  /** Writes all of `data`: a `Deno.Conn` may take less than it is given. */
  #writeAll(data: Uint8Array): Promise<void> {
    return this.raw.write(data).then((n) => {
      if (n < data.byteLength) return this.#writeAll(data.subarray(n));
    });
  }

  /**
   * Deno has no vectored write: runs of chunks under `DIRECT_WRITE` are copied into one
   * pooled buffer (one syscall instead of one per chunk; a copy costs less than a syscall),
   * larger ones are written as they are.
   */
  writev(chunks: readonly Uint8Array[]): Promise<void> {
    return this.#writes.run(async () => {
      const count = chunks.length;
      let i = 0;
      while (i < count) {
        let j = i;
        let total = 0;
        while (j < count) {
          const n = chunks[j].byteLength;
          if (n >= DIRECT_WRITE || total + n > GATHER_MAX) break;
          total += n;
          j++;
        }
        if (j - i <= 1) {
          // One chunk (large, or alone): no copy.
          if (chunks[i].byteLength > 0) await this.#writeAll(chunks[i]);
          i++;
          continue;
        }
        const buf = buffers.take(total);
        let at = 0;
        for (; i < j; i++) {
          buf.set(chunks[i], at);
          at += chunks[i].byteLength;
        }
        try {
          await this.#writeAll(buf.subarray(0, total));
        } finally {
          buffers.give(buf);
        }
      }
    });
  }

  async closeWrite(): Promise<void> {
    await this.#writes.idle();
    try {
      await this.raw.closeWrite();
    } catch (error) {
      if (!isBrokenPipe(error)) throw error;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.raw.close();
    } catch {
      // already closed by the peer or the runtime
    }
  }

  setNoDelay(noDelay: boolean): void {
    const raw = this.raw as Partial<Deno.TcpConn>;
    try {
      raw.setNoDelay?.(noDelay);
    } catch {
      // not a TCP socket, or already closed
    }
  }

  ref(): void {
    try {
      this.raw.ref();
    } catch {
      // already closed
    }
  }

  unref(): void {
    try {
      this.raw.unref();
    } catch {
      // already closed
    }
  }
}

/** Wraps a caller's Deno.Conn (plain or TLS), finishing a TLS handshake to learn the ALPN protocol. */
export async function wrapDenoConn(raw: Deno.Conn): Promise<DenoConn> {
  const tls = raw as Partial<Deno.TlsConn>;
  if (typeof tls.handshake === "function") {
    const info = await tls.handshake();
    return new DenoConn(raw, info.alpnProtocol ?? null, true);
  }
  return new DenoConn(raw, null, false);
}

function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onLate: (v: T) => void,
) {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) onLate(value);
        else resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error); // ignored when the signal already rejected
      },
    );
  });
}

/** Opens a TCP or TLS connection with Deno's own sockets. */
export async function denoConnect(options: ConnectOptions): Promise<Conn> {
  const { hostname, port, tls, signal } = options;
  signal?.throwIfAborted();
  // TLS starts over a TCP connection made first, because a Deno.TlsConn has no
  // setNoDelay: with Nagle on, small frames (HTTP/2 WINDOW_UPDATEs) wait for delayed ACKs.
  const tcp = await abortable(Deno.connect({ hostname, port }), signal, (c) => c.close());
  let raw: Deno.Conn = tcp;
  try {
    if (options.noDelay !== false) tcp.setNoDelay(true);
    if (!tls) return new DenoConn(raw, null, false);
    raw = await abortable(
      Deno.startTls(tcp, {
        hostname: tls.serverName ?? hostname,
        caCerts: tls.caCerts,
        alpnProtocols: tls.alpnProtocols,
      }),
      signal,
      (c) => c.close(),
    );
    const info = await abortable((raw as Deno.TlsConn).handshake(), signal, () => {});
    return new DenoConn(raw, info.alpnProtocol ?? null, true);
  } catch (error) {
    try {
      raw.close();
    } catch { /* closed already */ }
    throw error;
  }
}

/** Opens a unix socket connection. */
export async function denoConnectUnix(path: string): Promise<Conn> {
  return new DenoConn(await Deno.connect({ transport: "unix", path }), null, false);
}

/** Starts TLS over an established plain Deno connection (after a proxy's CONNECT, say). */
export async function denoStartTls(
  conn: DenoConn,
  hostname: string,
  options: { caCerts?: string[]; alpnProtocols?: string[] },
): Promise<Conn> {
  const raw = await Deno.startTls(conn.raw as Deno.TcpConn, { hostname, ...options });
  try {
    const info = await raw.handshake();
    return new DenoConn(raw, info.alpnProtocol ?? null, true);
  } catch (error) {
    raw.close();
    throw error;
  }
}

class DenoListener implements Listener {
  readonly addr: Addr;
  #queue = new AcceptQueue();

  constructor(private readonly raw: Deno.Listener, private readonly tls: boolean) {
    this.addr = toAddr(raw.addr);
    this.#acceptLoop();
  }

  ref(): void {
    this.raw.ref();
  }

  unref(): void {
    this.raw.unref();
  }

  async #acceptLoop(): Promise<void> {
    while (true) {
      let raw: Deno.Conn;
      try {
        raw = await this.raw.accept();
      } catch (error) {
        if (this.#queue.closed || error instanceof Deno.errors.BadResource) break;
        // A failed accept (EMFILE, a reset before accept) must not stop the server.
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      try {
        (raw as Deno.TcpConn).setNoDelay?.(true);
      } catch { /* unix socket */ }
      if (this.tls) this.#handshake(raw as Deno.TlsConn);
      else this.#queue.push(new DenoConn(raw, null, false));
    }
    this.#queue.close();
  }

  async #handshake(raw: Deno.TlsConn): Promise<void> {
    const timer = setTimeout(() => raw.close(), TLS_HANDSHAKE_TIMEOUT);
    try {
      const info = await raw.handshake();
      this.#queue.push(new DenoConn(raw, info.alpnProtocol ?? null, true));
    } catch {
      try {
        raw.close();
      } catch { /* closed by the timer */ }
    } finally {
      clearTimeout(timer);
    }
  }

  accept(): Promise<Conn | null> {
    return this.#queue.next();
  }

  close(): void {
    if (this.#queue.closed) return;
    this.#queue.close();
    try {
      this.raw.close();
    } catch { /* already closed */ }
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return this.#queue[Symbol.asyncIterator]();
  }
}

/** Binds a TCP or TLS listener with Deno's own sockets. */
export function denoListen(options: ListenOptions): Listener {
  const hostname = options.hostname ?? "0.0.0.0";
  if (options.tls) {
    const raw = Deno.listenTls(
      {
        hostname,
        port: options.port,
        cert: options.tls.cert,
        key: options.tls.key,
        alpnProtocols: options.tls.alpnProtocols,
        reusePort: options.reusePort,
      } as Deno.ListenTlsOptions & Deno.TlsCertifiedKeyPem,
    );
    return new DenoListener(raw, true);
  }
  const raw = Deno.listen({ hostname, port: options.port, reusePort: options.reusePort });
  return new DenoListener(raw, false);
}

/** Binds a unix socket listener. */
export function denoListenUnix(path: string): Listener {
  return new DenoListener(Deno.listen({ transport: "unix", path }), false);
}
