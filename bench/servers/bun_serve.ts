// Bun's own HTTP server: `bun bench/servers/bun_serve.ts [port]`.
import process from "node:process";
import { handler, portArg, ready } from "./_routes.ts";

interface BunServe {
  version: string;
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request) => Response;
  }): { port: number };
}

const Bun = (globalThis as unknown as { Bun: BunServe }).Bun;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: portArg(process.argv.slice(2)),
  fetch: handler,
});
ready(`Bun.serve ${Bun.version}`, server.port);
