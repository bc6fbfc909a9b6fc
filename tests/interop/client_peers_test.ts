/**
 * Our client against real servers: `Deno.serve` (on Deno) and `node:http` / `node:https`
 * (on Deno, Node and Bun), HTTP/1.1, plain and TLS, with bodies streaming both ways.
 */
import { assert, assertEquals } from "@std/assert";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as https from "node:https";
import * as zlib from "node:zlib";
import type { AddressInfo } from "node:net";
import { Client } from "../../client/client.ts";
import { open } from "../../client/open.ts";
import { ProxyConfig } from "../../client/proxy.ts";
import { CA, CERT, KEY } from "../_fixtures.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function client(preferHttp2 = false): Client {
  return new Client({ proxy: new ProxyConfig(), caCerts: [CA], preferHttp2 });
}

function pieces(...parts: string[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < parts.length) c.enqueue(encoder.encode(parts[i++]));
      else c.close();
    },
  }, { highWaterMark: 0 });
}

/** Writes two pieces through `open` and reads each echoed piece before writing the next. */
async function echoInterleaved(c: Client, url: string): Promise<string[]> {
  return await open("POST", url, async (stream) => {
    const first = stream.write("alpha");
    const res = await stream.response;
    assertEquals(res.status, 200);
    const reader = res.body!.getReader();
    await first;
    const got = [decoder.decode((await reader.read()).value)];
    await stream.write("beta");
    got.push(decoder.decode((await reader.read()).value));
    await stream.close();
    while (!(await reader.read()).done) { /* drain */ }
    return got;
  }, { client: c });
}

// ---- node:http, node:https ----

interface NodePeer extends AsyncDisposable {
  origin: string;
  readonly connections: number;
}

async function nodePeer(
  handler: http.RequestListener,
  tls = false,
): Promise<NodePeer> {
  const server = tls
    ? https.createServer({ cert: CERT, key: KEY }, handler)
    : http.createServer(handler);
  let connections = 0;
  server.on(tls ? "secureConnection" : "connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `${tls ? "https://localhost" : "http://127.0.0.1"}:${port}`,
    get connections() {
      return connections;
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function nodeEcho(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === "/gzip") {
    res.writeHead(200, { "content-encoding": "gzip" });
    res.end(zlib.gzipSync("zipped by node"));
    return;
  }
  res.writeHead(200, { "x-method": req.method ?? "" });
  req.on("data", (chunk: Uint8Array) => res.write(chunk));
  req.on("end", () => res.end());
}

for (const tls of [false, true]) {
  const kind = tls ? "node:https" : "node:http";

  Deno.test(`interop: our client against ${kind}: keep-alive, bodies, decoding`, async () => {
    await using peer = await nodePeer(nodeEcho, tls);
    await using c = client();
    for (let i = 0; i < 3; i++) {
      const res = await c.post(`${peer.origin}/echo`, { body: `body ${i}` });
      assertEquals(res.headers.get("x-method"), "POST");
      assertEquals(await res.text(), `body ${i}`);
    }
    assertEquals(peer.connections, 1);
    const streamed = await c.put(`${peer.origin}/echo`, { body: pieces("a", "b", "c") });
    assertEquals(await streamed.text(), "abc");
    assertEquals(await (await c.get(`${peer.origin}/gzip`)).text(), "zipped by node");
  });

  Deno.test(`interop: our client streams both ways with ${kind}`, async () => {
    await using peer = await nodePeer(nodeEcho, tls);
    await using c = client();
    assertEquals(await echoInterleaved(c, `${peer.origin}/echo`), ["alpha", "beta"]);
  });
}

Deno.test("interop: a large upload and download with node:http keep their bytes", async () => {
  const size = 8 * 1024 * 1024;
  await using peer = await nodePeer((req, res) => {
    let received = 0;
    let sum = 0;
    req.on("data", (chunk: Uint8Array) => {
      received += chunk.byteLength;
      for (let i = 0; i < chunk.byteLength; i++) {
        sum = (sum + chunk[i] * ((received - chunk.byteLength + i) % 7 + 1)) % 65521;
      }
    });
    req.on("end", () => {
      res.writeHead(200, { "x-received": String(received), "x-sum": String(sum) });
      res.end(new Uint8Array(size).fill(7));
    });
  });
  await using c = client();
  const body = new Uint8Array(size).map((_, i) => i % 251);
  let expected = 0;
  for (let i = 0; i < size; i++) expected = (expected + body[i] * (i % 7 + 1)) % 65521;
  const res = await c.post(peer.origin, { body });
  assertEquals(res.headers.get("x-received"), String(size));
  assertEquals(res.headers.get("x-sum"), String(expected));
  const back = new Uint8Array(await res.arrayBuffer());
  assertEquals(back.byteLength, size);
  assert(back.every((b) => b === 7));
});

// ---- Deno.serve ----

const HAS_DENO_SERVE = typeof (Deno as { serve?: unknown }).serve === "function";

function denoPeer(tls: boolean) {
  const ports = new Set<number>();
  const controller = new AbortController();
  const handler = (req: Request, info: Deno.ServeHandlerInfo) => {
    ports.add((info.remoteAddr as Deno.NetAddr).port);
    return new Response(req.body, { headers: { "x-method": req.method } });
  };
  const options = {
    hostname: "127.0.0.1",
    port: 0,
    signal: controller.signal,
    onListen: () => {},
  };
  const server = tls
    ? Deno.serve({ ...options, cert: CERT, key: KEY }, handler)
    : Deno.serve(options, handler);
  return {
    origin: `${tls ? "https://localhost" : "http://127.0.0.1"}:${server.addr.port}`,
    get connections() {
      return ports.size;
    },
    async [Symbol.asyncDispose]() {
      controller.abort();
      await server.finished;
    },
  };
}

const DENO_CASES = [
  { tls: false, h2: false, kind: "Deno.serve" },
  { tls: true, h2: false, kind: "Deno.serve over TLS (HTTP/1.1)" },
  { tls: true, h2: true, kind: "Deno.serve over TLS (HTTP/2 by ALPN)" },
];

for (const { tls, h2, kind } of DENO_CASES) {
  Deno.test({
    name: `interop: our client against ${kind}: keep-alive and streamed bodies`,
    ignore: !HAS_DENO_SERVE,
    fn: async () => {
      await using peer = denoPeer(tls);
      await using c = client(h2);
      for (let i = 0; i < 3; i++) {
        const res = await c.post(`${peer.origin}/`, { body: `deno ${i}` });
        assertEquals(await res.text(), `deno ${i}`);
      }
      const streamed = await c.put(`${peer.origin}/`, { body: pieces("x", "y", "z") });
      assertEquals(await streamed.text(), "xyz");
      assertEquals(peer.connections, 1);
    },
  });

  Deno.test({
    name: `interop: our client streams both ways with ${kind}`,
    ignore: !HAS_DENO_SERVE,
    fn: async () => {
      await using peer = denoPeer(tls);
      await using c = client(h2);
      assertEquals(await echoInterleaved(c, `${peer.origin}/`), ["alpha", "beta"]);
    },
  });
}

// ---- node:http2 ----

async function nodeHttp2Peer(secure: boolean) {
  const handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    res.writeHead(200, { "x-version": req.httpVersion });
    req.on("data", (chunk: Uint8Array) => res.write(chunk));
    req.on("end", () => res.end());
  };
  const server = secure
    ? http2.createSecureServer({ cert: CERT, key: KEY, allowHTTP1: true }, handler)
    : http2.createServer(handler);
  const sessions = new Set<http2.Http2Session>();
  server.on("session", (s: http2.Http2Session) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `${secure ? "https://localhost" : "http://127.0.0.1"}:${port}`,
    async [Symbol.asyncDispose]() {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

Deno.test("interop: our client against node:http2 over TLS negotiates HTTP/2 and streams both ways", async () => {
  await using peer = await nodeHttp2Peer(true);
  await using c = client(true);
  const res = await c.post(`${peer.origin}/`, { body: "over h2" });
  assertEquals(res.headers.get("x-version"), "2.0");
  assertEquals(await res.text(), "over h2");
  assertEquals(await echoInterleaved(c, `${peer.origin}/`), ["alpha", "beta"]);
  assertEquals(c.transport.stats().connections, 1);
});

Deno.test("interop: our client speaks HTTP/2 by prior knowledge to a cleartext node:http2 server", async () => {
  await using peer = await nodeHttp2Peer(false);
  await using c = client();
  const res = await c.put(`${peer.origin}/`, { body: pieces("p", "k"), protocol: "h2" });
  assertEquals(res.headers.get("x-version"), "2.0");
  assertEquals(await res.text(), "pk");
});
