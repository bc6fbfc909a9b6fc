// Not a server to use: the floor of a `Request => Response` HTTP/1.1 server on Deno built with
// public APIs, to size what `serve` could reach against `Deno.serve` (see bench/RESULTS.md).
// Each read of a `Deno.Conn` is taken for one whole GET head (wrk's), parsed by this module's
// parser; the answer is one write. Nothing else a server needs is done: no limits, no timers,
// no keep-alive rules, no errors answered, no streaming. Modes (the second argument): `web`
// (the default) answers as `_floor_web.ts` says, through a Web `Request` and `Response`;
// `bare` sends the same canned answer every time, without either.
// Run by `BENCH_SERVERS=floor-web-deno,floor-bare-deno,deno_serve,... deno run -A bench/http1_ab.ts`.
import { parseRequestHead } from "../../http1/parse.ts";
import { encodeLatin1Into, responseHead } from "../../http1/serialize.ts";
import { httpDate } from "../../server/_date.ts";
import { HELLO, portArg, ready, runtimeName } from "./_routes.ts";
import { answerWeb } from "./_floor_web.ts";

const limits = { maxHeaderCount: 100 };
const [port, mode = "web"] = [portArg(Deno.args), Deno.args[1]];
const hello = new TextEncoder().encode(HELLO);

/** The canned answer of `bare`: a head made per request (its date), and the body. */
function bare(): Uint8Array {
  const head = responseHead(
    200,
    "",
    null,
    `content-type: text/plain\r\ncontent-length: ${hello.byteLength}\r\ndate: ${httpDate()}\r\n`,
  );
  const out = new Uint8Array(head.length + hello.byteLength);
  encodeLatin1Into(head, out);
  out.set(hello, head.length);
  return out;
}

async function serveConn(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      const head = buf.subarray(0, n);
      if (mode === "bare") parseRequestHead(head, limits);
      await conn.write(mode === "bare" ? bare() : await answerWeb(head));
    }
  } catch {
    // the client went away
  } finally {
    conn.close();
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port });
ready(`${mode} floor ${runtimeName()}`, (listener.addr as Deno.NetAddr).port);
for await (const conn of listener) {
  conn.setNoDelay(true);
  serveConn(conn);
}
