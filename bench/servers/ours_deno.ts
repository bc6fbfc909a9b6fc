// Our HTTP/1.1 server on Deno: `deno run -A bench/servers/ours_deno.ts [port]`.
import { serve } from "../../server/mod.ts";
import { handler, portArg, ready } from "./_routes.ts";

const server = await serve("127.0.0.1", portArg(Deno.args), handler);
ready(`ours deno ${Deno.version.deno}`, server.port);
