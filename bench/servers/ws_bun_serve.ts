// Bun.serve's WebSocket echo: `bun bench/servers/ws_bun_serve.ts [port] [compress]`. With
// compress, perMessageDeflate is on and every echo is sent with `compress: true`.
import process from "node:process";

interface BunWs {
  send(data: string | Uint8Array, compress?: boolean): number;
}
interface BunServe {
  version: string;
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request, server: { upgrade(r: Request): boolean }) => Response | undefined;
    websocket: {
      perMessageDeflate: boolean;
      maxPayloadLength: number;
      message(ws: BunWs, msg: string | Uint8Array): void;
    };
  }): { port: number };
}

const Bun = (globalThis as unknown as { Bun: BunServe }).Bun;
const compress = process.argv[3] === "1";
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  fetch(request, srv) {
    if (srv.upgrade(request)) return undefined;
    return new Response("websocket only", { status: 426 });
  },
  websocket: {
    perMessageDeflate: compress,
    maxPayloadLength: 64 * 1024 * 1024,
    message(ws, msg) {
      ws.send(msg, compress); // Bun compresses a message only when asked to
    },
  },
});
console.log(`listening ${server.port} Bun.serve ${Bun.version}${compress ? " deflate" : ""}`);
