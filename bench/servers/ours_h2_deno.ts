/**
 * Our server on Deno for the HTTP/2 benchmarks:
 * `deno run -A bench/servers/ours_h2_deno.ts [port] [tls|clear] [tuned]`.
 * Routes: `/hello` (12 bytes), `/1m` (1 MiB), `/big?n=N` (N bytes, streamed in 64 KiB
 * chunks), `/echo` (reads the upload, answers its byte count). `tuned` sets 1 MiB stream and
 * 2 MiB connection windows. Prints `listening <port> <banner>`.
 */
import { serve } from "../../server/mod.ts";
import { HTTP2Settings } from "../../client/mod.ts";
import { h2Handler } from "./h2_routes.ts";

const port = Number(Deno.args[0] ?? 0);
const tls = (Deno.args[1] ?? "clear") === "tls";
const tuned = Deno.args[2] === "tuned";
const dir = new URL("../../tests/fixtures/", import.meta.url);
const server = await serve("127.0.0.1", port, h2Handler, {
  ...(tls
    ? {
      tls: {
        cert: await Deno.readTextFile(new URL("cert.pem", dir)),
        key: await Deno.readTextFile(new URL("key.pem", dir)),
      },
    }
    : {}),
  ...(tuned
    ? {
      http2Settings: new HTTP2Settings({
        initialWindowSize: 1 << 20,
        connectionWindowSize: 1 << 21,
      }),
    }
    : {}),
});
console.log(`listening ${server.port} ours deno ${Deno.version.deno}`);
