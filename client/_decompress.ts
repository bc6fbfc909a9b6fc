// Response body decoding as fetch does it: gzip, deflate (zlib or raw), and brotli where the
// runtime's DecompressionStream has it.

let brotli: string | null | undefined;

/** The DecompressionStream format name for brotli on this runtime, or `null`. */
function brotliFormat(): string | null {
  if (brotli !== undefined) return brotli;
  brotli = null;
  for (const name of ["br", "brotli"]) {
    try {
      new DecompressionStream(name as CompressionFormat);
      brotli = name;
      break;
    } catch {
      // not this name
    }
  }
  return brotli;
}

/** The `accept-encoding` value the client sends: what it can decode here. */
export function acceptEncoding(): string {
  return brotliFormat() === null ? "gzip, deflate" : "gzip, deflate, br";
}

/** A DecompressionStream typed as bytes in, bytes out. */
function decompressor(format: string): ReadableWritablePair<Uint8Array, Uint8Array> {
  return new DecompressionStream(format as CompressionFormat) as unknown as ReadableWritablePair<
    Uint8Array,
    Uint8Array
  >;
}

/** Whether the first bytes of a deflate body are a zlib header (RFC 1950) rather than raw deflate. */
function isZlib(b: Uint8Array): boolean {
  if (b.byteLength < 2) return true;
  return (b[0] & 0x0f) === 8 && (b[0] >> 4) <= 7 && ((b[0] << 8) | b[1]) % 31 === 0;
}

/**
 * A stream that reads `reader` as its consumer pulls (no read-ahead), starting with `first`
 * if given; a failed read's error goes through `onError`, which throws the one to pass on.
 */
function relay(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  onError: (error: unknown) => never = (error) => {
    throw error;
  },
  first?: Uint8Array,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (first !== undefined) controller.enqueue(first);
    },
    async pull(controller) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (error) {
        onError(error);
      }
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** Inflates an HTTP `deflate` body, which servers send zlib-wrapped (correct) or raw (common). */
function inflate(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const source = body.getReader();
  let out: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (out === null) {
        const first = await source.read();
        if (first.done) {
          controller.close();
          return;
        }
        const format = isZlib(first.value) ? "deflate" : "deflate-raw";
        out = relay(source, undefined, first.value).pipeThrough(decompressor(format)).getReader();
      }
      const r = await out.read();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    cancel(reason) {
      return out ? out.cancel(reason) : source.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Decodes a body sent with `content-encoding: encoding` (codings listed in the order they
 * were applied). Returns `null` when a coding is unknown here; the body is then left as it is.
 */
export function decodeBody(
  body: ReadableStream<Uint8Array>,
  encoding: string,
): ReadableStream<Uint8Array> | null {
  const codings = encoding.split(",").map((c) => c.trim().toLowerCase()).filter((c) => c !== "");
  const steps: string[] = [];
  for (const coding of codings) {
    if (coding === "identity") continue;
    if (coding === "gzip" || coding === "x-gzip") steps.push("gzip");
    else if (coding === "deflate") steps.push("deflate");
    else if (coding === "br" && brotliFormat() !== null) steps.push(brotliFormat()!);
    else return null;
  }
  if (steps.length === 0) return body;
  // The source's own errors (a timeout, a cut-off body) pass through as they are; a
  // decompressor's become a TypeError, as fetch's are, the same on every runtime (Node's
  // zlib throws a plain Error with a Z_DATA_ERROR code).
  let sourceError: { error: unknown } | null = null;
  let out = relay(body.getReader(), (error) => {
    sourceError = { error };
    throw error;
  });
  for (let i = steps.length - 1; i >= 0; i--) {
    out = steps[i] === "deflate" ? inflate(out) : out.pipeThrough(decompressor(steps[i]));
  }
  return relay(out.getReader(), (error) => {
    if (error instanceof TypeError || (sourceError !== null && sourceError.error === error)) {
      throw error;
    }
    throw new TypeError(`corrupt ${encoding} body: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  });
}
