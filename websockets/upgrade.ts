/**
 * The WebSocket server side for servers that mix HTTP and WebSocket routes:
 * {@linkcode upgrade} turns a `Request` (from `serve`, or from `Deno.serve` through
 * `Deno.upgradeWebSocket`) or a `Stream` (from `listen`) into a WebSocket and runs a
 * function with it.
 *
 * @module
 */

import type { Conn } from "../conn/types.ts";
import type { Stream } from "../server/stream.ts";
import { isServerRequest } from "../server/_server_request.ts";
import { respondText } from "../server/_respond_text.ts";
import {
  type UpgradedConn,
  upgradeHandleOf,
  type UpgradeOwner,
  upgradeResponse,
} from "../server/_upgrade.ts";
import { WebSocketError } from "./errors.ts";
import { type AcceptedRequest, acceptHeaders, validateRequest } from "./handshake.ts";
import type { DeflateOptions } from "./permessage_deflate.ts";
import { WebSocket, type WebSocketData, type WebSocketMessage } from "./websocket.ts";

/**
 * What a server-side function gets: the {@linkcode WebSocket} of this module, or, behind
 * `Deno.serve`, an adapter over Deno's own WebSocket with the same core API.
 */
export interface WebSocketConnection extends AsyncIterable<WebSocketMessage> {
  /** The subprotocol agreed, or `""`. */
  readonly protocol: string;
  /** The agreed `Sec-WebSocket-Extensions` value, or `""`. */
  readonly extensions: string;
  /** Whether messages can be sent. */
  readonly isReady: boolean;
  /** The close code once known, else `null`. */
  readonly closeCode: number | null;
  /** The close reason once the close code is known. */
  readonly closeReason: string;
  /** Resolves once the connection is closed. */
  readonly closed: Promise<void>;
  /** Sends a message: a string as text, bytes as binary. */
  send(message: WebSocketData): Promise<void>;
  /** The next message; rejects with a {@linkcode WebSocketError} once closed. */
  receive(): Promise<WebSocketMessage>;
  /** Runs the closing handshake. */
  close(code?: number, reason?: string): Promise<void>;
}

/** What the server accepts in the handshake, and the limits of its WebSockets. */
export interface UpgradeOptions {
  /** Accept permessage-deflate when the client offers it (`true` or its options). Default `false`. */
  compress?: boolean | DeflateOptions;
  /**
   * The subprotocols this server speaks (the first the client offers that is in the list
   * is chosen), or a function given the client's offers that returns the choice.
   */
  subprotocols?: string[] | ((offered: string[]) => string | null | undefined);
  /** Refuse the upgrade with 403 unless this returns `true` for the `Origin` header (`null` if none). */
  checkOrigin?: (origin: string | null) => boolean;
  /** The largest message accepted, in bytes, also after inflating (default 16 MiB). */
  maxFrameSize?: number;
  /** The most frames one message may come in (default 1024). */
  maxFragmentation?: number;
  /** Give up a WebSocket when nothing arrives for this long, in ms (default 0: off). */
  readIdleTimeout?: number;
  /** Give up a WebSocket when a write stalls this long, in ms (default 0: off). */
  writeIdleTimeout?: number;
  /** How long `close()` waits for the peer's close frame, in ms (default 5000). */
  closeTimeout?: number;
  /** Called with an error thrown by the function (default `console.error`); the socket closes with 1011. */
  onError?: (error: unknown) => void;
}

/** The server-side WebSockets open per server, for `forceClose`. */
const openSockets = new WeakMap<object, Set<WebSocketConnection>>();

/**
 * The WebSockets a server opened with {@linkcode upgrade} (or `listen` of this module)
 * that are still open.
 *
 * @param server The server.
 * @returns The open WebSockets.
 */
export function socketsOf(server: object): WebSocketConnection[] {
  return [...(openSockets.get(server) ?? [])];
}

function register(owner: UpgradeOwner | undefined, ws: WebSocket, conn: Conn): void {
  if (!owner) return;
  let set = openSockets.get(owner);
  if (!set) openSockets.set(owner, set = new Set());
  set.add(ws);
  const untrack = owner.track({
    close: () => ws.close(1001, "server shutting down"),
    forceClose: () => conn.close(),
  });
  ws.closed.then(() => {
    set.delete(ws);
    untrack();
  });
}

const CANNOT_SWITCH = "this exchange cannot switch protocols";

function refusal(status: number, reason: string, headers?: Headers): Response {
  const h = new Headers(headers);
  h.set("content-type", "text/plain; charset=utf-8");
  return new Response(reason + "\n", { status, headers: h });
}

type Checked =
  | { ok: true; accepted: AcceptedRequest }
  | { ok: false; status: number; reason: string; headers: Headers };

function check(method: string, headers: Headers, options: UpgradeOptions): Checked {
  const result = validateRequest(method, headers, {
    protocols: options.subprotocols,
    deflate: options.compress ?? false,
  });
  if (!result.ok) return result;
  if (options.checkOrigin && !options.checkOrigin(headers.get("origin"))) {
    return { ok: false, status: 403, reason: "origin not allowed", headers: new Headers() };
  }
  return { ok: true, accepted: result };
}

function startSocket(
  upgraded: UpgradedConn,
  accepted: AcceptedRequest,
  options: UpgradeOptions,
  owner: UpgradeOwner | undefined,
): WebSocket {
  const threshold = typeof options.compress === "object" ? options.compress.threshold : undefined;
  const ws = new WebSocket(upgraded.conn, {
    role: "server",
    head: upgraded.head,
    protocol: accepted.protocol,
    extensions: accepted.extensions,
    deflate: accepted.deflate,
    compressThreshold: threshold,
    maxFrameSize: options.maxFrameSize ?? 16 * 1024 * 1024,
    maxFragmentation: options.maxFragmentation ?? 1024,
    readIdleTimeout: options.readIdleTimeout,
    writeIdleTimeout: options.writeIdleTimeout,
    closeTimeout: options.closeTimeout,
  });
  register(owner, ws, upgraded.conn);
  return ws;
}

/** Runs `f`, then closes the socket: 1000 when `f` returns, 1011 when it throws. */
async function run(
  ws: WebSocketConnection,
  f: (ws: WebSocketConnection) => unknown,
  options: UpgradeOptions,
): Promise<void> {
  try {
    await f(ws);
  } catch (error) {
    if (!(error instanceof WebSocketError && ws.closeCode !== null)) {
      (options.onError ?? console.error)(error);
    }
    await ws.close(1011, "internal error").catch(() => {});
    return;
  }
  await ws.close().catch(() => {});
}

function isStream(value: Request | Stream): value is Stream {
  return !(value instanceof Request) && typeof (value as Stream).respond === "function";
}

/**
 * Upgrades a `Request` to a WebSocket and runs `f` with it, for `Request => Response`
 * handlers: return the `Response` this gives. With a `Request` from this module's `serve`
 * the WebSocket is this module's (permessage-deflate included); with one from
 * `Deno.serve`, `Deno.upgradeWebSocket` does the work (no compression) and `f` gets an
 * adapter with the same `send` / `receive` / `for await` / `close`. A request that is not
 * a valid upgrade gets 400 (426 for a wrong version, 403 when `checkOrigin` refuses).
 * When `f` returns the socket is closed with 1000; when it throws, with 1011.
 *
 * @param request The request.
 * @param f What to do with the WebSocket.
 * @param options Compression, subprotocols, origin check, limits.
 * @returns The response to return from the handler (a `Request => Response` handler may return a promise).
 *
 * @example Mixing HTTP and WebSocket routes on one port
 * ```ts ignore
 * import { serve } from "../server/mod.ts";
 * import { upgrade } from "./upgrade.ts";
 *
 * const server = await serve("127.0.0.1", 0, (request) => {
 *   if (new URL(request.url).pathname !== "/ws") return new Response("plain HTTP");
 *   return upgrade(request, async (ws) => {
 *     for await (const msg of ws) await ws.send(msg);
 *   }, { compress: true });
 * });
 * ```
 */
export function upgrade(
  request: Request,
  f: (ws: WebSocketConnection) => unknown,
  options?: UpgradeOptions,
): Promise<Response>;
/**
 * Upgrades a `Stream` (from `listen`) to a WebSocket at once and runs `f` with it;
 * resolves when `f` is done and the socket closed. A stream that is not a valid upgrade
 * gets 400 (426, 403) and the promise resolves.
 *
 * @param stream The exchange.
 * @param f What to do with the WebSocket.
 * @param options Compression, subprotocols, origin check, limits.
 * @returns Resolves once `f` is done and the socket is closed.
 *
 * @example
 * ```ts ignore
 * import { listen } from "../server/mod.ts";
 * import { upgrade } from "./upgrade.ts";
 *
 * const server = await listen("127.0.0.1", 0, (stream) =>
 *   upgrade(stream, async (ws) => {
 *     for await (const msg of ws) await ws.send(msg);
 *   }));
 * ```
 */
export function upgrade(
  stream: Stream,
  f: (ws: WebSocket) => unknown,
  options?: UpgradeOptions,
): Promise<void>;
export function upgrade(
  target: Request | Stream,
  f: ((ws: WebSocket) => unknown) | ((ws: WebSocketConnection) => unknown),
  options: UpgradeOptions = {},
): Promise<Response | void> {
  const fn = f as (ws: WebSocketConnection) => unknown;
  if (isStream(target)) return upgradeStream(target, fn, options);
  const request = target;
  const handle = upgradeHandleOf(request);
  const ours = isServerRequest(request);
  if (!handle && !ours) return Promise.resolve().then(() => denoUpgrade(request, fn, options));
  const checked = check(handle?.method ?? request.method, request.headers, options);
  if (!checked.ok) return Promise.resolve(refusal(checked.status, checked.reason, checked.headers));
  // Our server did not take it for an upgrade (HTTP/1.0, HTTP/2, no `Connection: upgrade`).
  if (!handle) return Promise.resolve(refusal(400, CANNOT_SWITCH));
  const accepted = checked.accepted;
  return acceptHeaders(accepted).then((headers) =>
    upgradeResponse({
      status: 101,
      headers,
      onUpgrade(upgraded: UpgradedConn) {
        const ws = startSocket(upgraded, accepted, options, handle.owner);
        run(ws, fn, options);
      },
    })
  );
}

async function upgradeStream(
  stream: Stream,
  f: (ws: WebSocketConnection) => unknown,
  options: UpgradeOptions,
): Promise<void> {
  const handle = upgradeHandleOf(stream);
  const checked = check(stream.request.method, stream.request.headers, options);
  if (!checked.ok || !handle) {
    if (checked.ok) return respondText(stream, 400, CANNOT_SWITCH);
    return respondText(stream, checked.status, checked.reason, checked.headers);
  }
  const upgraded = await handle.accept(101, await acceptHeaders(checked.accepted));
  const ws = startSocket(upgraded, checked.accepted, options, handle.owner);
  await run(ws, f, options);
}

// ---------------------------------------------------------------------------------------
// Deno.serve fallback

interface DenoUpgrade {
  upgradeWebSocket(
    request: Request,
    options?: { protocol?: string; idleTimeout?: number },
  ): { socket: globalThis.WebSocket; response: Response };
}

/**
 * Deno's own WebSocket (from `Deno.upgradeWebSocket`) behind the core API of this
 * module's {@linkcode WebSocket}: `send`, `receive`, `for await`, `close`.
 */
export class NativeWebSocketAdapter implements WebSocketConnection {
  /** The native socket. */
  readonly socket: globalThis.WebSocket;
  #queue: WebSocketMessage[] = [];
  #waiters: { resolve(m: WebSocketMessage): void; reject(e: unknown): void }[] = [];
  #error: WebSocketError | null = null;
  #closed: Promise<void>;
  #opened: Promise<void>;

  /**
   * Wraps a native WebSocket.
   *
   * @param socket The socket (its `binaryType` is set to `"arraybuffer"`).
   */
  constructor(socket: globalThis.WebSocket) {
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    this.#opened = new Promise((resolve) => {
      if (socket.readyState === 1) resolve();
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("close", () => resolve(), { once: true });
    });
    socket.addEventListener("message", (event) => {
      const data = event.data;
      const message = typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer);
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve(message);
      else this.#queue.push(message);
    });
    this.#closed = new Promise((resolve) => {
      socket.addEventListener("close", (event) => {
        this.#error = new WebSocketError(event.code || 1005, event.reason);
        for (const w of this.#waiters.splice(0)) w.reject(this.#error);
        resolve();
      }, { once: true });
    });
  }

  /** Resolves once the socket is open (or closed before it opened). */
  get opened(): Promise<void> {
    return this.#opened;
  }
  /** The subprotocol agreed, or `""`. */
  get protocol(): string {
    return this.socket.protocol;
  }
  /** The extensions agreed (always `""`: Deno's server has none). */
  get extensions(): string {
    return this.socket.extensions;
  }
  /** Whether messages can be sent. */
  get isReady(): boolean {
    return this.socket.readyState === 1;
  }
  /** The close code once known. */
  get closeCode(): number | null {
    return this.#error?.code ?? null;
  }
  /** The close reason once known. */
  get closeReason(): string {
    return this.#error?.reason ?? "";
  }
  /** Resolves once the socket is closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Sends a message (an iterable of fragments is joined into one message).
   *
   * @param message The message.
   * @returns Resolves once handed to the socket.
   */
  async send(message: WebSocketData): Promise<void> {
    if (this.socket.readyState !== 1) {
      throw this.#error ?? new WebSocketError(1006, "the WebSocket is not open");
    }
    if (typeof message === "string") return this.socket.send(message);
    if (message instanceof ArrayBuffer || ArrayBuffer.isView(message)) {
      return this.socket.send(message as ArrayBuffer);
    }
    const parts: (string | Uint8Array)[] = [];
    for await (const part of message as AsyncIterable<string | Uint8Array>) parts.push(part);
    if (parts.every((p) => typeof p === "string")) return this.socket.send(parts.join(""));
    const bytes = parts.map((p) => typeof p === "string" ? new TextEncoder().encode(p) : p);
    const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
    let off = 0;
    for (const b of bytes) {
      out.set(b, off);
      off += b.length;
    }
    this.socket.send(out);
  }

  /**
   * The next message.
   *
   * @returns A string for text, bytes for binary.
   */
  receive(): Promise<WebSocketMessage> {
    const message = this.#queue.shift();
    if (message !== undefined) return Promise.resolve(message);
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * Closes the socket and waits until it is closed.
   *
   * @param code The close code (default 1000).
   * @param reason The reason.
   * @returns Resolves once closed.
   */
  close(code: number = 1000, reason: string = ""): Promise<void> {
    if (this.socket.readyState === 0 || this.socket.readyState === 1) {
      this.socket.close(code, reason);
    }
    return this.#closed;
  }

  /**
   * Iterates over messages; ends on 1000, 1001 and 1005, throws otherwise.
   *
   * @returns The messages.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<WebSocketMessage, void, undefined> {
    for (;;) {
      try {
        yield await this.receive();
      } catch (error) {
        if (error instanceof WebSocketError && [1000, 1001, 1005].includes(error.code)) return;
        throw error;
      }
    }
  }
}

function denoUpgrade(
  request: Request,
  f: (ws: WebSocketConnection) => unknown,
  options: UpgradeOptions,
): Response {
  const deno = (globalThis as { Deno?: Partial<DenoUpgrade> }).Deno;
  if (typeof deno?.upgradeWebSocket !== "function") {
    throw new TypeError("this Request cannot be upgraded: it was not made by this module's serve");
  }
  const checked = check(request.method, request.headers, { ...options, compress: false });
  if (!checked.ok) return refusal(checked.status, checked.reason, checked.headers);
  const { socket, response } = deno.upgradeWebSocket(request, {
    protocol: checked.accepted.protocol ?? undefined,
  });
  const ws = new NativeWebSocketAdapter(socket);
  ws.opened.then(() => run(ws, f, options));
  return response;
}
