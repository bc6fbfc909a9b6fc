/** Interop with ws (npm), run in a node child process, both directions, with and without compression. */
import { existsSync } from "node:fs";
import { run } from "./_process.ts";
import { ourClientAgainst, peerClientAgainstUs, startPeerServer } from "./_ws_peers.ts";

const PEER = new URL("./peers/ws_node_echo.mjs", import.meta.url).pathname;
const WS = new URL("../../node_modules/ws/package.json", import.meta.url).pathname;
const HAVE = existsSync(PEER) && existsSync(WS) &&
  await run("node", ["--version"]).then((r) => r.code === 0, () => false);

for (const compress of [false, true]) {
  const label = compress ? "with permessage-deflate" : "uncompressed";
  Deno.test({
    name: `ws server, our client, ${label}`,
    ignore: !HAVE,
    async fn() {
      await using peer = await startPeerServer("node", [PEER, "server", compress ? "1" : "0"]);
      await ourClientAgainst(peer.port, compress);
    },
  });
  Deno.test({
    name: `ws client, our server, ${label}`,
    ignore: !HAVE,
    fn: () =>
      peerClientAgainstUs("node", (url) => [PEER, "client", url, compress ? "1" : "0"], compress),
  });
}
