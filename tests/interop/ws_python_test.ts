/** Interop with python websockets (Debian python3-websockets), both directions, with and without compression. */
import { existsSync } from "node:fs";
import { run } from "./_process.ts";
import { ourClientAgainst, peerClientAgainstUs, startPeerServer } from "./_ws_peers.ts";

const PYTHON = "/usr/bin/python3";
const PEER = new URL("./peers/ws_py_echo.py", import.meta.url).pathname;
const HAVE = existsSync(PEER) &&
  await run(PYTHON, ["-c", "import websockets"]).then((r) => r.code === 0, () => false);

for (const compress of [false, true]) {
  const label = compress ? "with permessage-deflate" : "uncompressed";
  Deno.test({
    name: `python websockets server, our client, ${label}`,
    ignore: !HAVE,
    async fn() {
      await using peer = await startPeerServer(PYTHON, [PEER, "server", compress ? "1" : "0"]);
      await ourClientAgainst(peer.port, compress);
    },
  });
  Deno.test({
    name: `python websockets client, our server, ${label}`,
    ignore: !HAVE,
    fn: () =>
      peerClientAgainstUs(PYTHON, (url) => [PEER, "client", url, compress ? "1" : "0"], compress),
  });
}
