/**
 * One timed 256 MiB (or `n` bytes) transfer by a Deno-side client, for http2_transfer.ts:
 * `deno run -A bench/http2_transfer_client.ts <ours|fetch> <down|up> <origin> <bytes> [tuned]`.
 * Prints `bytes seconds protocol`. Downloads `GET /big?n=<bytes>`; uploads `POST /echo` with
 * a stream of 64 KiB chunks and checks the byte count the server answers.
 */
import { Client, HTTP2Settings } from "../client/mod.ts";

const [who, dir, origin, nArg, tunedArg] = Deno.args;
const n = Number(nArg);
const tuned = tunedArg === "tuned";
const ca = await Deno.readTextFile(new URL("../tests/fixtures/ca.pem", import.meta.url));
const CHUNK = new Uint8Array(64 * 1024).fill(122);

function uploadStream(): ReadableStream<Uint8Array> {
  let left = n;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (left <= 0) return c.close();
      const k = Math.min(left, CHUNK.byteLength);
      left -= k;
      c.enqueue(k === CHUNK.byteLength ? CHUNK.slice() : CHUNK.slice(0, k));
    },
  });
}

async function drain(body: ReadableStream<Uint8Array>): Promise<number> {
  let got = 0;
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return got;
    got += value.byteLength;
  }
}

const tls = origin.startsWith("https:");
let got = 0;
let protocol = "";
const t0 = performance.now();
if (who === "ours") {
  await using client = new Client({
    caCerts: [ca],
    http2Settings: tuned
      ? new HTTP2Settings({ initialWindowSize: 1 << 20, connectionWindowSize: 1 << 21 })
      : undefined,
  });
  const protocolOpt = tls ? "auto" : "h2";
  if (dir === "down") {
    const res = await client.request("GET", `${origin}/big?n=${n}`, { protocol: protocolOpt });
    got = await drain(res.body!);
  } else {
    const res = await client.request("POST", `${origin}/echo`, {
      protocol: protocolOpt,
      body: uploadStream(),
    });
    got = Number(await res.text());
  }
  protocol = "h2 (ours)";
} else {
  const http = Deno.createHttpClient(
    tls ? { caCerts: [ca], http1: false, http2: true } : { http1: false, http2: true },
  );
  if (dir === "down") {
    const res = await fetch(`${origin}/big?n=${n}`, { client: http });
    got = await drain(res.body!);
  } else {
    const res = await fetch(`${origin}/echo`, {
      client: http,
      method: "POST",
      body: uploadStream(),
    });
    got = Number(await res.text());
  }
  protocol = "fetch";
  http.close();
}
const seconds = (performance.now() - t0) / 1000;
if (got !== n) throw new Error(`transferred ${got} of ${n} bytes`);
console.log(`${got} ${seconds} ${protocol}`);
