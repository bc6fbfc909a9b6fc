/**
 * WebSockets (RFC 6455) with permessage-deflate (RFC 7692), over any connection.
 *
 * - {@linkcode WebSocket}: messages, fragmented sends, pings and the closing handshake over
 *   a {@linkcode Conn} whose opening handshake is done, as client or server.
 * - `handshake.ts` helpers: the accept key, the client's request headers and its check of
 *   the response, the server's check of the request and its 101 headers.
 * - permessage-deflate negotiation: {@linkcode offerDeflate}, {@linkcode acceptDeflate},
 *   {@linkcode negotiateDeflate}, and the header grammar.
 * - {@linkcode WebSocketError} with its close code, {@linkcode CloseCode}.
 *
 * Limits held against hostile peers: `maxFrameSize` (16 MiB, checked from frame headers
 * and on the inflated size, so a decompression bomb ends in a 1009 close without the
 * message ever being held), `maxFragmentation` (1024 frames per message), masking as the
 * role requires, UTF-8 checked as fragments arrive, control frames of at most 125 bytes.
 *
 * @example An echo over an in-memory connection, with compression
 * ```ts
 * import { memoryPair } from "@hyperwire/http/conn";
 * import {
 *   acceptHeaders,
 *   clientRequestHeaders,
 *   generateKey,
 *   validateRequest,
 *   validateResponse,
 *   WebSocket,
 * } from "@hyperwire/http/websockets";
 *
 * // The handshake, as the HTTP layer would carry it.
 * const key = generateKey();
 * const request = clientRequestHeaders(key, { deflate: true });
 * request.set("host", "localhost");
 * const accepted = validateRequest("GET", request, { deflate: true });
 * if (!accepted.ok) throw new Error(accepted.reason);
 * const agreed = await validateResponse(101, await acceptHeaders(accepted), key, [], true);
 *
 * const [a, b] = memoryPair();
 * const server = new WebSocket(b, { role: "server", deflate: accepted.deflate });
 * const client = new WebSocket(a, { role: "client", deflate: agreed.deflate });
 *
 * (async () => {
 *   for await (const message of server) await server.send(message);
 * })();
 *
 * await client.send("hello ".repeat(1000)); // sent compressed
 * console.log((await client.receive()).length); // 6000
 * await client.close();
 * ```
 *
 * @module
 */

export type { Addr, Conn } from "../conn/types.ts";
export {
  CloseCode,
  type CloseCodes,
  isValidCloseCode,
  WebSocketError,
  WebSocketReadIdleTimeoutError,
  type WebSocketTimeout,
  WebSocketTimeoutError,
  WebSocketWriteIdleTimeoutError,
} from "./errors.ts";
export {
  WebSocket,
  type WebSocketData,
  type WebSocketMessage,
  type WebSocketOptions,
} from "./websocket.ts";
export {
  type AcceptedRequest,
  acceptHeaders,
  acceptKey,
  type ClientHandshakeOptions,
  clientRequestHeaders,
  generateKey,
  type HandshakeResult,
  type RejectedRequest,
  type ServerHandshakeOptions,
  validateRequest,
  validateResponse,
  WEBSOCKET_GUID,
} from "./handshake.ts";
export {
  acceptDeflate,
  type DeflateNegotiation,
  type DeflateOptions,
  type DeflateParams,
  type Extension,
  formatDeflateParams,
  formatExtensions,
  negotiateDeflate,
  offerDeflate,
  parseExtensions,
} from "./permessage_deflate.ts";
export {
  type HandshakeOptions,
  open,
  type OpenableConn,
  type OpenConnOptions,
  type OpenOptions,
  type WebSocketFunction,
  WebSocketHandshakeError,
} from "./open.ts";
export {
  NativeWebSocketAdapter,
  socketsOf,
  upgrade,
  type UpgradeOptions,
  type WebSocketConnection,
} from "./upgrade.ts";
export { forceClose, listen, type ListenOptions, serverAddr } from "./listen.ts";
export { receive, send, WebSockets, type WebSocketsNamespace } from "./namespace.ts";
