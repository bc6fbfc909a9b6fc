/**
 * Field-list rules of HTTP/2 (RFC 9113 section 8.2, 8.3): validating what the peer sent
 * (requests, responses, trailers) and building what we send from `HeadersInit`.
 *
 * A malformed message is a stream error of type PROTOCOL_ERROR; the functions here return
 * the reason as a string and leave the reset to the caller.
 *
 * @module
 */

import { eachHeader } from "../../http1/_fields.ts";

/** Header fields that are connection-specific in HTTP/1.1 and forbidden in HTTP/2. */
export const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

const NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const BAD_VALUE = /[\0\r\n]|^[ \t]|[ \t]$/;
const BAD_VALUE_CHARS = /[\0\r\n]/;
const STATUS = /^[1-5][0-9][0-9]$/;
const DIGITS = /^[0-9]+$/;

/** A validated request head. */
export interface RequestParts {
  method: string;
  /** `:scheme` (empty for CONNECT). */
  scheme: string;
  /** `:authority`, or the `host` header, or empty. */
  authority: string;
  /** `:path` (for CONNECT: the authority). */
  path: string;
  /** The regular fields, `cookie` crumbs joined. */
  fields: [string, string][];
  /** The declared `content-length`, or -1. */
  contentLength: number;
}

/** A validated response head. */
export interface ResponseParts {
  status: number;
  /** The regular fields. */
  fields: [string, string][];
  /** The declared `content-length`, or -1. */
  contentLength: number;
}

/**
 * Checks one regular field received from the peer.
 *
 * @param name The name.
 * @param value The value.
 * @returns A reason when malformed, else `null`.
 */
function checkRegular(name: string, value: string): string | null {
  if (!NAME.test(name)) {
    return name.length === 0
      ? "empty field name"
      : `invalid field name ${JSON.stringify(name)} (uppercase or not a token)`;
  }
  if (BAD_VALUE.test(value)) return `invalid value of field ${name}`;
  if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
  if (name === "te" && value !== "trailers") return `te: ${value} (only "trailers" is allowed)`;
  return null;
}

function parseContentLength(value: string, current: number): number | string {
  if (!DIGITS.test(value)) return `invalid content-length ${JSON.stringify(value)}`;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) return "content-length too large";
  if (current >= 0 && current !== n) return "conflicting content-length values";
  return n;
}

/**
 * Validates a request's field list (RFC 9113 section 8.3.1).
 *
 * @param list The decoded fields, in order.
 * @returns The request parts, or the reason it is malformed.
 */
export function parseRequest(list: [string, string][]): RequestParts | string {
  let method: string | null = null;
  let scheme: string | null = null;
  let authority: string | null = null;
  let path: string | null = null;
  let host: string | null = null;
  let cookie: string | null = null;
  let contentLength = -1;
  let regular = false;
  const fields: [string, string][] = [];
  for (let i = 0; i < list.length; i++) {
    const f = list[i];
    const name = f[0];
    const value = f[1];
    if (name.charCodeAt(0) === 58 /* : */) {
      if (regular) return `pseudo-header ${name} after regular fields`;
      switch (name) {
        case ":method":
          if (method !== null) return "duplicate :method";
          method = value;
          break;
        case ":scheme":
          if (scheme !== null) return "duplicate :scheme";
          scheme = value;
          break;
        case ":authority":
          if (authority !== null) return "duplicate :authority";
          authority = value;
          break;
        case ":path":
          if (path !== null) return "duplicate :path";
          path = value;
          break;
        default:
          return `unknown or misplaced pseudo-header ${name}`;
      }
      if (BAD_VALUE_CHARS.test(value)) return `invalid value of ${name}`;
      continue;
    }
    regular = true;
    const bad = checkRegular(name, value);
    if (bad !== null) return bad;
    if (name === "cookie") {
      cookie = cookie === null ? value : `${cookie}; ${value}`;
      continue;
    }
    if (name === "content-length") {
      const n = parseContentLength(value, contentLength);
      if (typeof n === "string") return n;
      contentLength = n;
    } else if (name === "host") {
      if (host !== null) return "duplicate host";
      host = value;
    }
    fields.push([name, value]);
  }
  if (method === null || method.length === 0 || !NAME.test(method.toLowerCase())) {
    return method === null ? "missing :method" : "invalid :method";
  }
  if (method === "CONNECT") {
    if (scheme !== null || path !== null) return "CONNECT with :scheme or :path";
    if (authority === null || authority.length === 0) return "CONNECT without :authority";
    if (cookie !== null) fields.push(["cookie", cookie]);
    return { method, scheme: "", authority, path: authority, fields, contentLength };
  }
  if (scheme === null || scheme.length === 0) return "missing :scheme";
  if (path === null || path.length === 0) return "missing or empty :path";
  if (
    path.charCodeAt(0) !== 47 /* / */ && !(path === "*" && method === "OPTIONS") &&
    (scheme === "http" || scheme === "https")
  ) {
    return `invalid :path ${JSON.stringify(path)}`;
  }
  if (authority !== null && host !== null && authority !== host) {
    return ":authority and host differ";
  }
  if (cookie !== null) fields.push(["cookie", cookie]);
  return {
    method,
    scheme,
    authority: authority ?? host ?? "",
    path,
    fields,
    contentLength,
  };
}

/**
 * Validates a response's field list (RFC 9113 section 8.3.2).
 *
 * @param list The decoded fields, in order.
 * @returns The response parts, or the reason it is malformed.
 */
export function parseResponse(list: [string, string][]): ResponseParts | string {
  let status: string | null = null;
  let regular = false;
  let contentLength = -1;
  const fields: [string, string][] = [];
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i];
    if (name.charCodeAt(0) === 58) {
      if (regular) return `pseudo-header ${name} after regular fields`;
      if (name !== ":status") return `unknown or misplaced pseudo-header ${name}`;
      if (status !== null) return "duplicate :status";
      status = value;
      continue;
    }
    regular = true;
    const bad = checkRegular(name, value);
    if (bad !== null) return bad;
    if (name === "content-length") {
      const n = parseContentLength(value, contentLength);
      if (typeof n === "string") return n;
      contentLength = n;
    }
    fields.push([name, value]);
  }
  if (status === null) return "missing :status";
  if (!STATUS.test(status)) return `invalid :status ${JSON.stringify(status)}`;
  return { status: Number(status), fields, contentLength };
}

/**
 * Validates a trailer field list (no pseudo-headers).
 *
 * @param list The decoded fields.
 * @returns The trailers, or the reason they are malformed.
 */
export function parseTrailers(list: [string, string][]): Headers | string {
  const headers = new Headers();
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i];
    if (name.charCodeAt(0) === 58) return `pseudo-header ${name} in trailers`;
    const bad = checkRegular(name, value);
    if (bad !== null) return bad;
    headers.append(name, value);
  }
  return headers;
}

/**
 * Builds a `Headers` from validated fields. Fields are valid, so this does not throw.
 *
 * @param fields The fields.
 * @param h Where to append them (default: a new `Headers`).
 * @returns The headers.
 */
export function toHeaders(
  fields: readonly [string, string][],
  h: Headers = new Headers(),
): Headers {
  for (let i = 0; i < fields.length; i++) h.append(fields[i][0], fields[i][1]);
  return h;
}

function trimValue(v: string): string {
  // Fetch's header value normalization: strip leading and trailing HTTP whitespace.
  return v.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

/**
 * Appends the fields of `init` to `out` for sending: names lowercased and checked,
 * connection-specific fields dropped (and `te` unless it is `trailers`).
 *
 * @param init The headers to send.
 * @param out Where to append `[name, value]` pairs.
 * @param skipHost Also drop `host` (requests carry it as `:authority`).
 * @throws {TypeError} on an invalid name or value, or a pseudo-header.
 */
export function appendFields(
  init: HeadersInit | undefined,
  out: [string, string][],
  skipHost = false,
): void {
  if (init === undefined || init === null) return;
  if (init instanceof Headers) {
    eachHeader(init, (name, value) => {
      if (CONNECTION_SPECIFIC.has(name)) return;
      if (name === "te" && value.toLowerCase() !== "trailers") return;
      if (skipHost && name === "host") return;
      out.push([name, value]);
    });
    return;
  }
  const entries: Iterable<readonly [string, string]> = Array.isArray(init) ||
      Symbol.iterator in (init as object)
    ? init as Iterable<readonly [string, string]>
    : Object.entries(init as Record<string, string>);
  for (const entry of entries) {
    if (entry.length !== 2) throw new TypeError("a header entry must be a [name, value] pair");
    const name = String(entry[0]).toLowerCase();
    const value = trimValue(String(entry[1]));
    if (!NAME.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(entry[0])}`);
    if (BAD_VALUE_CHARS.test(value)) throw new TypeError(`invalid value of header ${name}`);
    if (CONNECTION_SPECIFIC.has(name)) continue;
    if (name === "te" && value.toLowerCase() !== "trailers") continue;
    if (skipHost && name === "host") continue;
    out.push([name, value]);
  }
}
