/**
 * Our server on Deno with a low-level `Stream` handler (`listen`), for the HTTP/2
 * benchmarks: the same shape of API as node:http2's stream handler, so no Web `Request` or
 * `Response` is built. `deno run -A bench/servers/ours_h2_stream_deno.ts [port] [tls|clear]`.
 * Routes: `/hello` (12 bytes) and `/1m` (1 MiB). Prints `listening <port> <banner>`.
 */
import { listen } from "../../server/mod.ts";
import { BODY_1M, HELLO } from "./h2_routes.ts";

const port = Number(Deno.args[0] ?? 0);
const tls = (Deno.args[1] ?? "clear") === "tls";
const dir = new URL("../../tests/fixtures/", import.meta.url);
const hello = new TextEncoder().encode(HELLO);
const server = await listen("127.0.0.1", port, async (stream) => {
  const body = stream.request.target === "/1m" ? BODY_1M : hello;
  await stream.respond(200, {
    "content-type": body === hello ? "text/plain" : "application/octet-stream",
    "content-length": String(body.byteLength),
  });
  await stream.write(body);
  await stream.end();
}, {
  ...(tls
    ? {
      tls: {
        cert: await Deno.readTextFile(new URL("cert.pem", dir)),
        key: await Deno.readTextFile(new URL("key.pem", dir)),
      },
    }
    : {}),
});
console.log(`listening ${server.port} ours (Stream handler) deno ${Deno.version.deno}`);
