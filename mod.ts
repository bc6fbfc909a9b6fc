/**
 * HTTP/1.1, HTTP/2 and WebSockets, client and server, for Deno, Node and Bun: written by
 * hand over a pluggable connection layer, speaking Web-standard `Request`, `Response`,
 * `Headers` and `ReadableStream`.
 *
 * - Servers: {@linkcode serve} takes the `(Request, info) => Response` handler `Deno.serve`
 *   takes; {@linkcode listen} a low-level {@linkcode Stream} handler. Both speak HTTP/1.1
 *   and HTTP/2 (ALPN over TLS, prior knowledge on cleartext) on one port.
 * - Clients: {@linkcode request}, {@linkcode get}, {@linkcode post}, ... resolve to a
 *   `Response`; {@linkcode open} streams a request body; {@linkcode Client} and
 *   {@linkcode Transport} hold reusable configuration (HTTP/2 by ALPN, proxies, the five
 *   timeouts, {@linkcode HTTP2Settings}).
 * - WebSockets: {@linkcode WebSockets} (`open`, `listen`, `upgrade`, `send`, `receive`,
 *   `forceClose`, `serverAddr`) with permessage-deflate, over any connection.
 * - Connections: anything in the {@linkcode Conn} shape carries every protocol;
 *   {@linkcode toConn} takes a `Deno.Conn`, a Node socket or a pair of Web streams.
 *
 * @example A server and a client
 * ```ts
 * import { get, serve } from "@hyperwire/http";
 *
 * await using server = await serve("127.0.0.1", 0, (req) => new Response(`hello ${new URL(req.url).pathname}`));
 * const response = await get(`http://127.0.0.1:${server.port}/world`);
 * console.log(await response.text()); // "hello /world"
 * ```
 *
 * @example Tuned HTTP/2 windows on both ends
 * ```ts
 * import { Client, HTTP2Settings, serve } from "@hyperwire/http";
 *
 * const settings = new HTTP2Settings({ initialWindowSize: 1 << 20, connectionWindowSize: 1 << 21 });
 * await using server = await serve("127.0.0.1", 0, () => new Response("ok"), { http2Settings: settings });
 * await using client = new Client({ http2Settings: settings });
 * ```
 *
 * @module
 */
export type {
  Addr,
  ClientTlsOptions,
  Conn,
  ConnectOptions,
  Listener,
  ListenOptions,
  ServerTlsOptions,
} from "./conn/types.ts";
export { memoryPair, type MemoryPairOptions } from "./conn/memory.ts";
export {
  type ByteStreamPair,
  type ConnLike,
  startTls,
  type StartTlsOptions,
  toConn,
} from "./conn/from.ts";
export * from "./server/mod.ts";
export * from "./client/mod.ts";
export * from "./http2/mod.ts";
export { WebSockets, type WebSocketsNamespace } from "./websockets/namespace.ts";
export {
  CloseCode,
  type DeflateOptions,
  type DeflateParams,
  type HandshakeOptions,
  type ListenOptions as WebSocketListenOptions,
  NativeWebSocketAdapter,
  type OpenConnOptions,
  type OpenOptions as WebSocketOpenOptions,
  type UpgradeOptions,
  WebSocket,
  type WebSocketConnection,
  type WebSocketData,
  WebSocketError,
  WebSocketHandshakeError,
  type WebSocketMessage,
  type WebSocketOptions,
  WebSocketReadIdleTimeoutError,
  WebSocketTimeoutError,
  WebSocketWriteIdleTimeoutError,
} from "./websockets/mod.ts";
