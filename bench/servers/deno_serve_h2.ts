/**
 * Deno's own server for the HTTP/2 benchmark:
 * `deno run -A bench/servers/deno_serve_h2.ts [port] [tls|clear]` (h2 by ALPN over TLS).
 */
import { h2Handler } from "./h2_routes.ts";

const port = Number(Deno.args[0] ?? 0);
const tls = (Deno.args[1] ?? "tls") === "tls";
const dir = new URL("../../tests/fixtures/", import.meta.url);
const server = Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen() {},
  ...(tls
    ? {
      cert: await Deno.readTextFile(new URL("cert.pem", dir)),
      key: await Deno.readTextFile(new URL("key.pem", dir)),
    }
    : {}),
}, h2Handler);
console.log(`listening ${server.addr.port} Deno.serve ${Deno.version.deno}`);
