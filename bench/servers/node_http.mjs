// Node's own HTTP server: `node bench/servers/node_http.mjs [port]`. It runs the same
// handler as the others, over node:http's request and response objects.
import http from "node:http";
import process from "node:process";

const HELLO = "Hello World!";
const BODY_64K = new Uint8Array(64 * 1024).fill(120);

const server = http.createServer((req, res) => {
  if (req.url === "/64k") {
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": BODY_64K.byteLength,
    });
    res.end(BODY_64K);
  } else {
    res.writeHead(200, { "content-type": "text/plain", "content-length": HELLO.length });
    res.end(HELLO);
  }
});
// bench/http1_client.ts sets a long keep-alive so that idle clients keep their connections.
server.keepAliveTimeout = Number(process.env.BENCH_KEEPALIVE_MS ?? 5000);
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(`listening ${server.address().port} node:http ${process.version}`);
});
