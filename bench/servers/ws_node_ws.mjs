// ws's WebSocketServer on Node, echoing: `node bench/servers/ws_node_ws.mjs [port] [compress]`
// (ws is installed under bench/.deps/ws by bench/ws_servers.ts).
import process from "node:process";
import { WebSocketServer } from "../.deps/ws/node_modules/ws/wrapper.mjs";

const compress = process.argv[3] === "1";
const wss = new WebSocketServer({
  host: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  perMessageDeflate: compress,
  maxPayload: 64 * 1024 * 1024,
});
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on("listening", () => {
  console.log(
    `listening ${wss.address().port} ws node ${process.version}${compress ? " deflate" : ""}`,
  );
});
