/**
 * The request functions: {@linkcode request} and one per method, going through a shared
 * default {@linkcode Client} unless `options.client` names another.
 *
 * @module
 */
import { Client, type RequestOptions } from "./client.ts";

/** Options of {@linkcode request} and the method helpers. */
export interface RequestInit extends RequestOptions {
  /**
   * The client to go through (its pool, defaults and proxies). Default: one shared client
   * made on first use with the default options (proxies from the environment).
   */
  client?: Client;
}

let shared: Client | undefined;

/**
 * The shared client used when a request names none, made on first use. Its idle
 * connections do not keep the process alive.
 *
 * @returns The shared client.
 *
 * @example
 * ```ts
 * import { defaultClient } from "./request.ts";
 *
 * console.log(defaultClient() === defaultClient()); // true
 * ```
 */
export function defaultClient(): Client {
  if (shared === undefined || shared.closed) shared = new Client();
  return shared;
}

/**
 * Makes an HTTP request and resolves to a Web `Response` once the response head has
 * arrived; the body streams from the connection. Redirects are followed, `gzip`/`deflate`
 * bodies decoded, proxies taken from the environment, as the client says.
 * `response.url` is the final URL and `response.redirected` whether a redirect was
 * followed.
 *
 * @param method The method.
 * @param url An http:// or https:// URL.
 * @param options Headers, body, signal, timeouts, protocol, client.
 * @returns The response.
 *
 * @example
 * ```ts
 * import { request } from "./request.ts";
 * import { Client, ProxyConfig } from "./mod.ts";
 * import { serve } from "../server/mod.ts";
 *
 * await using server = await serve("127.0.0.1", 0, (req) => new Response(req.method));
 * await using client = new Client({ proxy: new ProxyConfig() });
 * const response = await request("OPTIONS", `http://127.0.0.1:${server.port}/`, { client });
 * console.log(response.status, await response.text()); // 200 "OPTIONS"
 * ```
 */
export function request(
  method: string,
  url: string | URL,
  options: RequestInit = {},
): Promise<Response> {
  return (options.client ?? defaultClient()).request(method, url, options);
}

/**
 * A `GET` request.
 *
 * @param url The URL.
 * @param options Request options.
 * @returns The response.
 *
 * @example
 * ```ts ignore
 * import { get } from "@hyperwire/http/client";
 *
 * const text = await (await get("https://example.com/")).text();
 * ```
 */
export function get(url: string | URL, options?: RequestInit): Promise<Response> {
  return request("GET", url, options);
}

/**
 * A `HEAD` request.
 *
 * @param url The URL.
 * @param options Request options.
 * @returns The response (without a body).
 *
 * @example
 * ```ts ignore
 * import { head } from "@hyperwire/http/client";
 *
 * const size = (await head("https://example.com/file")).headers.get("content-length");
 * ```
 */
export function head(url: string | URL, options?: RequestInit): Promise<Response> {
  return request("HEAD", url, options);
}

/**
 * A `POST` request.
 *
 * @param url The URL.
 * @param options Request options, with the body.
 * @returns The response.
 *
 * @example
 * ```ts ignore
 * import { post } from "@hyperwire/http/client";
 *
 * await post("https://example.com/api", {
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ hello: "world" }),
 * });
 * ```
 */
export function post(url: string | URL, options?: RequestInit): Promise<Response> {
  return request("POST", url, options);
}

/**
 * A `PUT` request.
 *
 * @param url The URL.
 * @param options Request options, with the body.
 * @returns The response.
 *
 * @example
 * ```ts ignore
 * import { put } from "@hyperwire/http/client";
 *
 * await put("https://example.com/item/1", { body: new Uint8Array([1, 2, 3]) });
 * ```
 */
export function put(url: string | URL, options?: RequestInit): Promise<Response> {
  return request("PUT", url, options);
}

/**
 * A `PATCH` request.
 *
 * @param url The URL.
 * @param options Request options, with the body.
 * @returns The response.
 *
 * @example
 * ```ts ignore
 * import { patch } from "@hyperwire/http/client";
 *
 * await patch("https://example.com/item/1", { body: JSON.stringify({ done: true }) });
 * ```
 */
export function patch(url: string | URL, options?: RequestInit): Promise<Response> {
  return request("PATCH", url, options);
}

/**
 * A `DELETE` request (`delete` is a reserved word, hence the name; it is also exported
 * as `delete`, so `import * as http` gives `http.delete`).
 *
 * @param url The URL.
 * @param options Request options.
 * @returns The response.
 *
 * @example
 * ```ts ignore
 * import { del } from "@hyperwire/http/client";
 *
 * await del("https://example.com/item/1");
 * ```
 */
export function del(url: string | URL, options?: RequestInit): Promise<Response> {
  return request("DELETE", url, options);
}

export { del as delete };
