/**
 * The fuzzing peer's permessage-deflate, on `node:zlib` (Deno, Node and Bun all have it),
 * written apart from `websockets/_deflate.ts` so that a bug there cannot hide itself here:
 * - compressing: with context takeover a long-lived raw deflate stream, sync-flushed per
 *   message; without it one `deflateRawSync` per message; trailer 00 00 ff ff stripped;
 * - inflating: each message on its own, after a stored block that replays the last 32 KiB
 *   this end inflated, so a peer that keeps its window (context takeover) is understood
 *   without relying on a long-lived stream or on zlib's dictionary option (Deno ignores it
 *   for raw streams).
 */

import zlib from "node:zlib";
import { join } from "./_wire.ts";

const TRAILER = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
const WINDOW = 32 * 1024;

/** How this end compresses, as the negotiation decided. */
export interface CodecParams {
  /** This end resets its window after every message. */
  noContextTakeover: boolean;
  /** This end's LZ77 window, 9-15 bits. */
  windowBits: number;
}

/** One connection's compressor and decompressor. */
export class FuzzCodec {
  #params: CodecParams;
  #stream: ReturnType<typeof zlib.createDeflateRaw> | null = null;
  #history: Uint8Array = new Uint8Array(0);
  #busy: Promise<unknown> = Promise.resolve();

  constructor(params: CodecParams) {
    this.#params = params;
  }

  /** The compressed payload of one message (without the trailer). */
  compress(data: Uint8Array): Promise<Uint8Array> {
    const run = this.#busy.then(() => this.#compress(data));
    this.#busy = run.catch(() => {});
    return run;
  }

  async #compress(data: Uint8Array): Promise<Uint8Array> {
    const { noContextTakeover, windowBits } = this.#params;
    let out: Uint8Array;
    if (noContextTakeover) {
      out = zlib.deflateRawSync(data, { windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } else {
      const s = this.#stream ??= zlib.createDeflateRaw({ windowBits });
      out = await new Promise<Uint8Array>((resolve, reject) => {
        const parts: Uint8Array[] = [];
        const onData = (c: Uint8Array) => parts.push(c);
        s.on("data", onData);
        s.once("error", reject);
        s.write(data);
        s.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          s.off("data", onData);
          s.off("error", reject);
          resolve(join(parts));
        });
      });
    }
    const n = out.length;
    if (
      n < 4 || out[n - 4] !== 0 || out[n - 3] !== 0 || out[n - 2] !== 0xff || out[n - 1] !== 0xff
    ) {
      throw new Error("the fuzzer's deflate did not end with a sync flush");
    }
    return new Uint8Array(out.buffer, out.byteOffset, n - 4);
  }

  /** Inflates one message's payload; throws on corrupt data. */
  inflate(payload: Uint8Array): Uint8Array {
    const h = this.#history;
    const stored = new Uint8Array([
      0,
      h.length & 0xff,
      h.length >>> 8,
      ~h.length & 0xff,
      (~h.length >>> 8) & 0xff,
    ]);
    const all = zlib.inflateRawSync(join([stored, h, payload, TRAILER]), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    const out = new Uint8Array(all.buffer, all.byteOffset + h.length, all.length - h.length);
    const kept = join([h, out]);
    this.#history = kept.length > WINDOW ? kept.slice(kept.length - WINDOW) : kept;
    return out;
  }

  close(): void {
    this.#stream?.close();
    this.#stream = null;
  }
}
