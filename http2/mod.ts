/**
 * HTTP/2 (RFC 9113) for this module's client and server.
 *
 * The public part is small: {@linkcode HTTP2Settings} tunes the flow-control windows,
 * concurrency and size limits of either end (pass it as `http2Settings` to `serve`, a
 * `Client` or a `Transport`); {@linkcode Http2Error} is what fails a
 * request or a connection on a protocol error, with its {@linkcode Http2ErrorCode} and
 * whether it was a connection or a stream error. Frames, HPACK and the connection
 * machinery are internal.
 *
 * @example Larger windows for bulk transfers
 * ```ts
 * import { HTTP2Settings } from "./mod.ts";
 *
 * const settings = new HTTP2Settings({
 *   initialWindowSize: 1 << 20, // 1 MiB per stream
 *   connectionWindowSize: 1 << 21, // 2 MiB per connection
 * });
 * ```
 *
 * @example Telling a refused stream from a failed connection
 * ```ts
 * import { Http2Error, Http2ErrorCode } from "./mod.ts";
 *
 * function describe(err: unknown): string {
 *   if (!(err instanceof Http2Error)) return "not an HTTP/2 error";
 *   const where = err.isConnectionError ? "connection" : `stream ${err.streamId}`;
 *   return `${where}: ${err.codeName}${err.code === Http2ErrorCode.NO_ERROR ? " (graceful)" : ""}`;
 * }
 * ```
 *
 * @module
 */

export { HTTP2Settings, type HTTP2SettingsInit } from "./settings.ts";
export { errorCodeName, Http2Error, Http2ErrorCode, type Http2ErrorOptions } from "./errors.ts";
