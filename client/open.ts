/**
 * {@linkcode open}: client-side streaming, writing the request body and reading the
 * response as they go.
 *
 * @module
 */
import { defaultClient, type RequestInit } from "./request.ts";

/** Options of {@linkcode open}: those of `request`, without a body (it is written instead). */
export type OpenOptions = Omit<RequestInit, "body">;

/** What {@linkcode open} hands its callback: the request body to write and the response to read. */
export interface OpenStream {
  /**
   * The request body. Use either this (with your own writer or `pipeTo`) or
   * {@linkcode write} / {@linkcode close}, not both.
   */
  readonly writable: WritableStream<Uint8Array>;
  /**
   * Writes a piece of the request body (strings as UTF-8); resolves when the connection
   * has taken it.
   */
  write(chunk: Uint8Array | string): Promise<void>;
  /** Ends the request body. */
  close(): Promise<void>;
  /**
   * The response, once its head has arrived. On HTTP/1.1 most servers answer after the
   * whole body, so end the body before awaiting it; on HTTP/2 both can go on at once.
   */
  readonly response: Promise<Response>;
}

const encoder = new TextEncoder();
const noop = () => {};

/**
 * Makes a request whose body `f` writes as it goes while it reads the response: the body
 * is streamed (chunked on HTTP/1.1) with backpressure, and the response is available as
 * soon as its head arrives (full duplex on HTTP/2; on HTTP/1.1 the server decides whether
 * it answers before the body has ended). When `f` returns, the body is ended if it was
 * not, and a response body `f` did not read is cancelled; when `f` throws, the request is
 * aborted. If the request failed and `f` never looked at `response`, that error is thrown.
 *
 * @param method The method.
 * @param url An http:// or https:// URL.
 * @param f Writes the body and reads the response.
 * @param options Headers, signal, timeouts, protocol, client.
 * @returns What `f` returns.
 *
 * @example Upload line by line, then read the answer
 * ```ts
 * import { open } from "./open.ts";
 * import { Client, ProxyConfig } from "./mod.ts";
 * import { serve } from "../server/mod.ts";
 *
 * await using server = await serve("127.0.0.1", 0, async (req) => new Response((await req.text()).toUpperCase()));
 * await using client = new Client({ proxy: new ProxyConfig() });
 * const reply = await open("POST", `http://127.0.0.1:${server.port}/`, async (stream) => {
 *   await stream.write("hello ");
 *   await stream.write("world");
 *   await stream.close();
 *   return await (await stream.response).text();
 * }, { client });
 * console.log(reply); // "HELLO WORLD"
 * ```
 */
export async function open<T>(
  method: string,
  url: string | URL,
  f: (stream: OpenStream) => T | Promise<T>,
  options: OpenOptions = {},
): Promise<T> {
  const client = options.client ?? defaultClient();
  const abort = new AbortController();
  const user = options.signal;
  const onUserAbort = () => abort.abort(user!.reason);
  if (user?.aborted) abort.abort(user.reason);
  else user?.addEventListener("abort", onUserAbort, { once: true });

  const pipe = new TransformStream<Uint8Array, Uint8Array>(
    undefined,
    { highWaterMark: 1 },
    { highWaterMark: 0 },
  );
  const { writable } = pipe;
  const response = client.request(method, url, {
    ...options,
    body: pipe.readable,
    signal: abort.signal,
  });
  response.catch(noop);
  const state = {
    writer: null as WritableStreamDefaultWriter<Uint8Array> | null,
    looked: false,
    ended: false,
  };
  const stream: OpenStream = {
    writable,
    write(chunk) {
      state.writer ??= writable.getWriter();
      return state.writer.write(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
    },
    close() {
      state.writer ??= writable.getWriter();
      state.ended = true;
      return state.writer.close();
    },
    get response() {
      state.looked = true;
      return response;
    },
  };
  try {
    const result = await f(stream);
    if (!state.ended) {
      if (state.writer) await state.writer.close().catch(noop);
      else if (!writable.locked) await writable.close().catch(noop);
    }
    let res: Response;
    try {
      res = await response;
    } catch (error) {
      if (state.looked) return result;
      throw error;
    }
    if (res.body !== null && !res.bodyUsed && !res.body.locked) await res.body.cancel().catch(noop);
    return result;
  } catch (error) {
    abort.abort(error);
    throw error;
  } finally {
    user?.removeEventListener("abort", onUserAbort);
  }
}
