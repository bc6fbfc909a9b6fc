import type { ServeInfo, Stream } from "./stream.ts";
import { registerUpgrade, upgradeHandleOf, upgradeOf } from "./_upgrade.ts";
import { ServerRequest } from "./_server_request.ts";
import { lazyRequest, lazyRequestsWork } from "./_lazy_request.ts";
import { respondText } from "./_respond_text.ts";
import { ignore } from "../conn/_settled.ts";
import { joinBytes } from "../conn/_bytes.ts";

/**
 * What a {@linkcode Handler} is told about its request: the exchange's {@linkcode ServeInfo},
 * with `remoteAddr` typed as Deno's too, so that a `Deno.ServeHandler` is accepted as it is.
 * (The one address that is not a `Deno.Addr` is an in-memory connection's, `"memory"`.)
 */
export type HandlerInfo = ServeInfo & { readonly remoteAddr: Deno.Addr };

/**
 * A `Request => Response` handler, as `Deno.serve` takes it: a `Deno.ServeHandler` works
 * here unchanged (`info.remoteAddr`, `info.completed`).
 */
export type Handler = (request: Request, info: HandlerInfo) => Response | Promise<Response>;

/** A low-level handler of one exchange, as `listen` takes it. */
export type StreamHandler = (stream: Stream) => void | Promise<void>;

/** Options of {@linkcode streamHandler}. */
export interface StreamHandlerOptions {
  /**
   * Turns an error thrown by the handler into a response (default: an empty 500). It is
   * also the place to log it.
   */
  onError?: (error: unknown, request: Request) => Response | Promise<Response>;
}

/**
 * A stream implementation's fast path for a response whose whole body is known. Its
 * content-length is the body's (a handler's own is dropped), but for a HEAD request, whose
 * handler's content-length (that of the GET) is kept.
 */
interface WholeResponseStream extends Stream {
  respondWith(
    status: number,
    headers: Headers,
    body: Uint8Array | null,
    statusText?: string,
  ): Promise<void>;
}

function hasRespondWith(stream: Stream): stream is WholeResponseStream {
  return typeof (stream as Partial<WholeResponseStream>).respondWith === "function";
}

/**
 * How many microtask turns a body may take to close, or to give its next chunk, and still
 * count as complete (known up front) rather than streamed.
 */
const SETTLED_TURNS = 8;

/**
 * The most bytes of a body gathered while telling whether it is complete: past it, what was
 * read goes out and the rest is streamed. Static bodies come as one chunk on Deno and Node;
 * Bun gives 16 KiB, then up to 2 MiB a chunk.
 */
const MAX_GATHERED = 1024 * 1024;
/** The most chunks gathered so (a stream of empty chunks must not keep it waiting). */
const MAX_GATHERED_CHUNKS = 64;

/** A stream implementation that tells the request body's own failure from a handler's. */
interface BodyErrorSource {
  /** What reading the request body failed with (the client's fault), if it did. */
  readonly requestBodyError: unknown;
}

/** Whether `error` is what the exchange's request body failed with. */
function isRequestBodyError(stream: Stream, error: unknown): boolean {
  return error !== undefined && (stream as Partial<BodyErrorSource>).requestBodyError === error;
}

/** A stream implementation's fast path for the request's header fields. */
interface HeaderFieldSource {
  /** Appends the request's header fields to `headers`, in order. */
  appendHeadersTo(headers: Headers): void;
}

/**
 * Makes a Web `Request` of an exchange. GET and HEAD requests get no body, as `fetch` wants,
 * and (but for upgrades) a Request that is made only when the handler needs more than its
 * URL, method and signal (`_lazy_request.ts`).
 *
 * @param stream The exchange.
 * @returns The request; `request.signal` aborts when the exchange is cut off.
 */
export function toRequest(stream: Stream): Request {
  const { method, url } = stream.request;
  const fields = (stream as Partial<HeaderFieldSource>).appendHeadersTo;
  const upgrade = upgradeHandleOf(stream);
  if (
    (method === "GET" || method === "HEAD") && fields !== undefined && upgrade === undefined &&
    lazyRequestsWork()
  ) {
    return lazyRequest(new URL(url).href, method, stream as Stream & HeaderFieldSource);
  }
  const withBody = stream.hasBody && method !== "GET" && method !== "HEAD";
  // Every init member costs the Request constructor (Deno: about 0.3 µs each, and 1 µs for
  // having an init at all; Node and Bun alike), and appending the header fields to the
  // made Request's `headers` costs less than giving them in the init: a GET gets no init.
  let init: RequestInit | undefined = withBody
    // @ts-ignore: `duplex` is required for stream bodies, and not yet in every lib's RequestInit.
    ? { method, body: stream.body, duplex: "half" }
    : method === "GET"
    ? undefined
    : { method };
  if (fields === undefined) init = { ...init, headers: stream.request.headers };
  const request = new ServerRequest(url, init, stream.info);
  fields?.call(stream, request.headers);
  if (upgrade) registerUpgrade(request, upgrade);
  return request;
}

/**
 * Writes a Web `Response` to an exchange: in one write when its body is already complete
 * (a string, bytes, a closed stream), streamed with backpressure otherwise.
 *
 * @param stream The exchange.
 * @param response The response.
 */
export async function sendResponse(stream: Stream, response: Response): Promise<void> {
  const upgrade = upgradeOf(response);
  if (upgrade) {
    const handle = upgradeHandleOf(stream);
    if (!handle) throw new Error("this exchange cannot switch protocols");
    upgrade.onUpgrade(await handle.accept(upgrade.status, upgrade.headers));
    return;
  }
  const { status, statusText } = response;
  const headers = headersToSend(response);
  const body = response.body;
  if (body === null) {
    if (hasRespondWith(stream)) return stream.respondWith(status, headers, null, statusText);
    return stream.respond(status, headers, { endStream: true, statusText });
  }
  const reader = body.getReader();
  if (!hasRespondWith(stream)) {
    return streamBody(stream, status, statusText, headers, reader, [], reader.read());
  }
  // A body whose stream closes right behind its first chunk (a string, bytes, a blob) goes
  // out with its head in one write, with a content-length. Watching `closed` tells that
  // without a second read; one that fails that soon fails before anything is sent.
  const ended = new BodyEnd(reader);
  let first: ReadableStreamReadResult<Uint8Array>;
  try {
    first = await reader.read();
    // Deno and Node close a static body's stream a turn or two behind its one chunk.
    for (let i = 0; i < SETTLED_TURNS && !first.done && ended.open; i++) await null;
    if (ended.failed) await reader.read(); // throws the body's error
  } catch (error) {
    reader.cancel(error).catch(ignore);
    throw error;
  }
  if (first.done || ended.closed) {
    return await stream.respondWith(status, headers, first.value ?? null, statusText);
  }
  return sendGathered(stream, status, statusText, headers, reader, ended, first.value);
}

/**
 * The rest of `sendResponse` for a body still open behind its first chunk: its next chunks
 * are gathered while each comes within a few turns (Bun gives a static body of more than 16
 * KiB in several). A body that closes so goes out whole after all; one that does not, or
 * outgrows `MAX_GATHERED`, streams from there.
 */
async function sendGathered(
  stream: WholeResponseStream,
  status: number,
  statusText: string,
  headers: Headers,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ended: BodyEnd,
  first: Uint8Array,
): Promise<void> {
  const chunks = [first];
  let size = first.byteLength;
  let done = false;
  /** A read that gave nothing in time, which the streaming carries on from. */
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  try {
    while (!ended.closed && size <= MAX_GATHERED && chunks.length < MAX_GATHERED_CHUNKS) {
      const read = reader.read();
      const next = await soon(read, ended);
      if (next === null) {
        pending = read;
        break;
      }
      if (next.done) {
        done = true;
        break;
      }
      chunks.push(next.value);
      size += next.value.byteLength;
    }
  } catch (error) {
    reader.cancel(error).catch(ignore);
    throw error;
  }
  if (done || ended.closed) {
    const whole = chunks.length === 1 ? chunks[0] : joinBytes(chunks, size);
    return await stream.respondWith(status, headers, whole, statusText);
  }
  return streamBody(stream, status, statusText, headers, reader, chunks, pending ?? reader.read());
}

/**
 * What `read` gives within a few microtask turns (rejecting with its error), or `null` if
 * it is not there by then; the body's end, told by `ended`, also ends the wait.
 */
async function soon(
  read: Promise<ReadableStreamReadResult<Uint8Array>>,
  ended: BodyEnd,
): Promise<ReadableStreamReadResult<Uint8Array> | null> {
  // Set by the callbacks below (typed so, not narrowed to `null` by its first value).
  let outcome = null as { value: ReadableStreamReadResult<Uint8Array> } | { error: unknown } | null;
  read.then((value) => (outcome = { value }), (error) => (outcome = { error }));
  for (let i = 0; i < SETTLED_TURNS && outcome === null && ended.open; i++) await null;
  if (outcome === null) {
    if (ended.failed) await read; // throws the body's error
    return null;
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

/** Whether a body's stream has closed or failed, from its reader's `closed` promise. */
class BodyEnd {
  closed = false;
  failed = false;
  constructor(reader: ReadableStreamDefaultReader<Uint8Array>) {
    reader.closed.then(() => (this.closed = true), () => (this.failed = true));
  }
  get open(): boolean {
    return !this.closed && !this.failed;
  }
}

/**
 * Streams a body with backpressure: the head with the chunks already read, then the result of
 * `pending` (the read under way) and each chunk after it as it comes. The body is cancelled
 * as soon as the exchange is cut off (the client went away), not at its next chunk, which may
 * be long in coming.
 */
async function streamBody(
  stream: Stream,
  status: number,
  statusText: string,
  headers: Headers,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  read: readonly Uint8Array[],
  pending: Promise<ReadableStreamReadResult<Uint8Array>>,
): Promise<void> {
  let signal: AbortSignal | undefined;
  const cancel = () => reader.cancel(signal!.reason).catch(ignore);
  try {
    let next: ReadableStreamReadResult<Uint8Array> | null = null;
    if (read.length === 0) {
      next = await pending;
      await stream.respond(status, headers, { statusText, endStream: next.done });
      if (next.done) return;
    } else await stream.respond(status, headers, { statusText });
    signal = stream.info.signal;
    signal.throwIfAborted();
    signal.addEventListener("abort", cancel, { once: true });
    for (const chunk of read) await stream.write(chunk);
    next ??= await pending;
    while (!next.done) {
      await stream.write(next.value);
      next = await reader.read();
    }
    if (!signal.aborted) await stream.end();
  } catch (error) {
    pending.catch(ignore); // read ahead, and failed with what is thrown here, or after it
    reader.cancel(error).catch(ignore);
    throw error;
  } finally {
    signal?.removeEventListener("abort", cancel);
  }
}

/** Content codings that `fetch` decodes on Deno, Node and Bun alike. */
const DECODED_BY_FETCH = /^\s*(?:(?:x-)?gzip|deflate|br)\s*$/i;

/**
 * The head to send for a response: that of a `Response` that came from `fetch` (or this
 * module's client; either way it has a `url`, which one made with `new Response` has not)
 * whose body was decoded loses its `content-encoding` and `content-length`, which describe
 * the encoded bytes (the fetch standard keeps them): the `return fetch(upstream)` proxy then
 * sends what its body is, as `Deno.serve` does.
 */
function headersToSend(response: Response): Headers {
  const headers = response.headers;
  if (response.url === "" || response.body === null) return headers;
  const coding = headers.get("content-encoding");
  if (coding === null || !coding.split(",").every((c) => DECODED_BY_FETCH.test(c))) {
    return headers;
  }
  const sent = new Headers(headers);
  sent.delete("content-encoding");
  sent.delete("content-length");
  return sent;
}

/** Methods the `Request` constructor refuses (the fetch standard's forbidden methods). */
const FORBIDDEN_METHOD = /^(?:connect|trace|track)$/i;

/**
 * Answers an exchange that cannot become a `Request`: one whose URL the URL parser rejects
 * (HTTP/1.1 answers those before any handler; an HTTP/2 `:authority` with a port above
 * 65535, say) gets 400, a forbidden method 501. The client's error, not the handler's: the
 * handler is not called and nothing is reported.
 */
function refuse(stream: Stream): Promise<void> {
  return FORBIDDEN_METHOD.test(stream.request.method)
    ? respondText(stream, 501, "method not supported")
    : respondText(stream, 400, "invalid request target or Host");
}

/**
 * Turns a `Request => Response` handler into a {@linkcode StreamHandler} for `listen`: the
 * request head and body become a Web `Request`, the returned `Response` is streamed back.
 *
 * @param handler The request handler.
 * @param options What to do with a handler's error.
 * @returns The stream handler.
 *
 * @example
 * ```ts
 * import { listen, streamHandler } from "./mod.ts";
 *
 * const server = await listen("127.0.0.1", 0, streamHandler(() => new Response("ok")));
 * console.log(await (await fetch(`http://127.0.0.1:${server.port}/`)).text()); // "ok"
 * await server.close();
 * ```
 */
export function streamHandler(handler: Handler, options: StreamHandlerOptions = {}): StreamHandler {
  const { onError } = options;
  const failed = async (stream: Stream, request: Request, error: unknown): Promise<void> => {
    // A request body that failed (malformed, cut short) and was thrown on is the client's
    // fault: the connection answers it as it answers a bad head, and onError never sees it.
    if (!onError || isRequestBodyError(stream, error)) throw error;
    await sendResponse(stream, await onError(error, request));
  };
  const answer = (stream: Stream, request: Request, response: unknown): Promise<void> =>
    response instanceof Response
      ? sendResponse(stream, response)
      : failed(stream, request, new TypeError("the handler did not return a Response"));
  // Not an async function: a handler that returns its Response at once costs no extra turn
  // and no frame; the connection waits on sendResponse's own promise.
  return (stream: Stream): Promise<void> => {
    let request: Request;
    try {
      request = toRequest(stream);
    } catch {
      return refuse(stream);
    }
    let result: Response | Promise<Response>;
    try {
      result = handler(request, stream.info as HandlerInfo);
    } catch (error) {
      return failed(stream, request, error);
    }
    if (result instanceof Response) return sendResponse(stream, result);
    return Promise.resolve(result).then(
      (response) => answer(stream, request, response),
      (error) => failed(stream, request, error),
    );
  };
}
