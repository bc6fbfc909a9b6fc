/** WebSockets.listen: the seed's server, 426 for plain requests, serverAddr, limits, forceClose. */
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { WebSockets } from "../../websockets/namespace.ts";
import { WebSocketError } from "../../websockets/errors.ts";
import { WebSocketHandshakeError } from "../../websockets/open.ts";
import { ProxyConfig } from "../../client/proxy.ts";
import { get } from "../../client/request.ts";

const NO_PROXY = new ProxyConfig();

Deno.test("listen: serverAddr, and plain requests get 426 with Upgrade: websocket", async () => {
  const server = await WebSockets.listen("127.0.0.1", 0, () => {}, { listenAny: true });
  try {
    assertMatch(WebSockets.serverAddr(server), /^127\.0\.0\.1:\d+$/);
    const res = await get(`http://${WebSockets.serverAddr(server)}/`);
    assertEquals(res.status, 426);
    assertEquals(res.headers.get("upgrade"), "websocket");
    await res.body?.cancel();
  } finally {
    await WebSockets.forceClose(server);
  }
});

Deno.test("listen: forceClose sends 1001 to every open socket", async () => {
  const server = await WebSockets.listen("127.0.0.1", 0, async (ws) => {
    for await (const msg of ws) await ws.send(msg);
  });
  const url = `ws://${WebSockets.serverAddr(server)}/`;
  const a = await WebSockets.open(url, { proxy: NO_PROXY });
  const b = await WebSockets.open(url, { proxy: NO_PROXY, compress: true });
  await a.send("1");
  await b.send("2");
  assertEquals([await a.receive(), await b.receive()], ["1", "2"]);
  await WebSockets.forceClose(server);
  for (const ws of [a, b]) {
    const error = await assertRejects(() => ws.receive(), WebSocketError);
    assertEquals(error.code, 1001);
    await ws.closed;
  }
});

Deno.test("listen: checkOrigin and subprotocols", async () => {
  const server = await WebSockets.listen("127.0.0.1", 0, (ws) => ws.send(ws.protocol), {
    checkOrigin: (origin) => origin !== "https://evil.example",
    subprotocols: ["v2", "v1"],
  });
  try {
    const url = `ws://${WebSockets.serverAddr(server)}/`;
    const error = await assertRejects(
      () => WebSockets.open(url, { headers: { origin: "https://evil.example" }, proxy: NO_PROXY }),
      WebSocketHandshakeError,
    );
    assertEquals(error.status, 403);
    const chosen = await WebSockets.open(url, (ws) => ws.receive(), {
      subprotocols: ["v1", "v2"],
      proxy: NO_PROXY,
    });
    assertEquals(chosen, "v1");
  } finally {
    await WebSockets.forceClose(server);
  }
});

Deno.test("listen: maxFrameSize closes an oversized message with 1009", async () => {
  const server = await WebSockets.listen("127.0.0.1", 0, async (ws) => {
    for await (const msg of ws) await ws.send(msg);
  }, { maxFrameSize: 1024, compress: true });
  try {
    const url = `ws://${WebSockets.serverAddr(server)}/`;
    const ws = await WebSockets.open(url, { proxy: NO_PROXY, compress: true });
    await ws.send("small");
    assertEquals(await ws.receive(), "small");
    await ws.send("x".repeat(100_000)); // compresses to far less than 1 KiB
    const error = await assertRejects(() => ws.receive(), WebSocketError);
    assertEquals(error.code, 1009);
    await ws.closed;
    assert(!ws.isReady);
  } finally {
    await WebSockets.forceClose(server);
  }
});
