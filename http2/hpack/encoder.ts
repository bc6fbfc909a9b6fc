/**
 * The HPACK encoder (RFC 7541): header lists in, header blocks out.
 *
 * @module
 */

import { DynamicTable, ENTRY_OVERHEAD } from "./_dynamic_table.ts";
import { latin1Decode } from "./_latin1.ts";
import { STATIC_LOOKUP, STATIC_TABLE_LENGTH } from "./_static_table.ts";
import { encodedLengthLatin1, encodeLatin1Into } from "./huffman.ts";

/** Options of {@linkcode HpackEncoder}. */
export interface HpackEncoderOptions {
  /**
   * The peer's SETTINGS_HEADER_TABLE_SIZE, in octets: the dynamic table size both
   * ends start with (in HTTP/2, the protocol default 4096; later changes go through
   * {@linkcode HpackEncoder.setMaxTableSize}). Default 4096.
   */
  maxTableSize?: number;
  /**
   * The most this encoder will use for its dynamic table, whatever the peer allows:
   * a peer advertising a huge table cannot make us hold on to everything we send.
   * Default 65536.
   */
  tableSizeLimit?: number;
  /**
   * `true` (the default): Huffman-code a string when that makes it strictly shorter.
   * `false`: never use Huffman coding.
   */
  huffman?: boolean;
}

/** How a literal field is represented. */
const INDEX = 0;
const NO_INDEX = 1;
const NEVER_INDEX = 2;
/** `cookie`: never indexed when the value is short, indexed otherwise. */
const COOKIE = 3;

/**
 * Fields the encoder does not add to the dynamic table. Never indexed (RFC 7541
 * 7.1.3, and the flag tells intermediaries to keep it so): credentials, and cookies
 * shorter than 20 octets, which are few enough guesses for a compression-oracle
 * attack (CRIME-style) to recover. Longer cookies are indexed: browsers resend them
 * with every request, and their entropy makes guessing them byte by byte through the
 * compressed size hopeless. Not indexed (plain "without indexing"): fields whose
 * values are nearly always new, so an entry would only push out useful ones;
 * `set-cookie` belongs here too.
 */
const POLICY: ReadonlyMap<string, number> = new Map([
  ["authorization", NEVER_INDEX],
  ["proxy-authorization", NEVER_INDEX],
  ["cookie", COOKIE],
  ["set-cookie", NO_INDEX],
  ["content-length", NO_INDEX],
  ["content-range", NO_INDEX],
  ["etag", NO_INDEX],
  ["if-none-match", NO_INDEX],
  ["if-modified-since", NO_INDEX],
  ["last-modified", NO_INDEX],
  ["age", NO_INDEX],
  ["location", NO_INDEX],
]);

/** Cookies shorter than this (in octets) are sent never-indexed. */
const SHORT_COOKIE = 20;

/** The encoder's view of the dynamic table entries with one name. */
interface DynamicName {
  /** Insertion number of the newest entry with this name. */
  latest: number;
  /** Insertion number of the newest entry with each value. */
  values: Map<string, number>;
}

/**
 * Encodes header lists into HPACK header blocks. One encoder holds one encoding
 * context: use one per HTTP/2 connection (for the blocks we send), and send every
 * block it makes, in order.
 *
 * Each field is sent as an index when the static or dynamic table holds it exactly;
 * otherwise as a literal (naming the field by index when a table has the name), added
 * to the dynamic table unless it is sensitive or unlikely to repeat: `authorization`,
 * `proxy-authorization` and cookies shorter than 20 octets are "never indexed";
 * `set-cookie`, `content-length`, `content-range`, `etag`, `if-none-match`,
 * `if-modified-since`, `last-modified`, `age` and `location` are sent without
 * indexing, as is any field too big for the table.
 *
 * Strings: names must already be lowercase. Names and values are ByteStrings, one
 * octet per char (what `Headers` holds); each char code is sent as one octet, no
 * UTF-8 encoding. A string with a char above U+00FF (which `Headers` would have
 * refused) is not an error: it is sent as its UTF-8 octets, so no input can leave
 * the encoder half-way through a block, out of step with the peer.
 *
 * @example Encoding a request, then a second one that reuses the table
 * ```ts
 * import { HpackEncoder } from "./encoder.ts";
 * import { HpackDecoder } from "./decoder.ts";
 *
 * const encoder = new HpackEncoder();
 * const decoder = new HpackDecoder();
 * const request: [string, string][] = [
 *   [":method", "GET"],
 *   [":scheme", "https"],
 *   [":authority", "example.com"],
 *   [":path", "/"],
 *   ["user-agent", "hyperwire"],
 * ];
 * const first = encoder.encode(request); // literals, added to the table
 * const second = encoder.encode(request); // five indices: 5 octets
 * decoder.decode(first);
 * decoder.decode(second); // the same list again
 * ```
 */
export class HpackEncoder {
  #table: DynamicTable;
  #byName = new Map<string, DynamicName>();
  #huffman: boolean;
  #limit: number;
  /** The peer's current setting. */
  #setting: number;
  /** Whether the next block must start with size updates. */
  #updatePending: boolean;
  /** The lowest table size in effect since the last block (for the first update). */
  #lowest: number;
  /** Where the block being encoded is written: the shared pool, or a bigger array. */
  #buf: Uint8Array = EMPTY;
  /** Where the block being encoded starts in `#buf`. */
  #start = 0;
  #pos = 0;

  /**
   * Makes an encoder with an empty dynamic table.
   *
   * @param options Table size and Huffman policy; see {@linkcode HpackEncoderOptions}.
   */
  constructor(options: HpackEncoderOptions = {}) {
    const setting = options.maxTableSize ?? 4096;
    const limit = options.tableSizeLimit ?? 65536;
    checkSize("maxTableSize", setting);
    checkSize("tableSizeLimit", limit);
    this.#huffman = options.huffman ?? true;
    this.#limit = limit;
    this.#setting = setting;
    const size = Math.min(setting, limit);
    // The peer's decoder starts at `setting`: using less must be announced.
    this.#updatePending = size !== setting;
    this.#lowest = size;
    this.#table = new DynamicTable(size, (name, value, seq) => this.#evicted(name, value, seq));
  }

  /** The dynamic table's current size in octets (RFC 7541 Section 4.1). */
  get dynamicTableSize(): number {
    return this.#table.size;
  }

  /** The number of entries in the dynamic table. */
  get dynamicTableLength(): number {
    return this.#table.length;
  }

  /**
   * Tells the encoder the peer's SETTINGS_HEADER_TABLE_SIZE changed (call it when the
   * SETTINGS frame carrying it arrives, before encoding the next block). The next
   * block starts with a dynamic table size update to `min(n, tableSizeLimit)`, preceded
   * by one to the lowest size set in between if that was lower (RFC 7541 Section 4.2).
   *
   * @param n The peer's new setting, in octets.
   */
  setMaxTableSize(n: number): void {
    checkSize("maxTableSize", n);
    this.#setting = n;
    const size = Math.min(n, this.#limit);
    if (!this.#updatePending || size < this.#lowest) this.#lowest = size;
    this.#updatePending = true;
  }

  /**
   * Encodes a header list into one header block.
   *
   * @param headers The fields, in order, as [name, value] pairs: names lowercase,
   *   both ByteStrings.
   * @returns The header block. The caller may keep it: no later call writes to it. It
   *   may be a view into a larger shared buffer (small blocks are carved out of a pool,
   *   as Node's `Buffer` does, since allocating a small typed array costs more than
   *   encoding a warm header list); use its `byteOffset` and `byteLength` if you reach
   *   for its `buffer`.
   */
  encode(headers: Iterable<readonly [string, string]>): Uint8Array {
    if (pool.length - poolUsed < 256) newPool();
    this.#buf = pool;
    this.#start = this.#pos = poolUsed;
    if (this.#updatePending) this.#writeSizeUpdates();
    for (const field of headers) this.#field(field[0], field[1]);
    const buf = this.#buf;
    const start = this.#start;
    const end = this.#pos;
    this.#buf = EMPTY;
    if (buf === pool) poolUsed = end;
    return buf.subarray(start, end);
  }

  #writeSizeUpdates(): void {
    this.#updatePending = false;
    const size = Math.min(this.#setting, this.#limit);
    this.#ensure(16);
    if (this.#lowest < size) {
      this.#table.setMaxSize(this.#lowest);
      this.#integer(0x20, 5, this.#lowest);
    }
    this.#table.setMaxSize(size);
    this.#integer(0x20, 5, size);
    this.#lowest = size;
  }

  #field(name: string, value: string): void {
    const statics = STATIC_LOOKUP.get(name);
    if (statics !== undefined) {
      const index = statics.values.get(value);
      if (index !== undefined) {
        this.#ensure(8);
        this.#integer(0x80, 7, index);
        return;
      }
    }
    const dynamic = this.#byName.get(name);
    if (dynamic !== undefined) {
      const seq = dynamic.values.get(value);
      if (seq !== undefined) {
        this.#ensure(8);
        this.#integer(0x80, 7, this.#dynamicIndex(seq));
        return;
      }
    }

    const nameIndex = statics !== undefined
      ? statics.index
      : dynamic !== undefined
      ? this.#dynamicIndex(dynamic.latest)
      : 0;
    // Measure first: this also finds strings that are not ByteStrings, before
    // anything is written or indexed.
    const nameHuffman = nameIndex === 0 ? encodedLengthLatin1(name) : 0;
    const valueHuffman = encodedLengthLatin1(value);
    if (nameHuffman < 0 || valueHuffman < 0) {
      return this.#field(
        nameHuffman < 0 ? utf8(name) : name,
        valueHuffman < 0 ? utf8(value) : value,
      );
    }

    let policy = POLICY.get(name) ?? INDEX;
    if (policy === COOKIE) policy = value.length < SHORT_COOKIE ? NEVER_INDEX : INDEX;
    if (
      policy === INDEX &&
      name.length + value.length + ENTRY_OVERHEAD > this.#table.maxSize
    ) {
      policy = NO_INDEX;
    }

    this.#ensure(name.length + value.length + 24);
    if (policy === INDEX) this.#integer(0x40, 6, nameIndex);
    else if (policy === NEVER_INDEX) this.#integer(0x10, 4, nameIndex);
    else this.#integer(0x00, 4, nameIndex);
    if (nameIndex === 0) this.#string(name, nameHuffman);
    this.#string(value, valueHuffman);

    if (policy === INDEX) {
      const seq = this.#table.inserted;
      this.#table.add(name, value);
      const entry = this.#byName.get(name);
      if (entry === undefined) {
        this.#byName.set(name, { latest: seq, values: new Map([[value, seq]]) });
      } else {
        entry.latest = seq;
        entry.values.set(value, seq);
      }
    }
  }

  #dynamicIndex(seq: number): number {
    return STATIC_TABLE_LENGTH + this.#table.inserted - seq;
  }

  #evicted(name: string, value: string, seq: number): void {
    const entry = this.#byName.get(name);
    if (entry === undefined) return;
    if (entry.latest === seq) {
      // The oldest entry was the newest with this name: it was the only one.
      this.#byName.delete(name);
    } else if (entry.values.get(value) === seq) {
      entry.values.delete(value);
    }
  }

  /** Writes an integer with an N-bit prefix (5.1); `flags` fills the high bits. */
  #integer(flags: number, prefixBits: number, n: number): void {
    const buf = this.#buf;
    let pos = this.#pos;
    const max = (1 << prefixBits) - 1;
    if (n < max) {
      buf[pos++] = flags | n;
    } else {
      buf[pos++] = flags | max;
      n -= max;
      while (n >= 128) {
        buf[pos++] = (n & 0x7f) | 0x80;
        n = Math.floor(n / 128);
      }
      buf[pos++] = n;
    }
    this.#pos = pos;
  }

  /** Writes a string literal (5.2), Huffman-coded if enabled and shorter. */
  #string(str: string, huffmanLength: number): void {
    if (this.#huffman && huffmanLength < str.length) {
      this.#integer(0x80, 7, huffmanLength);
      this.#pos = encodeLatin1Into(str, this.#buf, this.#pos);
    } else {
      this.#integer(0x00, 7, str.length);
      const buf = this.#buf;
      let pos = this.#pos;
      for (let i = 0; i < str.length; i++) buf[pos++] = str.charCodeAt(i);
      this.#pos = pos;
    }
  }

  #ensure(extra: number): void {
    if (this.#pos + extra <= this.#buf.length) return;
    // Move the block so far to the start of a new pool (or of a bigger array, when the
    // block outgrows a pool) and carry on there.
    const length = this.#pos - this.#start;
    const need = length + extra;
    const grown = need <= POOL_SIZE / 2 ? newPool() : new Uint8Array(Math.max(need, 2 * length));
    grown.set(this.#buf.subarray(this.#start, this.#pos));
    this.#buf = grown;
    this.#start = 0;
    this.#pos = length;
  }
}

/** The size of the shared output pools. */
const POOL_SIZE = 16384;
const EMPTY = new Uint8Array(0);
/** The pool blocks are carved from; `poolUsed` octets of it are handed out. */
let pool: Uint8Array = EMPTY;
let poolUsed = 0;

/** Starts a new pool (the old one lives on as long as blocks carved from it do). */
function newPool(): Uint8Array {
  pool = new Uint8Array(POOL_SIZE);
  poolUsed = 0;
  return pool;
}

const UTF8 = new TextEncoder();

/** A string with chars above U+00FF as the ByteString of its UTF-8 octets. */
function utf8(str: string): string {
  const bytes = UTF8.encode(str);
  return latin1Decode(bytes, 0, bytes.length);
}

function checkSize(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`HPACK: ${what} must be a non-negative integer, got ${n}`);
  }
}
