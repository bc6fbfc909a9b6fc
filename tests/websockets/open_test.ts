/** WebSockets.open: URLs (ws, wss, through a proxy), caller-supplied connections, the five timeouts. */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { WebSockets } from "../../websockets/namespace.ts";
import { WebSocketHandshakeError } from "../../websockets/open.ts";
import { WebSocket } from "../../websockets/websocket.ts";
import {
  WebSocketError,
  WebSocketReadIdleTimeoutError,
  WebSocketWriteIdleTimeoutError,
} from "../../websockets/errors.ts";
import { acceptHeaders, validateRequest } from "../../websockets/handshake.ts";
import { ProxyConfig } from "../../client/proxy.ts";
import {
  ConnectTimeoutError,
  RequestTimeoutError,
  ResponseHeaderTimeoutError,
} from "../../client/errors.ts";
import { connect } from "../../conn/connect.ts";
import type { Conn } from "../../conn/types.ts";
import { serve } from "../../server/serve.ts";
import { BufferedReader } from "../../http1/buffered_reader.ts";
import { parseRequestHead, toHeaders } from "../../http1/parse.ts";
import { encodeLatin1 } from "../../http1/serialize.ts";
import { CA, CERT, KEY } from "../_fixtures.ts";
import { type RawContext, rawServer, readHead } from "../client/_helpers.ts";
import { startTestProxy } from "../client/_proxy.ts";

const NO_PROXY = new ProxyConfig();
const HAS_DENO_CONNECT = typeof (globalThis as { Deno?: { connect?: unknown } }).Deno?.connect ===
  "function";

const upper = async (ws: WebSocket) => {
  for await (const msg of ws) await ws.send(String(msg).toUpperCase());
};
const echo = async (ws: WebSocket) => {
  for await (const msg of ws) await ws.send(msg);
};

Deno.test("open: the seed's uppercase echo, with f and without", async () => {
  const server = await WebSockets.listen("127.0.0.1", 0, upper, { listenAny: true });
  try {
    const url = "ws://" + WebSockets.serverAddr(server) + "/echo";
    const reply = await WebSockets.open(url, async (ws) => {
      await WebSockets.send(ws, "hello");
      return WebSockets.receive(ws);
    }, { proxy: NO_PROXY });
    assertEquals(reply, "HELLO");

    const ws = await WebSockets.open(url, { proxy: NO_PROXY });
    assert(ws instanceof WebSocket);
    await ws.send("again");
    assertEquals(await ws.receive(), "AGAIN");
    await ws.close();
    assertEquals(ws.closeCode, 1000);
  } finally {
    await WebSockets.forceClose(server);
  }
});

Deno.test("open: the seed's compressed echo, with f and without", async () => {
  const server = await WebSockets.listen("127.0.0.1", 0, echo, {
    listenAny: true,
    compress: true,
  });
  try {
    const url = "ws://" + WebSockets.serverAddr(server);
    const message = "compress me ".repeat(1000);
    const [reply, extensions] = await WebSockets.open(url, async (ws) => {
      await WebSockets.send(ws, message);
      return [await WebSockets.receive(ws), ws.extensions];
    }, { compress: true, proxy: NO_PROXY });
    assertEquals(reply, message);
    assert(String(extensions).startsWith("permessage-deflate"), String(extensions));

    await using ws = await WebSockets.open(url, { compress: true, proxy: NO_PROXY });
    assert(ws.extensions.startsWith("permessage-deflate"));
    await ws.send(message);
    assertEquals(await ws.receive(), message);
    // Not offered: plain frames.
    const plain = await WebSockets.open(url, (ws) => ws.extensions, { proxy: NO_PROXY });
    assertEquals(plain, "");
  } finally {
    await WebSockets.forceClose(server);
  }
});

/** The server half of a handshake over a raw connection, with a WebSocket that does not own it. */
async function acceptRaw(ctx: RawContext): Promise<WebSocket | null> {
  if (!(await handshakeRaw(ctx))) return null;
  return new WebSocket(ctx.conn, {
    role: "server",
    head: ctx.reader.takeBuffered(),
    ownsConn: false,
  });
}

/** Answers the handshake with a 101 over a raw connection; `false` if the client went away. */
async function handshakeRaw(ctx: RawContext): Promise<boolean> {
  const head = await ctx.reader.readHead(64 * 1024);
  if (head === null) return false;
  const req = parseRequestHead(head);
  const accepted = validateRequest(req.method, toHeaders(req.fields));
  if (!accepted.ok) throw new Error(accepted.reason);
  let text = "HTTP/1.1 101 Switching Protocols\r\n";
  for (const [k, v] of await acceptHeaders(accepted)) text += `${k}: ${v}\r\n`;
  await ctx.conn.write(encodeLatin1(text + "\r\n"));
  return true;
}

/** A caller-supplied connection: a raw Deno.Conn on Deno, our Conn elsewhere. */
async function rawClient(port: number): Promise<{
  conn: Conn | Deno.Conn;
  write(text: string): Promise<void>;
  read(): Promise<string>;
  close(): void;
}> {
  const decoder = new TextDecoder();
  if (HAS_DENO_CONNECT) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    return {
      conn,
      write: async (t) => void await conn.write(new TextEncoder().encode(t)),
      read: async () => {
        const buf = new Uint8Array(1024);
        const n = await conn.read(buf);
        return n === null ? "<eof>" : decoder.decode(buf.subarray(0, n));
      },
      close: () => conn.close(),
    };
  }
  const conn = await connect({ hostname: "127.0.0.1", port });
  return {
    conn,
    write: (t) => conn.write(new TextEncoder().encode(t)),
    read: async () => {
      const b = await conn.read();
      return b === null ? "<eof>" : decoder.decode(b);
    },
    close: () => conn.close(),
  };
}

Deno.test("open: over a caller-supplied connection, which stays open after the WebSocket closes", async () => {
  await using server = await rawServer(async (ctx) => {
    const ws = await acceptRaw(ctx);
    if (!ws) return;
    for await (const msg of ws) await ws.send(`echo ${msg}`);
    await ws.closed;
    // The connection is still ours: speak plain bytes on it.
    const r = new BufferedReader(ctx.conn);
    const line = await r.readLine(100);
    await ctx.send(`after ${new TextDecoder().decode(line!).trim()}\n`);
    await ctx.closed;
  });
  const client = await rawClient(server.port);
  try {
    const reply = await WebSockets.open(client.conn, async (ws) => {
      await ws.send("hi");
      return await ws.receive();
    }, { target: "/chat", host: "example.com" });
    assertEquals(reply, "echo hi");
    await client.write("bye\n");
    assertEquals(await client.read(), "after bye\n");
  } finally {
    client.close();
  }
});

Deno.test("open: a failed handshake over a caller-supplied connection leaves it open", async () => {
  await using server = await rawServer(async (ctx) => {
    await readHead(ctx.reader);
    await ctx.send("HTTP/1.1 400 Bad Request\r\ncontent-length: 4\r\n\r\nnope");
    const line = await ctx.reader.readLine(100);
    await ctx.send(`still here: ${new TextDecoder().decode(line!).trim()}\n`);
    await ctx.closed;
  });
  const client = await rawClient(server.port);
  try {
    const error = await assertRejects(
      () => WebSockets.open(client.conn, { target: "/" }),
      WebSocketHandshakeError,
    );
    assertEquals(error.status, 400);
    assertEquals(error.body, "nope");
    await client.write("again\n");
    assertEquals(await client.read(), "still here: again\n");
  } finally {
    client.close();
  }
});

Deno.test("open: a non-101 answer is a WebSocketHandshakeError with status and body", async () => {
  await using server = await serve("127.0.0.1", 0, () => new Response("go away", { status: 403 }));
  const error = await assertRejects(
    () => WebSockets.open(`ws://127.0.0.1:${server.port}/`, { proxy: NO_PROXY }),
    WebSocketHandshakeError,
  );
  assertEquals([error.status, error.body], [403, "go away"]);
});

Deno.test("open: wss:// with the test CA, with compression", async () => {
  const server = await WebSockets.listen("127.0.0.1", 0, upper, {
    tls: { cert: CERT, key: KEY },
    compress: true,
  });
  try {
    const reply = await WebSockets.open(`wss://localhost:${server.port}/`, async (ws) => {
      await ws.send("secure ".repeat(500));
      return [await ws.receive(), ws.extensions];
    }, { caCerts: [CA], proxy: NO_PROXY, compress: true });
    assertEquals(reply[0], "SECURE ".repeat(500));
    assert(String(reply[1]).startsWith("permessage-deflate"));
  } finally {
    await WebSockets.forceClose(server);
  }
});

Deno.test("open: wss:// through an HTTP proxy's CONNECT tunnel", async () => {
  await using proxy = await startTestProxy();
  const server = await WebSockets.listen("127.0.0.1", 0, upper, { tls: { cert: CERT, key: KEY } });
  try {
    const reply = await WebSockets.open(`wss://localhost:${server.port}/tunnelled`, async (ws) => {
      await ws.send("through the proxy");
      return await ws.receive();
    }, { caCerts: [CA], proxy: new ProxyConfig({ https: proxy.url() }) });
    assertEquals(reply, "THROUGH THE PROXY");
    assertEquals(proxy.requests.map((r) => [r.method, r.target]), [[
      "CONNECT",
      `localhost:${server.port}`,
    ]]);
  } finally {
    await WebSockets.forceClose(server);
  }
});

// ---------------------------------------------------------------------------------------
// The five timeouts, each against a server that stalls at the right moment.

Deno.test("open: connectTimeout fires while the TLS handshake stalls", async () => {
  await using server = await rawServer((ctx) => ctx.closed); // TCP accepted, TLS never answered
  const started = Date.now();
  const error = await assertRejects(
    () =>
      WebSockets.open(`wss://localhost:${server.port}/`, {
        connectTimeout: 200,
        proxy: NO_PROXY,
        caCerts: [CA],
      }),
    ConnectTimeoutError,
  );
  assertEquals(error.timeout, 200);
  assert(Date.now() - started < 5000);
});

Deno.test("open: requestTimeout covers the whole handshake", async () => {
  await using server = await rawServer(async (ctx) => {
    await readHead(ctx.reader);
    await ctx.closed; // never answers
  });
  await assertRejects(
    () =>
      WebSockets.open(`ws://127.0.0.1:${server.port}/`, { requestTimeout: 200, proxy: NO_PROXY }),
    RequestTimeoutError,
  );
});

Deno.test("open: responseHeaderTimeout fires when the 101 head does not come", async () => {
  await using server = await rawServer(async (ctx) => {
    await readHead(ctx.reader);
    await ctx.send("HTTP/1.1 101 Switching"); // half a status line, then nothing
    await ctx.closed;
  });
  await assertRejects(
    () =>
      WebSockets.open(`ws://127.0.0.1:${server.port}/`, {
        responseHeaderTimeout: 200,
        requestTimeout: 10_000,
        proxy: NO_PROXY,
      }),
    ResponseHeaderTimeoutError,
  );
});

Deno.test("open: readIdleTimeout gives the WebSocket up when nothing arrives", async () => {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  const server = await WebSockets.listen("127.0.0.1", 0, () => hold);
  try {
    const ws = await WebSockets.open(`ws://${WebSockets.serverAddr(server)}/`, {
      readIdleTimeout: 200,
      proxy: NO_PROXY,
    });
    const error = await assertRejects(() => ws.receive(), WebSocketReadIdleTimeoutError);
    assertEquals(error.timeout, "readIdle");
    assertEquals(ws.closeCode, 1006);
  } finally {
    release();
    await WebSockets.forceClose(server);
  }
});

Deno.test("open: writeIdleTimeout gives the WebSocket up when the peer stops reading", async () => {
  await using server = await rawServer(async (ctx) => {
    await handshakeRaw(ctx); // then never reads again
    await ctx.closed;
  });
  const ws = await WebSockets.open(`ws://127.0.0.1:${server.port}/`, {
    writeIdleTimeout: 300,
    proxy: NO_PROXY,
  });
  const big = new Uint8Array(64 << 20);
  const error = await assertRejects(async () => {
    for (let i = 0; i < 8; i++) await ws.send(big);
  }, WebSocketError);
  assert(error instanceof WebSocketWriteIdleTimeoutError, String(error));
  assertEquals(error.timeout, "writeIdle");
  await ws.closed;
});
