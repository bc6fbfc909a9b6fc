/**
 * The CPU cost of one request in our HTTP/1.1 server, without sockets: requests are
 * pipelined over in-memory connections (`conn/memory.ts`) into `serve`, so what is measured
 * is our JavaScript (parser, `Request` / `Response`, serializer) and the runtime's Web APIs
 * it calls, not the kernel. On a shared machine this is steadier than wrk's requests per
 * second, which makes it the tool to A/B a change of the server:
 *
 * `deno run -A bench/http1_server_micro.ts [other checkout ...]`
 *
 * measures this checkout's `server/mod.ts` and those of the other checkouts (each a folder
 * with the same layout, e.g. a `git worktree`) in one process, alternating batches, and
 * prints the median CPU microseconds per request of each (process CPU time, so that time
 * spent waiting for a core does not count) and their ratio to the first.
 * Environment: `MICRO_BATCHES` (default 15), `MICRO_REQUESTS` per batch (default 4000),
 * `MICRO_ROUTES` (default `/,/64k`).
 *
 * @module
 */
import process from "node:process";
import { memoryPair } from "../conn/memory.ts";
import type { Addr, Conn, Listener } from "../conn/types.ts";
import { handler } from "./servers/_routes.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BATCHES = Number(Deno.env.get("MICRO_BATCHES") ?? 15);
const REQUESTS = Number(Deno.env.get("MICRO_REQUESTS") ?? 4000);
const ROUTES = (Deno.env.get("MICRO_ROUTES") ?? "/,/64k").split(",");
/** Requests in flight on each connection (pipelined), and connections per batch. */
const DEPTH = 16;
const CONNS = 4;

type Serve = (
  hostname: string,
  port: number,
  handler: (request: Request) => Response,
  options: { listener: Listener; onError?: (error: unknown) => Response },
) => Promise<{ close(): Promise<void>; forceClose(): Promise<void> }>;

/** A listener that hands out connections pushed into it. */
class MemoryListener implements Listener {
  readonly addr: Addr = { transport: "tcp", hostname: "127.0.0.1", port: 8000 };
  #queue: Conn[] = [];
  #waiting: ((conn: Conn | null) => void) | null = null;
  #closed = false;

  push(conn: Conn): void {
    if (this.#waiting) {
      const w = this.#waiting;
      this.#waiting = null;
      w(conn);
    } else this.#queue.push(conn);
  }

  accept(): Promise<Conn | null> {
    if (this.#queue.length) return Promise.resolve(this.#queue.shift()!);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  close(): void {
    this.#closed = true;
    this.#waiting?.(null);
    this.#waiting = null;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    while (true) {
      const conn = await this.accept();
      if (conn === null) return;
      yield conn;
    }
  }
}

const encoder = new TextEncoder();

/** Sends `count` requests for `route` on `conn`, `DEPTH` in flight, and reads the responses. */
async function drive(conn: Conn, route: string, count: number): Promise<void> {
  const one = encoder.encode(
    `GET ${route} HTTP/1.1\r\nHost: localhost:8000\r\nUser-Agent: micro\r\nAccept: */*\r\n\r\n`,
  );
  let sent = 0;
  let done = 0;
  const sendSome = async () => {
    const n = Math.min(DEPTH - (sent - done), count - sent);
    if (n <= 0) return;
    const buf = new Uint8Array(one.byteLength * n);
    for (let i = 0; i < n; i++) buf.set(one, i * one.byteLength);
    sent += n;
    await conn.write(buf);
  };
  await sendSome();
  // Count responses by their status lines and bodies: parse just enough (content-length).
  let pending = new Uint8Array(0);
  while (done < count) {
    const chunk = await conn.read();
    if (chunk === null) throw new Error(`connection closed after ${done} responses`);
    const buf = pending.byteLength ? concat(pending, chunk) : chunk;
    let at = 0;
    while (true) {
      const end = headEnd(buf, at);
      if (end < 0) break;
      const head = new TextDecoder().decode(buf.subarray(at, end));
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
      if (!head.startsWith("HTTP/1.1 200") || Number.isNaN(length)) {
        throw new Error(`unexpected response: ${head}`);
      }
      if (end + length > buf.byteLength) break;
      at = end + length;
      done++;
    }
    pending = buf.slice(at);
    await sendSome();
  }
}

function headEnd(buf: Uint8Array, from: number): number {
  for (let i = from; i + 3 < buf.byteLength; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) {
      return i + 4;
    }
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

interface Subject {
  name: string;
  serve: Serve;
}

async function batch(subject: Subject, route: string): Promise<number> {
  const listener = new MemoryListener();
  const server = await subject.serve("127.0.0.1", 0, handler, { listener });
  const clients: Conn[] = [];
  for (let i = 0; i < CONNS; i++) {
    const [client, serverSide] = memoryPair();
    listener.push(serverSide);
    clients.push(client);
  }
  // Process CPU time, not wall time: time the process spends waiting for a core on a busy
  // machine does not count.
  const t0 = process.cpuUsage();
  await Promise.all(clients.map((c) => drive(c, route, REQUESTS / CONNS)));
  const used = process.cpuUsage(t0);
  const elapsed = (used.user + used.system) / 1000;
  for (const c of clients) c.close();
  await server.forceClose();
  return (elapsed * 1000) / REQUESTS;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const dirs = [ROOT, ...Deno.args.map((d) => d.replace(/\/$/, ""))];
const subjects: Subject[] = [];
for (const dir of dirs) {
  const mod = await import(`file://${dir}/server/mod.ts`);
  subjects.push({ name: dir, serve: mod.serve as Serve });
}

for (const route of ROUTES) {
  // Warm up every subject, then alternate batches so that the machine's load hits all alike.
  for (const s of subjects) for (let i = 0; i < 3; i++) await batch(s, route);
  const results = subjects.map(() => [] as number[]);
  for (let b = 0; b < BATCHES; b++) {
    // Rotate the order each round so that no subject always runs first.
    for (let k = 0; k < subjects.length; k++) {
      const i = (b + k) % subjects.length;
      results[i].push(await batch(subjects[i], route));
    }
  }
  const base = median(results[0]);
  console.log(`route ${route}: ${BATCHES} batches of ${REQUESTS} requests, median us/request`);
  for (let i = 0; i < subjects.length; i++) {
    const m = median(results[i]);
    // Per-batch ratio to the first subject, median: steadier than the ratio of medians.
    const ratios = results[i].map((r, b) => r / results[0][b]);
    console.log(
      `  ${m.toFixed(1).padStart(7)} us  x${(m / base).toFixed(3)} (paired median x${
        median(ratios).toFixed(3)
      })  ${subjects[i].name}`,
    );
  }
}
