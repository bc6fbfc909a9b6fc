/**
 * permessage-deflate (RFC 7692) negotiation: parsing and formatting the
 * `Sec-WebSocket-Extensions` header (RFC 6455 section 9.1), the client's offer and its
 * check of the server's answer, and the server's choice among the client's offers.
 * Pure functions; the compression itself lives in the WebSocket.
 *
 * What this end can honour, and so accepts:
 * - any `server_max_window_bits` / `client_max_window_bits` from 8 to 15: this end
 *   decompresses with a 32 KiB window, which reads streams made with any smaller window,
 *   and it compresses with the negotiated window (windows 9-14 through `node:zlib`); for a
 *   window of 8 bits, which zlib cannot produce for raw deflate, it sends its messages
 *   uncompressed, which RFC 7692 always allows;
 * - `server_no_context_takeover` / `client_no_context_takeover` for its own direction:
 *   it never needs the previous message's window to compress;
 * - a peer that uses context takeover (the default of browsers, ws and python websockets).
 *
 * @example Server side
 * ```ts
 * import { negotiateDeflate } from "./permessage_deflate.ts";
 *
 * const result = negotiateDeflate("permessage-deflate; client_max_window_bits");
 * console.log(result?.response); // "permessage-deflate"
 * ```
 *
 * @module
 */

import { WebSocketError } from "./errors.ts";

/** One element of a `Sec-WebSocket-Extensions` header: a name and its parameters in order. */
export interface Extension {
  /** The extension token, e.g. `"permessage-deflate"`. */
  name: string;
  /** The parameters in header order: a value, or `true` for a parameter without one. */
  params: [name: string, value: string | true][];
}

/** The parameters a permessage-deflate negotiation settled on. */
export interface DeflateParams {
  /** The server compresses each message on its own (no LZ77 window kept across messages). */
  serverNoContextTakeover: boolean;
  /** The client compresses each message on its own. */
  clientNoContextTakeover: boolean;
  /** The largest LZ77 window (as log2 of bytes, 8-15) the server compresses with. */
  serverMaxWindowBits: number;
  /** The largest LZ77 window (as log2 of bytes, 8-15) the client compresses with. */
  clientMaxWindowBits: number;
}

/** How this end offers (client) or accepts (server) permessage-deflate. */
export interface DeflateOptions {
  /**
   * Messages shorter than this many bytes are sent uncompressed (default 1024, as ws does:
   * below about a kilobyte the deflate framing costs more than it saves). Messages sent
   * as an iterable of fragments are compressed whatever their size. Not negotiated.
   */
  threshold?: number;
  /**
   * Client: ask the server not to use context takeover. Server: tell the client this server
   * does not use it (this end never needs it). Default `false`.
   */
  serverNoContextTakeover?: boolean;
  /**
   * Client: tell the server this client does not use context takeover. Server: require the
   * client not to use it (saves the server a window per connection). Default `false`.
   */
  clientNoContextTakeover?: boolean;
  /** Client: ask the server to compress with at most this window (8-15). Server: use at most this window. */
  serverMaxWindowBits?: number;
  /** Client: offer to compress with at most this window (8-15). Server: ask the client for at most this window, if the client allows it. */
  clientMaxWindowBits?: number;
}

/** The result of a server's negotiation. */
export interface DeflateNegotiation {
  /** The parameters both ends now use. */
  params: DeflateParams;
  /** The `Sec-WebSocket-Extensions` value to answer with. */
  response: string;
}

const EXTENSION_NAME = "permessage-deflate";

// ---------------------------------------------------------------------------------------
// Header grammar (RFC 6455 section 9.1, RFC 9110 lists)

const TOKEN_CHARS = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN_CHARS[c.charCodeAt(0)] = 1;
}

/**
 * Whether `s` is an HTTP token (RFC 9110 section 5.6.2).
 *
 * @param s The string to check.
 * @returns `true` if `s` is a non-empty token.
 */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}

class Scanner {
  i = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string {
    return this.s[this.i];
  }
  skipSpace(): void {
    while (this.i < this.s.length && (this.s[this.i] === " " || this.s[this.i] === "\t")) this.i++;
  }
  token(): string {
    const start = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c >= 128 || TOKEN_CHARS[c] === 0) break;
      this.i++;
    }
    if (this.i === start) this.fail("expected a token");
    return this.s.slice(start, this.i);
  }
  quoted(): string {
    this.i++; // opening quote
    let out = "";
    while (this.i < this.s.length) {
      const c = this.s[this.i++];
      if (c === '"') return out;
      if (c === "\\") {
        if (this.i >= this.s.length) break;
        out += this.s[this.i++];
      } else {
        out += c;
      }
    }
    return this.fail("unterminated quoted string");
  }
  fail(what: string): never {
    throw new SyntaxError(`Invalid Sec-WebSocket-Extensions at ${this.i}: ${what}`);
  }
}

/**
 * Parses a `Sec-WebSocket-Extensions` header value (several header lines joined with
 * commas, as `Headers.get` does). Empty list elements are skipped; a quoted parameter
 * value must unquote to a token (RFC 6455 section 9.1).
 *
 * @param value The header value.
 * @returns The extensions in order.
 * @throws {SyntaxError} If the value does not follow the grammar.
 *
 * @example
 * ```ts
 * import { parseExtensions } from "./permessage_deflate.ts";
 * console.log(parseExtensions('permessage-deflate; client_max_window_bits="10", x'));
 * // [ { name: "permessage-deflate", params: [ [ "client_max_window_bits", "10" ] ] }, { name: "x", params: [] } ]
 * ```
 */
export function parseExtensions(value: string): Extension[] {
  const sc = new Scanner(value);
  const out: Extension[] = [];
  for (;;) {
    sc.skipSpace();
    if (sc.done) break;
    if (sc.peek() === ",") {
      sc.i++;
      continue;
    }
    const ext: Extension = { name: sc.token(), params: [] };
    sc.skipSpace();
    while (!sc.done && sc.peek() === ";") {
      sc.i++;
      sc.skipSpace();
      const name = sc.token();
      sc.skipSpace();
      let v: string | true = true;
      if (!sc.done && sc.peek() === "=") {
        sc.i++;
        sc.skipSpace();
        if (!sc.done && sc.peek() === '"') {
          v = sc.quoted();
          if (!isToken(v)) sc.fail("a quoted value must be a token");
        } else {
          v = sc.token();
        }
        sc.skipSpace();
      }
      ext.params.push([name, v]);
    }
    out.push(ext);
    if (sc.done) break;
    if (sc.peek() !== ",") sc.fail("expected ',' or ';'");
    sc.i++;
  }
  return out;
}

/**
 * Formats extensions as a `Sec-WebSocket-Extensions` value.
 *
 * @param extensions The extensions, in order.
 * @returns The header value.
 *
 * @example
 * ```ts
 * import { formatExtensions } from "./permessage_deflate.ts";
 * console.log(formatExtensions([{ name: "permessage-deflate", params: [["server_max_window_bits", "10"]] }]));
 * // "permessage-deflate; server_max_window_bits=10"
 * ```
 */
export function formatExtensions(extensions: Extension[]): string {
  return extensions.map((e) =>
    [e.name, ...e.params.map(([k, v]) => (v === true ? k : `${k}=${v}`))].join("; ")
  ).join(", ");
}

// ---------------------------------------------------------------------------------------
// Parameter checks (RFC 7692 section 7.1)

/** A window-bits value: a decimal integer 8-15 without leading zeros. */
function windowBits(v: string | true): number | null {
  if (v === true || !/^(?:[89]|1[0-5])$/.test(v)) return null;
  return Number(v);
}

function checkBitsOption(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 8 && v <= 15)) {
    throw new RangeError(`${name} must be an integer from 8 to 15, got ${v}`);
  }
}

interface ParsedOffer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** The value, or null when absent. */
  serverMaxWindowBits: number | null;
  /** The value, `true` when present without a value, null when absent. */
  clientMaxWindowBits: number | true | null;
}

/** Reads an offer's parameters; `null` if the offer must be declined (RFC 7692 section 5). */
function readOffer(params: Extension["params"]): ParsedOffer | null {
  const offer: ParsedOffer = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: null,
    clientMaxWindowBits: null,
  };
  const seen = new Set<string>();
  for (const [rawName, v] of params) {
    const name = rawName.toLowerCase();
    if (seen.has(name)) return null; // duplicate parameter
    seen.add(name);
    switch (name) {
      case "server_no_context_takeover":
        if (v !== true) return null;
        offer.serverNoContextTakeover = true;
        break;
      case "client_no_context_takeover":
        if (v !== true) return null;
        offer.clientNoContextTakeover = true;
        break;
      case "server_max_window_bits": {
        const bits = windowBits(v); // a value is required in an offer
        if (bits === null) return null;
        offer.serverMaxWindowBits = bits;
        break;
      }
      case "client_max_window_bits": {
        if (v === true) {
          offer.clientMaxWindowBits = true;
        } else {
          const bits = windowBits(v);
          if (bits === null) return null;
          offer.clientMaxWindowBits = bits;
        }
        break;
      }
      default:
        return null; // unknown parameter
    }
  }
  return offer;
}

// ---------------------------------------------------------------------------------------
// Client side

/**
 * The `Sec-WebSocket-Extensions` value a client sends to offer permessage-deflate. It
 * always includes `client_max_window_bits` (with the configured value, or none) so a
 * server may ask for a smaller client window, which this end can always honour.
 *
 * @param options What to ask of the server and promise about the client.
 * @returns The header value.
 * @throws {RangeError} If a window-bits option is not 8-15.
 *
 * @example
 * ```ts
 * import { offerDeflate } from "./permessage_deflate.ts";
 * console.log(offerDeflate()); // "permessage-deflate; client_max_window_bits"
 * console.log(offerDeflate({ serverNoContextTakeover: true, serverMaxWindowBits: 10 }));
 * // "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits"
 * ```
 */
export function offerDeflate(options: DeflateOptions = {}): string {
  checkBitsOption("serverMaxWindowBits", options.serverMaxWindowBits);
  checkBitsOption("clientMaxWindowBits", options.clientMaxWindowBits);
  const params: Extension["params"] = [];
  if (options.serverNoContextTakeover) params.push(["server_no_context_takeover", true]);
  if (options.clientNoContextTakeover) params.push(["client_no_context_takeover", true]);
  if (options.serverMaxWindowBits !== undefined) {
    params.push(["server_max_window_bits", String(options.serverMaxWindowBits)]);
  }
  params.push([
    "client_max_window_bits",
    options.clientMaxWindowBits === undefined ? true : String(options.clientMaxWindowBits),
  ]);
  return formatExtensions([{ name: EXTENSION_NAME, params }]);
}

/**
 * Checks a server's `Sec-WebSocket-Extensions` answer to {@linkcode offerDeflate} (RFC 7692
 * section 7.1 and RFC 6455 section 4.1): the client must fail the connection if the server
 * accepted with an extension that was not offered, an unknown or repeated parameter, a bad
 * value, or parameters that contradict the offer.
 *
 * @param response The header value from the response, or `null` when absent.
 * @param options The options the offer was made with; `null` if nothing was offered.
 * @returns The agreed parameters, or `null` if the server declined compression.
 * @throws {WebSocketError} With code 1010 if the response is not acceptable.
 *
 * @example
 * ```ts
 * import { acceptDeflate } from "./permessage_deflate.ts";
 * const params = acceptDeflate("permessage-deflate; client_max_window_bits=10", {});
 * console.log(params?.clientMaxWindowBits); // 10
 * ```
 */
export function acceptDeflate(
  response: string | null,
  options: DeflateOptions | null,
): DeflateParams | null {
  if (response === null || response.trim() === "") return null;
  const fail = (why: string): never => {
    throw new WebSocketError(1010, `bad Sec-WebSocket-Extensions response: ${why}`);
  };
  let extensions: Extension[];
  try {
    extensions = parseExtensions(response);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (extensions.length === 0) return null;
  if (options === null) return fail("no extension was offered");
  if (extensions.length > 1) return fail("more than one extension in the response");
  const ext = extensions[0];
  if (ext.name.toLowerCase() !== EXTENSION_NAME) return fail(`${ext.name} was not offered`);

  const params: DeflateParams = {
    serverNoContextTakeover: false,
    // Once offered, it binds the client whether or not the server's answer repeats it
    // (RFC 7692 section 7.1.1.2).
    clientNoContextTakeover: !!options.clientNoContextTakeover,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: options.clientMaxWindowBits ?? 15,
  };
  const seen = new Set<string>();
  for (const [rawName, v] of ext.params) {
    const name = rawName.toLowerCase();
    if (seen.has(name)) return fail(`${name} repeated`);
    seen.add(name);
    switch (name) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        if (v !== true) return fail(`${name} takes no value`);
        if (name === "server_no_context_takeover") params.serverNoContextTakeover = true;
        else params.clientNoContextTakeover = true;
        break;
      case "server_max_window_bits": {
        const bits = windowBits(v);
        if (bits === null) return fail(`bad ${name} value`);
        if (options.serverMaxWindowBits !== undefined && bits > options.serverMaxWindowBits) {
          return fail(`${name}=${bits} is above the offered ${options.serverMaxWindowBits}`);
        }
        params.serverMaxWindowBits = bits;
        break;
      }
      case "client_max_window_bits": {
        const bits = windowBits(v); // a value is required in a response
        if (bits === null) return fail(`bad ${name} value`);
        if (options.clientMaxWindowBits !== undefined && bits > options.clientMaxWindowBits) {
          return fail(`${name}=${bits} is above the offered ${options.clientMaxWindowBits}`);
        }
        params.clientMaxWindowBits = bits;
        break;
      }
      default:
        return fail(`unknown parameter ${name}`);
    }
  }
  // A server accepts these offered parameters only by echoing them (RFC 7692 7.1.1.1, 7.1.2.1).
  if (options.serverNoContextTakeover && !params.serverNoContextTakeover) {
    return fail("server_no_context_takeover was offered but not accepted");
  }
  if (options.serverMaxWindowBits !== undefined && !seen.has("server_max_window_bits")) {
    return fail("server_max_window_bits was offered but not accepted");
  }
  return params;
}

// ---------------------------------------------------------------------------------------
// Server side

/**
 * Chooses among a client's permessage-deflate offers (RFC 7692 sections 5 and 7.1): offers
 * with an unknown, repeated or ill-valued parameter are declined, and the first offer left
 * is accepted. Other extensions in the header are ignored (not accepted).
 *
 * @param offers The request's `Sec-WebSocket-Extensions` value (or already parsed), or `null`.
 * @param options What this server wants.
 * @returns The parameters and the response header value, or `null` when no offer is acceptable.
 * @throws {SyntaxError} If the header value is malformed (answer 400).
 * @throws {RangeError} If a window-bits option is not 8-15.
 *
 * @example
 * ```ts
 * import { negotiateDeflate } from "./permessage_deflate.ts";
 * const r = negotiateDeflate("permessage-deflate; server_max_window_bits=10; client_max_window_bits");
 * console.log(r?.response); // "permessage-deflate; server_max_window_bits=10"
 * ```
 */
export function negotiateDeflate(
  offers: string | Extension[] | null,
  options: DeflateOptions = {},
): DeflateNegotiation | null {
  checkBitsOption("serverMaxWindowBits", options.serverMaxWindowBits);
  checkBitsOption("clientMaxWindowBits", options.clientMaxWindowBits);
  if (offers === null) return null;
  const list = typeof offers === "string" ? parseExtensions(offers) : offers;
  for (const ext of list) {
    if (ext.name.toLowerCase() !== EXTENSION_NAME) continue;
    const offer = readOffer(ext.params);
    if (offer === null) continue;
    return accept(offer, options);
  }
  return null;
}

function accept(offer: ParsedOffer, options: DeflateOptions): DeflateNegotiation {
  const params: DeflateParams = {
    serverNoContextTakeover: offer.serverNoContextTakeover || !!options.serverNoContextTakeover,
    // The client said it will not use context takeover: agreeing costs nothing and lets
    // this end inflate each message on its own.
    clientNoContextTakeover: offer.clientNoContextTakeover || !!options.clientNoContextTakeover,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  };
  const out: Extension["params"] = [];
  if (params.serverNoContextTakeover) out.push(["server_no_context_takeover", true]);
  if (params.clientNoContextTakeover) out.push(["client_no_context_takeover", true]);
  const ownServerBits = options.serverMaxWindowBits ?? 15;
  if (offer.serverMaxWindowBits !== null || ownServerBits < 15) {
    params.serverMaxWindowBits = Math.min(offer.serverMaxWindowBits ?? 15, ownServerBits);
    out.push(["server_max_window_bits", String(params.serverMaxWindowBits)]);
  }
  const wantClientBits = options.clientMaxWindowBits ?? 15;
  if (offer.clientMaxWindowBits !== null) {
    const offered = offer.clientMaxWindowBits === true ? 15 : offer.clientMaxWindowBits;
    params.clientMaxWindowBits = Math.min(offered, wantClientBits);
    if (wantClientBits < 15) {
      out.push(["client_max_window_bits", String(params.clientMaxWindowBits)]);
    }
  }
  return { params, response: formatExtensions([{ name: EXTENSION_NAME, params: out }]) };
}

/**
 * The `Sec-WebSocket-Extensions` value that describes negotiated parameters, as a server
 * would answer with them.
 *
 * @param params The negotiated parameters.
 * @returns The header value.
 */
export function formatDeflateParams(params: DeflateParams): string {
  const out: Extension["params"] = [];
  if (params.serverNoContextTakeover) out.push(["server_no_context_takeover", true]);
  if (params.clientNoContextTakeover) out.push(["client_no_context_takeover", true]);
  if (params.serverMaxWindowBits < 15) {
    out.push(["server_max_window_bits", String(params.serverMaxWindowBits)]);
  }
  if (params.clientMaxWindowBits < 15) {
    out.push(["client_max_window_bits", String(params.clientMaxWindowBits)]);
  }
  return formatExtensions([{ name: EXTENSION_NAME, params: out }]);
}
