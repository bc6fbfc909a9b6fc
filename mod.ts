/**
 * HTTP/1.1, HTTP/2 and WebSockets, client and server, for Deno, Node and Bun.
 *
 * @example
 * ```ts
 * import { serve } from "@hyperwire/http";
 *
 * await using server = await serve("127.0.0.1", 0, () => new Response("ok"));
 * ```
 *
 * @module
 */
export * from "./conn/mod.ts";
export * from "./server/mod.ts";
