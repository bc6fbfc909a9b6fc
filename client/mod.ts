/**
 * HTTP clients: {@linkcode request} and the method helpers ({@linkcode get},
 * {@linkcode post}, ...) resolving to Web `Response`s, {@linkcode open} for streaming
 * request bodies, {@linkcode Client} for reusable configuration, {@linkcode Transport}
 * for the connection pool, {@linkcode ProxyConfig} for proxies, and the client's typed
 * errors (five timeouts, proxy refusals, redirects).
 *
 * HTTP/1.1 and HTTP/2 present one shape to the pool ({@linkcode ProtocolConnection}); the
 * protocol is chosen by ALPN right after connecting.
 *
 * @example
 * ```ts
 * import { Client, get, ProxyConfig, RequestTimeoutError } from "@hyperwire/http/client";
 * import { serve } from "@hyperwire/http/server";
 *
 * await using server = await serve("127.0.0.1", 0, () => new Response("hello"));
 * await using client = new Client({ proxy: new ProxyConfig(), requestTimeout: 5_000 });
 * try {
 *   const response = await get(`http://127.0.0.1:${server.port}/`, { client });
 *   console.log(response.status, await response.text()); // 200 "hello"
 * } catch (error) {
 *   if (error instanceof RequestTimeoutError) console.log("too slow");
 *   else throw error;
 * }
 * ```
 *
 * @module
 */
export {
  type ProtocolConnection,
  type ProtocolRequest,
  type ProtocolResponse,
  RetryableRequestError,
} from "./_protocol.ts";
export type { RequestBody } from "./_body.ts";
export { HTTP2Settings, type HTTP2SettingsInit } from "../http2/settings.ts";
export type { Addr, Conn } from "../conn/types.ts";
export * from "./errors.ts";
export * from "./h1_connection.ts";
export * from "./transport.ts";
export * from "./proxy.ts";
export * from "./client.ts";
export * from "./request.ts";
export * from "./open.ts";
