/**
 * The one shape both HTTP versions present to the pool and the client (as undici does), so
 * that nothing above this line branches on the protocol version.
 *
 * @module
 */

/** A request as handed to a protocol connection. */
export interface ProtocolRequest {
  /** The method, e.g. `"GET"`. */
  method: string;
  /** The absolute URL; its origin is the connection's. */
  url: URL;
  /** Header fields, without hop-by-hop fields for HTTP/2 (the connection drops them). */
  headers: Headers;
  /** The body, or `null`. A `ReadableStream` is pulled chunk by chunk as the connection can send. */
  body: ReadableStream<Uint8Array> | Uint8Array | null;
  /** Trailers sent after a streamed body, if any. */
  trailers?: Headers;
  /**
   * Aborts this exchange: `request()` rejects with `signal.reason` and a response body
   * being read errors with it. HTTP/2 resets only this stream; HTTP/1.1 closes the connection.
   */
  signal?: AbortSignal;
}

/** The response as a protocol connection delivers it. */
export interface ProtocolResponse {
  /** The status code. */
  status: number;
  /** The reason phrase (empty on HTTP/2). */
  statusText: string;
  /** The header fields. */
  headers: Headers;
  /** The body, or `null` when the response has none (HEAD, 204, 304). */
  body: ReadableStream<Uint8Array> | null;
  /** Resolves after the body has ended, with the trailers (empty if none). */
  trailers: Promise<Headers>;
}

/** One connection to an origin, speaking HTTP/1.1 or HTTP/2. */
export interface ProtocolConnection {
  /** The protocol this connection speaks. */
  readonly protocol: "h1" | "h2";
  /** Whether a new request can start on this connection now. */
  readonly available: boolean;
  /** Whether the connection is finished (closed, failed or draining after GOAWAY). */
  readonly closed: boolean;
  /** Requests in flight on this connection. */
  readonly activeRequests: number;
  /** Called by the connection when it becomes available again or closes. Set by the pool. */
  onStateChange?: () => void;
  /** Starts a request. */
  request(request: ProtocolRequest): Promise<ProtocolResponse>;
  /** Closes the connection at once; in-flight requests fail. */
  close(): void;
  /**
   * Optional: resolves once a closed connection has let go of its socket (its pending
   * reads have settled), so that `Transport.close()` can wait for it.
   */
  readonly finished?: Promise<void>;
}

/**
 * An error that tells the pool the request was never processed by the server (HTTP/2
 * REFUSED_STREAM, or a stream above a GOAWAY's last stream id), so it may be retried on a
 * new connection.
 */
export class RetryableRequestError extends Error {
  /**
   * Creates the error.
   * @param message What happened.
   */
  constructor(message: string) {
    super(message);
    this.name = "RetryableRequestError";
  }
}
