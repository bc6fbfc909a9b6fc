// The Node/Bun adapter: node:net and node:tls sockets in the Conn shape. It also runs on
// Deno, which is how a caller's Node socket is accepted there.
import type * as Net from "node:net";
import type * as Tls from "node:tls";
import process from "node:process";
import type { Addr, Conn, ConnectOptions, Listener, ListenOptions, ReadSink } from "./types.ts";
import { AcceptQueue } from "./_accept_queue.ts";
import { buffers } from "./_buffer_pool.ts";

/** Unread bytes above which the socket is paused until the reader catches up. */
const PAUSE_AT = 1024 * 1024;

/**
 * Deno's node:net / node:tls run corked writes through a `writev` that costs far more than
 * the bytes (88% of a TLS server's time at 1 MiB responses); there, `writev()` gathers the
 * chunks into a pooled buffer of this size and writes it, one write at a time (with larger
 * writes the CPU per request of a TLS server tripled now and then).
 */
const DENO_GATHER = 64 * 1024;
const ON_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** How long an accepted TLS connection may take to finish its handshake. */
const TLS_HANDSHAKE_TIMEOUT = 10_000;

let modules: Promise<{ net: typeof Net; tls: typeof Tls }> | undefined;
function nodeModules(): Promise<{ net: typeof Net; tls: typeof Tls }> {
  modules ??= Promise.all([import("node:net"), import("node:tls")]).then(([net, tls]) => ({
    net,
    tls,
  }));
  return modules;
}

function address(hostname: string | undefined, port: number | undefined, path?: string): Addr {
  if (path !== undefined) return { transport: "unix", hostname: "", port: 0, path };
  return { transport: "tcp", hostname: hostname ?? "", port: port ?? 0 };
}

/** A node:net or node:tls socket in the Conn shape. */
export class NodeConn implements Conn {
  readonly alpnProtocol: string | null;
  readonly secure: boolean;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #error: Error | null = null;
  #reader: { resolve: (c: Uint8Array | null) => void; reject: (e: Error) => void } | null = null;
  #sink: ReadSink | null = null;
  #paused = false;
  /**
   * What waits for each write with a callback, in write order: the socket calls back in that
   * order (also with an error), so one callback serves every write (and Node folds the
   * callbacks of a tick's writes into one `nextTick` when they are the same function).
   */
  #writeWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #written = (error?: Error | null): void => {
    const waiter = this.#writeWaiters.shift();
    if (waiter === undefined) return; // already failed by #finish
    if (error) waiter.reject(error);
    else waiter.resolve();
  };
  #closed = false;
  #tail: Promise<void> | null = null;
  #corked = false;
  #uncork = (): void => {
    this.#corked = false;
    this.socket.uncork();
  };

  constructor(readonly socket: Net.Socket, private readonly unixPath?: string) {
    const tlsSocket = socket as Partial<Tls.TLSSocket>;
    this.secure = tlsSocket.encrypted === true;
    this.alpnProtocol = typeof tlsSocket.alpnProtocol === "string" ? tlsSocket.alpnProtocol : null;
    socket.on("data", (data: Uint8Array) => this.#onData(data));
    // "end" only ends reading (the peer half-closed); "close" and "error" end writing too.
    socket.on("end", () => this.#endReading(null));
    socket.on("close", () => this.#finish(null));
    socket.on("error", (error: Error) => this.#finish(error));
  }

  get localAddr(): Addr {
    return address(this.socket.localAddress, this.socket.localPort, this.unixPath);
  }

  get remoteAddr(): Addr {
    return address(this.socket.remoteAddress, this.socket.remotePort, this.unixPath);
  }

  #onData(data: Uint8Array): void {
    // Node hands out Buffers; a plain Uint8Array view keeps the rest of the code runtime-neutral.
    const chunk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (this.#sink !== null) {
      this.#sink.data(chunk);
      return;
    }
    if (this.#reader) {
      const { resolve } = this.#reader;
      this.#reader = null;
      resolve(chunk);
      return;
    }
    this.#chunks.push(chunk);
    this.#queued += chunk.byteLength;
    if (this.#queued > PAUSE_AT && !this.#paused) {
      this.#paused = true;
      this.socket.pause();
    }
  }

  #finish(error: Error | null): void {
    this.#endReading(error);
    this.#failWriters(this.#error ?? new Error("connection closed"));
  }

  #endReading(error: Error | null): void {
    if (error && !this.#error && !this.#closed) this.#error = error;
    this.#ended = true;
    if (this.#sink !== null && this.#chunks.length === 0) {
      const sink = this.#sink;
      this.#sink = null;
      sink.end(this.#error);
      return;
    }
    if (this.#reader) {
      const reader = this.#reader;
      this.#reader = null;
      if (this.#error && this.#chunks.length === 0) reader.reject(this.#error);
      else reader.resolve(null);
    }
  }

  #failWriters(error: Error): void {
    const waiters = this.#writeWaiters;
    this.#writeWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  setReadSink(sink: ReadSink | null): void {
    this.#sink = sink;
    if (sink === null) return;
    // What was read meanwhile first, unless the sink steps back again while taking it.
    while (this.#sink === sink && this.#chunks.length > 0) sink.data(this.#unqueue());
    if (this.#sink === sink && this.#ended) {
      this.#sink = null;
      sink.end(this.#closed ? null : this.#error);
    }
  }

  /** Takes the oldest queued chunk (there is one), resuming the socket once few are left. */
  #unqueue(): Uint8Array {
    const chunk = this.#chunks.shift()!;
    this.#queued -= chunk.byteLength;
    if (this.#paused && this.#queued <= PAUSE_AT / 2) {
      this.#paused = false;
      this.socket.resume();
    }
    return chunk;
  }

  read(): Promise<Uint8Array | null> {
    if (this.#chunks.length > 0) return Promise.resolve(this.#unqueue());
    if (this.#closed) return Promise.resolve(null);
    if (this.#ended) {
      return this.#error ? Promise.reject(this.#error) : Promise.resolve(null);
    }
    return new Promise((resolve, reject) => (this.#reader = { resolve, reject }));
  }

  write(data: Uint8Array): Promise<void> {
    // Behind a gathered writev() still writing (Deno only), to keep the call order.
    if (this.#tail !== null) return this.#queue(() => this.#write(data));
    return this.#write(data);
  }

  /** Runs `task` after the queued ones (Deno's gathered `writev()` writes in steps). */
  #queue(task: () => Promise<void>): Promise<void> {
    const prev = this.#tail;
    const p = prev !== null ? prev.then(task) : task();
    const tail: Promise<void> = p.then(noop, noop);
    this.#tail = tail;
    tail.then(() => {
      if (this.#tail === tail) this.#tail = null;
    });
    return p;
  }

  #write(data: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closed || this.socket.destroyed) {
      return Promise.reject(new Error("connection closed"));
    }
    // Writes made in one tick (a response head and its body, several HTTP/2 frames) leave in
    // one writev system call: the socket is corked until the tick's microtasks have run.
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(this.#uncork);
    }
    // Resolve once Node is done with `data`: it keeps a reference until the chunk is
    // flushed, and the caller may reuse the buffer as soon as write() resolves.
    return new Promise((resolve, reject) => {
      this.#writeWaiters.push({ resolve, reject });
      this.socket.write(data, this.#written);
    });
  }

  writev(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closed || this.socket.destroyed) {
      return Promise.reject(new Error("connection closed"));
    }
    const last = chunks.length - 1;
    if (last < 0) return Promise.resolve();
    if (last === 0) return this.write(chunks[0]);
    if (ON_DENO) return this.#queue(() => this.#gatherWrite(chunks));
    // Corked, the writes are buffered by reference and leave together (Writable#_writev:
    // one writev syscall); the last one's callback runs once all of them are flushed.
    return new Promise((resolve, reject) => {
      this.#writeWaiters.push({ resolve, reject });
      const socket = this.socket;
      socket.cork();
      for (let i = 0; i < last; i++) socket.write(chunks[i]);
      socket.write(chunks[last], this.#written);
      socket.uncork();
    });
  }

  /**
   * `writev()` on Deno: runs of chunks copied into one pooled buffer of up to `DENO_GATHER`
   * bytes, written one after another (two writes at once would go through Deno's slow
   * writev again).
   */
  async #gatherWrite(chunks: readonly Uint8Array[]): Promise<void> {
    const buf = buffers.take(DENO_GATHER);
    try {
      let at = 0;
      for (const c of chunks) {
        const n = c.byteLength;
        if (n === 0) continue;
        if (at + n > DENO_GATHER) {
          if (at > 0) await this.#write(buf.subarray(0, at));
          at = 0;
          if (n >= DENO_GATHER) {
            await this.#write(c);
            continue;
          }
        }
        buf.set(c, at);
        at += n;
      }
      if (at > 0) await this.#write(buf.subarray(0, at));
    } finally {
      buffers.give(buf);
    }
  }

  closeWrite(): Promise<void> {
    if (this.#closed || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.socket.end(() => resolve()));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks = [];
    this.socket.destroy();
    this.#finish(null);
  }

  setNoDelay(noDelay: boolean): void {
    this.socket.setNoDelay?.(noDelay);
  }

  ref(): void {
    this.socket.ref();
  }

  unref(): void {
    this.socket.unref();
  }
}

/** Wraps a caller's connected Node socket (waiting for its TLS handshake if one is under way). */
export async function wrapNodeSocket(socket: Net.Socket): Promise<NodeConn> {
  const tlsSocket = socket as Partial<Tls.TLSSocket> & Net.Socket;
  if (tlsSocket.encrypted && socket.connecting === false && tlsSocket.alpnProtocol === undefined) {
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
  } else if (socket.connecting) {
    await new Promise<void>((resolve, reject) => {
      socket.once(tlsSocket.encrypted ? "secureConnect" : "connect", resolve);
      socket.once("error", reject);
    });
  }
  return new NodeConn(socket);
}

function opened(
  socket: Net.Socket,
  event: "connect" | "secureConnect",
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      socket.off(event, onOpen);
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
    };
    const onOpen = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(signal!.reason);
    };
    socket.once(event, onOpen);
    socket.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function isIp(hostname: string): boolean {
  return /^[\d.]+$/.test(hostname) || hostname.includes(":");
}

function tlsClientOptions(
  hostname: string,
  tls: NonNullable<ConnectOptions["tls"]>,
): Tls.ConnectionOptions {
  const { tls: tlsModule } = cachedModules!;
  const serverName = tls.serverName ?? hostname;
  return {
    // Node's `ca` replaces the default store; keep the system roots next to the caller's.
    ca: tls.caCerts ? [...tlsModule.rootCertificates, ...tls.caCerts] : undefined,
    ALPNProtocols: tls.alpnProtocols,
    servername: isIp(serverName) ? undefined : serverName,
    checkServerIdentity: (_host, cert) => tlsModule.checkServerIdentity(serverName, cert),
  };
}

let cachedModules: { net: typeof Net; tls: typeof Tls } | undefined;
async function load(): Promise<{ net: typeof Net; tls: typeof Tls }> {
  cachedModules ??= await nodeModules();
  return cachedModules;
}

/** Opens a TCP or TLS connection with node:net / node:tls. */
export async function nodeConnect(options: ConnectOptions): Promise<Conn> {
  const { net, tls } = await load();
  options.signal?.throwIfAborted();
  const { hostname, port } = options;
  const socket = options.tls
    ? tls.connect({
      host: hostname,
      port,
      allowHalfOpen: true,
      ...tlsClientOptions(hostname, options.tls),
    } as Tls.ConnectionOptions)
    : net.connect({ host: hostname, port, allowHalfOpen: true });
  if (options.noDelay !== false) socket.setNoDelay(true);
  await opened(socket, options.tls ? "secureConnect" : "connect", options.signal);
  return new NodeConn(socket);
}

/** Opens a unix socket connection. */
export async function nodeConnectUnix(path: string): Promise<Conn> {
  const { net } = await load();
  const socket = net.connect({ path });
  await opened(socket, "connect");
  return new NodeConn(socket, path);
}

/** Starts TLS over an established plain connection made by this adapter. */
export async function nodeStartTls(
  conn: NodeConn,
  hostname: string,
  options: { caCerts?: string[]; alpnProtocols?: string[] },
): Promise<Conn> {
  const { tls } = await load();
  conn.socket.removeAllListeners("data");
  conn.socket.removeAllListeners("end");
  conn.socket.removeAllListeners("close");
  conn.socket.removeAllListeners("error");
  conn.socket.removeAllListeners("drain");
  const socket = tls.connect({ socket: conn.socket, ...tlsClientOptions(hostname, options) });
  await opened(socket, "secureConnect");
  return new NodeConn(socket);
}

class NodeListener implements Listener {
  #queue = new AcceptQueue();

  constructor(private readonly server: Net.Server, private readonly unixPath?: string) {
    server.on("close", () => this.#queue.close());
  }

  push(socket: Net.Socket): void {
    socket.setNoDelay?.(true);
    this.#queue.push(new NodeConn(socket, this.unixPath));
  }

  get addr(): Addr {
    const a = this.server.address();
    if (a === null || typeof a === "string") return address("", 0, this.unixPath ?? a ?? "");
    return address(a.address, a.port);
  }

  accept(): Promise<Conn | null> {
    return this.#queue.next();
  }

  ref(): void {
    this.server.ref();
  }

  unref(): void {
    this.server.unref();
  }

  close(): void {
    this.#queue.close();
    this.server.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return this.#queue[Symbol.asyncIterator]();
  }
}

/** Binds a TCP or TLS listener with node:net / node:tls. */
export async function nodeListen(options: ListenOptions): Promise<Listener> {
  const { net, tls } = await load();
  const server: Net.Server = options.tls
    ? tls.createServer({
      cert: options.tls.cert,
      key: options.tls.key,
      ALPNProtocols: options.tls.alpnProtocols,
      handshakeTimeout: TLS_HANDSHAKE_TIMEOUT,
      allowHalfOpen: true,
    })
    : net.createServer({ noDelay: true, allowHalfOpen: true } as Net.ServerOpts);
  const listener = new NodeListener(server);
  server.on(options.tls ? "secureConnection" : "connection", (s: Net.Socket) => listener.push(s));
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(
      { host: options.hostname ?? "0.0.0.0", port: options.port, reusePort: options.reusePort },
      () => {
        server.off("error", reject);
        resolve();
      },
    );
  });
  return listener;
}

/** Binds a unix socket listener. */
export async function nodeListenUnix(path: string): Promise<Listener> {
  const { net } = await load();
  const server = net.createServer();
  const listener = new NodeListener(server, path);
  server.on("connection", (s: Net.Socket) => listener.push(s));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  return listener;
}

function noop(): void {}
