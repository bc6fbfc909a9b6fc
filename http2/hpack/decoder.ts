/**
 * The HPACK decoder (RFC 7541): header blocks in, header lists out.
 *
 * @module
 */

import { DynamicTable, ENTRY_OVERHEAD } from "./_dynamic_table.ts";
import { latin1Decode } from "./_latin1.ts";
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from "./_static_table.ts";
import { HpackError } from "./errors.ts";
import { decodeToLatin1 } from "./huffman.ts";

/** The largest integer the decoder accepts (indices, lengths, sizes): 2^31 - 1. */
const MAX_INTEGER = 0x7fffffff;

/** Options of {@linkcode HpackDecoder}. */
export interface HpackDecoderOptions {
  /**
   * Our SETTINGS_HEADER_TABLE_SIZE: the largest dynamic table the peer's encoder may
   * use, in octets. The table starts at this size. Default 4096.
   */
  maxTableSize?: number;
  /**
   * The largest decoded header list, counted as RFC 9113 counts
   * SETTINGS_MAX_HEADER_LIST_SIZE: the sum over fields of name length + value length
   * + 32. Going over it throws an {@linkcode HpackError} with code
   * `"header_list_too_large"`. Default 65536.
   */
  maxHeaderListSize?: number;
  /**
   * The most fields one block may decode to; more throws an {@linkcode HpackError}
   * with code `"header_list_too_large"`. Default 1000.
   */
  maxFieldCount?: number;
}

/**
 * Decodes HPACK header blocks. One decoder holds one decoding context: use one per
 * HTTP/2 connection (for the blocks the peer sends), and feed it every header block in
 * the order they arrive.
 *
 * Strings: HPACK strings are octets. Names and values come out as ByteStrings, one
 * char per octet (char codes 0..255), the form the Fetch `Headers` class uses; no
 * UTF-8 decoding happens. A caller wanting UTF-8 text can re-decode:
 * `new TextDecoder().decode(Uint8Array.from(value, (c) => c.charCodeAt(0)))`.
 * Names are returned as sent; checking that they are lowercase and valid is for the
 * HTTP/2 layer. Whether a field was sent as "never indexed" is not reported.
 *
 * Errors: an {@linkcode HpackError} with code `"compression"` means the block was
 * malformed and the decoding context is lost (HTTP/2: connection error
 * COMPRESSION_ERROR). Code `"header_list_too_large"` means the block was decoded to
 * the end, so the context is intact, but its list went over `maxHeaderListSize` or
 * `maxFieldCount`; no list is built past the limit (HTTP/2: refuse the stream, e.g.
 * with a 431 response, and carry on).
 *
 * @example Decoding the first request of RFC 7541 Appendix C.3
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { HpackDecoder } from "./decoder.ts";
 *
 * const decoder = new HpackDecoder({ maxHeaderListSize: 16384 });
 * const block = Uint8Array.from(
 *   "828684410f7777772e6578616d706c652e636f6d".match(/../g)!,
 *   (h) => parseInt(h, 16),
 * );
 * assertEquals(decoder.decode(block), [
 *   [":method", "GET"],
 *   [":scheme", "http"],
 *   [":path", "/"],
 *   [":authority", "www.example.com"],
 * ]);
 * ```
 */
export class HpackDecoder {
  #table: DynamicTable;
  /** Our current setting: no size update may exceed it. */
  #limit: number;
  /**
   * -1, or the value the smallest size update at the start of the next block must not
   * exceed, because our setting went below the table's size since the last block.
   */
  #requiredUpdate = -1;
  #maxListSize: number;
  #maxFields: number;
  #src: Uint8Array = new Uint8Array(0);
  #pos = 0;

  /**
   * Makes a decoder with an empty dynamic table.
   *
   * @param options Table size and header list limits; see {@linkcode HpackDecoderOptions}.
   */
  constructor(options: HpackDecoderOptions = {}) {
    const maxTableSize = options.maxTableSize ?? 4096;
    checkSize("maxTableSize", maxTableSize);
    this.#limit = maxTableSize;
    this.#table = new DynamicTable(maxTableSize);
    this.#maxListSize = options.maxHeaderListSize ?? 65536;
    this.#maxFields = options.maxFieldCount ?? 1000;
    checkSize("maxHeaderListSize", this.#maxListSize);
    checkSize("maxFieldCount", this.#maxFields);
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
   * Tells the decoder that our SETTINGS_HEADER_TABLE_SIZE changed (call it when the
   * peer acknowledges the SETTINGS frame carrying it). Size updates above `n` are then
   * refused; and if `n` is below the table's current maximum, the next block must
   * start with a size update to at most the lowest value set since the last block
   * (RFC 7541 Section 4.2).
   *
   * @param n The new setting, in octets.
   */
  setMaxTableSize(n: number): void {
    checkSize("maxTableSize", n);
    this.#limit = n;
    if (n < this.#table.maxSize) {
      this.#requiredUpdate = this.#requiredUpdate < 0 ? n : Math.min(this.#requiredUpdate, n);
    }
  }

  /**
   * Decodes one complete header block (the HEADERS or PUSH_PROMISE fragment and all
   * its CONTINUATION fragments, joined).
   *
   * @param block The header block.
   * @returns The fields, in order, as [name, value] pairs of ByteStrings.
   * @throws {HpackError} With code `"compression"` for a malformed block, or
   *   `"header_list_too_large"` when the list goes over a limit.
   */
  decode(block: Uint8Array): [string, string][] {
    this.#src = block;
    this.#pos = 0;
    const end = block.length;
    const table = this.#table;

    // Dynamic table size updates: only at the start of a block (RFC 7541 4.2, 6.3).
    let lowest = -1;
    while (this.#pos < end && (block[this.#pos] & 0xe0) === 0x20) {
      const size = this.#integer(0x1f);
      if (size > this.#limit) {
        throw new HpackError(
          `HPACK: dynamic table size update to ${size} exceeds the limit ${this.#limit}`,
        );
      }
      table.setMaxSize(size);
      if (lowest < 0 || size < lowest) lowest = size;
    }
    if (this.#requiredUpdate >= 0) {
      if (lowest < 0 || lowest > this.#requiredUpdate) {
        throw new HpackError(
          `HPACK: expected a dynamic table size update to at most ${this.#requiredUpdate} ` +
            "at the start of the block",
        );
      }
      this.#requiredUpdate = -1;
    }

    const fields: [string, string][] = [];
    const maxListSize = this.#maxListSize;
    const maxFields = this.#maxFields;
    let listSize = 0;
    let count = 0;
    let tooLarge = false;
    while (this.#pos < end) {
      const b = block[this.#pos];
      let name: string;
      let value: string;
      if (b & 0x80) {
        // Indexed Header Field (6.1)
        const index = this.#integer(0x7f);
        if (index <= STATIC_TABLE_LENGTH) {
          if (index === 0) throw new HpackError("HPACK: index 0 is not valid");
          name = STATIC_NAMES[index];
          value = STATIC_VALUES[index];
        } else {
          const i = index - STATIC_TABLE_LENGTH - 1;
          if (i >= table.length) throw this.#badIndex(index);
          name = table.name(i);
          value = table.value(i);
        }
      } else if (b & 0x40) {
        // Literal Header Field with Incremental Indexing (6.2.1)
        const index = this.#integer(0x3f);
        name = index === 0 ? this.#string() : this.#nameAt(index);
        value = this.#string();
        table.add(name, value);
      } else if (b & 0x20) {
        throw new HpackError(
          "HPACK: dynamic table size update after the start of the block",
        );
      } else {
        // Literal Header Field without Indexing (6.2.2) or Never Indexed (6.2.3)
        const index = this.#integer(0x0f);
        name = index === 0 ? this.#string() : this.#nameAt(index);
        value = this.#string();
      }
      if (tooLarge) continue;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > maxListSize || ++count > maxFields) {
        // Keep decoding (the table must follow the encoder) but build nothing more.
        tooLarge = true;
        fields.length = 0;
        continue;
      }
      fields.push([name, value]);
    }
    this.#src = EMPTY;
    if (tooLarge) {
      throw new HpackError(
        listSize > maxListSize
          ? `HPACK: header list larger than ${maxListSize} octets`
          : `HPACK: more than ${maxFields} header fields`,
        "header_list_too_large",
      );
    }
    return fields;
  }

  /** Decodes an integer whose prefix is the low bits `mask` of the current octet. */
  #integer(mask: number): number {
    const src = this.#src;
    let pos = this.#pos;
    let n = src[pos++] & mask;
    if (n === mask) {
      let shift = 1;
      for (;;) {
        if (pos >= src.length) throw new HpackError("HPACK: truncated integer");
        const b = src[pos++];
        n += (b & 0x7f) * shift;
        if (n > MAX_INTEGER) throw new HpackError("HPACK: integer overflow");
        if ((b & 0x80) === 0) break;
        shift *= 128;
        // 2^31 - 1 needs at most 5 continuation octets (5 * 7 = 35 bits).
        if (shift > 2 ** 28) throw new HpackError("HPACK: integer too long");
      }
    }
    this.#pos = pos;
    return n;
  }

  /** Decodes a string literal (5.2) at the current position. */
  #string(): string {
    const src = this.#src;
    if (this.#pos >= src.length) throw new HpackError("HPACK: truncated block");
    const huffman = src[this.#pos] & 0x80;
    const length = this.#integer(0x7f);
    const start = this.#pos;
    if (length > src.length - start) throw new HpackError("HPACK: truncated string");
    this.#pos = start + length;
    return huffman
      ? decodeToLatin1(src, start, start + length)
      : latin1Decode(src, start, start + length);
  }

  /** The name at a (non-zero) index of the static or dynamic table. */
  #nameAt(index: number): string {
    if (index <= STATIC_TABLE_LENGTH) return STATIC_NAMES[index];
    const i = index - STATIC_TABLE_LENGTH - 1;
    if (i >= this.#table.length) throw this.#badIndex(index);
    return this.#table.name(i);
  }

  #badIndex(index: number): HpackError {
    return new HpackError(
      `HPACK: index ${index} is beyond the table (${STATIC_TABLE_LENGTH} static + ${this.#table.length} dynamic entries)`,
    );
  }
}

const EMPTY = new Uint8Array(0);

function checkSize(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`HPACK: ${what} must be a non-negative integer, got ${n}`);
  }
}
