import type { Conn, ConnectOptions } from "./types.ts";
import { HAS_DENO_SOCKETS } from "./_runtime.ts";
import { denoConnect, denoConnectUnix } from "./_deno.ts";
import { nodeConnect, nodeConnectUnix } from "./_node.ts";

/**
 * Opens a TCP connection, or a TLS one when `options.tls` is given (offering
 * `tls.alpnProtocols` by ALPN), with the runtime's own sockets: `Deno.connect` /
 * `Deno.connectTls` on Deno, `node:net` / `node:tls` on Node and Bun. Nagle's algorithm is
 * off unless `noDelay: false`.
 *
 * @param options Where to connect and how.
 * @returns The open connection; `conn.alpnProtocol` tells what TLS negotiated.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@hyperwire/http/conn";
 *
 * const conn = await connect({ hostname: "example.com", port: 443, tls: { alpnProtocols: ["h2", "http/1.1"] } });
 * console.log(conn.alpnProtocol); // "h2"
 * conn.close();
 * ```
 */
export function connect(options: ConnectOptions): Promise<Conn> {
  return HAS_DENO_SOCKETS ? denoConnect(options) : nodeConnect(options);
}

/**
 * Opens a unix socket connection.
 *
 * @param path The socket's path.
 * @returns The open connection.
 *
 * @example
 * ```ts ignore
 * import { connectUnix } from "@hyperwire/http/conn";
 *
 * const conn = await connectUnix("/run/app.sock");
 * conn.close();
 * ```
 */
export function connectUnix(path: string): Promise<Conn> {
  return HAS_DENO_SOCKETS ? denoConnectUnix(path) : nodeConnectUnix(path);
}
