import { type BufferedReader, HeadTooLargeError, UnexpectedEofError } from "./buffered_reader.ts";
import { decodeLatin1, HttpParseError, parseTrailerSection } from "./parse.ts";
import { encodeLatin1, encodeLatin1Into } from "./serialize.ts";
import { allocBytes } from "../conn/_slab.ts";

/** Limits of the chunked decoder. */
export interface ChunkedLimits {
  /** The longest chunk-size line, extensions included (default 4096 bytes). */
  maxChunkLine?: number;
  /** The largest trailer section (default 16 KiB). */
  maxTrailerSize?: number;
  /** The most trailer fields (default 100). */
  maxHeaderCount?: number;
}

const HEX = /^[0-9a-fA-F]{1,13}$/;
// chunk-ext: BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ], loosely: no CTLs.
const CHUNK_EXT = /^[\t\x20-\x7e\x80-\xff]*$/;

const FORBIDDEN_TRAILERS = new Set([
  "content-length",
  "transfer-encoding",
  "host",
  "te",
  "trailer",
  "content-encoding",
  "content-type",
  "content-range",
  "authorization",
  "proxy-authorization",
  "set-cookie",
  "cookie",
]);

type State = "size" | "data" | "data-crlf" | "trailers" | "done";

/**
 * Decodes a chunked body (RFC 9112 section 7.1) from a {@linkcode BufferedReader}: each
 * {@linkcode read} returns the next piece of data as it arrives, `null` after the last
 * chunk; the trailers are then in {@linkcode trailers}.
 *
 * @example
 * ```ts
 * import { memoryPair } from "../conn/memory.ts";
 * import { BufferedReader } from "./buffered_reader.ts";
 * import { ChunkedDecoder } from "./chunked.ts";
 *
 * const [a, b] = memoryPair();
 * await a.write(new TextEncoder().encode("5\r\nhello\r\n0\r\n\r\n"));
 * const body = new ChunkedDecoder(new BufferedReader(b));
 * console.log(new TextDecoder().decode((await body.read())!)); // "hello"
 * console.log(await body.read()); // null
 * ```
 */
export class ChunkedDecoder {
  #state: State = "size";
  #remaining = 0;
  /** The trailer fields (lowercase names and values, alternating), once the body has ended. */
  trailers: string[] = [];

  /**
   * Makes a decoder of the chunked body that `reader` is at.
   *
   * @param reader Where the body is read from.
   * @param limits Size limits.
   */
  constructor(
    private readonly reader: BufferedReader,
    private readonly limits: ChunkedLimits = {},
  ) {}

  /** The next piece of body data, or `null` once the body (and its trailers) ended. */
  async read(): Promise<Uint8Array | null> {
    while (true) {
      switch (this.#state) {
        case "size": {
          const size = await this.#readSize();
          if (size === 0) this.#state = "trailers";
          else {
            this.#remaining = size;
            this.#state = "data";
          }
          break;
        }
        case "data": {
          const data = await this.reader.read(Math.min(this.#remaining, 1 << 20));
          if (data === null) throw new UnexpectedEofError("a chunk");
          this.#remaining -= data.byteLength;
          if (this.#remaining === 0) this.#state = "data-crlf";
          return data;
        }
        case "data-crlf": {
          const crlf = await this.#peek2();
          if (crlf[0] !== 13 || crlf[1] !== 10) {
            throw new HttpParseError(400, "chunk data not followed by CRLF");
          }
          this.reader.take(2);
          this.#state = "size";
          break;
        }
        case "trailers":
          await this.#readTrailers();
          this.#state = "done";
          return null;
        case "done":
          return null;
      }
    }
  }

  async #readSize(): Promise<number> {
    let line: Uint8Array | null;
    try {
      line = await this.reader.readLine(this.limits.maxChunkLine ?? 4096);
    } catch (error) {
      if (error instanceof HeadTooLargeError) throw new HttpParseError(400, "chunk line too long");
      throw error;
    }
    if (line === null) throw new UnexpectedEofError("a chunked body");
    if (line.byteLength < 2 || line[line.byteLength - 2] !== 13) {
      throw new HttpParseError(400, "chunk size line not ended by CRLF");
    }
    // One byte to one character, so obs-text in a quoted extension value meets CHUNK_EXT.
    const text = decodeLatin1(line.subarray(0, line.byteLength - 2));
    let end = 0;
    while (end < text.length && isHexDigit(text.charCodeAt(end))) end++;
    const hex = text.slice(0, end);
    if (!HEX.test(hex)) throw new HttpParseError(400, "invalid chunk size");
    const ext = text.slice(end);
    if (ext !== "" && (!/^[ \t]*;/.test(ext) || !CHUNK_EXT.test(ext))) {
      throw new HttpParseError(400, "invalid chunk extension");
    }
    return parseInt(hex, 16);
  }

  async #peek2(): Promise<Uint8Array> {
    while (this.reader.buffered < 2) {
      if (!(await this.reader.fill())) throw new UnexpectedEofError("a chunked body");
    }
    return this.reader.peek();
  }

  async #readTrailers(): Promise<void> {
    // An empty line right away: no trailers.
    const start = await this.#peek2();
    if (start[0] === 13 && start[1] === 10) {
      this.reader.take(2);
      return;
    }
    let section: Uint8Array | null;
    try {
      section = await this.reader.readHead(this.limits.maxTrailerSize ?? 16 * 1024);
    } catch (error) {
      if (error instanceof HeadTooLargeError) throw new HttpParseError(431, "trailers too large");
      throw error;
    }
    if (section === null) throw new UnexpectedEofError("trailers");
    const fields = parseTrailerSection(section, this.limits);
    // Fields that frame, route or authenticate a message must not come as trailers
    // (RFC 9110 section 6.5.1): drop them rather than let a caller merge them.
    this.trailers = [];
    for (let i = 0; i < fields.length; i += 2) {
      if (FORBIDDEN_TRAILERS.has(fields[i])) continue;
      this.trailers.push(fields[i], fields[i + 1]);
    }
  }
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

const CRLF = new Uint8Array([13, 10]);

/**
 * Frames one piece of data as a chunk: size line, data, CRLF, in one buffer.
 *
 * @param data The chunk's data (must not be empty: an empty chunk ends the body).
 * @returns The encoded chunk (a view into a shared buffer when small: see `encodeLatin1`).
 *
 * @example
 * ```ts
 * import { encodeChunk } from "./chunked.ts";
 *
 * console.log(new TextDecoder().decode(encodeChunk(new TextEncoder().encode("hi")))); // "2\r\nhi\r\n"
 * ```
 */
export function encodeChunk(data: Uint8Array): Uint8Array {
  const size = data.byteLength.toString(16) + "\r\n";
  const out = allocBytes(size.length + data.byteLength + 2);
  encodeLatin1Into(size, out);
  out.set(data, size.length);
  out.set(CRLF, size.length + data.byteLength);
  return out;
}

/**
 * The last chunk and the trailer section that end a chunked body.
 *
 * @param trailers Trailer fields to send, if any.
 * @returns The encoded end of the body.
 *
 * @example
 * ```ts
 * import { encodeLastChunk } from "./chunked.ts";
 *
 * console.log(JSON.stringify(new TextDecoder().decode(encodeLastChunk()))); // "0\r\n\r\n"
 * ```
 */
export function encodeLastChunk(trailers?: Headers): Uint8Array {
  let text = "0\r\n";
  if (trailers) { for (const [name, value] of trailers) text += `${name}: ${value}\r\n`; }
  return encodeLatin1(text + "\r\n");
}
