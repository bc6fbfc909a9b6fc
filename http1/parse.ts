/**
 * A strict HTTP/1.1 message head parser (RFC 9112 sections 2 to 6). What it does not accept
 * it rejects with the status a server should answer: 400 for malformed heads (obs-fold, bare
 * CR or LF, bytes outside the grammar, both Content-Length and Transfer-Encoding, differing
 * Content-Length values, no or several Host fields), 431 for too many fields, 501 for a
 * transfer coding other than chunked, 505 for an HTTP major version other than 1.
 *
 * @module
 */

/** A head that does not parse, with the status code a server answers it with. */
export class HttpParseError extends Error {
  /** The response status this error calls for (400, 431, 501, 505). */
  readonly status: number;

  /**
   * Makes the error.
   *
   * @param status The response status this error calls for (400, 431, 501, 505).
   * @param message What was wrong.
   */
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.name = "HttpParseError";
  }
}

/** How the body of a message is delimited (RFC 9112 section 6.3). */
export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** A parsed request head. */
export interface ParsedRequest {
  /** The method, e.g. `"GET"`. */
  method: string;
  /** The request target as sent. */
  target: string;
  /** The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0. */
  minor: number;
  /** Field names (lowercase) and values, alternating. */
  fields: string[];
  /** How the request body is delimited. */
  framing: BodyFraming;
  /** Whether the connection stays open after this exchange (RFC 9112 section 9.3). */
  keepAlive: boolean;
  /** Whether the client sent `Expect: 100-continue`. */
  expectContinue: boolean;
  /** The `Host` field value (empty if none, which is only allowed for HTTP/1.0). */
  host: string;
  /** The `Upgrade` field value, if the request asks for one (`Connection: upgrade`). */
  upgrade: string | null;
}

/** A parsed response head. */
export interface ParsedResponse {
  /** The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0. */
  minor: number;
  /** The status code. */
  status: number;
  /** The reason phrase (may be empty). */
  statusText: string;
  /** Field names (lowercase) and values, alternating. */
  fields: string[];
  /** Whether the server keeps the connection open after this response. */
  keepAlive: boolean;
}

/** Limits of the parser. */
export interface ParseLimits {
  /** The most header fields in one head (default 100). */
  maxHeaderCount?: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const TARGET = /^[\x21-\x7e]+$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;
const DIGITS = /^\d+$/;
// uri-host [ ":" port ] (RFC 9110 section 7.2): an IP literal or a reg-name / IPv4 address.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::\d*)?$/;
// authority-form (RFC 9112 section 3.2.3): uri-host ":" port, the host not empty.
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+):\d+$/;
// absolute-form (RFC 9112 section 3.2.2) with an authority, as an http or https URI has one
// (RFC 9110 section 4.2): a scheme, "//" and a host, without userinfo (section 4.2.4).
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.\-]*:\/\/[^/?#@]+(?:[/?#]|$)/;

const asciiDecoder = new TextDecoder();
/** The framing of a message without a body, shared (framings are never changed). */
const NO_BODY: BodyFraming = Object.freeze({ kind: "none" });

/** Decodes a head's bytes one byte to one character (latin1), fast when they are ASCII. */
export function decodeLatin1(bytes: Uint8Array): string {
  const s = asciiDecoder.decode(bytes);
  if (s.length === bytes.byteLength && !s.includes("\uFFFD")) return s;
  let out = "";
  for (let i = 0; i < bytes.byteLength; i += 4096) {
    out += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return out;
}

/** Splits a head (ending in CRLF CRLF) into its start line and field lines. */
function splitLines(head: string): string[] {
  // The head ends with CRLF CRLF; a bare CR or LF inside a line fails that line's grammar.
  return head.slice(0, head.length - 4).split("\r\n");
}

/**
 * Parses a trailer section (field lines ending in CRLF CRLF) with the same rules as a head.
 *
 * @param section The section's bytes.
 * @param limits Parser limits.
 * @returns Names (lowercase) and values, alternating.
 * @throws {HttpParseError} When a field is malformed.
 */
export function parseTrailerSection(section: Uint8Array, limits: ParseLimits = {}): string[] {
  return parseFields(["", ...splitLines(decodeLatin1(section))], limits);
}

function parseFields(lines: string[], limits: ParseLimits): string[] {
  const max = limits.maxHeaderCount ?? 100;
  if (lines.length - 1 > max) throw new HttpParseError(431, `more than ${max} header fields`);
  const fields: string[] = new Array((lines.length - 1) * 2);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) throw new HttpParseError(400, "obsolete line folding");
    const colon = line.indexOf(":");
    if (colon <= 0) throw new HttpParseError(400, "header line without a name and colon");
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HttpParseError(400, "invalid header field name");
    const value = trimOws(line, colon + 1);
    if (!FIELD_VALUE.test(value)) throw new HttpParseError(400, `invalid bytes in ${name} field`);
    fields[(i - 1) * 2] = name.toLowerCase();
    fields[(i - 1) * 2 + 1] = value;
  }
  return fields;
}

function trimOws(line: string, from: number): string {
  let start = from;
  let end = line.length;
  while (start < end && isOws(line.charCodeAt(start))) start++;
  while (end > start && isOws(line.charCodeAt(end - 1))) end--;
  return line.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

function parseVersion(text: string): number {
  if (text === "HTTP/1.1") return 1;
  if (text === "HTTP/1.0") return 0;
  const m = VERSION.exec(text);
  if (!m) throw new HttpParseError(400, "malformed HTTP version");
  if (m[1] !== "1") throw new HttpParseError(505, `HTTP/${m[1]}.${m[2]} is not supported`);
  return m[2] === "0" ? 0 : 1;
}

/**
 * Refuses a request-target in a form its method cannot have (RFC 9112 section 3.2): CONNECT
 * takes authority-form (`host:port`) only; `*` (asterisk-form) is for OPTIONS only; every
 * other target is origin-form (`/path`) or absolute-form with a host (`http://host/path`).
 */
function checkTargetForm(method: string, target: string): void {
  if (method === "CONNECT") {
    if (!AUTHORITY.test(target)) {
      throw new HttpParseError(400, "CONNECT without a host:port target");
    }
  } else if (target.charCodeAt(0) !== 47 /* / */) {
    if (target === "*") {
      if (method !== "OPTIONS") throw new HttpParseError(400, "a * target outside OPTIONS");
    } else if (!ABSOLUTE.test(target)) {
      throw new HttpParseError(
        400,
        "a request target of no form (neither /path nor scheme://host)",
      );
    }
  }
}

/** Reads the comma-separated list elements of every field line named `name`. */
function listValues(fields: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] !== name) continue;
    for (const part of fields[i + 1].split(",")) {
      const v = trimOws(part, 0);
      if (v) out.push(v.toLowerCase());
    }
  }
  return out;
}

/** The framing named by Transfer-Encoding and Content-Length; `null` when neither is present. */
function declaredFraming(fields: string[], isRequest: boolean): BodyFraming | null {
  let hasLength = false;
  let hasCoding = false;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === "content-length") hasLength = true;
    else if (fields[i] === "transfer-encoding") hasCoding = true;
  }
  if (hasCoding) {
    if (hasLength && isRequest) {
      throw new HttpParseError(400, "both Transfer-Encoding and Content-Length");
    }
    const codings = listValues(fields, "transfer-encoding");
    const final = codings.length > 0 && codings[codings.length - 1] === "chunked";
    // A response is chunked when that is its final coding (decoded once, should its sender
    // have applied it twice against RFC 9112 section 6.1), and read to close otherwise
    // (section 6.3).
    if (!isRequest) return { kind: final ? "chunked" : "close" };
    if (!final) throw new HttpParseError(400, "a request body whose final coding is not chunked");
    if (codings.indexOf("chunked") !== codings.length - 1) {
      throw new HttpParseError(400, "chunked applied more than once (RFC 9112 section 6.1)");
    }
    if (codings.length > 1) {
      throw new HttpParseError(501, `transfer coding ${codings[0]} is not implemented`);
    }
    return { kind: "chunked" };
  }
  if (!hasLength) return null;
  let length = -1;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] !== "content-length") continue;
    for (const part of fields[i + 1].split(",")) {
      const v = trimOws(part, 0);
      if (!DIGITS.test(v) || v.length > 15) throw new HttpParseError(400, "invalid Content-Length");
      const n = Number(v);
      if (length !== -1 && n !== length) {
        throw new HttpParseError(400, "conflicting Content-Length values");
      }
      length = n;
    }
  }
  if (length === -1) throw new HttpParseError(400, "empty Content-Length");
  return { kind: "length", length };
}

function keepAliveOf(fields: string[], minor: number): boolean {
  if (minor >= 1 && !fields.includes("connection")) return true;
  const options = listValues(fields, "connection");
  if (options.includes("close")) return false;
  return minor >= 1 || options.includes("keep-alive");
}

/**
 * Parses a request head: the request line and the header section, ending in CRLF CRLF.
 *
 * @param head The head's bytes, as {@linkcode BufferedReader.readHead} returns them.
 * @param limits Parser limits.
 * @returns The parsed head with its body framing.
 * @throws {HttpParseError} With the status to answer.
 *
 * @example
 * ```ts
 * import { parseRequestHead } from "./parse.ts";
 *
 * const head = new TextEncoder().encode("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
 * const req = parseRequestHead(head);
 * console.log(req.method, req.target, req.host); // GET /a x
 * ```
 */
export function parseRequestHead(head: Uint8Array, limits: ParseLimits = {}): ParsedRequest {
  const lines = splitLines(decodeLatin1(head));
  const line = lines[0];
  const sp1 = line.indexOf(" ");
  const sp2 = line.indexOf(" ", sp1 + 1);
  if (sp1 <= 0 || sp2 === -1 || line.indexOf(" ", sp2 + 1) !== -1) {
    throw new HttpParseError(400, "malformed request line");
  }
  const method = line.slice(0, sp1);
  const target = line.slice(sp1 + 1, sp2);
  if (!TOKEN.test(method)) throw new HttpParseError(400, "invalid method");
  if (!TARGET.test(target)) throw new HttpParseError(400, "invalid request target");
  const minor = parseVersion(line.slice(sp2 + 1));
  checkTargetForm(method, target);
  const fields = parseFields(lines, limits);

  let host = "";
  let hosts = 0;
  let expectContinue = false;
  let upgrade: string | null = null;
  for (let i = 0; i < fields.length; i += 2) {
    switch (fields[i]) {
      case "host":
        host = fields[i + 1];
        hosts++;
        break;
      case "expect":
        if (fields[i + 1].toLowerCase() === "100-continue") expectContinue = minor >= 1;
        break;
      case "upgrade":
        upgrade = fields[i + 1];
        break;
    }
  }
  if (hosts > 1) throw new HttpParseError(400, "more than one Host field");
  if (hosts === 0 && minor >= 1) throw new HttpParseError(400, "no Host field");
  if (hosts === 1 && !HOST.test(host)) throw new HttpParseError(400, "invalid Host field");
  // RFC 9110 section 7.8: a server ignores Upgrade in an HTTP/1.0 request.
  if (upgrade !== null && (minor === 0 || !listValues(fields, "connection").includes("upgrade"))) {
    upgrade = null;
  }

  const framing = declaredFraming(fields, true) ?? NO_BODY;
  if (minor === 0 && framing.kind === "chunked") {
    throw new HttpParseError(400, "Transfer-Encoding in an HTTP/1.0 request");
  }
  const body = framing.kind === "length" && framing.length === 0 ? NO_BODY : framing;
  return {
    method,
    target,
    minor,
    fields,
    framing: body,
    keepAlive: keepAliveOf(fields, minor),
    expectContinue: expectContinue && body.kind !== "none",
    host,
    upgrade,
  };
}

/**
 * Parses a response head: the status line and the header section, ending in CRLF CRLF.
 *
 * @param head The head's bytes.
 * @param limits Parser limits.
 * @returns The parsed head.
 * @throws {HttpParseError} When the head is malformed.
 *
 * @example
 * ```ts
 * import { parseResponseHead } from "./parse.ts";
 *
 * const res = parseResponseHead(new TextEncoder().encode("HTTP/1.1 204 No Content\r\n\r\n"));
 * console.log(res.status); // 204
 * ```
 */
export function parseResponseHead(head: Uint8Array, limits: ParseLimits = {}): ParsedResponse {
  const lines = splitLines(decodeLatin1(head));
  const line = lines[0];
  const sp1 = line.indexOf(" ");
  if (sp1 <= 0) throw new HttpParseError(400, "malformed status line");
  const minor = parseVersion(line.slice(0, sp1));
  const code = line.slice(sp1 + 1, sp1 + 4);
  const after = line.charCodeAt(sp1 + 4);
  // Three digits (RFC 9112 section 4); below 100 is no status at all (RFC 9110 section 15),
  // and taking it for an interim 1xx would skip it.
  if (!/^[1-9]\d\d$/.test(code) || !(Number.isNaN(after) || after === 32)) {
    throw new HttpParseError(400, "malformed status code");
  }
  const statusText = line.slice(sp1 + 5);
  if (!FIELD_VALUE.test(statusText)) throw new HttpParseError(400, "invalid reason phrase");
  const fields = parseFields(lines, limits);
  return { minor, status: Number(code), statusText, fields, keepAlive: keepAliveOf(fields, minor) };
}

/**
 * How a response body is delimited, given the request method (RFC 9112 section 6.3).
 *
 * @param response The parsed response head.
 * @param method The request's method.
 * @returns The framing.
 * @throws {HttpParseError} On an invalid Content-Length.
 *
 * @example
 * ```ts
 * import { parseResponseHead, responseFraming } from "./parse.ts";
 *
 * const res = parseResponseHead(new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"));
 * console.log(responseFraming(res, "HEAD")); // { kind: "none" }
 * ```
 */
export function responseFraming(response: ParsedResponse, method: string): BodyFraming {
  const { status } = response;
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) {
    return { kind: "none" };
  }
  if (method === "CONNECT" && status < 300) return { kind: "close" };
  if (response.minor === 0 && response.fields.includes("transfer-encoding")) {
    // RFC 9112 section 6.1: its framing is to be taken as faulty (no HTTP/1.0 server chunks).
    throw new HttpParseError(400, "Transfer-Encoding in an HTTP/1.0 response");
  }
  const framing = declaredFraming(response.fields, false);
  if (framing === null) return { kind: "close" };
  if (framing.kind === "length" && framing.length === 0) return { kind: "none" };
  return framing;
}

/**
 * Builds a `Headers` from alternating names and values.
 *
 * @param fields Names and values, alternating.
 * @param headers Where to append them (default: a new `Headers`).
 * @returns The headers.
 *
 * @example
 * ```ts
 * import { toHeaders } from "./parse.ts";
 *
 * console.log(toHeaders(["a", "1", "a", "2"]).get("a")); // "1, 2"
 * ```
 */
export function toHeaders(fields: readonly string[], headers: Headers = new Headers()): Headers {
  for (let i = 0; i < fields.length; i += 2) headers.append(fields[i], fields[i + 1]);
  return headers;
}
