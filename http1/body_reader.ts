import { type BufferedReader, UnexpectedEofError } from "./buffered_reader.ts";
import { ChunkedDecoder, type ChunkedLimits } from "./chunked.ts";
import type { BodyFraming } from "./parse.ts";

/** The largest piece one read hands out. */
const MAX_PIECE = 1 << 20;

/**
 * Reads one message body off a {@linkcode BufferedReader}, as its framing says: a fixed
 * length, chunked, or up to the end of the connection. Pieces are views of the bytes read
 * from the connection, not copies.
 *
 * @example
 * ```ts
 * import { memoryPair } from "../conn/memory.ts";
 * import { BufferedReader } from "./buffered_reader.ts";
 * import { BodyReader } from "./body_reader.ts";
 *
 * const [a, b] = memoryPair();
 * await a.write(new TextEncoder().encode("hello, and the next message"));
 * const body = new BodyReader(new BufferedReader(b), { kind: "length", length: 5 });
 * console.log(new TextDecoder().decode((await body.read())!)); // "hello"
 * console.log(await body.read(), body.finished); // null true
 * ```
 */
export class BodyReader {
  #remaining: number;
  #chunked: ChunkedDecoder | null = null;
  #finished: boolean;

  /**
   * Makes a reader of the body that `reader` is at.
   *
   * @param reader Where the body is read from.
   * @param framing How the body is delimited.
   * @param limits Limits of the chunked decoder.
   */
  constructor(
    private readonly reader: BufferedReader,
    readonly framing: BodyFraming,
    limits: ChunkedLimits = {},
  ) {
    this.#remaining = framing.kind === "length" ? framing.length : 0;
    this.#finished = framing.kind === "none" || (framing.kind === "length" && framing.length === 0);
    if (framing.kind === "chunked") this.#chunked = new ChunkedDecoder(reader, limits);
  }

  /** Whether the whole body has been read. */
  get finished(): boolean {
    return this.#finished;
  }

  /** The trailer fields (lowercase names and values, alternating) of a finished chunked body. */
  get trailers(): string[] {
    return this.#chunked?.trailers ?? [];
  }

  /** The next piece of the body, or `null` at its end. Rejects if the body is cut short. */
  async read(): Promise<Uint8Array | null> {
    if (this.#finished) return null;
    switch (this.framing.kind) {
      case "length": {
        const piece = await this.reader.read(Math.min(this.#remaining, MAX_PIECE));
        if (piece === null) throw new UnexpectedEofError("a message body");
        this.#remaining -= piece.byteLength;
        if (this.#remaining === 0) this.#finished = true;
        return piece;
      }
      case "chunked": {
        const piece = await this.#chunked!.read();
        if (piece === null) this.#finished = true;
        return piece;
      }
      default: {
        const piece = await this.reader.read(MAX_PIECE);
        if (piece === null) this.#finished = true;
        return piece;
      }
    }
  }

  /**
   * Reads and drops the rest of the body, up to `maxBytes` of it.
   *
   * @returns Whether the body was finished within the budget.
   */
  async discard(maxBytes: number): Promise<boolean> {
    let budget = maxBytes;
    while (!this.#finished) {
      if (this.framing.kind === "length" && this.#remaining > budget) return false;
      const piece = await this.read();
      if (piece === null) break;
      budget -= piece.byteLength;
      if (budget < 0) return false;
    }
    return true;
  }
}

/** Hooks of {@linkcode bodyStream}. */
export interface BodyStreamHooks {
  /** Called before the first read of the connection (to send `100 Continue`, say). */
  onFirstPull?: () => Promise<void> | void;
  /** Called once when the body has ended, or failed (with the error), or was cancelled. */
  onEnd?: (error?: unknown) => void;
}

/**
 * A `ReadableStream` view of a {@linkcode BodyReader} that reads the connection only when
 * its consumer asks (no read-ahead), so backpressure reaches the peer.
 *
 * @param body The body to read (a {@linkcode BodyReader}, or anything with its `read`).
 * @param hooks Start and end callbacks.
 * @returns The stream.
 *
 * @example
 * ```ts
 * import { memoryPair } from "../conn/memory.ts";
 * import { BufferedReader } from "./buffered_reader.ts";
 * import { BodyReader, bodyStream } from "./body_reader.ts";
 *
 * const [a, b] = memoryPair();
 * await a.write(new TextEncoder().encode("abc"));
 * const stream = bodyStream(new BodyReader(new BufferedReader(b), { kind: "length", length: 3 }));
 * console.log(await new Response(stream).text()); // "abc"
 * ```
 */
export function bodyStream(
  body: Pick<BodyReader, "read">,
  hooks: BodyStreamHooks = {},
): ReadableStream<Uint8Array> {
  let started = false;
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    hooks.onEnd?.(error);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (!started) {
          started = true;
          await hooks.onFirstPull?.();
        }
        const piece = await body.read();
        if (piece === null) {
          controller.close();
          end();
        } else controller.enqueue(piece);
      } catch (error) {
        controller.error(error);
        end(error);
      }
    },
    cancel(reason) {
      end(reason ?? new Error("body cancelled"));
    },
  }, { highWaterMark: 0 });
}
