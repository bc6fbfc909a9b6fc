/**
 * The error type of the HPACK codec.
 *
 * @module
 */

/**
 * What went wrong in an {@linkcode HpackError}:
 * - `"compression"`: the header block is malformed (a bad index, a truncated or
 *   oversized integer or string, bad Huffman data, a misplaced or oversized dynamic
 *   table size update). In HTTP/2 this is a connection error of type COMPRESSION_ERROR.
 * - `"header_list_too_large"`: the block was well formed but its decoded header list
 *   went over `maxHeaderListSize` or `maxFieldCount`. The decoder still processed the
 *   whole block, so its dynamic table stays in step with the peer's encoder: the
 *   caller may refuse just this stream (431 or RST_STREAM) and keep the connection.
 */
export type HpackErrorCode = "compression" | "header_list_too_large";

/**
 * Thrown by the HPACK decoder (and by the Huffman decoder) on bad or oversized input.
 *
 * @example Telling the two kinds apart
 * ```ts
 * import { HpackDecoder, HpackError } from "./mod.ts";
 *
 * const decoder = new HpackDecoder();
 * try {
 *   decoder.decode(new Uint8Array([0x80])); // index 0 is never valid
 * } catch (e) {
 *   if (e instanceof HpackError && e.code === "compression") {
 *     // close the connection with COMPRESSION_ERROR
 *   }
 * }
 * ```
 */
export class HpackError extends Error {
  /** Which kind of failure this is; see {@linkcode HpackErrorCode}. */
  readonly code: HpackErrorCode;

  /**
   * Builds an error.
   *
   * @param message What was wrong, for people.
   * @param code The kind of failure; `"compression"` unless told otherwise.
   */
  constructor(message: string, code: HpackErrorCode = "compression") {
    super(message);
    this.name = "HpackError";
    this.code = code;
  }
}
