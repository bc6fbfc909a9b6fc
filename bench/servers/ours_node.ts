// Our HTTP/1.1 server on Node and Bun. Node runs the esbuild bundle of this file
// (bench/.deps/node_modules/.bench/ours_node.mjs, made by bench/servers/build.sh); Bun runs it directly with
// `bun --tsconfig-override bench/servers/tsconfig.bun.json bench/servers/ours_node.ts [port]`
// (that tsconfig maps the bare `@std/http/status` of deno.json to the npm build).
import process from "node:process";
import { serve } from "../../server/mod.ts";
import { handler, portArg, ready, runtimeName } from "./_routes.ts";

const server = await serve("127.0.0.1", portArg(process.argv.slice(2)), handler);
ready(`ours ${runtimeName()}`, server.port);
