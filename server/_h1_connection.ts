import type { Conn } from "../conn/types.ts";
import {
  type BufferedReader,
  HeadTooLargeError,
  UnexpectedEofError,
} from "../http1/buffered_reader.ts";
import { HttpParseError, parseRequestHead } from "../http1/parse.ts";
import { encodeLatin1, responseHead } from "../http1/serialize.ts";
import { H1Stream } from "./_h1_stream.ts";
import { registerUpgrade, type UpgradeOwner } from "./_upgrade.ts";
import type { Deadline, Deadlines } from "./_deadlines.ts";
import type { Stream } from "./stream.ts";

/** What an HTTP/1.1 server connection needs from its server. */
export interface H1Config {
  maxHeadSize: number;
  maxHeaderCount: number;
  headTimeout: number;
  keepAliveTimeout: number;
  /** How long a request body may go without a byte while it is read (0: no limit). */
  bodyIdleTimeout: number;
  /** Request body bytes the server reads and drops to keep a connection after an early response. */
  maxDiscardBytes: number;
  deadlines: Deadlines;
  /** Whether the server is shutting down (finish the exchange in flight, then close). */
  closing(): boolean;
  /** Reports an error that did not reach a handler. */
  report(error: unknown): void;
  /** The server, for what an upgraded connection starts (see `UpgradeHandle.owner`). */
  owner?: UpgradeOwner;
}

/** The connection's state between exchanges, for graceful shutdown. */
export interface H1ConnState {
  /** Whether the connection is waiting for the next request head. */
  idle: boolean;
  /** The exchange in flight, if any. */
  current: H1Stream | null;
}

function errorResponse(status: number, message: string): Uint8Array {
  const body = message + "\n";
  const headers = new Headers({
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(body.length),
    connection: "close",
  });
  return encodeLatin1(responseHead(status, "", headers) + body);
}

function requestUrl(
  stream: { target: string; host: string },
  scheme: string,
  local: string,
): string {
  const { target, host } = stream;
  if (target.charCodeAt(0) === 47 /* / */) return `${scheme}://${host || local}${target}`;
  if (/^https?:\/\//i.test(target)) return target;
  if (target === "*") return `${scheme}://${host || local}/*`;
  return `${scheme}://${target}/`; // authority-form (CONNECT)
}

/**
 * Serves HTTP/1.1 exchanges on one connection until it ends: parses each request head,
 * hands the exchange to `handler` as a {@linkcode Stream}, and keeps the connection for the
 * next one when both sides allow. Bad heads are answered with their status and the
 * connection is closed; a head that does not arrive in time gets 408.
 */
export async function serveHttp1(
  conn: Conn,
  reader: BufferedReader,
  handler: (stream: Stream) => void | Promise<void>,
  config: H1Config,
  state: H1ConnState,
): Promise<void> {
  const scheme = conn.secure ? "https" : "http";
  const local = conn.localAddr.transport === "tcp"
    ? (conn.localAddr.hostname.includes(":")
      ? `[${conn.localAddr.hostname}]:${conn.localAddr.port}`
      : `${conn.localAddr.hostname}:${conn.localAddr.port}`)
    : "localhost";
  const addrs = { remoteAddr: conn.remoteAddr, localAddr: conn.localAddr, secure: conn.secure };
  const limits = { maxHeaderCount: config.maxHeaderCount };
  const bodyIdle = { deadlines: config.deadlines, ms: config.bodyIdleTimeout };
  let timedOut = false;
  const deadline: Deadline = {
    at: 0,
    queued: false,
    expire: () => {
      timedOut = true;
      if (reader.buffered === 0) return conn.close();
      conn.write(errorResponse(408, "request head timed out")).catch(() => {}).finally(() =>
        conn.close()
      );
    },
  };
  let first = true;
  let upgraded = false;
  /** The last Host of an origin-form request whose URL parsed (most requests repeat it). */
  let goodHost: string | null = null;
  try {
    while (!config.closing()) {
      state.idle = true;
      config.deadlines.arm(deadline, first ? config.headTimeout : config.keepAliveTimeout);
      let stream: H1Stream;
      try {
        // The head is usually read whole by one read: no promise but that read's.
        let head = reader.takeHead(config.maxHeadSize);
        while (head === undefined) {
          if (!(await reader.fill())) {
            if (reader.buffered === 0) return;
            throw new UnexpectedEofError("a message head");
          }
          head = reader.takeHead(config.maxHeadSize);
        }
        config.deadlines.disarm(deadline);
        const parsed = parseRequestHead(head, limits);
        const url = requestUrl(parsed, scheme, local);
        // The handler gets a URL that parses: a Host the URL standard refuses (a port above
        // 65535, 10.0.0.256, %zz) is the client's error (RFC 9112 section 3.2: 400).
        const originForm = parsed.target.charCodeAt(0) === 47; // "/"
        if (!originForm || parsed.host !== goodHost) {
          if (!URL.canParse(url)) throw new HttpParseError(400, "invalid Host or request target");
          if (originForm) goodHost = parsed.host;
        }
        stream = new H1Stream(conn, reader, parsed, url, addrs, bodyIdle);
      } catch (error) {
        config.deadlines.disarm(deadline);
        if (timedOut) return;
        if (error instanceof HttpParseError) {
          await conn.write(errorResponse(error.status, error.message)).catch(() => {});
        } else if (error instanceof HeadTooLargeError) {
          await conn.write(errorResponse(431, error.message)).catch(() => {});
        }
        return;
      }
      state.idle = false;
      state.current = stream;
      first = false;
      if (stream.parsed.upgrade !== null || stream.parsed.method === "CONNECT") {
        registerUpgrade(stream, {
          accept: (status, headers) => stream.upgrade(status, headers),
          owner: config.owner,
          method: stream.parsed.method,
        });
      }
      try {
        await handler(stream);
        if (!stream.responded) {
          stream.completion.reject(new Error("the handler returned without a response"));
          await stream.respondWith(500, new Headers(), null);
        } else if (!stream.finished) await stream.end();
        stream.completion.resolve(); // unless a failed write or an abort rejected it
      } catch (error) {
        stream.completion.reject(error);
        if (stream.broken) return; // the client went away: nothing to report
        config.report(error);
        if (stream.responded) stream.abort(error);
        else {
          stream.keepAlive = false;
          await stream.respondWith(500, new Headers({ connection: "close" }), null).catch(() => {});
        }
      }
      state.current = null;
      if (stream.upgraded) {
        upgraded = true;
        return;
      }
      if (!stream.keepAlive) return;
      if (!stream.bodyFinished) {
        // The handler answered without reading the whole body: read and drop a little of it
        // to keep the connection, unless the client still waits for 100 Continue.
        if (stream.parsed.expectContinue) return;
        const done = await stream.discardBody(config.maxDiscardBytes).catch(() => false);
        if (!done) return;
      }
    }
  } finally {
    config.deadlines.disarm(deadline);
    state.idle = false;
    state.current = null;
    if (!upgraded) conn.close();
  }
}
