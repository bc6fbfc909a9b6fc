/**
 * Send throughput of 1 MiB binary messages over one connection, our client next to Deno's
 * native `WebSocket`, into one fixed discarding server pinned to CPU 1 (this process on CPU 0
 * when taskset is there): `deno`, bench/servers/ws_deno_sink.ts (`Deno.upgradeWebSocket`,
 * which unmasks and hands every message to JavaScript), or `raw`,
 * bench/servers/ws_raw_sink.ts (skips the payloads unread, so the sender is what is measured). Each run sends COUNT
 * messages, then "done", and stops the clock at the server's "ok"; clients alternate, the
 * order flipping every round. Prints the median MB/s of each and the per-round ratios.
 *
 *   taskset -c 0 deno run -A bench/ws_send_throughput.ts [rounds=5] [count=300] [deno|raw]
 *
 * @module
 */
import { open } from "../websockets/mod.ts";

const ROUNDS = Number(Deno.args[0] ?? 5);
const COUNT = Number(Deno.args[1] ?? 300);
const SINK = Deno.args[2] ?? "deno";
const MiB = 1 << 20;
const msg = new Uint8Array(MiB).fill(120);
const bench = new URL(".", import.meta.url).pathname;

const child = new Deno.Command("taskset", {
  args: ["-c", "1", "deno", "run", "-A", `${bench}servers/ws_${SINK}_sink.ts`],
  stdout: "piped",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let text = "";
while (!text.includes("\n")) {
  const r = await reader.read();
  if (r.done) throw new Error("sink ended");
  text += r.value;
}
const url = `ws://127.0.0.1:${/listening (\d+)/.exec(text)![1]}/`;

async function ours(): Promise<number> {
  const ws = await open(url, {});
  const t0 = performance.now();
  for (let i = 0; i < COUNT; i++) await ws.send(msg);
  await ws.send("done");
  await ws.receive();
  const t = performance.now() - t0;
  await ws.close();
  return t;
}

function native(): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onerror = () => reject(new Error("native WebSocket failed"));
    ws.onopen = () => {
      const t0 = performance.now();
      ws.onmessage = () => {
        const t = performance.now() - t0;
        ws.close();
        resolve(t);
      };
      for (let i = 0; i < COUNT; i++) ws.send(msg);
      ws.send("done");
    };
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const mbps = (ms: number) => (COUNT * MiB) / 1e6 / (ms / 1000);
const res: Record<string, number[]> = { ours: [], native: [] };
try {
  await ours(); // warm-up
  await native();
  for (let r = 0; r < ROUNDS; r++) {
    const order: [string, () => Promise<number>][] = [["ours", ours], ["native", native]];
    if (r % 2) order.reverse();
    for (const [name, f] of order) res[name].push(mbps(await f()));
  }
} finally {
  child.kill("SIGTERM");
  await child.status;
}
const ratios = res.ours.map((x, i) => x / res.native[i]);
console.log(`Sink: ${text.trim().replace(/^listening \d+ /, "")}.\n`);
console.log(`| client | MB/s (median of ${ROUNDS}) |`);
console.log(`| --- | ---: |`);
console.log(`| our client (Deno) | ${Math.round(median(res.ours))} |`);
console.log(`| Deno WebSocket | ${Math.round(median(res.native))} |`);
console.log(
  `\nours/native per round: ${ratios.map((x) => x.toFixed(2)).join(" ")}; median ${
    median(ratios).toFixed(2)
  }x`,
);
Deno.exit(0);
