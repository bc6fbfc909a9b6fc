// Not a server to use: the floor of a callback-driven HTTP/1.1 server built on this module's
// parser and head serializer, with no promise, no `Stream` and no timers per request (GET `/`
// only, no limits, no errors answered). It sizes what a connection driven by read callbacks
// instead of promises could gain over the `listen` server on Node (see bench/RESULTS.md,
// "Where the time goes now"). Run by `BENCH_SERVERS=floor-node,... deno run -A bench/http1_ab.ts`.
import net from "node:net";
import process from "node:process";
import { parseRequestHead } from "../../http1/parse.ts";
import { concat, findHeadEnd } from "../../http1/buffered_reader.ts";
import { encodeLatin1, responseHead } from "../../http1/serialize.ts";
import { httpDate } from "../../server/_date.ts";
import { HELLO, portArg, ready, runtimeName } from "./_routes.ts";

const hello = new TextEncoder().encode(HELLO);
const limits = { maxHeaderCount: 100 };

const server = net.createServer({ noDelay: true }, (socket) => {
  let buffered: Uint8Array | null = null;
  const uncork = () => socket.uncork();
  socket.on("error", () => socket.destroy());
  socket.on("data", (data: Uint8Array) => {
    const chunk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let buf: Uint8Array | null = buffered === null ? chunk : concat(buffered, chunk);
    while (buf !== null) {
      const end = findHeadEnd(buf, 0);
      if (end < 0) break;
      parseRequestHead(buf.subarray(0, end), limits);
      buf = end === buf.byteLength ? null : buf.subarray(end);
      const head = responseHead(
        200,
        "",
        null,
        `content-type: text/plain\r\ncontent-length: ${hello.byteLength}\r\ndate: ${httpDate()}\r\n`,
      );
      socket.cork();
      socket.write(encodeLatin1(head));
      socket.write(hello);
      process.nextTick(uncork);
    }
    buffered = buf;
  });
});
server.listen(portArg(process.argv.slice(2)), "127.0.0.1", () => {
  ready(`callback floor ${runtimeName()}`, (server.address() as net.AddressInfo).port);
});
