// The `ws` (npm) peer for the interop tests, run with node.
//
// server <compress 0|1>: echo server on 127.0.0.1, prints its port, echoes every message.
// client <url> <compress 0|1>: sends text and binary messages, checks the echoes, prints a
// JSON report ({ ok, extensions, count }) and exits 0 when every echo matched.
import { WebSocket, WebSocketServer } from "ws";

const [mode, a, b] = process.argv.slice(2);

if (mode === "server") {
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    perMessageDeflate: a === "1" ? { threshold: 0 } : false,
  });
  wss.on("listening", () => console.log(wss.address().port));
  wss.on("connection", (ws) => {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
} else {
  const ws = new WebSocket(a, { perMessageDeflate: b === "1" ? { threshold: 0 } : false });
  const expected = [];
  let ok = true;
  let count = 0;
  ws.on("open", () => {
    for (let i = 0; i < 50; i++) {
      const text = JSON.stringify({ i, payload: "repetitive ".repeat(i * 20) });
      const bin = Buffer.alloc(i * 100, i % 256);
      expected.push([text, false], [bin, true]);
      ws.send(text);
      ws.send(bin);
    }
  });
  ws.on("message", (data, isBinary) => {
    const [want, wantBinary] = expected.shift();
    const got = isBinary ? data : data.toString();
    ok = ok && isBinary === wantBinary && (isBinary ? want.equals(got) : got === want);
    count++;
    if (expected.length === 0) ws.close(1000);
  });
  ws.on("close", () => {
    console.log(JSON.stringify({ ok: ok && count === 100, extensions: ws.extensions, count }));
    process.exit(ok && count === 100 ? 0 : 1);
  });
  ws.on("error", (e) => {
    console.error(e);
    process.exit(2);
  });
}
