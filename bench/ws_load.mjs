// A WebSocket load client (Node + ws 8, no bufferutil): the fixed client of the compressed
// cases of bench/ws_servers.ts, and ws's entry in its client section:
//   node bench/ws_load.mjs <ws-url> '<cases as JSON>'
// Each case: { conns, size, inflight, seconds, warmup, kind: "bin" | "json", compress }.
// Every connection keeps `inflight` messages outstanding against an echo server: each echo
// received sends the next message. Prints one JSON line per case: messages echoed per second
// over the measured window (after `warmup` seconds), and the socket bytes read and written in
// that window next to the payload bytes (for the compression ratio on the wire). With
// WS_SERVER_PID set, also the server process's CPU time (user + system, /proc) per message
// echoed in that window: unlike messages/s, it does not level off when this client is the
// bottleneck. And this process's own CPU time per message, for the client section.
import { readFileSync } from "node:fs";
import process from "node:process";
import { performance } from "node:perf_hooks";
import WebSocket from "./.deps/ws/node_modules/ws/index.js";

const [url, casesJson] = process.argv.slice(2);
const cases = JSON.parse(casesJson);

function jsonMessages() {
  const out = [];
  for (let i = 0; i < 1000; i++) {
    out.push(JSON.stringify({ id: i, items: Array(50).fill({ name: "item", value: 42 }) }));
  }
  return out;
}

function open(compress) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: compress, maxPayload: 64 * 1024 * 1024 });
    ws.binaryType = "nodebuffer";
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

const SERVER_PID = process.env.WS_SERVER_PID;
const CLK_TCK = 100;
/** The server's CPU time so far in microseconds (NaN without WS_SERVER_PID). */
function serverCpu() {
  if (!SERVER_PID) return NaN;
  const stat = readFileSync(`/proc/${SERVER_PID}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run(c) {
  const sockets = await Promise.all(Array.from({ length: c.conns }, () => open(!!c.compress)));
  const msgs = c.kind === "json" ? jsonMessages() : [Buffer.alloc(c.size, 120)];
  const binary = c.kind !== "json";
  let received = 0;
  let payloadIn = 0;
  let payloadOut = 0;
  let stopped = false;
  let errors = 0;
  for (const ws of sockets) {
    let k = 0;
    const next = () => {
      const m = msgs[k++ % msgs.length];
      payloadOut += m.length;
      ws.send(m, { binary });
    };
    ws.on("message", (data) => {
      received++;
      payloadIn += data.length;
      if (!stopped) next();
    });
    ws.on("error", () => errors++);
    for (let i = 0; i < c.inflight; i++) next();
  }
  const snap = () => ({
    t: performance.now(),
    received,
    payloadIn,
    payloadOut,
    read: sockets.reduce((s, ws) => s + ws._socket.bytesRead, 0),
    written: sockets.reduce((s, ws) => s + ws._socket.bytesWritten, 0),
    cpu: serverCpu(),
    own: process.cpuUsage(),
  });
  await sleep(c.warmup * 1000);
  const a = snap();
  await sleep(c.seconds * 1000);
  const b = snap();
  stopped = true;
  for (const ws of sockets) ws.terminate();
  const secs = (b.t - a.t) / 1000;
  const n = b.received - a.received;
  return {
    ...c,
    msgsPerSec: n / secs,
    serverCpuPerMsg: (b.cpu - a.cpu) / n,
    clientCpuPerMsg: (b.own.user + b.own.system - a.own.user - a.own.system) / n,
    bytesPerSec: (b.payloadIn - a.payloadIn) / secs,
    ratioIn: (b.read - a.read) / (b.payloadIn - a.payloadIn),
    ratioOut: (b.written - a.written) / (b.payloadOut - a.payloadOut),
    extensions: sockets[0].extensions,
    errors,
  };
}

for (const c of cases) {
  try {
    console.log(JSON.stringify(await run(c)));
  } catch (err) {
    console.log(JSON.stringify({ ...c, error: String(err?.message ?? err) }));
  }
  await sleep(100);
}
process.exit(0);
