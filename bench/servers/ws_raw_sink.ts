// A minimal discarding WebSocket server for send throughput, so that the receiver is not what
// is measured: the opening handshake by hand, then it reads into one 1 MiB buffer and walks
// the frame headers, skipping payloads without unmasking them; a text frame (the client's
// "done") is answered with the text "ok". No validation: a benchmark peer, not a server.
// `deno run -A bench/servers/ws_raw_sink.ts [port]`.
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OK = new Uint8Array([0x81, 0x02, 0x6f, 0x6b]);

async function serve(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(1 << 20);
  let have = 0;
  let head = "";
  for (;;) {
    const n = await conn.read(buf.subarray(have));
    if (n === null) return conn.close();
    have += n;
    head = new TextDecoder().decode(buf.subarray(0, have));
    if (head.includes("\r\n\r\n")) break;
  }
  const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? "";
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
  const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
  await conn.write(new TextEncoder().encode(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  ));
  let end = 0;
  while (!(buf[end] === 13 && buf[end + 1] === 10 && buf[end + 2] === 13 && buf[end + 3] === 10)) {
    end++;
  }
  end += 4;
  // Bytes after the head, then the stream: `skip` payload bytes still to pass over.
  buf.copyWithin(0, end, have);
  let pending = buf.subarray(0, have - end);
  let skip = 0;
  for (;;) {
    let at = 0;
    for (;;) {
      if (skip > 0) {
        const k = Math.min(skip, pending.length - at);
        skip -= k;
        at += k;
        if (skip > 0) break;
      }
      if (pending.length - at < 2) break;
      const b0 = pending[at], b1 = pending[at + 1];
      let len = b1 & 0x7f, h = 2;
      if (len === 126) {
        if (pending.length - at < 4) break;
        len = (pending[at + 2] << 8) | pending[at + 3];
        h = 4;
      } else if (len === 127) {
        if (pending.length - at < 10) break;
        len = (pending[at + 6] * 2 ** 24) + (pending[at + 7] << 16) + (pending[at + 8] << 8) +
          pending[at + 9];
        h = 10;
      }
      if (b1 & 0x80) h += 4;
      if (pending.length - at < h) break;
      at += h;
      skip = len;
      if ((b0 & 0x0f) === 0x1) await conn.write(OK);
      if ((b0 & 0x0f) === 0x8) return conn.close();
    }
    const left = pending.length - at;
    buf.copyWithin(0, at, at + left); // pending starts at buf[0]
    const n = await conn.read(buf.subarray(left));
    if (n === null) return conn.close();
    pending = buf.subarray(0, left + n);
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(Deno.args[0] ?? 0) });
console.log(`listening ${(listener.addr as Deno.NetAddr).port} raw sink ${Deno.version.deno}`);
for await (const conn of listener) serve(conn).catch(() => conn.close());
