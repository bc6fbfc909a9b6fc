/**
 * {@linkcode HTTP2Settings}: the tunable HTTP/2 settings of a client or server.
 *
 * @module
 */

/** The largest flow-control window, 2^31-1 (RFC 9113 section 6.9.1). */
export const MAX_WINDOW_SIZE = 0x7fffffff;
/** The protocol's default flow-control window (RFC 9113 section 6.9.2). */
export const DEFAULT_WINDOW_SIZE = 65535;
/** The smallest and default SETTINGS_MAX_FRAME_SIZE. */
export const MIN_MAX_FRAME_SIZE = 16384;
/** The largest SETTINGS_MAX_FRAME_SIZE, 2^24-1. */
export const MAX_MAX_FRAME_SIZE = 16777215;
const MAX_U32 = 0xffffffff;

/** Options of {@linkcode HTTP2Settings}; every field is optional. */
export interface HTTP2SettingsInit {
  /**
   * The receive window of each stream, in bytes (SETTINGS_INITIAL_WINDOW_SIZE):
   * 1 .. 2^31-1, default 65535. Bounds what one stream's peer may send before it is read;
   * uploads to a server depend on the server's, downloads on the client's.
   */
  initialWindowSize?: number;
  /**
   * The receive window of the whole connection, in bytes (raised with a WINDOW_UPDATE on
   * stream 0): 65535 .. 2^31-1, default 65535. Also bounds the unread body bytes buffered
   * per connection.
   */
  connectionWindowSize?: number;
  /** The most streams the peer may open at once (SETTINGS_MAX_CONCURRENT_STREAMS): 1 .. 2^31-1, default 100. */
  maxConcurrentStreams?: number;
  /** The largest frame payload accepted (SETTINGS_MAX_FRAME_SIZE): 16384 .. 16777215, default 16384. */
  maxFrameSize?: number;
  /**
   * The largest header list accepted, counted as RFC 9113 does (name + value + 32 bytes per
   * field; SETTINGS_MAX_HEADER_LIST_SIZE): 1 .. 2^32-1, default 65536.
   */
  maxHeaderListSize?: number;
  /** The HPACK dynamic table size the peer may use (SETTINGS_HEADER_TABLE_SIZE): 0 .. 2^32-1, default 4096. */
  headerTableSize?: number;
}

function check(name: string, value: number | undefined, min: number, max: number, def: number) {
  if (value === undefined) return def;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `HTTP2Settings: ${name} must be an integer in ${min} .. ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The HTTP/2 settings of one end (client or server): flow-control windows, concurrency and
 * size limits. Validated on construction; immutable.
 *
 * @example Larger windows for bulk transfers
 * ```ts
 * import { HTTP2Settings } from "./settings.ts";
 *
 * const settings = new HTTP2Settings({
 *   initialWindowSize: 1 << 20, // 1 MiB per stream
 *   connectionWindowSize: 1 << 21, // 2 MiB per connection
 * });
 * console.log(settings.maxConcurrentStreams); // 100
 * ```
 */
export class HTTP2Settings {
  /** Receive window per stream (bytes). */
  readonly initialWindowSize: number;
  /** Receive window of the connection (bytes). */
  readonly connectionWindowSize: number;
  /** Most concurrent streams the peer may open. */
  readonly maxConcurrentStreams: number;
  /** Largest frame payload accepted (bytes). */
  readonly maxFrameSize: number;
  /** Largest header list accepted (bytes, 32 per field added). */
  readonly maxHeaderListSize: number;
  /** HPACK dynamic table size offered to the peer's encoder (bytes). */
  readonly headerTableSize: number;

  /**
   * Validates and freezes the settings.
   *
   * @param init The settings; omitted ones take their defaults.
   * @throws {RangeError} naming the option, when one is out of range.
   */
  constructor(init: HTTP2SettingsInit = {}) {
    this.initialWindowSize = check(
      "initialWindowSize",
      init.initialWindowSize,
      1,
      MAX_WINDOW_SIZE,
      DEFAULT_WINDOW_SIZE,
    );
    this.connectionWindowSize = check(
      "connectionWindowSize",
      init.connectionWindowSize,
      DEFAULT_WINDOW_SIZE,
      MAX_WINDOW_SIZE,
      DEFAULT_WINDOW_SIZE,
    );
    this.maxConcurrentStreams = check(
      "maxConcurrentStreams",
      init.maxConcurrentStreams,
      1,
      MAX_WINDOW_SIZE,
      100,
    );
    this.maxFrameSize = check(
      "maxFrameSize",
      init.maxFrameSize,
      MIN_MAX_FRAME_SIZE,
      MAX_MAX_FRAME_SIZE,
      MIN_MAX_FRAME_SIZE,
    );
    this.maxHeaderListSize = check("maxHeaderListSize", init.maxHeaderListSize, 1, MAX_U32, 65536);
    this.headerTableSize = check("headerTableSize", init.headerTableSize, 0, MAX_U32, 4096);
    Object.freeze(this);
  }
}
