/**
 * Proxies: {@linkcode ProxyConfig} says which proxy (if any) a URL goes through, and
 * {@linkcode connectThroughProxy} opens a `CONNECT` tunnel through one.
 *
 * @module
 */
import type { Addr, Conn } from "../conn/types.ts";
import { connect } from "../conn/connect.ts";
import { BufferedReader } from "../http1/buffered_reader.ts";
import { parseResponseHead } from "../http1/parse.ts";
import { encodeLatin1 } from "../http1/serialize.ts";
import { ProxyError } from "./errors.ts";
import { bareHostname, portOf } from "./_url.ts";

/** What {@linkcode ProxyConfig} is made from. */
export interface ProxyConfigInit {
  /** The proxy for `http://` (and `ws://`) URLs, e.g. `"http://proxy.local:3128"`. */
  http?: string | URL | null;
  /** The proxy for `https://` (and `wss://`) URLs. */
  https?: string | URL | null;
  /**
   * Hosts reached directly: a comma-separated list or an array of entries. `*` matches
   * every host; `example.com` and `.example.com` both match that domain and its
   * subdomains (a trailing dot, as in `example.com.`, changes nothing); `host:port` matches
   * one port only; IP addresses match exactly, and CIDR blocks (`10.0.0.0/8`, `fd00::/8`)
   * match the addresses in them.
   */
  noProxy?: string | readonly string[];
}

/** Where environment variables come from: a record, or a function looking one up. */
export type ProxyEnv = Record<string, string | undefined> | ((name: string) => string | undefined);

type NoProxyRule =
  | { kind: "domain"; domain: string; port: number }
  | { kind: "ip"; ip: string; port: number }
  | { kind: "cidr"; base: number; mask: number; port: number }
  | { kind: "cidr6"; base: number[]; bits: number; port: number };

function parseIpv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

function normalizeIpv6(text: string): string | null {
  try {
    const h = new URL(`http://[${text}]/`).hostname;
    return h.slice(1, -1);
  } catch {
    return null;
  }
}

/** The eight 16-bit groups of an IPv6 address, or null if `text` is none. */
function ipv6Groups(text: string): number[] | null {
  const canonical = normalizeIpv6(text);
  if (canonical === null) return null;
  const [head, tail] = canonical.includes("::") ? canonical.split("::") : [canonical, null];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const fill = tail === null ? [] : new Array(8 - left.length - right.length).fill("0");
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16));
}

/** Whether the first `bits` bits of two IPv6 addresses (as groups) are the same. */
function samePrefix6(a: number[], b: number[], bits: number): boolean {
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((a[i] & mask) !== (b[i] & mask)) return false;
  }
  return true;
}

function parseRule(entry: string): NoProxyRule | null {
  let text = entry.trim().toLowerCase();
  if (!text) return null;
  let port = 0;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end === -1) return null;
    const rest = text.slice(end + 1);
    if (rest.startsWith(":")) port = Number(rest.slice(1)) || 0;
    text = text.slice(1, end);
  } else if (/^[^:]*:\d+$/.test(text)) {
    const colon = text.lastIndexOf(":");
    port = Number(text.slice(colon + 1));
    text = text.slice(0, colon);
  }
  const slash = text.indexOf("/");
  if (slash !== -1) {
    const bits = Number(text.slice(slash + 1));
    const address = text.slice(0, slash);
    if (address.includes(":")) {
      const base = ipv6Groups(address);
      if (base === null || !Number.isInteger(bits) || bits < 0 || bits > 128) return null;
      return { kind: "cidr6", base, bits, port };
    }
    const base = parseIpv4(address);
    if (base === null || !Number.isInteger(bits) || bits < 0 || bits > 32) return null;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return { kind: "cidr", base: (base & mask) >>> 0, mask, port };
  }
  if (parseIpv4(text) !== null) return { kind: "ip", ip: text, port };
  if (text.includes(":")) {
    const ip = normalizeIpv6(text);
    return ip === null ? null : { kind: "ip", ip, port };
  }
  if (text.startsWith("*.")) text = text.slice(1);
  if (text.startsWith(".")) text = text.slice(1);
  if (text.endsWith(".")) text = text.slice(0, -1); // a fully qualified name's root
  return text ? { kind: "domain", domain: text, port } : null;
}

function parseProxyUrl(value: string | URL | null | undefined, what: string): URL | null {
  if (value === null || value === undefined) return null;
  if (value instanceof URL) return checkProxyUrl(new URL(value.href), what);
  const text = value.trim();
  if (!text) return null;
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  return checkProxyUrl(url, what);
}

function checkProxyUrl(url: URL, what: string): URL {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(
      `${what} proxy ${url.href}: only http:// and https:// proxies are supported`,
    );
  }
  return url;
}

/** Reads an environment variable; `undefined` when it is unset or not readable (no permission). */
function readEnv(name: string): string | undefined {
  try {
    if (typeof Deno !== "undefined" && Deno.env) {
      const status = Deno.permissions?.querySync?.({ name: "env", variable: name });
      if (status && status.state !== "granted") return undefined;
      return Deno.env.get(name);
    }
    const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } })
      .process;
    return proc?.env?.[name];
  } catch {
    return undefined;
  }
}

/**
 * Which proxy each URL goes through. `new ProxyConfig()` means no proxy at all;
 * {@linkcode ProxyConfig.fromEnv} reads the usual environment variables.
 *
 * @example Explicit proxies with exceptions
 * ```ts
 * import { ProxyConfig } from "./proxy.ts";
 *
 * const proxies = new ProxyConfig({
 *   http: "http://user:secret@proxy.local:3128",
 *   https: "http://proxy.local:3128",
 *   noProxy: "localhost,.internal.example,10.0.0.0/8",
 * });
 * console.log(proxies.proxyFor("https://example.com/")?.host); // "proxy.local:3128"
 * console.log(proxies.proxyFor("http://api.internal.example/")); // null
 * console.log(new ProxyConfig().proxyFor("http://example.com/")); // null
 * ```
 */
export class ProxyConfig {
  /** The proxy for `http://` and `ws://` URLs, or `null`. */
  readonly http: URL | null;
  /** The proxy for `https://` and `wss://` URLs, or `null`. */
  readonly https: URL | null;
  /** The entries of the no-proxy list, as given. */
  readonly noProxy: readonly string[];
  #all = false;
  #rules: NoProxyRule[] = [];

  /**

   * Creates the configuration.

   * @param init The proxies and the hosts that bypass them; nothing means no proxy.

   */
  constructor(init: ProxyConfigInit = {}) {
    this.http = parseProxyUrl(init.http, "http");
    this.https = parseProxyUrl(init.https, "https");
    const list = typeof init.noProxy === "string"
      ? init.noProxy.split(/[\s,]+/)
      : [...(init.noProxy ?? [])];
    this.noProxy = list.map((e) => e.trim()).filter((e) => e !== "");
    for (const entry of this.noProxy) {
      if (entry === "*") this.#all = true;
      const rule = parseRule(entry);
      if (rule) this.#rules.push(rule);
    }
  }

  /**
   * The proxies named by the environment: `http_proxy` / `HTTP_PROXY` for http:// URLs
   * (the upper-case name is ignored when `REQUEST_METHOD` is set, as in a CGI script,
   * where a client's `Proxy:` header would land in it), `https_proxy` / `HTTPS_PROXY`,
   * and `no_proxy` / `NO_PROXY`; the lower-case name wins. On Deno, variables without
   * `--allow-env` permission count as unset (no prompt); elsewhere `process.env` is read.
   *
   * @param env Where to read the variables; default the process environment.
   * @returns The configuration.
   *
   * @example
   * ```ts
   * import { ProxyConfig } from "./proxy.ts";
   *
   * const config = ProxyConfig.fromEnv({ HTTPS_PROXY: "proxy.local:8080", NO_PROXY: "*.corp" });
   * console.log(config.https?.href); // "http://proxy.local:8080/"
   * console.log(config.proxyFor("https://git.corp/")); // null
   * ```
   */
  static fromEnv(env?: ProxyEnv): ProxyConfig {
    const get = env === undefined
      ? readEnv
      : typeof env === "function"
      ? env
      : (name: string) => env[name];
    const first = (...names: string[]) => {
      for (const name of names) {
        const value = get(name);
        if (value !== undefined && value.trim() !== "") return value;
      }
      return undefined;
    };
    const cgi = get("REQUEST_METHOD") !== undefined;
    return new ProxyConfig({
      http: cgi ? first("http_proxy") : first("http_proxy", "HTTP_PROXY"),
      https: first("https_proxy", "HTTPS_PROXY"),
      noProxy: first("no_proxy", "NO_PROXY"),
    });
  }

  /**
   * The proxy `url` goes through, or `null` to connect directly.
   *
   * @param url An http(s):// or ws(s):// URL.
   * @returns The proxy's URL, or `null`.
   *
   * @example
   * ```ts
   * import { ProxyConfig } from "./proxy.ts";
   *
   * const config = new ProxyConfig({ http: "http://proxy:3128", noProxy: "localhost:8080" });
   * console.log(config.proxyFor("http://localhost:8080/")); // null
   * console.log(config.proxyFor("http://localhost:9090/")?.href); // "http://proxy:3128/"
   * ```
   */
  proxyFor(url: string | URL): URL | null {
    const u = typeof url === "string" ? new URL(url) : url;
    const secure = u.protocol === "https:" || u.protocol === "wss:";
    const proxy = secure ? this.https : this.http;
    if (proxy === null || this.#all) return null;
    if (this.#rules.length === 0) return proxy;
    return this.#bypass(bareHostname(u), portOf(u)) ? null : proxy;
  }

  #bypass(host: string, port: number): boolean {
    let v4: number | null | undefined;
    let v6: string | null | undefined;
    let groups: number[] | null | undefined;
    const name = host.endsWith(".") ? host.slice(0, -1) : host; // example.com. is example.com
    for (const rule of this.#rules) {
      if (rule.port !== 0 && rule.port !== port) continue;
      switch (rule.kind) {
        case "domain":
          if (name === rule.domain || name.endsWith("." + rule.domain)) return true;
          break;
        case "ip":
          if (host === rule.ip) return true;
          if (host.includes(":")) {
            v6 ??= normalizeIpv6(host);
            if (v6 === rule.ip) return true;
          }
          break;
        case "cidr":
          v4 ??= parseIpv4(host);
          if (v4 !== null && ((v4 & rule.mask) >>> 0) === rule.base) return true;
          break;
        case "cidr6":
          if (groups === undefined) groups = host.includes(":") ? ipv6Groups(host) : null;
          if (groups !== null && samePrefix6(groups, rule.base, rule.bits)) return true;
          break;
      }
    }
    return false;
  }
}

/**
 * The `Proxy-Authorization` value (`Basic ...`) for the credentials in a proxy URL's
 * userinfo, or `undefined` if it has none.
 *
 * @param proxy The proxy URL, e.g. `http://user:pass@proxy:3128`.
 * @returns The header value.
 *
 * @example
 * ```ts
 * import { proxyAuthorization } from "./proxy.ts";
 *
 * console.log(proxyAuthorization(new URL("http://aladdin:opensesame@proxy/"))); // "Basic YWxhZGRpbjpvcGVuc2VzYW1l"
 * ```
 */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  const bytes = new TextEncoder().encode(`${user}:${pass}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return "Basic " + btoa(binary);
}

/** Options of {@linkcode connectThroughProxy}. */
export interface ConnectThroughProxyOptions {
  /** Abandons the attempt (closing the connection) when aborted. */
  signal?: AbortSignal;
  /** PEM certificates to trust for an https:// proxy. */
  caCerts?: string[];
  /** Extra header fields for the `CONNECT` request. */
  headers?: HeadersInit;
}

/** A connection whose first reads return bytes that were read ahead of it. */
class PrefixedConn implements Conn {
  #prefix: Uint8Array | null;
  constructor(private readonly inner: Conn, prefix: Uint8Array) {
    this.#prefix = prefix;
  }
  get localAddr(): Addr {
    return this.inner.localAddr;
  }
  get remoteAddr(): Addr {
    return this.inner.remoteAddr;
  }
  get alpnProtocol(): string | null {
    return this.inner.alpnProtocol;
  }
  get secure(): boolean {
    return this.inner.secure;
  }
  read(): Promise<Uint8Array | null> {
    const prefix = this.#prefix;
    if (prefix) {
      this.#prefix = null;
      return Promise.resolve(prefix);
    }
    return this.inner.read();
  }
  write(data: Uint8Array): Promise<void> {
    return this.inner.write(data);
  }
  closeWrite(): Promise<void> {
    return this.inner.closeWrite();
  }
  close(): void {
    this.#prefix = null;
    this.inner.close();
  }
  setNoDelay(noDelay: boolean): void {
    this.inner.setNoDelay(noDelay);
  }
}

function authority(hostname: string, port: number): string {
  return hostname.includes(":") && !hostname.startsWith("[")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
}

/**
 * Opens a tunnel to `hostname:port` through an HTTP proxy with `CONNECT` (sending
 * `Proxy-Authorization: Basic` when the proxy URL has credentials), and returns the
 * connection, ready for the target's protocol. For https:// or wss:// targets, start TLS
 * over it with `startTls` from `conn/` (which works over a plain connection to an
 * http:// proxy).
 *
 * @param hostname The target host (an IPv6 address without brackets is fine).
 * @param port The target port.
 * @param proxy The proxy's URL (http:// or https://).
 * @param options Abort signal, CA certificates for an https:// proxy, extra headers.
 * @returns The tunnel.
 * @throws {ProxyError} When the proxy answers with a status other than 2xx.
 *
 * @example
 * ```ts ignore
 * import { startTls } from "@hyperwire/http/conn";
 * import { connectThroughProxy } from "@hyperwire/http/client";
 *
 * const tunnel = await connectThroughProxy("example.com", 443, new URL("http://proxy.local:3128"));
 * const tls = await startTls(tunnel, { hostname: "example.com", alpnProtocols: ["http/1.1"] });
 * tls.close();
 * ```
 */
export async function connectThroughProxy(
  hostname: string,
  port: number,
  proxy: URL | string,
  options: ConnectThroughProxyOptions = {},
): Promise<Conn> {
  const proxyUrl = parseProxyUrl(proxy, "tunnel")!;
  const { signal } = options;
  const conn = await connect({
    hostname: bareHostname(proxyUrl),
    port: portOf(proxyUrl),
    tls: proxyUrl.protocol === "https:"
      ? { caCerts: options.caCerts, alpnProtocols: ["http/1.1"] }
      : undefined,
    signal,
  });
  const onAbort = () => conn.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const target = authority(hostname, port);
    let head = `CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n`;
    const auth = proxyAuthorization(proxyUrl);
    const extra = new Headers(options.headers);
    if (auth !== undefined && !extra.has("proxy-authorization")) {
      head += `proxy-authorization: ${auth}\r\n`;
    }
    for (const [name, value] of extra) head += `${name}: ${value}\r\n`;
    await conn.write(encodeLatin1(head + "\r\n"));
    const reader = new BufferedReader(conn);
    while (true) {
      const bytes = await reader.readHead(64 * 1024);
      signal?.throwIfAborted();
      if (bytes === null) {
        throw new Error("the proxy closed the connection before answering CONNECT");
      }
      const parsed = parseResponseHead(bytes);
      if (parsed.status < 200) continue;
      if (parsed.status >= 300) throw new ProxyError(parsed.status, parsed.statusText);
      break;
    }
    return reader.buffered > 0 ? new PrefixedConn(conn, reader.takeBuffered()) : conn;
  } catch (error) {
    conn.close();
    throw signal?.aborted ? signal.reason : error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
