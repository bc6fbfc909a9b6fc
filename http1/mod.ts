/**
 * HTTP/1.1 messages (RFC 9112): a strict head parser that names the status to answer bad
 * input with, the body framings (Content-Length, chunked with trailers, read-to-close),
 * and head serializers. The server and client of this module are built on it; it is
 * exported for those who write their own.
 *
 * @example Parse a request head and read its chunked body
 * ```ts
 * import { memoryPair } from "@hyperwire/http/conn";
 * import { BodyReader, BufferedReader, parseRequestHead } from "@hyperwire/http/http1";
 *
 * const [client, server] = memoryPair();
 * await client.write(new TextEncoder().encode(
 *   "POST /upload HTTP/1.1\r\nHost: example\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
 * ));
 * const reader = new BufferedReader(server);
 * const head = parseRequestHead((await reader.readHead(16384))!);
 * const body = new BodyReader(reader, head.framing);
 * console.log(head.method, new TextDecoder().decode((await body.read())!)); // POST abc
 * ```
 *
 * @module
 */
export * from "./buffered_reader.ts";
export * from "./parse.ts";
export * from "./chunked.ts";
export * from "./body_reader.ts";
export * from "./serialize.ts";
