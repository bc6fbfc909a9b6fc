/**
 * A WebSocket-only server: {@linkcode listen} runs a function for every WebSocket that
 * connects; {@linkcode serverAddr} and {@linkcode forceClose} as the seed has them.
 *
 * @module
 */

import { listen as listenHttp, type Server, type ServerOptions } from "../server/server.ts";
import type { Stream } from "../server/stream.ts";
import { socketsOf, upgrade, type UpgradeOptions } from "./upgrade.ts";
import type { WebSocket } from "./websocket.ts";

/** Options of {@linkcode listen}: the handshake's and the server's. */
export interface ListenOptions extends UpgradeOptions, ServerOptions {}

const UPGRADE_REQUIRED = new TextEncoder().encode("this server speaks WebSocket only\n");

function isUpgrade(stream: Stream): boolean {
  const upgrade = stream.request.headers.get("upgrade");
  return upgrade !== null && /(^|,)\s*websocket\s*(,|$)/i.test(upgrade);
}

/**
 * Listens on `host:port` and runs `f` for every WebSocket that connects; the socket is
 * closed when `f` is done (with 1011 when it throws). Requests that are not WebSocket
 * upgrades get `426 Upgrade Required` with `Upgrade: websocket`.
 *
 * @param host Address to bind, e.g. `"127.0.0.1"`.
 * @param port Port to bind; 0 lets the system pick (with `listenAny`, a taken port moves on).
 * @param f What to do with each WebSocket.
 * @param options Compression, subprotocols, origin check, limits, and the server's options (TLS, ...).
 * @returns The running server.
 *
 * @example The seed's uppercase echo
 * ```ts
 * import { forceClose, listen, serverAddr } from "./listen.ts";
 * import { open } from "./open.ts";
 * import { ProxyConfig } from "../client/proxy.ts";
 *
 * const server = await listen("127.0.0.1", 0, async (ws) => {
 *   for await (const msg of ws) await ws.send(String(msg).toUpperCase());
 * }, { listenAny: true });
 * const url = `ws://${serverAddr(server)}/echo`;
 * const reply = await open(url, async (ws) => {
 *   await ws.send("hello");
 *   return await ws.receive();
 * }, { proxy: new ProxyConfig() });
 * await forceClose(server);
 * console.log(reply); // "HELLO"
 * ```
 */
export function listen(
  host: string,
  port: number,
  f: (ws: WebSocket) => unknown,
  options: ListenOptions = {},
): Promise<Server> {
  return listenHttp(host, port, async (stream) => {
    if (!isUpgrade(stream)) {
      await stream.respond(426, {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-version": "13",
        "content-type": "text/plain; charset=utf-8",
        "content-length": String(UPGRADE_REQUIRED.length),
      });
      await stream.write(UPGRADE_REQUIRED);
      await stream.end();
      return;
    }
    await upgrade(stream, f, options);
  }, { http2: false, ...options });
}

/**
 * The server's address as `"host:port"`, ready for a `ws://` URL (`"127.0.0.1:PORT"`; an
 * IPv6 address in brackets; a wildcard address as loopback).
 *
 * @param server The server.
 * @returns `"host:port"`.
 *
 * @example
 * ```ts
 * import { listen, serverAddr } from "./listen.ts";
 *
 * await using server = await listen("127.0.0.1", 0, () => {});
 * console.log(serverAddr(server).startsWith("127.0.0.1:")); // true
 * ```
 */
export function serverAddr(server: Server): string {
  let host = server.addr.hostname;
  if (host === "0.0.0.0" || host === "") host = "127.0.0.1";
  else if (host === "::") host = "[::1]";
  else if (host.includes(":")) host = `[${host}]`;
  return `${host}:${server.addr.port}`;
}

/**
 * Sends a 1001 (going away) close to every open WebSocket of the server, waits briefly
 * (at most `wait` ms) for the closing handshakes, then stops the server at once.
 *
 * @param server The server, from {@linkcode listen} or any server that used `upgrade`.
 * @param wait The most milliseconds to wait for the peers' close frames (default 1000).
 * @returns Resolves once the server has stopped.
 *
 * @example
 * ```ts
 * import { forceClose, listen } from "./listen.ts";
 *
 * const server = await listen("127.0.0.1", 0, () => new Promise(() => {}));
 * await forceClose(server);
 * ```
 */
export async function forceClose(server: Server, wait: number = 1000): Promise<void> {
  const closes = socketsOf(server).map((ws) =>
    ws.close(1001, "server shutting down").catch(() => {})
  );
  if (closes.length > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(closes),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, wait))),
    ]);
    clearTimeout(timer);
  }
  await server.forceClose();
}
