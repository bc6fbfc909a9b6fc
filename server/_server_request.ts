// The Request a server of this module makes of an exchange (see `toRequest`).

/** A Request whose `signal` is the exchange's, made only when a handler reads it. */
export class ServerRequest extends Request {
  #info: { readonly signal: AbortSignal };
  constructor(url: string, init: RequestInit | undefined, info: { readonly signal: AbortSignal }) {
    super(url, init);
    this.#info = info;
  }
  override get signal(): AbortSignal {
    return this.#info.signal;
  }
}

/**
 * Whether `request` was made by this module's server (`serve`, `streamHandler`), and not by
 * `Deno.serve` or a caller: such a request can be upgraded only when the server registered
 * it as an upgrade (see `websockets/upgrade.ts`).
 *
 * @param request The request.
 * @returns True for a request of this module's server.
 */
export function isServerRequest(request: Request): boolean {
  return request instanceof ServerRequest;
}
