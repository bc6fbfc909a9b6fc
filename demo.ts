/**
 * The main job: runs the protocols guide's examples end to end on loopback and prints what
 * happened. `deno task demo` (or `npx -y deno@2.9.6 task demo` on a fresh machine).
 *
 * @module
 */
import { Client, get, open, post, request, Transport } from "./client/mod.ts";
import { HTTP2Settings } from "./http2/mod.ts";
import { listen, serve, streamHandler } from "./server/mod.ts";
import { ProxyConfig } from "./client/proxy.ts";
import { WebSockets } from "./websockets/mod.ts";

const CA = await Deno.readTextFile(new URL("./tests/fixtures/ca.pem", import.meta.url));
const CERT = await Deno.readTextFile(new URL("./tests/fixtures/cert.pem", import.meta.url));
const KEY = await Deno.readTextFile(new URL("./tests/fixtures/key.pem", import.meta.url));

let failures = 0;
function show(what: string, value: unknown, expected?: unknown): void {
  const ok = expected === undefined || JSON.stringify(value) === JSON.stringify(expected);
  if (!ok) failures++;
  console.log(`  ${ok ? "ok " : "BAD"} ${what}: ${JSON.stringify(value)}`);
}

console.log("HTTP/1.1: serve, then request with our client");
{
  await using server = await serve("127.0.0.1", 0, async (req) => {
    const body = req.body ? await req.text() : "";
    return new Response(`${req.method} ${new URL(req.url).pathname} ${body}`.trim());
  }, { http2: false });
  const base = `http://127.0.0.1:${server.port}`;
  await using client = new Client({ transport: new Transport({ preferHttp2: false }) });
  const hello = await get(`${base}/hello`, { client });
  show("GET /hello", [hello.status, await hello.text()], [200, "GET /hello"]);
  const echoed = await post(`${base}/echo`, { client, body: "some data" });
  show("POST /echo", await echoed.text(), "POST /echo some data");
  const streamed = await open("PUT", `${base}/stream`, async (stream) => {
    for (const piece of ["streamed ", "in ", "pieces"]) await stream.write(piece);
    await stream.close();
    return await (await stream.response).text();
  }, { client });
  show("open PUT, body written in pieces", streamed, "PUT /stream streamed in pieces");
}

console.log("HTTP/1.1: listen with a low-level stream handler, and streamHandler");
{
  await using low = await listen("127.0.0.1", 0, async (stream) => {
    await stream.respond(200, { "content-type": "text/plain" });
    for (const word of ["one ", "two ", "three"]) {
      await stream.write(new TextEncoder().encode(word));
    }
    await stream.end();
  });
  show(
    "stream handler",
    await (await get(`http://127.0.0.1:${low.port}/`)).text(),
    "one two three",
  );
  await using wrapped = await listen("127.0.0.1", 0, streamHandler(() => new Response("wrapped")));
  show(
    "streamHandler(f)",
    await (await get(`http://127.0.0.1:${wrapped.port}/`)).text(),
    "wrapped",
  );
}

console.log("HTTP/2: a TLS server and a client negotiating h2 by ALPN");
{
  await using server = await serve("127.0.0.1", 0, (_req, info) => new Response(info.protocol), {
    tls: { cert: CERT, key: KEY },
  });
  const url = `https://localhost:${server.port}/`;
  await using client = new Client({ transport: new Transport({ caCerts: [CA] }) });
  show("default client (prefers h2)", await (await get(url, { client })).text(), "HTTP/2");
  await using h1Only = new Client({
    transport: new Transport({ caCerts: [CA], preferHttp2: false }),
  });
  show("preferHttp2: false", await (await get(url, { client: h1Only })).text(), "HTTP/1.1");
}

console.log("HTTP/2: cleartext by prior knowledge");
{
  await using server = await serve("127.0.0.1", 0, (_req, info) => new Response(info.protocol));
  const res = await request("GET", `http://127.0.0.1:${server.port}/`, { protocol: "h2" });
  show('protocol: "h2" on http://', await res.text(), "HTTP/2");
}

console.log("HTTP/2: tuned flow-control windows on both sides");
{
  const settings = new HTTP2Settings({
    initialWindowSize: 1 << 20, // 1 MiB per-stream receive window
    connectionWindowSize: 1 << 21, // 2 MiB connection-level receive window
  });
  const size = 32 << 20;
  await using server = await serve("127.0.0.1", 0, async (req) => {
    if (req.method === "POST") return new Response(String((await req.arrayBuffer()).byteLength));
    return new Response(new Uint8Array(size));
  }, { tls: { cert: CERT, key: KEY }, http2Settings: settings });
  const url = `https://localhost:${server.port}/`;
  for (
    const [label, http2Settings] of [["default windows", undefined], ["tuned", settings]] as const
  ) {
    await using client = new Client({ transport: new Transport({ caCerts: [CA] }), http2Settings });
    let start = performance.now();
    const down = (await (await get(url, { client })).arrayBuffer()).byteLength;
    const downMs = performance.now() - start;
    start = performance.now();
    const up = await (await post(url, { client, body: new Uint8Array(size) })).text();
    const upMs = performance.now() - start;
    show(`${label}: 32 MiB down in ${downMs.toFixed(0)} ms, up in ${upMs.toFixed(0)} ms`, [
      down,
      Number(up),
    ], [size, size]);
  }
}

console.log("WebSockets: the uppercase echo (listen, open with a function, forceClose)");
{
  const server = await WebSockets.listen("127.0.0.1", 0, async (ws) => {
    for await (const msg of ws) await WebSockets.send(ws, String(msg).toUpperCase());
  }, { listenAny: true });
  const url = "ws://" + WebSockets.serverAddr(server) + "/echo";
  const reply = await WebSockets.open(url, async (ws) => {
    await WebSockets.send(ws, "hello");
    return await WebSockets.receive(ws);
  }, { proxy: new ProxyConfig() });
  await WebSockets.forceClose(server);
  show("reply", reply, "HELLO");
}

console.log("WebSockets: the compressed echo (permessage-deflate on both ends)");
{
  const server = await WebSockets.listen("127.0.0.1", 0, async (ws) => {
    for await (const msg of ws) await WebSockets.send(ws, msg);
  }, { listenAny: true, compress: true });
  const message = "compress me ".repeat(1000);
  const [reply, extensions] = await WebSockets.open(
    "ws://" + WebSockets.serverAddr(server),
    async (ws) => {
      await WebSockets.send(ws, message); // sent compressed
      return [await WebSockets.receive(ws), ws.extensions] as const;
    },
    { compress: true, proxy: new ProxyConfig() },
  );
  await WebSockets.forceClose(server);
  show("reply length, equal to what was sent", [reply.length, reply === message], [12000, true]);
  show("negotiated", extensions, "permessage-deflate");
}

console.log("WebSockets: open over a caller-supplied connection (a raw Deno.Conn)");
{
  const server = await WebSockets.listen("127.0.0.1", 0, async (ws) => {
    for await (const msg of ws) await ws.send(`echo: ${msg}`);
  });
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const reply = await WebSockets.open(tcp, async (ws) => {
    await ws.send("over my own connection");
    return await ws.receive();
  }, { target: "/echo", host: "example.com" });
  show("reply", reply, "echo: over my own connection");
  tcp.close(); // ours: open never closes it
  await WebSockets.forceClose(server);
}

if (failures > 0) {
  console.log(`\n${failures} step(s) did not give the expected result`);
  Deno.exit(1);
}
console.log("\nall steps gave the expected results");
