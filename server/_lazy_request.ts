// The Request a server hands a bodiless GET or HEAD: its Web object is made only when the
// handler asks for more than the URL, the method, the signal or the (absent) body.
//
// Why: on Deno, `new Request()` is the largest single cost of a hello-world exchange. Besides
// its own time, what it allocates outlives the young generation (its inner record holds
// accessor closures), so the collector copies and promotes it: 12% of `serve`'s busy time on
// wrk's hello world went to the collector, 3% without these Requests (bench/RESULTS.md).
// A router that looks at `url` and `method` only never pays for one.
//
// How: a Proxy whose target holds the parts. Everything but those members (and `bodyUsed`) is
// forwarded to the Request, made on first need, symbol-keyed members included. That lets the
// runtimes' own code take it for a Request (`new Request(request)`, `fetch(request)`): they
// reach their internals through the proxy. Methods are bound to the Request, since Bun's
// native ones refuse any other `this`. `lazyRequestsWork` checks all this once and turns
// the proxy off where it does not hold.

import { ServerRequest } from "./_server_request.ts";

/** What a lazy request is made from (an exchange; see `toRequest`). */
export interface LazySource {
  readonly info: { readonly signal: AbortSignal };
  /** Appends the request's header fields to `headers`, in order. */
  appendHeadersTo(headers: Headers): void;
}

const DENO_INSPECT = Symbol.for("Deno.customInspect");
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");
/** The Request itself, on the target and through the proxy alike. */
const MADE = Symbol("the Request");

/** A proxy's target: the parts of a request, and the Request once made. */
class Parts {
  readonly #url: string;
  readonly #method: "GET" | "HEAD";
  readonly #source: LazySource;
  #request: Request | null = null;

  constructor(url: string, method: "GET" | "HEAD", source: LazySource) {
    this.#url = url;
    this.#method = method;
    this.#source = source;
  }

  get [MADE](): Request {
    if (this.#request !== null) return this.#request;
    const init = this.#method === "GET" ? undefined : { method: this.#method };
    const request = new ServerRequest(this.#url, init, this.#source.info);
    this.#source.appendHeadersTo(request.headers);
    return this.#request = request;
  }

  // A runtime that prints the proxy may take these from the target, and call them on either.
  [DENO_INSPECT](
    this: { [MADE]: Request },
    inspect: (value: unknown, options: unknown) => string,
    options: unknown,
  ): string {
    return inspect(this[MADE], options);
  }
  [NODE_INSPECT](
    this: { [MADE]: Request },
    _depth: number,
    options: unknown,
    inspect: (value: unknown, options: unknown) => string,
  ): string {
    return inspect(this[MADE], options);
  }

  static readonly handler: ProxyHandler<Parts> = {
    get(parts, key) {
      switch (key) {
        case "url":
          return parts.#url;
        case "method":
          return parts.#method;
        case "signal":
          return parts.#source.info.signal;
        case "body":
          return null;
        case "bodyUsed":
          return false;
        case MADE:
          return parts[MADE];
        case DENO_INSPECT:
          return parts[DENO_INSPECT];
        case NODE_INSPECT:
          return parts[NODE_INSPECT];
      }
      const request = parts[MADE];
      const value = Reflect.get(request, key, request);
      return typeof value === "function" && key !== "constructor" ? value.bind(request) : value;
    },
    set: (parts, key, value) => Reflect.set(parts[MADE], key, value),
    has: (parts, key) => Reflect.has(parts[MADE], key),
    deleteProperty: (parts, key) => Reflect.deleteProperty(parts[MADE], key),
    ownKeys: (parts) => Reflect.ownKeys(parts[MADE]),
    getOwnPropertyDescriptor(parts, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(parts[MADE], key);
      // A proxy may not report a property its target lacks as non-configurable.
      if (descriptor !== undefined) descriptor.configurable = true;
      return descriptor;
    },
    defineProperty: (parts, key, descriptor) =>
      Reflect.defineProperty(parts[MADE], key, descriptor),
    getPrototypeOf: () => ServerRequest.prototype,
    // Its target stays extensible, so that the traps above keep the proxy invariants.
    preventExtensions: () => false,
  };
}

/**
 * A Request for a bodiless GET or HEAD whose Web object is made only when the handler needs
 * it (see the top of this file).
 *
 * @param url The request's URL, as `new Request(url).url` gives it (parsed and serialized).
 * @param method GET or HEAD.
 * @param source The exchange.
 * @returns A `ServerRequest` as far as any code can tell.
 */
export function lazyRequest(url: string, method: "GET" | "HEAD", source: LazySource): Request {
  return new Proxy(new Parts(url, method, source), Parts.handler) as unknown as Request;
}

let works: boolean | null = null;

/**
 * Whether the runtime takes a lazy request for a Request: its members, a copy of it made by
 * `new Request(request)`, and `clone()`. Checked once; where it fails, requests are made
 * at once.
 *
 * @returns True if lazy requests can be used.
 */
export function lazyRequestsWork(): boolean {
  return works ??= check();
}

function check(): boolean {
  try {
    const signal = new AbortController().signal;
    const url = "http://lazy.invalid/check?q";
    const request = lazyRequest(url, "HEAD", {
      info: { signal },
      appendHeadersTo: (headers) => headers.append("x-check", "1"),
    });
    const copy = new Request(request);
    const clone = request.clone();
    return request instanceof Request && request instanceof ServerRequest &&
      request.signal === signal && request.headers.get("x-check") === "1" &&
      copy.url === url && copy.method === "HEAD" && copy.headers.get("x-check") === "1" &&
      clone.url === url && clone.headers.get("x-check") === "1";
  } catch {
    return false;
  }
}
