/**
 * The HTTP/2 codec: {@linkcode FrameDecoder} (bytes to frames) and {@linkcode FrameEncoder}
 * (frames to bytes).
 *
 * @module
 */

export * from "./decoder.ts";
export * from "./encoder.ts";
