/**
 * The answer of the `web` floors (`h1_floor_deno.ts`, `h1_floor_node.ts`): the least a
 * `Request => Response` server does for one GET head with public APIs. The head becomes a Web
 * `Request` with its header fields, the benchmark's handler answers it, and the `Response` is
 * read as a server must read one, through its body's stream (one chunk taken as the whole
 * body); its head and body go out as one buffer.
 *
 * @module
 */
import { parseRequestHead, toHeaders } from "../../http1/parse.ts";
import { encodeLatin1Into, responseHead } from "../../http1/serialize.ts";
import { httpDate } from "../../server/_date.ts";
import { handler } from "./_routes.ts";

const limits = { maxHeaderCount: 100 };

/** The bytes answering one request head. */
export async function answerWeb(head: Uint8Array): Promise<Uint8Array> {
  const parsed = parseRequestHead(head, limits);
  const request = new Request(`http://${parsed.host}${parsed.target}`);
  toHeaders(parsed.fields, request.headers);
  const response = handler(request);
  const { value } = await response.body!.getReader().read();
  const body = value ?? new Uint8Array(0);
  const text = responseHead(
    response.status,
    "",
    response.headers,
    `content-length: ${body.byteLength}\r\ndate: ${httpDate()}\r\n`,
  );
  const out = new Uint8Array(text.length + body.byteLength);
  encodeLatin1Into(text, out);
  out.set(body, text.length);
  return out;
}
