/**
 * The `WebSockets` namespace: the seed's `HTTP.WebSockets` entry points in one object.
 *
 * @module
 */

import { forceClose, listen, serverAddr } from "./listen.ts";
import { open } from "./open.ts";
import { upgrade, type WebSocketConnection } from "./upgrade.ts";
import type { WebSocketData, WebSocketMessage } from "./websocket.ts";

/**
 * Sends a message (the seed's `WebSockets.send(ws, msg)`).
 *
 * @param ws The WebSocket.
 * @param message A string (text), bytes (binary), or an iterable of fragments.
 * @returns Resolves once the message is handed to the connection.
 */
export function send(ws: WebSocketConnection, message: WebSocketData): Promise<void> {
  return ws.send(message);
}

/**
 * Receives the next message (the seed's `WebSockets.receive(ws)`).
 *
 * @param ws The WebSocket.
 * @returns A string for text, bytes for binary.
 */
export function receive(ws: WebSocketConnection): Promise<WebSocketMessage> {
  return ws.receive();
}

/** The shape of the {@linkcode WebSockets} namespace. */
export interface WebSocketsNamespace {
  /** Opens a client WebSocket (a URL, or a caller-supplied connection); see `open`. */
  readonly open: typeof open;
  /** A WebSocket-only server; see `listen`. */
  readonly listen: typeof listen;
  /** Upgrades a `Request` or `Stream` of an HTTP server; see `upgrade`. */
  readonly upgrade: typeof upgrade;
  /** `ws.send(msg)` as a function. */
  readonly send: typeof send;
  /** `ws.receive()` as a function. */
  readonly receive: typeof receive;
  /** Sends 1001 to every open socket of a server, then stops it. */
  readonly forceClose: typeof forceClose;
  /** A server's `"host:port"`. */
  readonly serverAddr: typeof serverAddr;
}

/**
 * The seed's `HTTP.WebSockets`: `open`, `listen`, `upgrade`, `send`, `receive`,
 * `forceClose`, `serverAddr`.
 *
 * @example The seed's compressed echo
 * ```ts
 * import { WebSockets } from "./namespace.ts";
 *
 * const server = await WebSockets.listen("127.0.0.1", 0, async (ws) => {
 *   for await (const msg of ws) await WebSockets.send(ws, msg);
 * }, { listenAny: true, compress: true });
 * const reply = await WebSockets.open(`ws://${WebSockets.serverAddr(server)}`, async (ws) => {
 *   await WebSockets.send(ws, "compress me ".repeat(1000)); // sent compressed
 *   return await WebSockets.receive(ws);
 * }, { compress: true });
 * await WebSockets.forceClose(server);
 * console.log(reply.length); // 12000
 * ```
 */
export const WebSockets: WebSocketsNamespace = Object.freeze({
  open,
  listen,
  upgrade,
  send,
  receive,
  forceClose,
  serverAddr,
});
