/**
 * HTTP servers: {@linkcode serve} takes a `Request => Response` handler (the one
 * `Deno.serve` takes), {@linkcode listen} a low-level {@linkcode Stream} handler, and
 * {@linkcode streamHandler} turns the first kind into the second.
 *
 * @example
 * ```ts
 * import { serve } from "@hyperwire/http/server";
 *
 * await using server = await serve("127.0.0.1", 0, (req) => new Response(`hello ${req.method}`));
 * const res = await fetch(`http://127.0.0.1:${server.port}/`);
 * console.log(await res.text()); // "hello GET"
 * ```
 *
 * @module
 */
export * from "./stream.ts";
export * from "./stream_handler.ts";
export * from "./server.ts";
export * from "./serve.ts";
export type { Http2ServerOptions } from "../http2/server_connection.ts";
