// Our WebSocket echo server on Deno, Node and Bun:
//   deno run -A bench/servers/ws_ours.ts [port] [compress]
//   node bench/.deps/ws/node_modules/.bench/ws_ours.mjs [port] [compress]   (esbuild bundle, see bench/ws_servers.ts)
//   bun --tsconfig-override bench/servers/tsconfig.ws_bun.json bench/servers/ws_ours.ts [port] [compress]
// Echoes every message; `compress` (any second argument "1") accepts permessage-deflate.
import process from "node:process";
import { listen } from "../../websockets/mod.ts";
import { runtimeName } from "./_routes.ts";

const args = process.argv.slice(2);
const compress = args[1] === "1";
const server = await listen("127.0.0.1", Number(args[0] ?? 0), async (ws) => {
  for await (const msg of ws) await ws.send(msg);
}, { compress, maxFrameSize: 64 * 1024 * 1024 });
console.log(`listening ${server.port} ours ${runtimeName()}${compress ? " deflate" : ""}`);
