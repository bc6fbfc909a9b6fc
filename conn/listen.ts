import type { Listener, ListenOptions } from "./types.ts";
import { HAS_DENO_SOCKETS } from "./_runtime.ts";
import { denoListen, denoListenUnix } from "./_deno.ts";
import { nodeListen, nodeListenUnix } from "./_node.ts";

/**
 * Binds a TCP listener, or a TLS one when `options.tls` is given (choosing among
 * `tls.alpnProtocols` by ALPN). Accepted connections have Nagle's algorithm off and, for
 * TLS, a finished handshake (a client gets 10 seconds for it).
 *
 * @param options Where to listen and how.
 * @returns The listener; `listener.addr.port` is the bound port.
 *
 * @example
 * ```ts
 * import { listen } from "@hyperwire/http/conn";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * console.log(listener.addr.port > 0); // true
 * listener.close();
 * ```
 */
export function listen(options: ListenOptions): Promise<Listener> {
  // TLS servers use node:tls on Deno too: a connection from Deno.listenTls has no
  // setNoDelay, and with Nagle on, HTTP/2 DATA frames written while earlier ones are
  // unacknowledged wait out the peer's delayed ACK (an 8 MiB download took 9 s, not 1 s).
  if (HAS_DENO_SOCKETS && !options.tls) return Promise.resolve(denoListen(options));
  return nodeListen(options);
}

/**
 * Binds a unix socket listener.
 *
 * @param path The socket's path (must not exist yet).
 * @returns The listener.
 *
 * @example
 * ```ts ignore
 * import { listenUnix } from "@hyperwire/http/conn";
 *
 * const listener = await listenUnix("/tmp/app.sock");
 * listener.close();
 * ```
 */
export function listenUnix(path: string): Promise<Listener> {
  return HAS_DENO_SOCKETS ? Promise.resolve(denoListenUnix(path)) : nodeListenUnix(path);
}
