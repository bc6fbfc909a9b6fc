/**
 * WebSocket errors and close codes (RFC 6455 section 7.4).
 *
 * @module
 */

/** The shape of {@linkcode CloseCode}. */
export interface CloseCodes {
  /** 1000: the purpose of the connection has been fulfilled. */
  readonly Normal: 1000;
  /** 1001: the endpoint is going away (server shutting down, page navigated away). */
  readonly GoingAway: 1001;
  /** 1002: the peer broke the protocol. */
  readonly ProtocolError: 1002;
  /** 1003: the endpoint got a kind of data it cannot accept. */
  readonly UnsupportedData: 1003;
  /** 1005: a close frame carried no status code (never sent on the wire). */
  readonly NoStatus: 1005;
  /** 1006: the connection was lost without a close frame (never sent on the wire). */
  readonly Abnormal: 1006;
  /** 1007: a message's data did not match its type (invalid UTF-8 in a text message). */
  readonly InvalidPayload: 1007;
  /** 1008: a message broke the endpoint's policy. */
  readonly PolicyViolation: 1008;
  /** 1009: a message was too big to process. */
  readonly MessageTooBig: 1009;
  /** 1010: the client needed an extension the server did not negotiate. */
  readonly MandatoryExtension: 1010;
  /** 1011: the server met an unexpected condition. */
  readonly InternalError: 1011;
  /** 1012: the service is restarting (IANA registry). */
  readonly ServiceRestart: 1012;
  /** 1013: try again later (IANA registry). */
  readonly TryAgainLater: 1013;
  /** 1014: a gateway got an invalid response upstream (IANA registry). */
  readonly BadGateway: 1014;
}

/**
 * Close codes by name.
 *
 * @example
 * ```ts
 * import { CloseCode } from "./errors.ts";
 * console.log(CloseCode.MessageTooBig); // 1009
 * ```
 */
export const CloseCode: CloseCodes = Object.freeze({
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  NoStatus: 1005,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
});

/**
 * Whether `code` may appear in a close frame on the wire.
 *
 * Accepted: 1000-1003 and 1007-1011 (RFC 6455 7.4.1), 1012-1014 (registered with IANA
 * after the RFC: service restart, try again later, bad gateway), and 3000-4999 (libraries
 * and applications). Rejected: below 1000, 1004 (reserved), 1005 and 1006 (local
 * indications only), 1015 (TLS failure, local only), 1016-2999 (unassigned).
 * The Autobahn test suite agrees: its case 7.7.x sends 1000-1003, 1007-1011, 3000, 3999,
 * 4000 and 4999 as valid, its case 7.9.x sends 0, 999, 1004, 1005, 1006, 1016, 1100, 2000
 * and 2999 as invalid, and it does not count 1012-1014 as invalid.
 *
 * @param code The status code to check.
 * @returns `true` if the code is allowed in a close frame.
 *
 * @example
 * ```ts
 * import { isValidCloseCode } from "./errors.ts";
 * console.log(isValidCloseCode(1000), isValidCloseCode(1005), isValidCloseCode(4000)); // true false true
 * ```
 */
export function isValidCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 1000 && code <= 1014) return code < 1004 || code > 1006;
  return code >= 3000 && code <= 4999;
}

const DESCRIPTIONS: Record<number, string> = {
  1000: "normal closure",
  1001: "going away",
  1002: "protocol error",
  1003: "unsupported data",
  1005: "no status code",
  1006: "connection lost without a close frame",
  1007: "invalid payload data",
  1008: "policy violation",
  1009: "message too big",
  1010: "mandatory extension missing",
  1011: "internal error",
  1012: "service restart",
  1013: "try again later",
  1014: "bad gateway",
};

/**
 * An error carrying a WebSocket close code: the code the peer closed with, the code this
 * end failed the connection with (a protocol error found in the peer's frames), or 1006
 * when the connection was lost without a close frame.
 *
 * `receive()` rejects with one once the connection is closed, for a normal closure too, so
 * a caller can tell 1000 from a failure.
 *
 * @example
 * ```ts
 * import { WebSocketError } from "./errors.ts";
 * const err = new WebSocketError(1009, "message too big");
 * console.log(err.code, err.reason); // 1009 "message too big"
 * ```
 */
export class WebSocketError extends Error {
  /** The close code. */
  readonly code: number;
  /** The close reason (may be empty). */
  readonly reason: string;

  /**
   * Makes an error for a close code.
   *
   * @param code The close code.
   * @param reason The close reason, shown in the message.
   * @param options Standard error options (`cause`).
   */
  constructor(code: number, reason: string = "", options?: ErrorOptions) {
    const what = DESCRIPTIONS[code] ?? "closed";
    super(
      reason ? `WebSocket ${code} (${what}): ${reason}` : `WebSocket ${code} (${what})`,
      options,
    );
    this.name = "WebSocketError";
    this.code = code;
    this.reason = reason;
  }
}

/** Which timeout expired in a {@linkcode WebSocketTimeoutError}. */
export type WebSocketTimeout = "readIdle" | "writeIdle";

/**
 * The connection was given up because no byte arrived for `readIdleTimeout` ms, or a
 * write made no progress for `writeIdleTimeout` ms. Its `code` is 1006: no close frame
 * was received.
 *
 * @example
 * ```ts
 * import { WebSocketTimeoutError } from "./errors.ts";
 * const err = new WebSocketTimeoutError("readIdle", 30_000);
 * console.log(err.code, err.timeout); // 1006 "readIdle"
 * ```
 */
export class WebSocketTimeoutError extends WebSocketError {
  /** Which timeout expired. */
  readonly timeout: WebSocketTimeout;

  /**
   * Makes the error for an expired timeout.
   *
   * @param timeout Which timeout expired.
   * @param ms Its length in milliseconds.
   */
  constructor(timeout: WebSocketTimeout, ms: number) {
    super(
      1006,
      timeout === "readIdle" ? `nothing read for ${ms} ms` : `write stalled for ${ms} ms`,
    );
    this.name = "WebSocketTimeoutError";
    this.timeout = timeout;
  }
}

/**
 * `readIdleTimeout` expired: nothing arrived from the peer for that long. The connection is
 * dropped (close code 1006).
 *
 * @example
 * ```ts
 * import { WebSocketReadIdleTimeoutError, WebSocketTimeoutError } from "./errors.ts";
 * const err = new WebSocketReadIdleTimeoutError(5_000);
 * console.log(err instanceof WebSocketTimeoutError, err.timeout); // true "readIdle"
 * ```
 */
export class WebSocketReadIdleTimeoutError extends WebSocketTimeoutError {
  /**
   * Makes the error.
   *
   * @param ms The timeout in milliseconds.
   */
  constructor(ms: number) {
    super("readIdle", ms);
    this.name = "WebSocketReadIdleTimeoutError";
  }
}

/**
 * `writeIdleTimeout` expired: a write made no progress for that long. The connection is
 * dropped (close code 1006).
 *
 * @example
 * ```ts
 * import { WebSocketTimeoutError, WebSocketWriteIdleTimeoutError } from "./errors.ts";
 * const err = new WebSocketWriteIdleTimeoutError(5_000);
 * console.log(err instanceof WebSocketTimeoutError, err.timeout); // true "writeIdle"
 * ```
 */
export class WebSocketWriteIdleTimeoutError extends WebSocketTimeoutError {
  /**
   * Makes the error.
   *
   * @param ms The timeout in milliseconds.
   */
  constructor(ms: number) {
    super("writeIdle", ms);
    this.name = "WebSocketWriteIdleTimeoutError";
  }
}

/**
 * Builds the error that fails a connection for something the peer sent: the one place
 * protocol errors are made, each carrying the close code to send.
 *
 * @param code The close code (1002 protocol error, 1007 invalid data, 1009 too big, ...).
 * @param reason What was wrong; sent as the close reason, so keep it short (≤ 123 bytes).
 * @returns The error.
 */
export function protocolError(code: number, reason: string): WebSocketError {
  return new WebSocketError(code, reason);
}
