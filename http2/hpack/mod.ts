/**
 * HPACK, the header compression of HTTP/2 (RFC 7541).
 *
 * - {@linkcode HpackEncoder} turns header lists into header blocks, using the static
 *   table, a dynamic table and Huffman coding; one per connection, for what we send.
 * - {@linkcode HpackDecoder} turns header blocks back into lists, with limits on the
 *   decoded size and field count against HPACK bombs; one per connection, for what
 *   the peer sends.
 * - {@linkcode HpackError} is what the decoder throws; its `code` says whether the
 *   connection is lost (`"compression"`) or just the stream (`"header_list_too_large"`).
 * - {@linkcode huffmanEncode}, {@linkcode huffmanDecode} and
 *   {@linkcode huffmanEncodedLength} expose the Huffman code on its own.
 *
 * Names and values are ByteStrings: one char per octet (char codes 0..255), as in the
 * Fetch `Headers` class. Names given to the encoder must be lowercase.
 *
 * @example A request, its block, and the list back
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { HpackDecoder, HpackEncoder } from "./mod.ts";
 *
 * const encoder = new HpackEncoder();
 * const decoder = new HpackDecoder({ maxHeaderListSize: 16384 });
 *
 * const request: [string, string][] = [
 *   [":method", "GET"],
 *   [":scheme", "https"],
 *   [":authority", "example.com"],
 *   [":path", "/index.html"],
 *   ["accept", "text/html"],
 * ];
 * const block = encoder.encode(request);
 * assertEquals(decoder.decode(block), request);
 *
 * // When the peer's SETTINGS_HEADER_TABLE_SIZE arrives:
 * encoder.setMaxTableSize(1024); // the next block starts with a size update
 * ```
 *
 * @module
 */

export { HpackEncoder, type HpackEncoderOptions } from "./encoder.ts";
export { HpackDecoder, type HpackDecoderOptions } from "./decoder.ts";
export { HpackError, type HpackErrorCode } from "./errors.ts";
export {
  decode as huffmanDecode,
  encode as huffmanEncode,
  encodedLength as huffmanEncodedLength,
} from "./huffman.ts";
