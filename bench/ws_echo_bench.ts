/**
 * WebSocket echo over loopback TCP, this module against Deno's native WebSocket, side by
 * side in one run (DESIGN section 7: compare ratios, not absolute figures):
 *
 * - clients against one fixed server (Deno.serve + Deno.upgradeWebSocket, echo);
 * - servers against one fixed client (Deno's native WebSocket);
 * - 1 MiB binary messages, server to client, for throughput.
 *
 * The opening handshake is done by hand here (the HTTP layer wires it elsewhere).
 *
 *   deno run -A bench/ws_echo_bench.ts [rounds]
 */
import { connect } from "../conn/connect.ts";
import { listen } from "../conn/listen.ts";
import type { Conn } from "../conn/types.ts";
import {
  acceptHeaders,
  clientRequestHeaders,
  generateKey,
  validateRequest,
  validateResponse,
  WebSocket,
} from "../websockets/mod.ts";

const ROUNDS = Number(Deno.args[0] ?? 5);
const SMALL = 20_000; // messages per pipelined run
const PINGPONG = 5_000; // sequential round trips
const BIG = 200; // 1 MiB messages
const MSG = JSON.stringify({ type: "tick", id: 12345, price: 101.25, qty: 7 });
const MiB = 1 << 20;
const enc = new TextEncoder();
const dec = new TextDecoder();

// ---------------------------------------------------------------------------------------
// Handshake by hand over a Conn

async function readHead(conn: Conn): Promise<{ head: string; rest: Uint8Array }> {
  let buf = new Uint8Array(0);
  for (;;) {
    const chunk = await conn.read();
    if (chunk === null) throw new Error("connection ended in the handshake");
    const next = new Uint8Array(buf.length + chunk.length);
    next.set(buf);
    next.set(chunk, buf.length);
    buf = next;
    for (let i = 3; i < buf.length; i++) {
      if (buf[i - 3] === 13 && buf[i - 2] === 10 && buf[i - 1] === 13 && buf[i] === 10) {
        return { head: dec.decode(buf.subarray(0, i - 3)), rest: buf.slice(i + 1) };
      }
    }
  }
}

function parseHeaders(lines: string[]): Headers {
  const h = new Headers();
  for (const line of lines) {
    const c = line.indexOf(":");
    h.append(line.slice(0, c).trim(), line.slice(c + 1).trim());
  }
  return h;
}

async function ourClient(port: number): Promise<WebSocket> {
  const conn = await connect({ hostname: "127.0.0.1", port });
  const key = generateKey();
  const headers = clientRequestHeaders(key);
  let req = `GET / HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n`;
  for (const [k, v] of headers) req += `${k}: ${v}\r\n`;
  await conn.write(enc.encode(req + "\r\n"));
  const { head, rest } = await readHead(conn);
  const [status, ...lines] = head.split("\r\n");
  const r = await validateResponse(Number(status.split(" ")[1]), parseHeaders(lines), key);
  return new WebSocket(conn, { role: "client", head: rest, protocol: r.protocol });
}

async function ourServer(): Promise<{ port: number; close(): void }> {
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) {
      (async () => {
        const { head, rest } = await readHead(conn);
        const [requestLine, ...lines] = head.split("\r\n");
        const accepted = validateRequest(requestLine.split(" ")[0], parseHeaders(lines));
        if (!accepted.ok) return conn.close();
        let res = "HTTP/1.1 101 Switching Protocols\r\n";
        for (const [k, v] of await acceptHeaders(accepted)) res += `${k}: ${v}\r\n`;
        await conn.write(enc.encode(res + "\r\n"));
        const ws = new WebSocket(conn, { role: "server", head: rest, maxFrameSize: 64 * MiB });
        try {
          for await (const m of ws) await ws.send(m);
        } catch { /* peer gone */ }
      })();
    }
  })();
  return { port: listener.addr.port, close: () => listener.close() };
}

function nativeServer(): { port: number; close(): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  });
  return { port: server.addr.port, close: () => server.shutdown() };
}

// ---------------------------------------------------------------------------------------
// A common shape for both clients

interface Client {
  send(m: string | Uint8Array): void;
  next(): Promise<unknown>;
  close(): Promise<void>;
}

function wrapOurs(ws: WebSocket): Client {
  return {
    send: (m) => void ws.send(m),
    next: () => ws.receive(),
    close: () => ws.close(),
  };
}

async function nativeClient(port: number): Promise<Client> {
  const ws = new globalThis.WebSocket(`ws://127.0.0.1:${port}/`);
  ws.binaryType = "arraybuffer";
  const queue: unknown[] = [];
  let wake: (() => void) | null = null;
  ws.onmessage = (e) => {
    queue.push(e.data);
    wake?.();
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  return {
    send: (m) => ws.send(m),
    async next() {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = null;
      return queue.shift();
    },
    close: () =>
      new Promise<void>((resolve) => {
        ws.onclose = () => resolve();
        ws.close();
      }),
  };
}

async function pipelined(c: Client, n: number, m: string | Uint8Array): Promise<number> {
  const t = performance.now();
  let received = 0;
  const reading = (async () => {
    while (received < n) {
      await c.next();
      received++;
    }
  })();
  for (let i = 0; i < n; i++) c.send(m);
  await reading;
  return performance.now() - t;
}

async function pingPong(c: Client, n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    c.send(MSG);
    await c.next();
  }
  return performance.now() - t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

type Scenario = { name: string; run: () => Promise<number>; unit: (ms: number) => string };

async function measure(scenarios: Scenario[]): Promise<void> {
  const results = new Map<string, number[]>();
  for (const s of scenarios) await s.run(); // warm up
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of scenarios) {
      const ms = await s.run();
      results.set(s.name, [...(results.get(s.name) ?? []), ms]);
      console.error(`  round ${r + 1}: ${s.name}: ${ms.toFixed(1)} ms`);
    }
  }
  for (const s of scenarios) {
    console.log(`| ${s.name} | ${s.unit(median(results.get(s.name)!))} |`);
  }
}

const perSec = (n: number) => (ms: number) =>
  `${Math.round((n / ms) * 1000).toLocaleString("en")} msg/s`;
const rtt = (n: number) => (ms: number) => `${((ms / n) * 1000).toFixed(1)} µs per round trip`;
const gbps = (n: number) => (ms: number) => `${((n * MiB) / (ms / 1000) / 1e9).toFixed(2)} GB/s`;

const big = new Uint8Array(MiB).map((_, i) => i & 255);

const native = nativeServer();
const ours = await ourServer();
const clients = {
  "native client": await nativeClient(native.port),
  "our client": wrapOurs(await ourClient(native.port)),
};
const fixedClientOnOurs = await nativeClient(ours.port);
const fixedClientOnNative = await nativeClient(native.port);
const oursToOurs = wrapOurs(await ourClient(ours.port));

console.log("| scenario | median |");
console.log("| --- | --- |");
await measure([
  ...Object.entries(clients).map(([name, c]) => ({
    name: `${name} -> Deno.serve: ${SMALL} small messages pipelined`,
    run: () => pipelined(c, SMALL, MSG),
    unit: perSec(SMALL),
  })),
  {
    name: `native client -> Deno.serve server: ${SMALL} pipelined`,
    run: () => pipelined(fixedClientOnNative, SMALL, MSG),
    unit: perSec(SMALL),
  },
  {
    name: `native client -> our server: ${SMALL} pipelined`,
    run: () => pipelined(fixedClientOnOurs, SMALL, MSG),
    unit: perSec(SMALL),
  },
  ...Object.entries(clients).map(([name, c]) => ({
    name: `${name} -> Deno.serve: ping-pong`,
    run: () => pingPong(c, PINGPONG),
    unit: rtt(PINGPONG),
  })),
  {
    name: `native client -> our server: ping-pong`,
    run: () => pingPong(fixedClientOnOurs, PINGPONG),
    unit: rtt(PINGPONG),
  },
  {
    name: `native client -> Deno.serve: ${BIG} x 1 MiB echoed`,
    run: () => pipelined(fixedClientOnNative, BIG, big),
    unit: gbps(2 * BIG),
  },
  {
    name: `our client -> our server: ${BIG} x 1 MiB echoed`,
    run: () => pipelined(oursToOurs, BIG, big),
    unit: gbps(2 * BIG),
  },
]);

for (const c of [...Object.values(clients), fixedClientOnOurs, fixedClientOnNative, oursToOurs]) {
  await c.close();
}
ours.close();
await native.close();
Deno.exit(0);
