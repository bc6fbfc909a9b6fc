import type { Addr } from "../conn/types.ts";

/** What a server handler learns about the connection a request came on. */
export interface ServeInfo {
  /** The client's address. */
  remoteAddr: Addr;
  /** The server's address. */
  localAddr: Addr;
  /** `"HTTP/1.0"`, `"HTTP/1.1"` or `"HTTP/2"`. */
  protocol: "HTTP/1.0" | "HTTP/1.1" | "HTTP/2";
  /** Whether the connection is TLS. */
  secure: boolean;
  /** Aborted when the request is cancelled or its connection lost; a handler may stop early. */
  signal: AbortSignal;
  /**
   * Settles when the exchange is over, as `Deno.ServeHandlerInfo.completed` does: resolves
   * once the response has been handed to the connection in full (HTTP/1.1: written; HTTP/2:
   * its END_STREAM framed), rejects with the reason if it was not (the handler threw or
   * returned without a response, the client went away, the exchange was aborted). Under
   * `serve`, an error that `onError` turns into a response counts as sent once that
   * response is. A rejection nobody handles is not reported as unhandled.
   */
  readonly completed: Promise<void>;
}

/** The head of an incoming request, as received. */
export interface RequestHead {
  /** The method, e.g. `"GET"`. */
  method: string;
  /** The request target as sent (`/path?query`, or `host:port` for CONNECT, or `*`). */
  target: string;
  /** The absolute URL of the request, built from the target, `Host` / `:authority` and the scheme. */
  url: string;
  /** The header fields (HTTP/2 pseudo-headers excluded). */
  headers: Headers;
}

/**
 * One request/response exchange on a server, HTTP/1.1 or HTTP/2 alike: the low-level
 * interface that `listen` hands to its handler.
 *
 * Read the request body from `body`, then answer with `respond()` followed by `write()`
 * calls (or the `writable` stream) and `end()`. Responses stream with backpressure:
 * `write()` resolves when the bytes are handed to the connection (HTTP/1.1) or fit into the
 * peer's flow-control window (HTTP/2). A handler that does not need the backpressure may
 * leave `respond()` and `write()` unawaited, as node:http's `res.write()` is, and await or
 * return only `end()`: a write that fails because the client went away aborts the exchange
 * (`info.signal`) and is not an unhandled rejection. That costs fewer turns per exchange.
 *
 * @example A stream handler that echoes the request body
 * ```ts
 * import type { Stream } from "./mod.ts";
 *
 * async function echo(stream: Stream): Promise<void> {
 *   await stream.respond(200, { "content-type": "application/octet-stream" });
 *   for await (const chunk of stream.body) await stream.write(chunk);
 *   await stream.end();
 * }
 * ```
 *
 * @example A small response, written as with node:http
 * ```ts
 * import type { Stream } from "./mod.ts";
 *
 * const hello = new TextEncoder().encode("hello");
 * function handler(stream: Stream): Promise<void> {
 *   stream.respond(200, { "content-length": String(hello.byteLength) });
 *   stream.write(hello);
 *   return stream.end();
 * }
 * ```
 */
export interface Stream {
  /** The request line / pseudo-headers and headers. */
  readonly request: RequestHead;
  /** Whether the request has a body (`false` for none or an empty one known up front). */
  readonly hasBody: boolean;
  /** The request body (empty when there is none). */
  readonly body: ReadableStream<Uint8Array>;
  /** The request trailers; resolves once the body has been read to its end (empty if none). */
  readonly trailers: Promise<Headers>;
  /** About the connection; `info.signal` aborts when the exchange is cut off. */
  readonly info: ServeInfo;
  /** Whether `respond()` has been called. */
  readonly responded: boolean;
  /**
   * Sends the response head. `options.endStream` sends it with no body. With HTTP/1.1 a body
   * is chunked unless `content-length` is given.
   */
  respond(
    status: number,
    headers?: HeadersInit,
    options?: { endStream?: boolean; statusText?: string },
  ): Promise<void>;
  /**
   * Sends a piece of the response body (after `respond()`). May be left unawaited (see
   * above); `chunk` must then not change until the promise settles.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Finishes the response, with optional trailers. */
  end(trailers?: HeadersInit): Promise<void>;
  /** Aborts the exchange: an HTTP/2 RST_STREAM, or closing an HTTP/1.1 connection. */
  abort(reason?: unknown): void;
}
