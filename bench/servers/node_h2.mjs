// node:http2 for the HTTP/2 benchmark: `node bench/servers/node_h2.mjs [port] [tls|clear]`.
// Routes `/hello` (12 bytes) and `/1m` (1 MiB), as in h2_routes.ts.
import http2 from "node:http2";
import { readFileSync } from "node:fs";

const port = Number(process.argv[2] ?? 0);
const tls = (process.argv[3] ?? "clear") === "tls";
const dir = new URL("../../tests/fixtures/", import.meta.url);
const HELLO = "Hello World!";
const BODY_1M = Buffer.alloc(1 << 20, 120);
const handler = (req, res) => {
  if (req.url === "/1m") {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(BODY_1M);
  } else {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(HELLO);
  }
};
const server = tls
  ? http2.createSecureServer({
    cert: readFileSync(new URL("cert.pem", dir)),
    key: readFileSync(new URL("key.pem", dir)),
  }, handler)
  : http2.createServer(handler);
server.listen(port, "127.0.0.1", () => {
  console.log(`listening ${server.address().port} node:http2 ${process.version}`);
});
