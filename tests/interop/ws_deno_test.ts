/** Interop with Deno's own WebSocket client and Deno.upgradeWebSocket server (Deno only). */
import { assertEquals } from "@std/assert";
import { WebSockets } from "../../websockets/namespace.ts";
import { ourClientAgainst } from "./_ws_peers.ts";

const HAS_DENO = typeof (globalThis as { Deno?: { upgradeWebSocket?: unknown } }).Deno
  ?.upgradeWebSocket === "function";

for (const compress of [false, true]) {
  Deno.test({
    name: `Deno's WebSocket client, our server, compress: ${compress} (Deno offers none)`,
    ignore: !HAS_DENO,
    async fn() {
      const server = await WebSockets.listen("127.0.0.1", 0, async (ws) => {
        for await (const msg of ws) await ws.send(msg);
      }, { compress });
      try {
        const socket = new WebSocket(`ws://${WebSockets.serverAddr(server)}/`);
        socket.binaryType = "arraybuffer";
        const got: (string | Uint8Array)[] = [];
        const sent: (string | Uint8Array)[] = [];
        for (let i = 0; i < 50; i++) {
          sent.push(JSON.stringify({ i, data: "json ".repeat(i * 10) }));
          sent.push(new Uint8Array(i * 50).fill(i));
        }
        await new Promise<void>((resolve, reject) => {
          socket.onopen = () => sent.forEach((m) => socket.send(m));
          socket.onmessage = (e) => {
            got.push(typeof e.data === "string" ? e.data : new Uint8Array(e.data));
            if (got.length === sent.length) socket.close(1000);
          };
          socket.onclose = (e) => (e.code === 1000 ? resolve() : reject(new Error(`${e.code}`)));
          socket.onerror = () => {};
        });
        assertEquals(got, sent);
        assertEquals(socket.extensions, "");
      } finally {
        await WebSockets.forceClose(server);
      }
    },
  });
  Deno.test({
    name: `Deno.upgradeWebSocket server, our client, compress: ${compress}`,
    ignore: !HAS_DENO,
    async fn() {
      const ac = new AbortController();
      const server = Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        signal: ac.signal,
        onListen() {},
      }, (request) => {
        const { socket, response } = Deno.upgradeWebSocket(request);
        socket.onmessage = (e) => socket.send(e.data);
        return response;
      });
      try {
        // Deno declines permessage-deflate: our offer falls back to plain frames.
        await ourClientAgainst(server.addr.port, compress, false);
      } finally {
        ac.abort();
        await server.finished;
      }
    },
  });
}
