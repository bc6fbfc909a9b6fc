/**
 * The errors the HTTP client raises on its own: one class per timeout (all extending
 * {@linkcode TimeoutError}), {@linkcode ProxyError} for a proxy that refuses a tunnel,
 * {@linkcode RedirectError} for redirects that are not followed, and
 * {@linkcode ConnectionClosedError} for a connection that ends before a response.
 *
 * @module
 */

/**
 * The base class of the client's five timeouts. Catch it to handle any of them; each
 * subclass names its phase and carries the limit that was exceeded.
 *
 * @example
 * ```ts ignore
 * import { get, TimeoutError } from "@hyperwire/http/client";
 *
 * try {
 *   await get("http://example.com/", { requestTimeout: 1000 });
 * } catch (error) {
 *   if (error instanceof TimeoutError) console.log(error.name, error.timeout);
 * }
 * ```
 */
export class TimeoutError extends Error {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeout: number;

  /**

   * Creates the error.
   * @param message What timed out.
   * @param timeout The limit in milliseconds.
   */
  constructor(message: string, timeout: number) {
    super(message);
    this.name = "TimeoutError";
    this.timeout = timeout;
  }
}

/**
 * Connecting (TCP, TLS handshake, a proxy's CONNECT) took longer than `connectTimeout`.
 *
 * @example
 * ```ts
 * import { ConnectTimeoutError, TimeoutError } from "./errors.ts";
 *
 * const error = new ConnectTimeoutError(30_000);
 * console.log(error instanceof TimeoutError, error.timeout); // true 30000
 * ```
 */
export class ConnectTimeoutError extends TimeoutError {
  /**
   * Creates the error.
   * @param timeout The limit in milliseconds.
   */
  constructor(timeout: number) {
    super(`connecting took longer than ${timeout} ms`, timeout);
    this.name = "ConnectTimeoutError";
  }
}

/**
 * The whole request (connecting, redirects, sending, and reading the response body to
 * its end) took longer than `requestTimeout`.
 *
 * @example
 * ```ts
 * import { RequestTimeoutError } from "./errors.ts";
 *
 * console.log(new RequestTimeoutError(5000).message); // "the request took longer than 5000 ms"
 * ```
 */
export class RequestTimeoutError extends TimeoutError {
  /**
   * Creates the error.
   * @param timeout The limit in milliseconds.
   */
  constructor(timeout: number) {
    super(`the request took longer than ${timeout} ms`, timeout);
    this.name = "RequestTimeoutError";
  }
}

/**
 * The response head did not arrive within `responseHeaderTimeout` of the request being
 * sent in full.
 *
 * @example
 * ```ts
 * import { ResponseHeaderTimeoutError } from "./errors.ts";
 *
 * console.log(new ResponseHeaderTimeoutError(100).name); // "ResponseHeaderTimeoutError"
 * ```
 */
export class ResponseHeaderTimeoutError extends TimeoutError {
  /**
   * Creates the error.
   * @param timeout The limit in milliseconds.
   */
  constructor(timeout: number) {
    super(`no response head within ${timeout} ms of sending the request`, timeout);
    this.name = "ResponseHeaderTimeoutError";
  }
}

/**
 * No response body bytes arrived for `readIdleTimeout` while the body was being read.
 *
 * @example
 * ```ts
 * import { ReadIdleTimeoutError } from "./errors.ts";
 *
 * console.log(new ReadIdleTimeoutError(100).name); // "ReadIdleTimeoutError"
 * ```
 */
export class ReadIdleTimeoutError extends TimeoutError {
  /**
   * Creates the error.
   * @param timeout The limit in milliseconds.
   */
  constructor(timeout: number) {
    super(`no response body bytes for ${timeout} ms`, timeout);
    this.name = "ReadIdleTimeoutError";
  }
}

/**
 * Sending a piece of the request body stalled for `writeIdleTimeout` (the peer stopped
 * taking bytes).
 *
 * @example
 * ```ts
 * import { WriteIdleTimeoutError } from "./errors.ts";
 *
 * console.log(new WriteIdleTimeoutError(100).name); // "WriteIdleTimeoutError"
 * ```
 */
export class WriteIdleTimeoutError extends TimeoutError {
  /**
   * Creates the error.
   * @param timeout The limit in milliseconds.
   */
  constructor(timeout: number) {
    super(`sending the request body stalled for ${timeout} ms`, timeout);
    this.name = "WriteIdleTimeoutError";
  }
}

/**
 * A proxy answered a `CONNECT` with a status other than 2xx (407 when it wants
 * credentials), so no tunnel was made.
 *
 * @example
 * ```ts
 * import { ProxyError } from "./errors.ts";
 *
 * const error = new ProxyError(407, "Proxy Authentication Required");
 * console.log(error.status); // 407
 * ```
 */
export class ProxyError extends Error {
  /** The proxy's status code. */
  readonly status: number;
  /** The proxy's reason phrase. */
  readonly statusText: string;

  /**

   * Creates the error.
   * @param status The proxy's status code.
   * @param statusText The proxy's reason phrase.
   */
  constructor(status: number, statusText: string) {
    super(`the proxy refused the tunnel: ${status} ${statusText}`.trimEnd());
    this.name = "ProxyError";
    this.status = status;
    this.statusText = statusText;
  }
}

/**
 * A redirect that is not followed: `redirect: "error"`, more than `maxRedirects` hops, a
 * `Location` that is not http(s), or a 307/308 that would have to resend a streamed body.
 *
 * @example
 * ```ts
 * import { RedirectError } from "./errors.ts";
 *
 * const error = new RedirectError("redirect refused", 302, "http://example.com/b");
 * console.log(error.status, error.location); // 302 http://example.com/b
 * ```
 */
export class RedirectError extends Error {
  /** The redirect's status code. */
  readonly status: number;
  /** Its `Location`, resolved against the request URL (empty if absent or invalid). */
  readonly location: string;

  /**

   * Creates the error.
   * @param message What went wrong.
   * @param status The redirect's status code.
   * @param location Where it pointed.
   */
  constructor(message: string, status: number, location: string) {
    super(message);
    this.name = "RedirectError";
    this.status = status;
    this.location = location;
  }
}

/**
 * The connection ended (closed by the peer, or reset) before any byte of the response
 * arrived. The transport retries such a request once on a fresh connection when it went
 * out on a reused keep-alive connection and can safely be sent again.
 *
 * @example
 * ```ts
 * import { ConnectionClosedError } from "./errors.ts";
 *
 * const error = new ConnectionClosedError(true, false);
 * console.log(error.reused, error.bodyStarted); // true false
 * ```
 */
export class ConnectionClosedError extends Error {
  /** Whether the connection had served a request before this one (a kept-alive connection). */
  readonly reused: boolean;
  /** Whether any of a streamed request body had been taken from its stream. */
  readonly bodyStarted: boolean;

  /**

   * Creates the error.
   * @param reused Whether the connection had served requests before.
   * @param bodyStarted Whether the streamed request body had started to be read.
   * @param options The underlying cause, if any.
   */
  constructor(reused: boolean, bodyStarted: boolean, options?: { cause?: unknown }) {
    super("the connection closed before the response arrived", options);
    this.name = "ConnectionClosedError";
    this.reused = reused;
    this.bodyStarted = bodyStarted;
  }
}
