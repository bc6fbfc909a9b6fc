import type { Socket } from "node:net";
import type { Addr, Conn } from "./types.ts";
import { DenoConn, denoStartTls, wrapDenoConn } from "./_deno.ts";
import { NodeConn, nodeStartTls, wrapNodeSocket } from "./_node.ts";

/** A pair of Web streams that carries bytes both ways, such as a `WebSocketStream`'s or a `TransformStream` tunnel's. */
export interface ByteStreamPair {
  /** Bytes from the peer. */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  writable: WritableStream<Uint8Array>;
}

/** Anything this module accepts as a connection: its own `Conn`, a `Deno.Conn`, a Node socket, or a pair of Web streams. */
export type ConnLike = Conn | Deno.Conn | Socket | ByteStreamPair;

const NO_ADDR: Addr = { transport: "memory", hostname: "", port: 0 };

class StreamPairConn implements Conn {
  readonly localAddr: Addr = NO_ADDR;
  readonly remoteAddr: Addr = NO_ADDR;
  readonly alpnProtocol = null;
  readonly secure = false;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(pair: ByteStreamPair) {
    this.#reader = pair.readable.getReader();
    this.#writer = pair.writable.getWriter();
  }

  async read(): Promise<Uint8Array | null> {
    const { value, done } = await this.#reader.read();
    return done ? null : value;
  }

  write(data: Uint8Array): Promise<void> {
    return this.#writer.write(data);
  }

  closeWrite(): Promise<void> {
    return this.#writer.close();
  }

  close(): void {
    this.#reader.cancel().catch(() => {});
    this.#writer.abort().catch(() => {});
  }

  setNoDelay(_noDelay: boolean): void {}
}

function isConn(value: ConnLike): value is Conn {
  const c = value as Partial<Conn>;
  return typeof c.read === "function" && c.read.length === 0 && "secure" in c &&
    typeof c.setNoDelay === "function" && "alpnProtocol" in c;
}

function isNodeSocket(value: ConnLike): value is Socket {
  const s = value as Partial<Socket>;
  return typeof s.on === "function" && typeof s.pipe === "function" &&
    typeof s.write === "function";
}

function isDenoConn(value: ConnLike): value is Deno.Conn {
  const c = value as Partial<Deno.Conn>;
  return typeof c.read === "function" && typeof c.closeWrite === "function" && "remoteAddr" in c;
}

/**
 * Puts a caller-supplied connection into the {@linkcode Conn} shape: a `Deno.Conn` (TCP,
 * TLS, unix), a connected Node `net.Socket` / `tls.TLSSocket`, a pair of Web streams, or
 * one of this module's own `Conn`s (returned as it is). A TLS connection's handshake is
 * finished first, so `alpnProtocol` is known.
 *
 * @param value The connection.
 * @returns The same connection in the `Conn` shape.
 *
 * @example
 * ```ts ignore
 * import { toConn } from "@hyperwire/http/conn";
 *
 * const conn = await toConn(await Deno.connect({ hostname: "127.0.0.1", port: 8080 }));
 * ```
 */
export async function toConn(value: ConnLike): Promise<Conn> {
  if (isConn(value)) return value;
  if (isNodeSocket(value)) return await wrapNodeSocket(value);
  if (isDenoConn(value)) return await wrapDenoConn(value);
  const pair = value as ByteStreamPair;
  if (pair.readable instanceof ReadableStream && pair.writable instanceof WritableStream) {
    return new StreamPairConn(pair);
  }
  throw new TypeError(
    "not a connection: expected a Conn, a Deno.Conn, a Node socket or a stream pair",
  );
}

/** Options of {@linkcode startTls}. */
export interface StartTlsOptions {
  /** The server name to verify (and send as SNI). */
  hostname: string;
  /** PEM certificates to trust in addition to the system's. */
  caCerts?: string[];
  /** Protocols to offer by ALPN. */
  alpnProtocols?: string[];
}

/**
 * Starts a TLS client session over a plain TCP connection made by {@linkcode connect}:
 * what a client does after a proxy has answered its `CONNECT`. The plain `conn` must not
 * be used afterwards.
 *
 * @param conn A plain connection from `connect()`.
 * @param options The name to verify, trusted CAs, ALPN protocols.
 * @returns The encrypted connection.
 *
 * @example
 * ```ts ignore
 * import { connect, startTls } from "@hyperwire/http/conn";
 *
 * const plain = await connect({ hostname: "proxy.local", port: 3128 });
 * // ... send CONNECT example.com:443 and read the 200 ...
 * const tls = await startTls(plain, { hostname: "example.com", alpnProtocols: ["h2"] });
 * ```
 */
export function startTls(conn: Conn, options: StartTlsOptions): Promise<Conn> {
  const { hostname, ...rest } = options;
  if (conn instanceof DenoConn) return denoStartTls(conn, hostname, rest);
  if (conn instanceof NodeConn) return nodeStartTls(conn, hostname, rest);
  return Promise.reject(new TypeError("startTls needs a plain TCP connection made by connect()"));
}
