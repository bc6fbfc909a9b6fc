// Deno's own HTTP server: `deno run -A bench/servers/deno_serve.ts [port]`.
import { handler, portArg, ready } from "./_routes.ts";

const server = Deno.serve(
  { hostname: "127.0.0.1", port: portArg(Deno.args), onListen() {} },
  handler,
);
ready(`Deno.serve ${Deno.version.deno}`, server.addr.port);
