/**
 * {@linkcode Client}: reusable client configuration (transport, default headers, redirects,
 * proxies, decompression, timeouts) and the requests made with it.
 *
 * @module
 */
import type { HTTP2Settings } from "../http2/settings.ts";
import type { ProtocolResponse } from "./_protocol.ts";
import { extractBody, type RequestBody } from "./_body.ts";
import { acceptEncoding, decodeBody } from "./_decompress.ts";
import { Deadlines, type RequestTimeouts } from "./_deadlines.ts";
import { RedirectError } from "./errors.ts";
import { ProxyConfig } from "./proxy.ts";
import { type HttpProtocol, Transport, type TransportRequest } from "./transport.ts";

/** What to do with a redirect (301, 302, 303, 307, 308 with a `Location`). */
export type RedirectMode = "follow" | "manual" | "error";

/**
 * The client's five timeouts, in milliseconds; 0 (or leaving one out where its default is
 * off) disables one. Each raises its own error class, all extending `TimeoutError`.
 */
export interface TimeoutOptions {
  /**
   * Opening a connection: TCP, the TLS handshake and a proxy's `CONNECT`
   * (`ConnectTimeoutError`). Default 30 000.
   */
  connectTimeout?: number;
  /**
   * The whole request, from the call to the end of the response body: waiting for a
   * connection, connecting, redirects, sending, and reading the body
   * (`RequestTimeoutError`). Default off. Reading the body later counts against it too, so
   * the timer stops only when the body has been read, cancelled, or has failed.
   */
  requestTimeout?: number;
  /**
   * From the moment the request has been handed to a connection in full (its body
   * included) until the response head arrives, per redirect hop
   * (`ResponseHeaderTimeoutError`). Default off.
   */
  responseHeaderTimeout?: number;
  /**
   * The longest wait for the next bytes of the response body while its consumer is reading;
   * re-armed on every read, not running while the consumer is not reading
   * (`ReadIdleTimeoutError`). Default off.
   */
  readIdleTimeout?: number;
  /**
   * The longest a piece of a streamed request body may take to be written, i.e. the peer
   * not taking bytes; time spent waiting for the caller's stream to produce a chunk does
   * not count (`WriteIdleTimeoutError`). Default off.
   */
  writeIdleTimeout?: number;
}

/** Options of {@linkcode Client}. */
export interface ClientOptions extends TimeoutOptions {
  /**
   * The connection pool. Default: a new `Transport` made from `preferHttp2`,
   * `http2Settings`, `caCerts` and `connectTimeout`. `client.close()` closes it either way.
   */
  transport?: Transport;
  /** Headers sent with every request; a request's own headers of the same name replace them. */
  headers?: HeadersInit;
  /** Redirect handling. Default `"follow"`. */
  redirect?: RedirectMode;
  /** The most redirects followed for one request. Default 20. */
  maxRedirects?: number;
  /** Which proxy a URL goes through. Default `ProxyConfig.fromEnv()`; `new ProxyConfig()` for none. */
  proxy?: ProxyConfig;
  /**
   * Decode `gzip`, `deflate` (and `br` where the runtime can) response bodies as fetch
   * does, sending `accept-encoding` unless a request sets its own. The decoded response
   * has no `content-encoding` or `content-length` header. Default `true`.
   */
  decompress?: boolean;
  /**
   * Offer HTTP/2 on https:// connections. Default `true`. With a caller-supplied
   * `transport`, `false` makes this client's requests use HTTP/1.1 on it.
   */
  preferHttp2?: boolean;
  /** HTTP/2 settings (flow-control windows) of the transport this client makes. */
  http2Settings?: HTTP2Settings;
  /** PEM certificates to trust besides the system's, for the transport this client makes. */
  caCerts?: string[];
}

/** Options of one request. */
export interface RequestOptions extends TimeoutOptions {
  /** Header fields; they replace the client's default headers of the same name. */
  headers?: HeadersInit;
  /**
   * The body, as fetch takes it. A string gets `content-type: text/plain;charset=UTF-8`,
   * `URLSearchParams` the form type, `FormData` multipart, a `Blob` its own type, unless
   * `content-type` is set. A `ReadableStream` is streamed and cannot be resent on a 307/308.
   */
  body?: RequestBody | null;
  /** Aborts the request, or the reading of its body, with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * `"auto"` (default): ALPN picks on https://, HTTP/1.1 on http://. `"h1"` forces
   * HTTP/1.1; `"h2"` forces HTTP/2, by prior knowledge on http://.
   */
  protocol?: HttpProtocol;
  /** Overrides the client's redirect mode. */
  redirect?: RedirectMode;
  /** Overrides the client's redirect limit. */
  maxRedirects?: number;
  /** Overrides the client's `decompress`. */
  decompress?: boolean;
}

const METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Redirect bodies up to this size are read to keep the connection; bigger ones close it. */
const DRAIN_LIMIT = 64 * 1024;
/** Streamed-body watching for bodies given as bytes larger than this (with write timeouts). */
const SLICE = 64 * 1024;
const noop = () => {};

function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  if (METHODS.has(upper)) return upper;
  if (!TOKEN.test(method)) throw new TypeError(`invalid HTTP method ${JSON.stringify(method)}`);
  if (upper === "CONNECT" || upper === "TRACK" || upper === "TRACE") {
    throw new TypeError(`${upper} is not supported by request()`);
  }
  return method;
}

function toUrl(url: string | URL): URL {
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new TypeError(`unsupported URL scheme ${u.protocol} (http: or https: expected)`);
  }
  return u;
}

function timeout(value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !(v >= 0)) {
    throw new RangeError(`timeouts are milliseconds >= 0, got ${String(v)}`);
  }
  return v;
}

/** A byte body as a stream of slices, so that its writing can be watched. */
function sliced(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(at, at + SLICE));
      at += SLICE;
    },
  }, { highWaterMark: 0 });
}

/** Reads and drops a redirect's body (up to a limit, else gives up the connection). */
async function discard(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (body === null) return;
  const reader = body.getReader();
  let total = 0;
  try {
    while (total <= DRAIN_LIMIT) {
      const r = await reader.read();
      if (r.done) return;
      total += r.value.byteLength;
    }
    await reader.cancel();
  } catch {
    // the connection is closed; nothing to keep
  }
}

/** Removes the headers that describe a body, when a redirect drops it. */
function dropBodyHeaders(headers: Headers): void {
  for (
    const name of [
      "content-type",
      "content-length",
      "content-encoding",
      "content-language",
      "content-location",
      "transfer-encoding",
    ]
  ) headers.delete(name);
}

/**
 * Reusable client configuration: a connection pool (`Transport`), default headers,
 * redirect policy, proxies, response decoding and timeouts, applied to every request made
 * with it; each request can override them. Close it with `await client.close()` or
 * `await using`.
 *
 * Requests resolve to a Web `Response` once the response head has arrived, with the body
 * streaming from the connection; read it to its end (or cancel it) so the connection can
 * be reused. `response.url` is the final URL (after redirects) and `response.redirected`
 * tells whether a redirect was followed; both are own properties of the returned object.
 *
 * @example
 * ```ts
 * import { Client, ProxyConfig } from "./mod.ts";
 * import { serve } from "../server/mod.ts";
 *
 * await using server = await serve("127.0.0.1", 0, (req) => new Response(`hi ${req.headers.get("x-app")}`));
 * await using client = new Client({ headers: { "x-app": "demo" }, proxy: new ProxyConfig() });
 * const response = await client.get(`http://127.0.0.1:${server.port}/`);
 * console.log(await response.text()); // "hi demo"
 * ```
 */
export class Client implements AsyncDisposable {
  /** The connection pool requests go through. */
  readonly transport: Transport;
  /** The proxy configuration. */
  readonly proxy: ProxyConfig;
  #headers: Headers | null;
  #redirect: RedirectMode;
  #maxRedirects: number;
  #decompress: boolean;
  #protocol: HttpProtocol;
  #timeouts: RequestTimeouts;
  #connectTimeout: number;
  #closed = false;

  /**

   * Creates a client.

   * @param options Transport, defaults and timeouts; all optional.

   */
  constructor(options: ClientOptions = {}) {
    this.#connectTimeout = timeout(options.connectTimeout, 30_000);
    this.transport = options.transport ?? new Transport({
      preferHttp2: options.preferHttp2,
      http2Settings: options.http2Settings,
      caCerts: options.caCerts,
      connectTimeout: this.#connectTimeout,
    });
    this.#protocol = options.transport && options.preferHttp2 === false ? "h1" : "auto";
    this.proxy = options.proxy ?? ProxyConfig.fromEnv();
    const headers = new Headers(options.headers);
    this.#headers = [...headers.keys()].length > 0 ? headers : null;
    this.#redirect = options.redirect ?? "follow";
    this.#maxRedirects = options.maxRedirects ?? 20;
    this.#decompress = options.decompress ?? true;
    this.#timeouts = {
      requestTimeout: timeout(options.requestTimeout, 0),
      responseHeaderTimeout: timeout(options.responseHeaderTimeout, 0),
      readIdleTimeout: timeout(options.readIdleTimeout, 0),
      writeIdleTimeout: timeout(options.writeIdleTimeout, 0),
    };
  }

  /** Whether {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Makes a request.
   *
   * @param method The method (`get` is taken as `GET`, as fetch does for the usual ones).
   * @param url An http:// or https:// URL.
   * @param options Headers, body, signal, protocol and per-request overrides.
   * @returns The response, once its head has arrived.
   *
   * @example
   * ```ts
   * import { Client, ProxyConfig } from "./mod.ts";
   * import { serve } from "../server/mod.ts";
   *
   * await using server = await serve("127.0.0.1", 0, async (req) => new Response(await req.text()));
   * await using client = new Client({ proxy: new ProxyConfig() });
   * const res = await client.request("PUT", `http://127.0.0.1:${server.port}/`, { body: "echo" });
   * console.log(await res.text()); // "echo"
   * ```
   */
  async request(
    method: string,
    url: string | URL,
    options: RequestOptions = {},
  ): Promise<Response> {
    if (this.#closed) throw new Error("the client is closed");
    options.signal?.throwIfAborted();
    let m = normalizeMethod(method);
    let current = toUrl(url);
    const headers = this.#mergeHeaders(options.headers);
    const extracted = extractBody(options.body);
    const { body: initialBody, contentType } = extracted instanceof Promise
      ? await extracted
      : extracted;
    let body = initialBody;
    if (contentType !== null && !headers.has("content-type")) {
      headers.set("content-type", contentType);
    }
    const decompress = options.decompress ?? this.#decompress;
    if (decompress && !headers.has("accept-encoding")) {
      headers.set("accept-encoding", acceptEncoding());
    }
    const redirect = options.redirect ?? this.#redirect;
    const maxRedirects = options.maxRedirects ?? this.#maxRedirects;
    const protocol = options.protocol ?? this.#protocol;
    const connectTimeout = options.connectTimeout === undefined
      ? undefined
      : timeout(options.connectTimeout, 0);

    const t = this.#timeouts;
    const timeouts: RequestTimeouts = {
      requestTimeout: timeout(options.requestTimeout, t.requestTimeout),
      responseHeaderTimeout: timeout(options.responseHeaderTimeout, t.responseHeaderTimeout),
      readIdleTimeout: timeout(options.readIdleTimeout, t.readIdleTimeout),
      writeIdleTimeout: timeout(options.writeIdleTimeout, t.writeIdleTimeout),
    };
    const deadlines = timeouts.requestTimeout || timeouts.responseHeaderTimeout ||
        timeouts.readIdleTimeout || timeouts.writeIdleTimeout
      ? new Deadlines(timeouts, options.signal)
      : null;
    const signal = deadlines?.signal ?? options.signal;

    let sent = body;
    try {
      for (let hops = 0;; hops++) {
        sent = body;
        let onStart: (() => void) | undefined;
        if (deadlines?.watchesRequestBody) {
          if (sent instanceof Uint8Array && sent.byteLength > SLICE) {
            headers.set("content-length", String(sent.byteLength));
            sent = sliced(sent);
          }
          if (sent instanceof ReadableStream) sent = deadlines.watchRequestBody(sent);
          else onStart = () => deadlines.requestSent();
        }
        const request: TransportRequest = {
          method: m,
          url: current,
          headers,
          body: sent,
          signal,
          proxy: this.proxy.proxyFor(current),
          protocol,
          connectTimeout,
          onStart,
        };
        const response = await this.transport.request(request);
        deadlines?.responseArrived();
        const status = response.status;
        if (!REDIRECTS.has(status) || redirect === "manual") {
          return this.#response(response, current, hops > 0, deadlines, decompress);
        }
        const location = response.headers.get("location");
        if (location === null) {
          return this.#response(response, current, hops > 0, deadlines, decompress);
        }
        let next: URL | null = null;
        try {
          next = new URL(location, current);
        } catch {
          // reported below
        }
        const where = next?.href ?? "";
        const refuse = (message: string): never => {
          response.body?.cancel().catch(noop);
          throw new RedirectError(message, status, where);
        };
        if (redirect === "error") {
          refuse(`redirect ${status} to ${where} refused (redirect: "error")`);
        }
        if (next === null) {
          refuse(`redirect ${status} with an invalid Location ${JSON.stringify(location)}`);
        }
        if (next!.protocol !== "http:" && next!.protocol !== "https:") {
          refuse(`redirect ${status} to a ${next!.protocol} URL`);
        }
        if (hops >= maxRedirects) refuse(`more than ${maxRedirects} redirects`);
        if (
          ((status === 301 || status === 302) && m === "POST") ||
          (status === 303 && m !== "GET" && m !== "HEAD")
        ) {
          m = "GET";
          if (body instanceof ReadableStream && !body.locked) body.cancel().catch(noop);
          body = null;
          dropBodyHeaders(headers);
        } else if (body instanceof ReadableStream) {
          refuse(
            `cannot follow a ${status} redirect: the request body was a stream and cannot be sent again`,
          );
        }
        if (next!.origin !== current.origin) {
          headers.delete("authorization");
          headers.delete("cookie");
          headers.delete("host");
        }
        // The drain is a read of a response body: readIdleTimeout bounds it (else a redirect
        // whose body stops short would hang here until requestTimeout, or forever).
        await discard(
          response.body && deadlines
            ? deadlines.watchResponseBody(response.body, false)
            : response.body,
        );
        current = next!;
      }
    } catch (error) {
      deadlines?.dispose();
      if (sent instanceof ReadableStream && !sent.locked) sent.cancel(error).catch(noop);
      else if (body instanceof ReadableStream && !body.locked) body.cancel(error).catch(noop);
      throw error;
    }
  }

  #mergeHeaders(init: HeadersInit | undefined): Headers {
    if (this.#headers === null) return new Headers(init);
    const headers = new Headers(this.#headers);
    if (init !== undefined) {
      for (const [name, value] of new Headers(init)) headers.set(name, value);
    }
    return headers;
  }

  #response(
    res: ProtocolResponse,
    url: URL,
    redirected: boolean,
    deadlines: Deadlines | null,
    decompress: boolean,
  ): Response {
    const { status, headers } = res;
    let body = res.body;
    if (body !== null && NULL_BODY_STATUS.has(status)) {
      body.cancel().catch(noop);
      body = null;
    }
    if (body === null) deadlines?.dispose();
    else if (deadlines) body = deadlines.watchResponseBody(body);
    if (body !== null && decompress) {
      const encoding = headers.get("content-encoding");
      if (encoding !== null) {
        const decoded = decodeBody(body, encoding);
        if (decoded !== null) {
          body = decoded;
          headers.delete("content-encoding");
          headers.delete("content-length");
        }
      }
    }
    if (status < 200 || status > 599) {
      body?.cancel().catch(noop);
      throw new TypeError(
        status < 200
          ? `status ${status} cannot be returned as a Response (protocol upgrades need their own API)`
          : `status ${status} is outside 100-599 (RFC 9110 section 15), and no Response can carry it`,
      );
    }
    const response = new Response(body, { status, statusText: res.statusText, headers });
    const href = url.hash ? url.href.slice(0, url.href.length - url.hash.length) : url.href;
    Object.defineProperty(response, "url", { value: href, enumerable: true });
    if (redirected) {
      Object.defineProperty(response, "redirected", { value: true, enumerable: true });
    }
    return response;
  }

  /**
   * `GET` request.
   *
   * @param url The URL.
   * @param options Request options.
   * @returns The response.
   *
   * @example
   * ```ts ignore
   * const res = await client.get("https://example.com/");
   * ```
   */
  get(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("GET", url, options);
  }

  /**
   * `HEAD` request.
   *
   * @param url The URL.
   * @param options Request options.
   * @returns The response (no body).
   *
   * @example
   * ```ts ignore
   * const res = await client.head("https://example.com/");
   * ```
   */
  head(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("HEAD", url, options);
  }

  /**
   * `POST` request.
   *
   * @param url The URL.
   * @param options Request options, with the body.
   * @returns The response.
   *
   * @example
   * ```ts ignore
   * const res = await client.post("https://example.com/api", { body: JSON.stringify({ a: 1 }) });
   * ```
   */
  post(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("POST", url, options);
  }

  /**
   * `PUT` request.
   *
   * @param url The URL.
   * @param options Request options, with the body.
   * @returns The response.
   *
   * @example
   * ```ts ignore
   * const res = await client.put("https://example.com/item/1", { body: "data" });
   * ```
   */
  put(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("PUT", url, options);
  }

  /**
   * `PATCH` request.
   *
   * @param url The URL.
   * @param options Request options, with the body.
   * @returns The response.
   *
   * @example
   * ```ts ignore
   * const res = await client.patch("https://example.com/item/1", { body: "{}" });
   * ```
   */
  patch(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("PATCH", url, options);
  }

  /**
   * `DELETE` request.
   *
   * @param url The URL.
   * @param options Request options.
   * @returns The response.
   *
   * @example
   * ```ts ignore
   * const res = await client.delete("https://example.com/item/1");
   * ```
   */
  delete(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("DELETE", url, options);
  }

  /**
   * Closes the client's transport: every pooled connection, and requests in flight.
   *
   * @returns Resolves when the connections are closed.
   *
   * @example
   * ```ts
   * import { Client } from "./mod.ts";
   *
   * const client = new Client();
   * await client.close();
   * console.log(client.closed); // true
   * ```
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.transport.close();
  }

  /** Closes the client: `await using client = new Client()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
