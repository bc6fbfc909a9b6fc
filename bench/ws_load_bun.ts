/**
 * The fixed load client of the uncompressed echo cases of bench/ws_servers.ts and of
 * bench/ws_ab.ts: Bun's native `WebSocket` (C++, in the runtime), which outruns every server
 * measured here. The Node + ws client (bench/ws_load.mjs) used to drive these cases, and it
 * levelled off at about 100,000 1 KiB messages a second with its own core busy, whatever
 * the server; the compressed cases keep it, since they need its socket byte counts.
 *
 *   bun bench/ws_load_bun.ts <ws-url> '<cases as JSON>'
 *
 * Each case: `{ conns, size, inflight, seconds, warmup }` (binary messages of `size` bytes).
 * Every connection keeps `inflight` messages outstanding: each echo received sends the next.
 * Prints one JSON line per case with the messages echoed per second over the measured
 * window (after `warmup` seconds), and, with WS_SERVER_PID set, the server process's CPU
 * time (user + system, from /proc) per message echoed in that window.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import type { WsCase as Case } from "./_ws_case.ts";

const [url, casesJson] = process.argv.slice(2);
const SERVER_PID = process.env.WS_SERVER_PID;
const CLK_TCK = 100;

/** The server's CPU time so far in microseconds (NaN without WS_SERVER_PID). */
function serverCpu(): number {
  if (!SERVER_PID) return NaN;
  const stat = readFileSync(`/proc/${SERVER_PID}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function connect(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
}

async function run(c: Case) {
  const sockets = await Promise.all(Array.from({ length: c.conns }, connect));
  const message = new Uint8Array(c.size).fill(120);
  let received = 0;
  let payloadIn = 0;
  let stopped = false;
  let errors = 0;
  for (const ws of sockets) {
    ws.onmessage = (event) => {
      received++;
      payloadIn += (event.data as ArrayBuffer).byteLength;
      if (!stopped) ws.send(message);
    };
    ws.onerror = () => errors++;
    for (let i = 0; i < c.inflight; i++) ws.send(message);
  }
  await sleep(c.warmup * 1000);
  const a = { t: performance.now(), received, payloadIn, cpu: serverCpu() };
  await sleep(c.seconds * 1000);
  const b = { t: performance.now(), received, payloadIn, cpu: serverCpu() };
  stopped = true;
  for (const ws of sockets) ws.close();
  const secs = (b.t - a.t) / 1000;
  const n = b.received - a.received;
  return {
    ...c,
    msgsPerSec: n / secs,
    serverCpuPerMsg: (b.cpu - a.cpu) / n,
    bytesPerSec: (b.payloadIn - a.payloadIn) / secs,
    extensions: sockets[0].extensions,
    errors,
  };
}

for (const c of JSON.parse(casesJson) as Case[]) {
  try {
    console.log(JSON.stringify(await run(c)));
  } catch (err) {
    console.log(JSON.stringify({ ...c, error: String((err as Error)?.message ?? err) }));
  }
  await sleep(100);
}
process.exit(0);
