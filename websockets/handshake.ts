/**
 * The opening handshake's rules (RFC 6455 section 4) as pure helpers: the accept key, the
 * client's request headers and its check of the response, the server's check of the
 * request and its 101 response headers. No networking here.
 *
 * @example Both sides, without a network
 * ```ts
 * import {
 *   acceptHeaders,
 *   clientRequestHeaders,
 *   generateKey,
 *   validateRequest,
 *   validateResponse,
 * } from "./handshake.ts";
 *
 * const key = generateKey();
 * const request = clientRequestHeaders(key, { protocols: ["chat"], deflate: {} });
 * request.set("host", "example.com");
 * const accepted = validateRequest("GET", request, { protocols: ["chat"], deflate: {} });
 * if (!accepted.ok) throw new Error(accepted.reason);
 * const response = await acceptHeaders(accepted);
 * const result = await validateResponse(101, response, key, ["chat"], {});
 * console.log(result.protocol, result.deflate !== null); // "chat" true
 * ```
 *
 * @module
 */

import { WebSocketError } from "./errors.ts";
import {
  acceptDeflate,
  type DeflateOptions,
  type DeflateParams,
  isToken,
  negotiateDeflate,
  offerDeflate,
} from "./permessage_deflate.ts";

/** The GUID of RFC 6455 section 1.3, appended to the key before hashing. */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

const encoder = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

/**
 * The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
 *
 * @param key The client's key.
 * @returns The accept value.
 *
 * @example
 * ```ts
 * import { acceptKey } from "./handshake.ts";
 * console.log(await acceptKey("dGhlIHNhbXBsZSBub25jZQ==")); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + WEBSOCKET_GUID));
  return base64(new Uint8Array(digest));
}

/**
 * A fresh `Sec-WebSocket-Key`: 16 random bytes, base64.
 *
 * @returns The key.
 *
 * @example
 * ```ts
 * import { generateKey } from "./handshake.ts";
 * console.log(generateKey().length); // 24
 * ```
 */
export function generateKey(): string {
  return base64(crypto.getRandomValues(new Uint8Array(16)));
}

/** A key is base64 of 16 bytes: 22 characters and "==". */
const KEY_RE = /^[A-Za-z0-9+/]{22}==$/;

/** The comma-separated elements of a header value, trimmed, empty ones dropped. */
function list(value: string | null): string[] {
  if (value === null) return [];
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function hasToken(value: string | null, token: string): boolean {
  return list(value).some((s) => s.toLowerCase() === token);
}

// ---------------------------------------------------------------------------------------
// Client side

/** What a client offers in its handshake. */
export interface ClientHandshakeOptions {
  /** Subprotocols to offer, most preferred first (`Sec-WebSocket-Protocol`). */
  protocols?: string[];
  /** Offer permessage-deflate with these options (`true` for the defaults). */
  deflate?: boolean | DeflateOptions | null;
}

/**
 * The WebSocket headers of a client's upgrade request: `Upgrade`, `Connection`,
 * `Sec-WebSocket-Key`, `Sec-WebSocket-Version` and, when asked for,
 * `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`. The caller adds `Host` and
 * anything else.
 *
 * @param key The key from {@linkcode generateKey}.
 * @param options Subprotocols and compression to offer.
 * @returns The headers.
 * @throws {TypeError} If a subprotocol is not a token or is repeated.
 */
export function clientRequestHeaders(key: string, options: ClientHandshakeOptions = {}): Headers {
  const headers = new Headers({
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": key,
    "sec-websocket-version": "13",
  });
  const protocols = options.protocols ?? [];
  const seen = new Set<string>();
  for (const p of protocols) {
    if (!isToken(p)) throw new TypeError(`Invalid subprotocol ${JSON.stringify(p)}`);
    if (seen.has(p)) throw new TypeError(`Subprotocol ${p} offered twice`);
    seen.add(p);
  }
  if (protocols.length > 0) headers.set("sec-websocket-protocol", protocols.join(", "));
  const deflate = deflateOptions(options.deflate);
  if (deflate !== null) headers.set("sec-websocket-extensions", offerDeflate(deflate));
  return headers;
}

function deflateOptions(d: boolean | DeflateOptions | null | undefined): DeflateOptions | null {
  if (d === true) return {};
  if (d === false || d === null || d === undefined) return null;
  return d;
}

/** What a successful handshake settled, as a client sees it. */
export interface HandshakeResult {
  /** The subprotocol the server chose, or `null`. */
  protocol: string | null;
  /** The permessage-deflate parameters, or `null` without compression. */
  deflate: DeflateParams | null;
  /** The server's `Sec-WebSocket-Extensions` value, or `""`. */
  extensions: string;
}

/**
 * Checks a server's answer to a client's upgrade request (RFC 6455 section 4.1): status
 * 101, `Upgrade: websocket`, `Connection: Upgrade`, the right `Sec-WebSocket-Accept`, a
 * subprotocol among those offered, and only offered extensions with acceptable parameters.
 *
 * @param status The response status.
 * @param headers The response headers.
 * @param key The key the request was sent with.
 * @param offeredProtocols The subprotocols offered.
 * @param offeredDeflate The permessage-deflate options offered, or `null`/`false` if none.
 * @returns What was agreed.
 * @throws {WebSocketError} Code 1002 for a failed handshake, 1010 for a bad extension answer.
 */
export async function validateResponse(
  status: number,
  headers: Headers,
  key: string,
  offeredProtocols: string[] = [],
  offeredDeflate: boolean | DeflateOptions | null = null,
): Promise<HandshakeResult> {
  const fail = (why: string): never => {
    throw new WebSocketError(1002, `handshake failed: ${why}`);
  };
  if (status !== 101) fail(`expected status 101, got ${status}`);
  if (headers.get("upgrade")?.trim().toLowerCase() !== "websocket") {
    fail("the response's Upgrade header is not websocket");
  }
  if (!hasToken(headers.get("connection"), "upgrade")) {
    fail("the response's Connection header lacks Upgrade");
  }
  if (headers.get("sec-websocket-accept")?.trim() !== await acceptKey(key)) {
    fail("wrong Sec-WebSocket-Accept");
  }
  let protocol: string | null = null;
  const chosen = headers.get("sec-websocket-protocol");
  if (chosen !== null) {
    protocol = chosen.trim();
    if (!offeredProtocols.includes(protocol)) {
      fail(`the server chose subprotocol ${JSON.stringify(protocol)}, which was not offered`);
    }
  }
  const extensions = headers.get("sec-websocket-extensions");
  const deflate = acceptDeflate(extensions, deflateOptions(offeredDeflate));
  return { protocol, deflate, extensions: deflate === null ? "" : extensions!.trim() };
}

// ---------------------------------------------------------------------------------------
// Server side

/** What a server accepts. */
export interface ServerHandshakeOptions {
  /**
   * The subprotocols this server speaks: the first of the client's offers found in the
   * list is chosen. Or a function given the client's offers that returns the choice.
   */
  protocols?: string[] | ((offered: string[]) => string | null | undefined);
  /** Accept permessage-deflate with these options (`true` for the defaults). */
  deflate?: boolean | DeflateOptions | null;
}

/** A request the server accepts. */
export interface AcceptedRequest {
  /** Always `true`. */
  ok: true;
  /** The client's `Sec-WebSocket-Key`. */
  key: string;
  /** The subprotocol chosen, or `null`. */
  protocol: string | null;
  /** The permessage-deflate parameters, or `null` without compression. */
  deflate: DeflateParams | null;
  /** The `Sec-WebSocket-Extensions` value to answer with, or `""`. */
  extensions: string;
}

/** A request the server refuses, with the response to send. */
export interface RejectedRequest {
  /** Always `false`. */
  ok: false;
  /** 400 for a malformed upgrade, 426 for an unsupported version. */
  status: 400 | 426;
  /** What was wrong. */
  reason: string;
  /** Headers for the error response (`Sec-WebSocket-Version: 13` with 426). */
  headers: Headers;
}

/**
 * Checks a client's upgrade request (RFC 6455 section 4.2.1) and picks the subprotocol and
 * compression (RFC 6455 4.2.2, RFC 7692 section 5).
 *
 * @param method The request method (must be GET).
 * @param headers The request headers.
 * @param options What the server accepts.
 * @returns The accepted parameters, or the status to refuse with.
 *
 * @example
 * ```ts
 * import { validateRequest } from "./handshake.ts";
 * const result = validateRequest("GET", new Headers({
 *   host: "example.com",
 *   upgrade: "websocket",
 *   connection: "keep-alive, Upgrade",
 *   "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
 *   "sec-websocket-version": "12",
 * }));
 * console.log(result.ok ? "accepted" : result.status); // 426
 * ```
 */
export function validateRequest(
  method: string,
  headers: Headers,
  options: ServerHandshakeOptions = {},
): AcceptedRequest | RejectedRequest {
  const reject = (status: 400 | 426, reason: string): RejectedRequest => {
    const h = new Headers();
    if (status === 426) h.set("sec-websocket-version", "13");
    return { ok: false, status, reason, headers: h };
  };
  if (method !== "GET") return reject(400, `a WebSocket upgrade must be GET, not ${method}`);
  if (headers.get("host") === null) return reject(400, "missing Host header");
  if (!hasToken(headers.get("upgrade"), "websocket")) {
    return reject(400, "the Upgrade header lacks websocket");
  }
  if (!hasToken(headers.get("connection"), "upgrade")) {
    return reject(400, "the Connection header lacks Upgrade");
  }
  const key = headers.get("sec-websocket-key")?.trim() ?? "";
  if (!KEY_RE.test(key)) return reject(400, "missing or invalid Sec-WebSocket-Key");
  const version = headers.get("sec-websocket-version");
  if (version === null) return reject(400, "missing Sec-WebSocket-Version");
  if (version.trim() !== "13") {
    return reject(426, `unsupported Sec-WebSocket-Version ${JSON.stringify(version)}`);
  }

  let protocol: string | null = null;
  const offered = list(headers.get("sec-websocket-protocol"));
  if (offered.some((p) => !isToken(p))) return reject(400, "invalid Sec-WebSocket-Protocol");
  if (offered.length > 0 && options.protocols !== undefined) {
    if (typeof options.protocols === "function") {
      protocol = options.protocols(offered) ?? null;
      if (protocol !== null && !offered.includes(protocol)) {
        throw new TypeError(`the chosen subprotocol ${protocol} was not offered`);
      }
    } else {
      const ours = options.protocols;
      protocol = offered.find((p) => ours.includes(p)) ?? null;
    }
  }

  let deflate: DeflateParams | null = null;
  let extensions = "";
  const deflateOpts = deflateOptions(options.deflate);
  const offers = headers.get("sec-websocket-extensions");
  if (deflateOpts !== null && offers !== null) {
    try {
      const chosen = negotiateDeflate(offers, deflateOpts);
      if (chosen !== null) {
        deflate = chosen.params;
        extensions = chosen.response;
      }
    } catch (err) {
      if (err instanceof SyntaxError) return reject(400, err.message);
      throw err;
    }
  }
  return { ok: true, key, protocol, deflate, extensions };
}

/**
 * The headers of the server's `101 Switching Protocols` answer to an accepted request.
 *
 * @param accepted The result of {@linkcode validateRequest}.
 * @returns `Upgrade`, `Connection`, `Sec-WebSocket-Accept` and, as chosen,
 * `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`.
 */
export async function acceptHeaders(accepted: AcceptedRequest): Promise<Headers> {
  const headers = new Headers({
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-accept": await acceptKey(accepted.key),
  });
  if (accepted.protocol !== null) headers.set("sec-websocket-protocol", accepted.protocol);
  if (accepted.extensions !== "") headers.set("sec-websocket-extensions", accepted.extensions);
  return headers;
}
