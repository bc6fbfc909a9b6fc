/**
 * The routes of the HTTP/2 benchmark servers on Deno: `/hello` (12 bytes), `/1m` (1 MiB),
 * `/big?n=N` (N bytes in 64 KiB chunks), `/echo` (answers the upload's byte count).
 *
 * @module
 */

/** The 12-byte body. */
export const HELLO = "Hello World!";
/** The 1 MiB body. */
export const BODY_1M: Uint8Array<ArrayBuffer> = new Uint8Array(1 << 20).fill(120);
const CHUNK: Uint8Array<ArrayBuffer> = new Uint8Array(64 * 1024).fill(121);

/** Answers by path (no full URL parse for the hot routes). */
export async function h2Handler(request: Request): Promise<Response> {
  const url = request.url;
  const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  if (path === "/hello") {
    return new Response(HELLO, { headers: { "content-type": "text/plain" } });
  }
  if (path === "/1m") {
    return new Response(BODY_1M, { headers: { "content-type": "application/octet-stream" } });
  }
  if (path === "/echo") {
    let n = 0;
    const reader = request.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      n += value.byteLength;
    }
    return new Response(String(n));
  }
  if (path.startsWith("/big?n=")) {
    let left = Number(path.slice(7));
    const body = new ReadableStream<Uint8Array>({
      type: "bytes",
      pull(c) {
        if (left <= 0) return c.close();
        const n = Math.min(left, CHUNK.byteLength);
        left -= n;
        c.enqueue(n === CHUNK.byteLength ? CHUNK.slice() : CHUNK.slice(0, n));
      },
    });
    return new Response(body, {
      headers: { "content-type": "application/octet-stream", "content-length": path.slice(7) },
    });
  }
  return new Response("not found", { status: 404 });
}
