// Request bodies as fetch takes them (BodyInit), turned into what a protocol connection sends.

/**
 * A request body: what `fetch` takes as `BodyInit`. Strings are sent as UTF-8; a
 * `ReadableStream` is streamed (chunked on HTTP/1.1 unless `content-length` is set);
 * everything else is sent with its length.
 */
export type RequestBody =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | URLSearchParams
  | FormData
  | ReadableStream<Uint8Array>;

/** A body ready for a connection, and the content type it implies. */
export interface ExtractedBody {
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  contentType: string | null;
}

const encoder = new TextEncoder();
const NONE: ExtractedBody = { body: null, contentType: null };

/**
 * Turns a body into bytes or a stream, with the `content-type` fetch would set. Synchronous
 * for strings, bytes and streams; a promise for blobs and form data (read into bytes, so
 * that they can be sent again on a redirect).
 */
export function extractBody(
  body: RequestBody | null | undefined,
): ExtractedBody | Promise<ExtractedBody> {
  if (body === null || body === undefined) return NONE;
  if (typeof body === "string") {
    return { body: encoder.encode(body), contentType: "text/plain;charset=UTF-8" };
  }
  if (body instanceof Uint8Array) return { body, contentType: null };
  if (body instanceof ReadableStream) return { body, contentType: null };
  if (body instanceof ArrayBuffer) return { body: new Uint8Array(body), contentType: null };
  if (ArrayBuffer.isView(body)) {
    return {
      body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
      contentType: null,
    };
  }
  if (body instanceof URLSearchParams) {
    return {
      body: encoder.encode(body.toString()),
      contentType: "application/x-www-form-urlencoded;charset=UTF-8",
    };
  }
  if (body instanceof Blob) {
    return body.arrayBuffer().then((buffer) => ({
      body: new Uint8Array(buffer),
      contentType: body.type || null,
    }));
  }
  if (body instanceof FormData) {
    // The runtime's own multipart encoder, with its boundary in the content type.
    const encoded = new Response(body);
    const contentType = encoded.headers.get("content-type");
    return encoded.arrayBuffer().then((buffer) => ({ body: new Uint8Array(buffer), contentType }));
  }
  throw new TypeError("unsupported request body type");
}
