/**
 * HTTP/1.1 client benchmark: our client against Deno's `fetch` on Deno, and against undici
 * (`undici.request` and `undici.fetch`) on Node, all against one fixed server (node:http,
 * `bench/servers/node_http.mjs`), side by side in one run.
 *
 * The server is pinned to the last core and every client to core 0 with `taskset` (when
 * there are two cores or more). Each client is a long-lived process
 * (`bench/clients/h1_client.ts`, bundled for Node by bench/setup.sh) that runs one timed
 * load on command, so that idle clients use no CPU. Every client is warmed up, then measured
 * round-robin: for each repeat, each route and each concurrency, every client gets one run in
 * turn; ours and its baseline run back to back, their order alternating from repeat to
 * repeat. Reported: the median requests per second and client CPU time per request of each,
 * and the medians of the side-by-side ratios of ours to the baseline.
 *
 * Run it through `bash bench/run.sh http1_client` (which installs undici and esbuild and
 * bundles the client first), or directly: `deno run -A bench/http1_client.ts`. Environment:
 * - `BENCH_DURATION` seconds per run (default 1.5), `BENCH_WARMUP` seconds per client,
 *   route and concurrency (default 1), `BENCH_REPEATS` (default 5),
 * - `BENCH_CONCURRENCY` comma-separated requests in flight (default `1,50`),
 * - `BENCH_ROUTES` (default `/,/64k`), `BENCH_CLIENTS` comma-separated client names to run a
 *   subset (default all: `ours_deno,deno_fetch,ours_node,undici_request,undici_fetch`).
 *
 * @module
 */

import { cpuTime, envNumber, fmt, log, median, output, pinning } from "./_measure.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

interface ClientSpec {
  /** Short name, used by `BENCH_CLIENTS`. */
  name: string;
  /** Label in the table. */
  label: string;
  runtime: "Deno" | "Node";
  /** Whether this is our client (else a baseline). */
  ours: boolean;
  cmd: string[];
}

const CLIENTS: ClientSpec[] = [
  {
    name: "ours_deno",
    label: "ours on Deno",
    runtime: "Deno",
    ours: true,
    cmd: [Deno.execPath(), "run", "-A", "bench/clients/h1_client.ts", "ours"],
  },
  {
    name: "deno_fetch",
    label: "fetch",
    runtime: "Deno",
    ours: false,
    cmd: [Deno.execPath(), "run", "-A", "bench/clients/h1_client.ts", "fetch"],
  },
  {
    name: "ours_node",
    label: "ours on Node",
    runtime: "Node",
    ours: true,
    cmd: ["node", "bench/.deps/node_modules/.bench/h1_client.mjs", "ours"],
  },
  {
    name: "undici_request",
    label: "undici.request",
    runtime: "Node",
    ours: false,
    cmd: ["node", "bench/.deps/node_modules/.bench/h1_client.mjs", "undici_request"],
  },
  {
    name: "undici_fetch",
    label: "undici.fetch",
    runtime: "Node",
    ours: false,
    cmd: ["node", "bench/.deps/node_modules/.bench/h1_client.mjs", "undici_fetch"],
  },
];

const DURATION = envNumber("BENCH_DURATION", 1.5);
const WARMUP = envNumber("BENCH_WARMUP", 1);
const REPEATS = envNumber("BENCH_REPEATS", 5);
const CONCURRENCY = (Deno.env.get("BENCH_CONCURRENCY") ?? "1,50").split(",").map(Number);
const ROUTES = (Deno.env.get("BENCH_ROUTES") ?? "/,/64k").split(",");
const ONLY = Deno.env.get("BENCH_CLIENTS")?.split(",");

/** CPU pinning: the server on the last core, the clients on core 0. */
const { cores, pin, pinned } = await pinning();
const SERVER_CPU = String(cores - 1);
const CLIENT_CPU = "0";

/** A child process that prints lines; `line()` waits for the next one. */
class Child {
  readonly proc: Deno.ChildProcess;
  #lines: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(cmd: string[], env: Record<string, string> = {}) {
    this.proc = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: ROOT,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#lines = this.proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#writer = this.proc.stdin.getWriter();
  }

  async line(): Promise<string> {
    for (;;) {
      const i = this.#buffer.indexOf("\n");
      if (i >= 0) {
        const line = this.#buffer.slice(0, i);
        this.#buffer = this.#buffer.slice(i + 1);
        return line;
      }
      const { value, done } = await this.#lines.read();
      if (done) throw new Error(`process exited: ${this.#buffer}`);
      this.#buffer += value;
    }
  }

  async send(line: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  async stop(): Promise<void> {
    try {
      await this.#writer.close();
    } catch { /* gone */ }
    try {
      this.proc.kill("SIGTERM");
    } catch { /* gone */ }
    await this.proc.status;
  }
}

/** CPU time (user + system) of a process so far, in microseconds, or NaN without /proc. */

interface Running {
  spec: ClientSpec;
  banner: string;
  child: Child;
}

interface RunResult {
  rps: number;
  cpuPerRequest: number;
  errors: number;
  error: string;
}

async function load(
  r: Running,
  url: string,
  concurrency: number,
  seconds: number,
): Promise<RunResult> {
  const cpu0 = await cpuTime(r.child.proc.pid);
  await r.child.send(`run ${url} ${concurrency} ${seconds}`);
  const res = JSON.parse(await r.child.line());
  const cpu1 = await cpuTime(r.child.proc.pid);
  return {
    rps: res.requests / res.seconds,
    cpuPerRequest: (cpu1 - cpu0) / res.requests,
    errors: res.errors,
    error: res.error,
  };
}

const specs = CLIENTS.filter((s) => !ONLY || ONLY.includes(s.name));
const started = new Date();
const commit = await output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]);
const dirty = (await output([
    "git",
    "-C",
    ROOT,
    "status",
    "--porcelain",
    "--",
    "client",
    "http1",
    "conn",
  ]))
  ? " (with uncommitted changes in client/, http1/ or conn/)"
  : "";

log(`pinning: ${pin ? `server on CPU ${SERVER_CPU}, clients on CPU ${CLIENT_CPU}` : "none"}`);
// The fixed server. A long keep-alive timeout, so that a client's idle connections survive
// while the other clients take their turns.
const server = new Child(pinned(SERVER_CPU, ["node", "bench/servers/node_http.mjs", "0"]), {
  BENCH_KEEPALIVE_MS: "600000",
});
const running: Running[] = [];
try {
  const banner = (await server.line()).match(/listening (\d+) (.*)/)!;
  const port = Number(banner[1]);
  const serverLabel = banner[2].trim();
  (async () => {
    for (;;) await server.line();
  })().catch(() => {});
  log(`server: ${serverLabel} on port ${port}`);
  for (const spec of specs) {
    const child = new Child(pinned(CLIENT_CPU, spec.cmd));
    const line = await child.line();
    if (!line.startsWith("ready ")) throw new Error(`${spec.name}: ${line}`);
    running.push({ spec, banner: line.slice(6), child });
    log(`${spec.name}: ${line.slice(6)}`);
  }
  const url = (route: string) => `http://127.0.0.1:${port}${route}`;
  for (const r of running) {
    for (const route of ROUTES) {
      for (const c of CONCURRENCY) await load(r, url(route), c, WARMUP);
    }
  }
  log("warmed up");

  // Odd repeats in the listed order; even repeats with each runtime's ours and first
  // baseline swapped, so that each ratio compares two runs back to back in both orders.
  const swapped: Running[] = [];
  for (const runtime of ["Deno", "Node"]) {
    const group = running.filter((r) => r.spec.runtime === runtime);
    const ours = group.filter((r) => r.spec.ours);
    const base = group.filter((r) => !r.spec.ours);
    swapped.push(...base.slice(0, 1), ...ours, ...base.slice(1));
  }
  const samples = new Map<string, number[]>();
  const cpuSamples = new Map<string, number[]>();
  const errors = new Map<string, string[]>();
  for (let rep = 1; rep <= REPEATS; rep++) {
    for (const route of ROUTES) {
      for (const c of CONCURRENCY) {
        for (const r of rep % 2 === 1 ? running : swapped) {
          const key = `${r.spec.name} ${route} ${c}`;
          const res = await load(r, url(route), c, DURATION);
          samples.set(key, [...(samples.get(key) ?? []), res.rps]);
          cpuSamples.set(key, [...(cpuSamples.get(key) ?? []), res.cpuPerRequest]);
          if (res.errors) {
            errors.set(key, [...(errors.get(key) ?? []), `${res.errors} errors (${res.error})`]);
          }
          log(
            `repeat ${rep} ${r.spec.name} ${route} c=${c}: ${fmt(res.rps)} req/s, ${
              res.cpuPerRequest.toFixed(1)
            } us CPU/request${res.errors ? `, ${res.errors} errors: ${res.error}` : ""}`,
          );
        }
      }
    }
  }

  const series = (m: Map<string, number[]>, s: ClientSpec, route: string, c: number) =>
    m.get(`${s.name} ${route} ${c}`) ?? [];
  const paired = (
    m: Map<string, number[]>,
    o: ClientSpec,
    b: ClientSpec,
    route: string,
    c: number,
  ) => {
    const os = series(m, o, route, c);
    const bs = series(m, b, route, c);
    const r = median(os.map((x, i) => x / bs[i]));
    return Number.isFinite(r) ? r.toFixed(2) + "x" : "n/a";
  };
  const us = (n: number) => Number.isFinite(n) ? `${n.toFixed(1)} µs` : "n/a";
  const rows: string[] = [
    "| runtime | route | in flight | ours req/s | baseline | baseline req/s | req/s ours / baseline | ours CPU/req | baseline CPU/req | CPU/req ours / baseline |",
    "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const runtime of ["Deno", "Node"] as const) {
    const ours = running.find((r) => r.spec.runtime === runtime && r.spec.ours)?.spec;
    if (!ours) continue;
    for (const base of running.filter((r) => r.spec.runtime === runtime && !r.spec.ours)) {
      for (const route of ROUTES) {
        for (const c of CONCURRENCY) {
          const b = base.spec;
          rows.push(
            `| ${runtime} | \`${route}\` | ${c} | ${
              fmt(median(series(samples, ours, route, c)))
            } | ${b.label} | ${fmt(median(series(samples, b, route, c)))} | ${
              paired(samples, ours, b, route, c)
            } | ${us(median(series(cpuSamples, ours, route, c)))} | ${
              us(median(series(cpuSamples, b, route, c)))
            } | ${paired(cpuSamples, ours, b, route, c)} |`,
          );
        }
      }
    }
  }
  const report = [
    `HTTP/1.1 client, ${
      started.toISOString().slice(0, 16).replace("T", " ")
    } UTC, commit ${commit}${dirty}; server ${serverLabel}`,
    "",
    ...rows,
    "",
    `req/s and CPU/req: medians of ${REPEATS} runs of ${DURATION} s per client, route and number ` +
    `of requests in flight (after ${WARMUP} s of warm-up each), all clients measured round-robin ` +
    `in one run; ours and its first baseline run back to back (their order alternating), and the ` +
    `ratios are the medians of the per-repeat ratios. ` +
    (pin
      ? `Server pinned to CPU ${SERVER_CPU}, clients to CPU ${CLIENT_CPU} (taskset); ${cores} cores.`
      : `No CPU pinning; ${cores} cores.`),
    `CPU/req is the client process's CPU time (user + system, from /proc) per completed request.`,
    running.map((r) => `${r.spec.name}: ${r.banner}`).join("; ") + ".",
  ];
  const errorLines = [...errors].map(([k, v]) => `- ${k}: ${v.join(" | ")}`);
  if (errorLines.length) report.push("", "Client errors:", ...errorLines);
  const text = report.join("\n") + "\n";
  console.log(text);
  await Deno.mkdir(`${ROOT}/bench/.results`, { recursive: true });
  const file = `${ROOT}/bench/.results/http1_client-${started.toISOString().replace(/[:.]/g, "-")}`;
  await Deno.writeTextFile(`${file}.md`, text);
  await Deno.writeTextFile(
    `${file}.json`,
    JSON.stringify(
      {
        samples: Object.fromEntries(samples),
        cpuPerRequest: Object.fromEntries(cpuSamples),
        errors: Object.fromEntries(errors),
      },
      null,
      2,
    ),
  );
  log(`saved ${file}.md and .json`);
} finally {
  await Promise.allSettled(running.map((r) => r.child.stop()));
  await server.stop();
}
