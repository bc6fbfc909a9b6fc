/**
 * A small HTTP proxy for the client tests: forward proxying (absolute-form requests,
 * relayed with `connection: close` upstream) and CONNECT tunnels, with optional Basic
 * authentication. It records what it was asked for.
 */
import type { Conn, ServerTlsOptions } from "../../conn/types.ts";
import { connect } from "../../conn/connect.ts";
import { listen } from "../../conn/listen.ts";
import { BufferedReader } from "../../http1/buffered_reader.ts";
import { BodyReader } from "../../http1/body_reader.ts";
import { encodeChunk, encodeLastChunk } from "../../http1/chunked.ts";
import { parseRequestHead } from "../../http1/parse.ts";
import { bytes } from "./_helpers.ts";

/** One request the proxy received. */
export interface ProxiedRequest {
  method: string;
  target: string;
  /** The `proxy-authorization` it came with, or `null`. */
  authorization: string | null;
  /** Whether the proxy let it through. */
  allowed: boolean;
}

/** A running test proxy. */
export interface TestProxy extends AsyncDisposable {
  port: number;
  /** `http://[user:pass@]127.0.0.1:PORT`, or `https://[user:pass@]localhost:PORT` with TLS */
  url(credentials?: string): string;
  /** What it was asked for, in order. */
  requests: ProxiedRequest[];
  /** Client connections accepted. */
  readonly accepted: number;
  close(): Promise<void>;
}

const DENIED = "HTTP/1.1 407 Proxy Authentication Required\r\n" +
  'proxy-authenticate: Basic realm="test"\r\ncontent-length: 0\r\n\r\n';

async function pump(from: Conn, to: Conn, first?: Uint8Array): Promise<void> {
  try {
    if (first && first.byteLength > 0) await to.write(first);
    for (let chunk = await from.read(); chunk !== null; chunk = await from.read()) {
      await to.write(chunk);
    }
    await to.closeWrite();
  } catch {
    // one side went away
  }
}

/**
 * Starts the proxy on 127.0.0.1.
 *
 * @param options `auth`: the `user:password` it requires, if any; `tls`: serve clients over TLS.
 */
export async function startTestProxy(
  options: { auth?: string; tls?: ServerTlsOptions } = {},
): Promise<TestProxy> {
  const listener = await listen({ hostname: "127.0.0.1", port: 0, tls: options.tls });
  const scheme = options.tls ? "https" : "http";
  const host = options.tls ? "localhost" : "127.0.0.1";
  const expected = options.auth ? "Basic " + btoa(options.auth) : null;
  const requests: ProxiedRequest[] = [];
  const open = new Set<Conn>();
  const tasks = new Set<Promise<void>>();
  let accepted = 0;

  async function serveClient(client: Conn): Promise<void> {
    const reader = new BufferedReader(client);
    while (true) {
      const head = await reader.readHead(64 * 1024);
      if (head === null) return;
      const req = parseRequestHead(head);
      let authorization: string | null = null;
      const fields: string[] = [];
      for (let i = 0; i < req.fields.length; i += 2) {
        const name = req.fields[i];
        if (name === "proxy-authorization") authorization = req.fields[i + 1];
        else if (name !== "proxy-connection" && name !== "connection") {
          fields.push(`${name}: ${req.fields[i + 1]}`);
        }
      }
      const allowed = expected === null || authorization === expected;
      requests.push({ method: req.method, target: req.target, authorization, allowed });
      const body = new BodyReader(reader, req.framing);
      if (!allowed) {
        await body.discard(1 << 20);
        await client.write(bytes(DENIED));
        if (req.method === "CONNECT") return;
        continue;
      }
      if (req.method === "CONNECT") {
        const colon = req.target.lastIndexOf(":");
        const host = req.target.slice(0, colon).replace(/^\[|\]$/g, "");
        const upstream = await connect({
          hostname: host,
          port: Number(req.target.slice(colon + 1)),
        });
        open.add(upstream);
        await client.write(bytes("HTTP/1.1 200 Connection Established\r\n\r\n"));
        await Promise.all([
          pump(client, upstream, reader.takeBuffered()),
          pump(upstream, client),
        ]);
        upstream.close();
        open.delete(upstream);
        return;
      }
      // Forward proxying: one upstream connection per request, closed after the response.
      const url = new URL(req.target);
      const upstream = await connect({
        hostname: url.hostname.replace(/^\[|\]$/g, ""),
        port: Number(url.port || 80),
      });
      open.add(upstream);
      try {
        let text = `${req.method} ${url.pathname}${url.search} HTTP/1.1\r\n`;
        for (const line of fields) text += line + "\r\n";
        await upstream.write(bytes(text + "connection: close\r\n\r\n"));
        const chunked = req.framing.kind === "chunked";
        for (let piece = await body.read(); piece !== null; piece = await body.read()) {
          await upstream.write(chunked ? encodeChunk(piece) : piece);
        }
        if (chunked) await upstream.write(encodeLastChunk());
        await pump(upstream, client);
      } finally {
        upstream.close();
        open.delete(upstream);
      }
      return; // the relayed response ran to the upstream's close: this connection ends too
    }
  }

  const loop = (async () => {
    for await (const client of listener) {
      accepted++;
      open.add(client);
      const task = serveClient(client).catch(() => {}).finally(() => {
        client.close();
        open.delete(client);
      });
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();

  const proxy: TestProxy = {
    port: listener.addr.port,
    url: (credentials) =>
      `${scheme}://${credentials ? credentials + "@" : ""}${host}:${listener.addr.port}`,
    requests,
    get accepted() {
      return accepted;
    },
    async close() {
      listener.close();
      for (const conn of open) conn.close();
      await loop;
      await Promise.all([...tasks]);
    },
    [Symbol.asyncDispose]() {
      return proxy.close();
    },
  };
  return proxy;
}
