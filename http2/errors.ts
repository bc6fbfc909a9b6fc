/**
 * HTTP/2 error codes (RFC 9113 section 7) and the error type that carries them.
 *
 * @module
 */

/**
 * The HTTP/2 error codes of RFC 9113 section 7, as sent in RST_STREAM and GOAWAY frames.
 *
 * @example
 * ```ts
 * import { Http2ErrorCode } from "./errors.ts";
 *
 * console.log(Http2ErrorCode.FLOW_CONTROL_ERROR); // 3
 * ```
 */
export const Http2ErrorCode = {
  /** Not an error; a graceful shutdown or a stream no longer needed after its response. */
  NO_ERROR: 0x0,
  /** An unspecific protocol error. */
  PROTOCOL_ERROR: 0x1,
  /** An unexpected internal error. */
  INTERNAL_ERROR: 0x2,
  /** The peer violated the flow-control protocol. */
  FLOW_CONTROL_ERROR: 0x3,
  /** SETTINGS were sent but not acknowledged in time. */
  SETTINGS_TIMEOUT: 0x4,
  /** A frame arrived after the stream was half-closed. */
  STREAM_CLOSED: 0x5,
  /** A frame had an invalid size. */
  FRAME_SIZE_ERROR: 0x6,
  /** The stream was refused before any application processing: safe to retry. */
  REFUSED_STREAM: 0x7,
  /** The stream is no longer needed. */
  CANCEL: 0x8,
  /** The HPACK compression context could not be maintained. */
  COMPRESSION_ERROR: 0x9,
  /** The connection of a CONNECT request was reset or abnormally closed. */
  CONNECT_ERROR: 0xa,
  /** The peer behaves in a way that might be generating excessive load. */
  ENHANCE_YOUR_CALM: 0xb,
  /** The transport does not meet minimum security requirements. */
  INADEQUATE_SECURITY: 0xc,
  /** The request must be made with HTTP/1.1. */
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** One of the values of {@linkcode Http2ErrorCode} (or an unknown code received from a peer). */
export type Http2ErrorCode = number;

const NAMES: string[] = Object.keys(Http2ErrorCode);

/**
 * The name of an HTTP/2 error code, e.g. `"PROTOCOL_ERROR"`, or `"UNKNOWN(0x..)"`.
 *
 * @param code The numeric code.
 * @returns Its name.
 */
export function errorCodeName(code: number): string {
  return code >= 0 && code < NAMES.length ? NAMES[code] : `UNKNOWN(0x${code.toString(16)})`;
}

/** Options of {@linkcode Http2Error}. */
export interface Http2ErrorOptions {
  /** `"connection"` (the whole connection fails, a GOAWAY) or `"stream"` (one stream, a RST_STREAM). */
  scope?: "connection" | "stream";
  /** The stream a stream error is about. */
  streamId?: number;
  /** Whether the error was received from the peer (in RST_STREAM or GOAWAY) rather than detected here. */
  remote?: boolean;
  /** The underlying cause. */
  cause?: unknown;
}

/**
 * An HTTP/2 protocol error: a connection error (answered with GOAWAY) or a stream error
 * (answered with RST_STREAM), with its {@linkcode Http2ErrorCode}.
 *
 * @example
 * ```ts
 * import { Http2Error, Http2ErrorCode } from "./errors.ts";
 *
 * const err = new Http2Error(Http2ErrorCode.STREAM_CLOSED, "DATA after END_STREAM", {
 *   scope: "stream",
 *   streamId: 3,
 * });
 * console.log(err.isConnectionError, err.codeName); // false "STREAM_CLOSED"
 * ```
 */
export class Http2Error extends Error {
  /** The error code (see {@linkcode Http2ErrorCode}). */
  readonly code: number;
  /** Whether the error concerns the whole connection or one stream. */
  readonly scope: "connection" | "stream";
  /** The stream of a stream error (0 for connection errors). */
  readonly streamId: number;
  /** Whether the peer sent this error (RST_STREAM / GOAWAY) rather than it being detected here. */
  readonly remote: boolean;

  /**
   * Builds an error.
   *
   * @param code The error code.
   * @param message What went wrong.
   * @param options Scope, stream, origin and cause.
   */
  constructor(code: number, message: string, options: Http2ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "Http2Error";
    this.code = code;
    this.scope = options.scope ?? "connection";
    this.streamId = options.streamId ?? 0;
    this.remote = options.remote ?? false;
  }

  /** Whether this is a connection error (the connection is closed with GOAWAY). */
  get isConnectionError(): boolean {
    return this.scope === "connection";
  }

  /** Whether this is a stream error (only that stream is reset). */
  get isStreamError(): boolean {
    return this.scope === "stream";
  }

  /** The name of {@linkcode Http2Error.code}, e.g. `"PROTOCOL_ERROR"`. */
  get codeName(): string {
    return errorCodeName(this.code);
  }
}

/**
 * A connection error.
 *
 * @param code The error code.
 * @param message What went wrong.
 * @returns The error.
 */
export function connectionError(code: number, message: string): Http2Error {
  return new Http2Error(code, message, { scope: "connection" });
}

/**
 * A stream error.
 *
 * @param code The error code.
 * @param streamId The stream.
 * @param message What went wrong.
 * @returns The error.
 */
export function streamError(code: number, streamId: number, message: string): Http2Error {
  return new Http2Error(code, message, { scope: "stream", streamId });
}
