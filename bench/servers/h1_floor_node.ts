// Not a server to use: the floor of a callback-driven HTTP/1.1 server built on this module's
// parser and head serializer, with no promise, no `Stream` and no timers per request (GET `/`
// only, no limits, no errors answered). It sizes what a connection driven by read callbacks
// instead of promises could gain over the `listen` server on Node (see bench/RESULTS.md,
// "Where the time goes now"). With a second argument `conn`, the same answers are read through
// this module's `Conn` and `BufferedReader` in an async loop (`await reader.fill()`, as the
// `listen` server reads), which splits the gap in two: the reads' promises, and the rest of
// the exchange. Run by `BENCH_SERVERS=floor-node,floor-conn-node,... deno run -A bench/http1_ab.ts`.
import net from "node:net";
import process from "node:process";
import { parseRequestHead } from "../../http1/parse.ts";
import { BufferedReader, concat, findHeadEnd } from "../../http1/buffered_reader.ts";
import { encodeLatin1, responseHead } from "../../http1/serialize.ts";
import { httpDate } from "../../server/_date.ts";
import { listen } from "../../conn/listen.ts";
import type { Conn } from "../../conn/types.ts";
import { HELLO, portArg, ready, runtimeName } from "./_routes.ts";
import { answerWeb } from "./_floor_web.ts";

const hello = new TextEncoder().encode(HELLO);
const limits = { maxHeaderCount: 100 };
const [port, mode] = [portArg(process.argv.slice(2)), process.argv[3]];

/** The response to one request head. */
function answer(head: Uint8Array): Uint8Array {
  parseRequestHead(head, limits);
  return encodeLatin1(responseHead(
    200,
    "",
    null,
    `content-type: text/plain\r\ncontent-length: ${hello.byteLength}\r\ndate: ${httpDate()}\r\n`,
  ));
}

/** Answers from the socket's `data` callback: no promise per request. */
function onSocket(socket: net.Socket): void {
  let buffered: Uint8Array | null = null;
  const uncork = () => socket.uncork();
  socket.on("error", () => socket.destroy());
  socket.on("data", (data: Uint8Array) => {
    const chunk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let buf: Uint8Array | null = buffered === null ? chunk : concat(buffered, chunk);
    while (buf !== null) {
      const end = findHeadEnd(buf, 0);
      if (end < 0) break;
      const head = answer(buf.subarray(0, end));
      buf = end === buf.byteLength ? null : buf.subarray(end);
      socket.cork();
      socket.write(head);
      socket.write(hello);
      process.nextTick(uncork);
    }
    buffered = buf;
  });
}

/** `web` from the socket's `data` callback: each chunk taken for one whole head. */
function onWebSocket(socket: net.Socket): void {
  socket.on("error", () => socket.destroy());
  socket.on("data", (data: Uint8Array) => {
    const head = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    answerWeb(head).then((out) => socket.write(out), () => socket.destroy());
  });
}

/** Answers through our `Conn` and `BufferedReader`, reading with `await`, writing as above. */
async function onConn(conn: Conn): Promise<void> {
  const reader = new BufferedReader(conn);
  try {
    while (true) {
      let head = reader.takeHead(64 * 1024);
      while (head === undefined) {
        if (!(await reader.fill())) return;
        head = reader.takeHead(64 * 1024);
      }
      conn.writev!([answer(head), hello]).catch(() => conn.close());
    }
  } catch {
    conn.close();
  }
}

if (mode === "conn") {
  const listener = await listen({ hostname: "127.0.0.1", port });
  ready(`callback floor through Conn ${runtimeName()}`, listener.addr.port);
  for await (const conn of listener) onConn(conn);
} else {
  const server = net.createServer({ noDelay: true }, mode === "web" ? onWebSocket : onSocket);
  server.listen(port, "127.0.0.1", () => {
    const name = mode === "web" ? "web floor" : "callback floor";
    ready(`${name} ${runtimeName()}`, (server.address() as net.AddressInfo).port);
  });
}
