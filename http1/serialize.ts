import { STATUS_TEXT } from "@std/http/status";
import { allocBytes } from "../conn/_slab.ts";
import { eachHeader } from "./_fields.ts";

const encoder = new TextEncoder();
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^[\x21-\x7e]+$/;

/**
 * Encodes a head's text one character to one byte: header values are byte strings
 * (characters up to U+00FF), as `Headers` keeps them.
 *
 * @param text The text, with no character above U+00FF.
 * @returns The bytes; short ones are a view into a shared buffer, as Node's `Buffer.from`
 * gives (copy them with `slice()` to keep them for long).
 * @throws {TypeError} When a character is above U+00FF.
 *
 * @example
 * ```ts
 * import { encodeLatin1 } from "./serialize.ts";
 *
 * console.log(encodeLatin1("caf\u00e9")); // Uint8Array(4) [ 99, 97, 102, 233 ]
 * ```
 */
export function encodeLatin1(text: string): Uint8Array {
  const out = allocBytes(text.length);
  encodeLatin1Into(text, out);
  return out;
}

/** Writes `text` (no character above U+00FF) one byte a character at the start of `out`. */
export function encodeLatin1Into(text: string, out: Uint8Array): void {
  const n = text.length;
  const target = out.byteLength === n ? out : out.subarray(0, n);
  // UTF-8 is latin1 for ASCII; any other character takes two bytes or more, so it does not
  // fit in `n` bytes and the encoder stops before the end (no scan for ASCII first).
  if (encoder.encodeInto(text, target).read === n) return;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    // Storing a larger code would keep its low byte: U+010D U+010A would become CR LF.
    if (c > 0xff) throw new TypeError(`character U+${c.toString(16)} is not a byte`);
    target[i] = c;
  }
}

/**
 * The reason phrase for a status code (`"OK"` for 200), or `""` for unknown codes.
 *
 * @param status The status code.
 * @returns Its reason phrase.
 *
 * @example
 * ```ts
 * import { reasonPhrase } from "./serialize.ts";
 *
 * console.log(reasonPhrase(404)); // "Not Found"
 * ```
 */
export function reasonPhrase(status: number): string {
  return (STATUS_TEXT as Record<number, string>)[status] ?? "";
}

/**
 * Writes the header fields of `headers` as field lines (each ending in CRLF), skipping the
 * names in `skip`. `set-cookie` fields stay separate lines.
 */
function fieldLines(headers: Headers | null, skip?: Set<string>): string {
  let out = "";
  if (headers === null) return out;
  eachHeader(headers, (name, value) => {
    if (!skip?.has(name)) out += name + ": " + value + "\r\n";
  });
  return out;
}

/**
 * A response head as text: status line, header fields, `extra` lines (already CRLF-ended),
 * and the blank line.
 *
 * @param status The status code.
 * @param statusText The reason phrase; the standard one when empty.
 * @param headers The header fields (`null` when `extra` has them all).
 * @param extra Field lines to add (e.g. framing fields), each ending in CRLF.
 * @param skip Field names of `headers` to leave out.
 * @returns The head, ready for {@linkcode encodeLatin1}.
 * @throws {TypeError} When the status is not three digits or the reason phrase has a CR, LF
 * or other control character.
 *
 * @example
 * ```ts
 * import { responseHead } from "./serialize.ts";
 *
 * console.log(JSON.stringify(responseHead(204, "", new Headers()))); // "HTTP/1.1 204 No Content\r\n\r\n"
 * ```
 */
export function responseHead(
  status: number,
  statusText: string,
  headers: Headers | null,
  extra = "",
  skip?: Set<string>,
): string {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new TypeError(`invalid status ${status}`);
  }
  if (!REASON.test(statusText)) throw new TypeError("invalid characters in the reason phrase");
  const reason = statusText || reasonPhrase(status);
  return `HTTP/1.1 ${status} ${reason}\r\n${fieldLines(headers, skip)}${extra}\r\n`;
}

/**
 * A request head as text.
 *
 * @param method The method.
 * @param target The request target (`/path?query`, `host:port` for CONNECT, an absolute URL for a proxy).
 * @param headers The header fields.
 * @param extra Field lines to add, each ending in CRLF.
 * @param skip Field names of `headers` to leave out.
 * @returns The head, ready for {@linkcode encodeLatin1}.
 * @throws {TypeError} When the method is not a token or the target is empty or has a space
 * or control character.
 *
 * @example
 * ```ts
 * import { requestHead } from "./serialize.ts";
 *
 * console.log(JSON.stringify(requestHead("GET", "/", new Headers({ host: "a" })))); // "GET / HTTP/1.1\r\nhost: a\r\n\r\n"
 * ```
 */
export function requestHead(
  method: string,
  target: string,
  headers: Headers,
  extra = "",
  skip?: Set<string>,
): string {
  if (!TOKEN.test(method)) throw new TypeError(`invalid method ${JSON.stringify(method)}`);
  if (!TARGET.test(target)) throw new TypeError(`invalid request target ${JSON.stringify(target)}`);
  return `${method} ${target} HTTP/1.1\r\n${fieldLines(headers, skip)}${extra}\r\n`;
}
