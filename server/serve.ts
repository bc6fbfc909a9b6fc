import { bindListener, Server, type ServerOptions } from "./server.ts";
import { type Handler, streamHandler } from "./stream_handler.ts";

/** Options of {@linkcode serve}: those of `listen`, and an `onError` that makes the error response. */
export interface ServeOptions extends Omit<ServerOptions, "onError"> {
  /**
   * Makes the response for an error thrown by the handler, and is the place to log it.
   * Default: logs with `console.error` and answers an empty 500. Errors outside a handler
   * (a failed connection) are logged. A handler that throws what its request body failed
   * with (malformed, cut short, reset by the client) is the client's fault, and this is not
   * called: over HTTP/1.1 the server answers 400 and closes the connection; over HTTP/2 the
   * stream is already reset.
   */
  onError?: (error: unknown) => Response | Promise<Response>;
}

/** {@linkcode ServeOptions} with the address, as `Deno.serve` takes them. */
export interface ServeInit extends ServeOptions {
  /** Address to bind (default `"0.0.0.0"`). */
  hostname?: string;
  /** Port to bind (default 8000; 0 lets the system pick). */
  port?: number;
}

function defaultOnError(error: unknown): Response {
  console.error(error);
  return new Response(null, { status: 500 });
}

/**
 * Serves HTTP with a `Request => Response` handler, the same handler `Deno.serve` takes.
 * Request and response bodies stream both ways with backpressure. A handler's throw gives
 * a 500 (see `onError`) and the server lives on.
 *
 * The `Request` of a GET or HEAD (not a protocol upgrade) is made only when the handler
 * uses more of it than `url`, `method`, `signal` and `body` (null): until then it is a
 * stand-in that the runtime's own code takes for a `Request` too (`fetch(request)`, `new
 * Request(request)`, `clone()`). The one difference: it cannot be frozen or sealed.
 *
 * @param hostname Address to bind, e.g. `"127.0.0.1"`.
 * @param port Port to bind; 0 lets the system pick.
 * @param handler Answers each request.
 * @param options TLS, limits, timeouts, shutdown signal, error handling.
 * @returns The running server.
 *
 * @example
 * ```ts
 * import { serve } from "./mod.ts";
 *
 * const server = await serve("127.0.0.1", 0, (request) => new Response(`you asked for ${new URL(request.url).pathname}`));
 * console.log(await (await fetch(`http://127.0.0.1:${server.port}/a`)).text()); // "you asked for /a"
 * await server.close();
 * ```
 */
export function serve(
  hostname: string,
  port: number,
  handler: Handler,
  options?: ServeOptions,
): Promise<Server>;
/**
 * Serves HTTP with a `Request => Response` handler, taking the address in the options as
 * `Deno.serve` does.
 *
 * @param init Address, TLS, limits, timeouts, shutdown signal, error handling.
 * @param handler Answers each request.
 * @returns The running server.
 *
 * @example
 * ```ts
 * import { serve } from "./mod.ts";
 *
 * await using server = await serve({ hostname: "127.0.0.1", port: 0 }, () => new Response("ok"));
 * ```
 */
export function serve(init: ServeInit, handler: Handler): Promise<Server>;
/**
 * Serves HTTP with the handler in the options, as `Deno.serve({ handler, ...options })`.
 *
 * @param init Address, TLS, limits, timeouts, shutdown signal, error handling, and the handler.
 * @returns The running server.
 *
 * @example
 * ```ts
 * import { serve } from "./mod.ts";
 *
 * await using server = await serve({ port: 0, handler: () => new Response("ok") });
 * ```
 */
export function serve(init: ServeInit & { handler: Handler }): Promise<Server>;
/**
 * Serves HTTP on `0.0.0.0:8000`, as `Deno.serve(handler)`.
 *
 * @param handler Answers each request.
 * @returns The running server.
 *
 * @example
 * ```ts ignore
 * import { serve } from "./mod.ts";
 *
 * await serve(() => new Response("hello"));
 * ```
 */
export function serve(handler: Handler): Promise<Server>;
export async function serve(
  a: string | ServeInit | (ServeInit & { handler: Handler }) | Handler,
  b?: number | Handler,
  c?: Handler,
  d: ServeOptions = {},
): Promise<Server> {
  if (typeof a === "function") return serve({}, a);
  if (typeof a === "object" && b === undefined) {
    const { handler, ...init } = a as ServeInit & { handler?: Handler };
    if (typeof handler !== "function") throw new TypeError("serve: no handler given");
    return serve(init, handler);
  }
  const [hostname, port, handler, options] = typeof a === "string"
    ? [a, b as number, c!, d]
    : [a.hostname ?? "0.0.0.0", a.port ?? 8000, b as Handler, a];
  const onError = options.onError ?? defaultOnError;
  const serverOptions: ServerOptions = { ...options, onError: (error) => console.error(error) };
  const listener = await bindListener(hostname, port, serverOptions);
  const server = new Server(listener, streamHandler(handler, { onError }), serverOptions);
  options.onListen?.(server.addr);
  return server;
}
