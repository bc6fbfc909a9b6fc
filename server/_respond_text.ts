import type { Stream } from "./stream.ts";

/**
 * Answers an exchange with a short plain-text body (one line), as the server's own error
 * responses are.
 *
 * @param stream The exchange.
 * @param status The status.
 * @param text The line (a newline is added).
 * @param headers More header fields.
 */
export async function respondText(
  stream: Stream,
  status: number,
  text: string,
  headers?: HeadersInit,
): Promise<void> {
  const body = new TextEncoder().encode(text + "\n");
  const h = new Headers(headers);
  h.set("content-type", "text/plain; charset=utf-8");
  h.set("content-length", String(body.byteLength));
  await stream.respond(status, h);
  await stream.write(body);
  await stream.end();
}
