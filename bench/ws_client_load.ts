/**
 * The load of bench/ws_load.mjs with our client or the runtime's native `WebSocket`, for the
 * client section of bench/ws_servers.ts (one fixed server, several clients), on Deno or on
 * Node (the esbuild bundle that bench/ws_servers.ts makes):
 *
 *   deno run -A bench/ws_client_load.ts ours|native <ws-url> '<cases as JSON>'
 *   node bench/.deps/ws/node_modules/.bench/ws_client_load.mjs ours <ws-url> '<cases as JSON>'
 *
 * Each case: `{ conns, size, inflight, seconds, warmup }` (binary messages). Every connection
 * keeps `inflight` messages outstanding; each echo sends the next. Prints one JSON line per
 * case with the messages echoed per second over the measured window, and this process's
 * CPU time (user + system) per message in that window: unlike messages/s, it does not level
 * off when the server is the bottleneck.
 *
 * @module
 */
import process from "node:process";
import { open } from "../websockets/mod.ts";
import type { WsCase as Case } from "./_ws_case.ts";

interface Load {
  /** Sends one message (not awaited: the load keeps several in flight). */
  send(): void;
  /** Calls `onMessage` for every message received. */
  start(onMessage: () => void): void;
  stop(): void;
}

const [impl, url, casesJson] = process.argv.slice(2);
const cases: Case[] = JSON.parse(casesJson);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openOurs(msg: Uint8Array): Promise<Load> {
  const ws = await open(url, { maxFrameSize: 64 * 1024 * 1024 });
  return {
    start(onMessage) {
      (async () => {
        try {
          for await (const _ of ws) onMessage();
        } catch { /* ended by stop() */ }
      })();
    },
    stop() {
      ws.close().catch(() => {});
    },
    send() {
      ws.send(msg).catch(() => {});
    },
  };
}

function openNative(msg: Uint8Array): Promise<Load> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onerror = () => reject(new Error("native WebSocket failed"));
    ws.onopen = () =>
      resolve({
        start(onMessage) {
          ws.onmessage = onMessage;
        },
        stop() {
          ws.onmessage = null;
          ws.onerror = null;
          ws.close();
        },
        send: () => ws.send(msg),
      });
  });
}

async function run(c: Case) {
  const msg = new Uint8Array(c.size).fill(120);
  const loads = await Promise.all(
    Array.from({ length: c.conns }, () => impl === "ours" ? openOurs(msg) : openNative(msg)),
  );
  let received = 0;
  let stopped = false;
  for (const load of loads) {
    load.start(() => {
      received++;
      if (!stopped) load.send();
    });
    for (let i = 0; i < c.inflight; i++) load.send();
  }
  await sleep(c.warmup * 1000);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const n0 = received;
  await sleep(c.seconds * 1000);
  const n = received - n0;
  const cpu = process.cpuUsage(cpu0);
  const secs = (performance.now() - t0) / 1000;
  stopped = true;
  for (const load of loads) load.stop();
  return {
    ...c,
    impl,
    msgsPerSec: n / secs,
    bytesPerSec: (n * c.size) / secs,
    clientCpuPerMsg: (cpu.user + cpu.system) / n,
  };
}

for (const c of cases) {
  try {
    console.log(JSON.stringify(await run(c)));
  } catch (err) {
    console.log(JSON.stringify({ ...c, impl, error: String((err as Error)?.message ?? err) }));
  }
  await sleep(100);
}
process.exit(0);
