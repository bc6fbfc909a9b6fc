/**
 * The shapes of the connection layer: a {@linkcode Conn} moves bytes both ways, a
 * {@linkcode Listener} hands out accepted connections. Every protocol in this module
 * (HTTP/1.1, HTTP/2, WebSockets) runs over these and nothing else, so any byte stream
 * that can be put into this shape can carry any of them.
 *
 * @module
 */

/** Where one end of a connection is. */
export interface Addr {
  /** `"tcp"` for TCP and TLS over TCP, `"unix"` for unix sockets, `"memory"` for in-memory pairs. */
  transport: "tcp" | "unix" | "memory";
  /** Host name or IP address (empty for unix and memory connections). */
  hostname: string;
  /** Port number (0 for unix and memory connections). */
  port: number;
  /** Socket path, for unix sockets. */
  path?: string;
}

/**
 * A connected, ordered, reliable byte stream in both directions.
 *
 * `read()` hands out chunks the caller may keep; `write()` resolves once the bytes are
 * handed to the transport, so awaiting it is backpressure. Writes are performed in call
 * order even when calls overlap.
 *
 * @example Echo one chunk
 * ```ts
 * import { memoryPair, type Conn } from "./mod.ts";
 *
 * async function echoOnce(conn: Conn): Promise<void> {
 *   const chunk = await conn.read();
 *   if (chunk) await conn.write(chunk);
 * }
 * const [a, b] = memoryPair();
 * const done = echoOnce(b);
 * await a.write(new TextEncoder().encode("hi"));
 * console.log(new TextDecoder().decode((await a.read())!)); // "hi"
 * await done;
 * ```
 */
export interface Conn {
  /** This end's address. */
  readonly localAddr: Addr;
  /** The peer's address. */
  readonly remoteAddr: Addr;
  /** The protocol chosen by TLS ALPN (`"h2"`, `"http/1.1"`), or `null` (no TLS, or no ALPN). */
  readonly alpnProtocol: string | null;
  /** Whether this connection is encrypted with TLS. */
  readonly secure: boolean;
  /**
   * The next chunk of bytes from the peer, or `null` once the peer has finished sending.
   * Rejects if the connection fails. Calls must not overlap.
   */
  read(): Promise<Uint8Array | null>;
  /**
   * Optional push reading, for callers that react to bytes rather than wait for them (an
   * HTTP/1.1 server connection): while a sink is set, every chunk read goes to `sink.data` as
   * it arrives (chunks read before are handed over at once, within this call), and the end of
   * the stream to `sink.end`, once; `read()` must not be called meanwhile. Setting `null`
   * stops it: chunks are kept for `read()` or the next sink again, and reading pauses once
   * they pile up, so a sink that takes too much can step back for backpressure. Connections
   * without it (Deno's, whose reads are promises anyway) are read with `read()`.
   *
   * @param sink Where chunks go from now on, or `null` to go back to `read()`.
   */
  setReadSink?(sink: ReadSink | null): void;
  /**
   * Sends all of `data`; resolves when the transport is done with it, so the caller may
   * reuse the buffer then (not before).
   */
  write(data: Uint8Array): Promise<void>;
  /**
   * Optional vectored write: sends `chunks` in order, exactly as one `write()` of their
   * concatenation would (and in call order with `write()` and other `writev()` calls), without
   * copying them where the runtime allows it (Node and Bun: corked writes that leave in one
   * `writev` syscall; Deno, which has no vectored write, copies runs of chunks under 256 KiB
   * into one pooled buffer and writes larger ones as they are). Resolves when the transport is done with
   * every chunk: the caller may reuse them then, not before. Connections without it (in-memory
   * pairs, Web streams) are written with `write()`; callers check for it.
   *
   * @param chunks The byte arrays, in order; empty ones are allowed.
   */
  writev?(chunks: readonly Uint8Array[]): Promise<void>;
  /** Finishes sending (a TCP FIN); reading goes on. */
  closeWrite(): Promise<void>;
  /** Closes both directions at once; pending reads resolve `null`. Idempotent. */
  close(): void;
  /** Turns Nagle's algorithm off (`true`, the default for connections made here) or on. */
  setNoDelay(noDelay: boolean): void;
  /**
   * Lets this connection keep the process alive again (the default) after {@linkcode unref}.
   * Optional: connections that hold no OS resource (in-memory pairs, Web streams) lack it.
   */
  ref?(): void;
  /**
   * Lets the process exit while this connection is open and idle, as an idle keep-alive
   * connection of `fetch` does. Optional, as {@linkcode ref} is.
   */
  unref?(): void;
}

/** Where a connection in push mode puts what it reads (see {@linkcode Conn.setReadSink}). */
export interface ReadSink {
  /** The next chunk of bytes from the peer; the receiver may keep it. */
  data(chunk: Uint8Array): void;
  /** The peer finished sending (`null`), or the connection failed (the error). */
  end(error: Error | null): void;
}

/** A source of accepted connections. Iterate it with `for await`, or call `accept()`. */
export interface Listener extends AsyncIterable<Conn> {
  /** The bound address; `addr.port` is the real port when 0 was asked for. */
  readonly addr: Addr;
  /** The next accepted connection, or `null` once the listener is closed. */
  accept(): Promise<Conn | null>;
  /** Stops accepting; connections already accepted stay open. Idempotent. */
  close(): void;
  /** Lets a listener waiting for connections keep the process alive again (the default). Optional. */
  ref?(): void;
  /** Lets the process exit while this listener waits for connections. Optional, as `ref` is. */
  unref?(): void;
}

/** TLS settings of a client connection. */
export interface ClientTlsOptions {
  /** PEM certificates to trust in addition to (Deno, Bun) or instead of (Node) the system store. */
  caCerts?: string[];
  /** Protocols to offer by ALPN, in order of preference, e.g. `["h2", "http/1.1"]`. */
  alpnProtocols?: string[];
  /** The name to verify the certificate against and send as SNI; defaults to the host. */
  serverName?: string;
}

/** TLS settings of a server. */
export interface ServerTlsOptions {
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
  /** Protocols to accept by ALPN, in order of preference. */
  alpnProtocols?: string[];
}

/** Options of {@linkcode connect}. */
export interface ConnectOptions {
  /** Host name or address to connect to. */
  hostname: string;
  /** Port to connect to. */
  port: number;
  /** Connect over TLS with these settings. */
  tls?: ClientTlsOptions;
  /** Disable Nagle's algorithm (default `true`). */
  noDelay?: boolean;
  /** Abandons the attempt when aborted. */
  signal?: AbortSignal;
}

/** Options of {@linkcode listen}. */
export interface ListenOptions {
  /** Address to bind (default `"0.0.0.0"`). */
  hostname?: string;
  /** Port to bind; 0 picks a free port. */
  port: number;
  /** Accept TLS with these settings. */
  tls?: ServerTlsOptions;
  /** Let several processes bind the same port (Linux `SO_REUSEPORT`). */
  reusePort?: boolean;
}
