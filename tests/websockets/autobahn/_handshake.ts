/**
 * The fuzzing peer's opening handshake, by hand over a raw connection: the client's GET and
 * the server's 101, with permessage-deflate offers and answers shaped as Autobahn's
 * fuzzer shapes them (its offer always says `client_no_context_takeover` and
 * `client_max_window_bits` unless told otherwise; its server side treats an offer as
 * accepting `client_no_context_takeover` even when the parameter is absent).
 */

import type { Conn } from "../../../conn/types.ts";
import type { CodecParams } from "./_codec.ts";
import { join } from "./_wire.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();

/** A permessage-deflate offer, in Autobahn's terms. */
export interface Offer {
  /** Says `client_no_context_takeover`. */
  acceptNoContextTakeover: boolean;
  /** Says `client_max_window_bits`. */
  acceptMaxWindowBits: boolean;
  /** Says `server_no_context_takeover`. */
  requestNoContextTakeover: boolean;
  /** Says `server_max_window_bits=N` when not 0. */
  requestMaxWindowBits: number;
}

/** How a fuzzing server accepts one of the offers. */
export interface Acceptance {
  offer: Offer;
  /** Answers `client_no_context_takeover`. */
  requestNoContextTakeover: boolean;
  /** Answers `client_max_window_bits=N` when not 0. */
  requestMaxWindowBits: number;
}

/** A fuzzing server's choice among the client's offers; `null` declines compression. */
export type AcceptOffers = (offers: Offer[]) => Acceptance | null;

/** An offer with Autobahn's defaults, changed by `o`. */
export function offer(o: Partial<Offer> = {}): Offer {
  return {
    acceptNoContextTakeover: true,
    acceptMaxWindowBits: true,
    requestNoContextTakeover: false,
    requestMaxWindowBits: 0,
    ...o,
  };
}

/** The header text of one offer. */
export function formatOffer(o: Offer): string {
  let s = "permessage-deflate";
  if (o.acceptNoContextTakeover) s += "; client_no_context_takeover";
  if (o.acceptMaxWindowBits) s += "; client_max_window_bits";
  if (o.requestNoContextTakeover) s += "; server_no_context_takeover";
  if (o.requestMaxWindowBits !== 0) s += `; server_max_window_bits=${o.requestMaxWindowBits}`;
  return s;
}

/** The header text of an acceptance. */
export function formatAcceptance(a: Acceptance): string {
  let s = "permessage-deflate";
  if (a.offer.requestNoContextTakeover) s += "; server_no_context_takeover";
  if (a.offer.requestMaxWindowBits !== 0) {
    s += `; server_max_window_bits=${a.offer.requestMaxWindowBits}`;
  }
  if (a.requestNoContextTakeover) s += "; client_no_context_takeover";
  if (a.requestMaxWindowBits !== 0) s += `; client_max_window_bits=${a.requestMaxWindowBits}`;
  return s;
}

type Params = Map<string, string | true>;

/** Splits a `Sec-WebSocket-Extensions` value into (name, params), lower-cased. */
export function parseExtensions(value: string | null): [string, Params][] {
  if (value === null) return [];
  const out: [string, Params][] = [];
  for (const element of value.split(",")) {
    const [name, ...rest] = element.split(";").map((s) => s.trim());
    if (name === "") continue;
    const params: Params = new Map();
    for (const p of rest) {
      const eq = p.indexOf("=");
      if (eq < 0) params.set(p.toLowerCase(), true);
      else {params.set(
          p.slice(0, eq).trim().toLowerCase(),
          p.slice(eq + 1).trim().replace(/^"|"$/g, ""),
        );}
    }
    out.push([name.toLowerCase(), params]);
  }
  return out;
}

/** Reads a client's offers as Autobahn's server reads them. */
export function readOffers(value: string | null): Offer[] {
  const offers: Offer[] = [];
  for (const [name, params] of parseExtensions(value)) {
    if (name !== "permessage-deflate") continue;
    const bits = params.get("server_max_window_bits");
    offers.push({
      acceptNoContextTakeover: true,
      acceptMaxWindowBits: params.has("client_max_window_bits"),
      requestNoContextTakeover: params.has("server_no_context_takeover"),
      requestMaxWindowBits: typeof bits === "string" ? Number(bits) : 0,
    });
  }
  return offers;
}

/** A request or response head, and the bytes read after it. */
export interface Head {
  startLine: string;
  headers: Headers;
  rest: Uint8Array;
}

/** Reads an HTTP head off a raw connection; `null` if it ends first. */
export async function readHead(conn: Conn): Promise<Head | null> {
  let buf: Uint8Array = new Uint8Array(0);
  for (;;) {
    const end = findEnd(buf);
    if (end >= 0) {
      const lines = latin1.decode(buf.subarray(0, end)).split("\r\n");
      const headers = new Headers();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      return { startLine: lines[0], headers, rest: buf.slice(end + 4) };
    }
    const chunk = await conn.read();
    if (chunk === null) return null;
    buf = join([buf, chunk]);
  }
}

function findEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

async function acceptOf(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** What a finished fuzzer handshake hands to the peer. */
export interface Opened {
  /** Bytes already read after the head. */
  rest: Uint8Array;
  /** This end's compression, or `null` when permessage-deflate is not in use. */
  deflate: CodecParams | null;
}

/**
 * The client's side: sends the upgrade request for `path` with `offers` and checks the 101.
 * Throws when the server does not switch protocols.
 */
export async function clientHandshake(
  conn: Conn,
  host: string,
  path: string,
  offers: Offer[],
): Promise<Opened> {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
  ];
  if (offers.length > 0) {
    lines.push(`Sec-WebSocket-Extensions: ${offers.map(formatOffer).join(", ")}`);
  }
  await conn.write(encoder.encode(lines.join("\r\n") + "\r\n\r\n"));
  const head = await readHead(conn);
  if (head === null) throw new Error("the server closed the connection during the handshake");
  if (!/^HTTP\/1\.1 101\b/.test(head.startLine)) throw new Error(`handshake: ${head.startLine}`);
  if (head.headers.get("sec-websocket-accept") !== await acceptOf(key)) {
    throw new Error("handshake: wrong Sec-WebSocket-Accept");
  }
  const answer = parseExtensions(head.headers.get("sec-websocket-extensions"));
  if (answer.length === 0) return { rest: head.rest, deflate: null };
  const [name, params] = answer[0];
  if (answer.length > 1 || name !== "permessage-deflate" || offers.length === 0) {
    throw new Error(
      `handshake: extensions not offered: ${head.headers.get("sec-websocket-extensions")}`,
    );
  }
  const bits = params.get("client_max_window_bits");
  return {
    rest: head.rest,
    deflate: {
      noContextTakeover: params.has("client_no_context_takeover"),
      windowBits: typeof bits === "string" ? Number(bits) : 15,
    },
  };
}

/** The server's side, once the request head is read: answers 101 and settles compression. */
export async function serverHandshake(
  conn: Conn,
  request: Head,
  accept: AcceptOffers | null,
): Promise<Opened> {
  const key = request.headers.get("sec-websocket-key") ?? "";
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${await acceptOf(key)}`,
  ];
  const chosen = accept?.(readOffers(request.headers.get("sec-websocket-extensions"))) ?? null;
  if (chosen !== null) lines.push(`Sec-WebSocket-Extensions: ${formatAcceptance(chosen)}`);
  await conn.write(encoder.encode(lines.join("\r\n") + "\r\n\r\n"));
  return {
    rest: request.rest,
    deflate: chosen === null ? null : {
      noContextTakeover: chosen.offer.requestNoContextTakeover,
      windowBits: chosen.offer.requestMaxWindowBits || 15,
    },
  };
}
