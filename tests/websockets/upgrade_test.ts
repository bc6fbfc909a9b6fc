/** WebSockets.upgrade: mixed HTTP and WebSocket routes, the handshake's refusals, 1011, 1001, Deno.serve. */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { WebSockets } from "../../websockets/namespace.ts";
import { WebSocketError } from "../../websockets/errors.ts";
import { ProxyConfig } from "../../client/proxy.ts";
import { get } from "../../client/request.ts";
import { connect } from "../../conn/connect.ts";
import { BufferedReader } from "../../http1/buffered_reader.ts";
import { serve } from "../../server/serve.ts";
import { listen } from "../../server/server.ts";

const NO_PROXY = new ProxyConfig();
const HAS_DENO_SERVE = typeof (globalThis as { Deno?: { serve?: unknown } }).Deno?.serve ===
    "function" && typeof (globalThis as { Deno?: { upgradeWebSocket?: unknown } }).Deno
      ?.upgradeWebSocket === "function";

/** Sends a raw request head and returns the response's status and head text. */
export async function rawExchange(port: number, head: string): Promise<[number, string]> {
  const conn = await connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(head));
    const bytes = await new BufferedReader(conn).readHead(64 * 1024);
    const text = new TextDecoder().decode(bytes!);
    return [Number(text.slice(9, 12)), text.toLowerCase()];
  } finally {
    conn.close();
  }
}

function upgradeHead(extra: Record<string, string> = {}, method = "GET"): string {
  const fields: Record<string, string> = {
    host: "localhost",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
    ...extra,
  };
  let text = `${method} /ws HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(fields)) if (v !== "") text += `${k}: ${v}\r\n`;
  return text + "\r\n";
}

Deno.test("upgrade: HTTP and WebSocket routes on one serve port, with compression", async () => {
  await using server = await serve("127.0.0.1", 0, (request) => {
    if (new URL(request.url).pathname !== "/ws") return new Response("plain HTTP");
    return WebSockets.upgrade(request, async (ws) => {
      for await (const msg of ws) await ws.send(msg);
    }, { compress: true });
  });
  const base = `127.0.0.1:${server.port}`;
  assertEquals(await (await get(`http://${base}/`)).text(), "plain HTTP");
  const message = JSON.stringify({ compress: "me".repeat(2000) });
  const [reply, ext] = await WebSockets.open(`ws://${base}/ws`, async (ws) => {
    await ws.send(message);
    return [await ws.receive(), ws.extensions];
  }, { compress: true, proxy: NO_PROXY });
  assertEquals(reply, message);
  assert(String(ext).startsWith("permessage-deflate"));
  assertEquals(await (await get(`http://${base}/after`)).text(), "plain HTTP");
});

Deno.test("upgrade: a Stream from listen, and subprotocol choice", async () => {
  await using server = await listen(
    "127.0.0.1",
    0,
    (stream) =>
      WebSockets.upgrade(stream, async (ws) => {
        await ws.send(`protocol ${ws.protocol}`);
      }, { subprotocols: ["b", "c"] }),
  );
  const reply = await WebSockets.open(`ws://127.0.0.1:${server.port}/`, async (ws) => {
    const first = await ws.receive();
    return [first, ws.protocol];
  }, { subprotocols: ["a", "c", "b"], proxy: NO_PROXY });
  assertEquals(reply, ["protocol c", "c"]);
});

Deno.test("upgrade: 400 for a bad upgrade, 426 for a wrong version, 403 for a refused origin", async () => {
  await using server = await serve(
    "127.0.0.1",
    0,
    (request) =>
      WebSockets.upgrade(request, () => {}, {
        checkOrigin: (origin) => origin === null || origin === "https://good.example",
      }),
  );
  const port = server.port;
  assertEquals((await rawExchange(port, upgradeHead({ "sec-websocket-key": "short" })))[0], 400);
  assertEquals((await rawExchange(port, upgradeHead({}, "POST")))[0], 400);
  // Methods are case-sensitive (RFC 9110 section 9.1): `get` is not GET, though a Request
  // made of it says "GET" (the fetch standard normalizes it).
  assertEquals((await rawExchange(port, upgradeHead({}, "get")))[0], 400);
  const [status, head] = await rawExchange(port, upgradeHead({ "sec-websocket-version": "8" }));
  assertEquals(status, 426);
  assert(head.includes("sec-websocket-version: 13"), head);
  assertEquals((await rawExchange(port, upgradeHead({ origin: "https://evil.example" })))[0], 403);
  assertEquals((await rawExchange(port, upgradeHead({ origin: "https://good.example" })))[0], 101);
  const error = await assertRejects(
    () =>
      WebSockets.open(`ws://127.0.0.1:${port}/`, {
        headers: { origin: "https://evil.example" },
        proxy: NO_PROXY,
      }),
    Error,
  );
  assertEquals((error as { status?: number }).status, 403);
});

Deno.test("upgrade: a serve request the server did not take for an upgrade gets 400, on every runtime", async () => {
  let opened = 0;
  await using server = await serve("127.0.0.1", 0, (request) =>
    WebSockets.upgrade(request, () => {
      opened++;
    }));
  const port = server.port;
  const http10 = upgradeHead().replace("HTTP/1.1", "HTTP/1.0");
  const [status, head] = await rawExchange(port, http10);
  assertEquals(status, 400, head);
  assert(head.startsWith("http/1.1 400"), head);
  // Connection's list is split on OWS (space and tab) only: a no-break space is not one, so
  // the server does not see an upgrade token.
  const nbsp = upgradeHead({ connection: "keep-alive,\xa0 Upgrade" });
  assertEquals((await rawExchange(port, nbsp))[0], 400);
  assertEquals(opened, 0);
});

Deno.test("upgrade: a handler that throws closes the socket with 1011", async () => {
  const errors: unknown[] = [];
  await using server = await serve(
    "127.0.0.1",
    0,
    (request) =>
      WebSockets.upgrade(request, async (ws) => {
        await ws.receive();
        throw new Error("boom");
      }, { onError: (e) => errors.push(e) }),
  );
  const ws = await WebSockets.open(`ws://127.0.0.1:${server.port}/`, { proxy: NO_PROXY });
  await ws.send("trigger");
  const error = await assertRejects(() => ws.receive(), WebSocketError);
  assertEquals(error.code, 1011);
  await ws.closed;
  assertEquals(errors.map((e) => (e as Error).message), ["boom"]);
});

Deno.test("upgrade: forceClose sends 1001 to sockets of a serve server; close() does too", async () => {
  for (const how of ["forceClose", "close"] as const) {
    const server = await serve(
      "127.0.0.1",
      0,
      (request) =>
        WebSockets.upgrade(request, async (ws) => {
          for await (const msg of ws) await ws.send(msg);
        }),
    );
    const ws = await WebSockets.open(`ws://127.0.0.1:${server.port}/`, { proxy: NO_PROXY });
    await ws.send("x");
    assertEquals(await ws.receive(), "x");
    if (how === "forceClose") await WebSockets.forceClose(server);
    else await server.close();
    const error = await assertRejects(() => ws.receive(), WebSocketError);
    assertEquals([how, error.code], [how, 1001]);
    await ws.closed;
  }
});

Deno.test({
  name: "upgrade: a Request from Deno.serve falls back to Deno.upgradeWebSocket",
  ignore: !HAS_DENO_SERVE,
  async fn() {
    const ac = new AbortController();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
      (request) =>
        WebSockets.upgrade(request, async (ws) => {
          for await (const msg of ws) {
            await ws.send(typeof msg === "string" ? msg.toUpperCase() : msg);
          }
        }, { compress: true, subprotocols: ["chat"] }),
    );
    try {
      const reply = await WebSockets.open(`ws://127.0.0.1:${server.addr.port}/`, async (ws) => {
        await ws.send("native");
        await ws.send(new Uint8Array([1, 2, 3]));
        return [await ws.receive(), await ws.receive(), ws.protocol, ws.extensions];
      }, { compress: true, subprotocols: ["chat"], proxy: NO_PROXY });
      assertEquals(reply, ["NATIVE", new Uint8Array([1, 2, 3]), "chat", ""]);
    } finally {
      ac.abort();
      await server.finished;
    }
  },
});
