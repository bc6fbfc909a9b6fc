// Our HTTP/1.1 server with a low-level `Stream` handler (`listen`): the same shape of API as
// node:http's (req, res), so no Web `Request` or `Response` is built. Deno runs it as it is
// (`deno run -A bench/servers/ours_stream_node.ts [port]`); Node and Bun bundle and run it
// like ours_node.ts (see there): `node .../ours_stream_node.mjs [port]`.
import process from "node:process";
import { listen } from "../../server/mod.ts";
import { BODY_64K, HELLO, portArg, ready, runtimeName } from "./_routes.ts";

const hello = new TextEncoder().encode(HELLO);
const helloHeaders = { "content-type": "text/plain", "content-length": String(hello.byteLength) };
const bigHeaders = {
  "content-type": "application/octet-stream",
  "content-length": String(BODY_64K.byteLength),
};

// Written as node:http's handler is (writeHead, then end with the body): nothing awaited but
// the end, since no backpressure is needed for one known body (see `Stream`).
const server = await listen("127.0.0.1", portArg(process.argv.slice(2)), (stream) => {
  const big = stream.request.target === "/64k";
  stream.respond(200, big ? bigHeaders : helloHeaders);
  stream.write(big ? BODY_64K : hello);
  return stream.end();
});
ready(`ours (Stream) ${runtimeName()}`, server.port);
