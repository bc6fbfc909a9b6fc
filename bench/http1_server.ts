/**
 * HTTP/1.1 server benchmark: one fixed load generator (wrk) against our server and the
 * runtime's own server on Deno, Node and Bun, side by side in one run.
 *
 * Every server is started once (pinned to one core with `taskset` when there are two or
 * more, wrk to another), warmed up, then measured round-robin: for each repeat, each route
 * and each connection count, every server gets one wrk run in turn, so that a change in the
 * machine's load hits all servers alike; ours and the runtime's own server run back to back,
 * their order alternating. Reported: the median requests per second and server CPU time per
 * request of each, and the medians of the side-by-side ratios of ours to the runtime's own.
 *
 * Run it through `bench/run.sh` (which installs the npm tools and bundles our server for
 * Node first), or directly: `deno run -A bench/http1_server.ts`. Environment:
 * - `BENCH_DURATION` seconds per wrk run (default 4), `BENCH_WARMUP` seconds (default 2),
 *   `BENCH_REWARM` seconds of unmeasured load right before each measured run (default 1),
 * - `BENCH_REPEATS` (default 5), `BENCH_CONNS` comma-separated connection counts (default
 *   `50`; `50,1` adds a one-connection run), `BENCH_SERVERS` comma-separated server names
 *   to run a subset (default all), `BENCH_ROUTES` (default `/,/64k`).
 *
 * @module
 */

import { cpuTime, envNumber, fmt, log, median, output, pinning } from "./_measure.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BIN = `${ROOT}/bench/.deps/node_modules/.bin`;

interface ServerSpec {
  /** Short name, used by `BENCH_SERVERS`. */
  name: string;
  /** Label in the table. */
  label: string;
  /** The runtime, to pair ours with the runtime's own server. */
  runtime: "Deno" | "Node" | "Bun";
  /** Whether this is our server (else the runtime's own, the baseline). */
  ours: boolean;
  /** Our server's API: `serve` (Web Request/Response) or `listen` (a `Stream` handler). */
  api?: "serve" | "Stream";
  /** The command; the port (0) is appended. */
  cmd: string[];
}

const SERVERS: ServerSpec[] = [
  {
    name: "ours_deno",
    label: "ours on Deno",
    runtime: "Deno",
    ours: true,
    cmd: [Deno.execPath(), "run", "-A", "bench/servers/ours_deno.ts"],
  },
  {
    name: "deno_serve",
    label: "Deno.serve",
    runtime: "Deno",
    ours: false,
    cmd: [Deno.execPath(), "run", "-A", "bench/servers/deno_serve.ts"],
  },
  {
    name: "ours_stream_deno",
    label: "ours (Stream) on Deno",
    runtime: "Deno",
    ours: true,
    api: "Stream",
    cmd: [Deno.execPath(), "run", "-A", "bench/servers/ours_stream_node.ts"],
  },
  {
    name: "ours_node",
    label: "ours on Node",
    runtime: "Node",
    ours: true,
    cmd: ["node", "bench/.deps/node_modules/.bench/ours_node.mjs"],
  },
  {
    name: "node_http",
    label: "node:http",
    runtime: "Node",
    ours: false,
    cmd: ["node", "bench/servers/node_http.mjs"],
  },
  {
    name: "ours_stream_node",
    label: "ours (Stream) on Node",
    runtime: "Node",
    ours: true,
    api: "Stream",
    cmd: ["node", "bench/.deps/node_modules/.bench/ours_stream_node.mjs"],
  },
  {
    name: "ours_bun",
    label: "ours on Bun",
    runtime: "Bun",
    ours: true,
    cmd: [
      `${BIN}/bun`,
      "--tsconfig-override",
      "bench/servers/tsconfig.bun.json",
      "bench/servers/ours_node.ts",
    ],
  },
  {
    name: "bun_serve",
    label: "Bun.serve",
    runtime: "Bun",
    ours: false,
    cmd: [`${BIN}/bun`, "bench/servers/bun_serve.ts"],
  },
  {
    name: "ours_stream_bun",
    label: "ours (Stream) on Bun",
    runtime: "Bun",
    ours: true,
    api: "Stream",
    cmd: [
      `${BIN}/bun`,
      "--tsconfig-override",
      "bench/servers/tsconfig.bun.json",
      "bench/servers/ours_stream_node.ts",
    ],
  },
];

const DURATION = envNumber("BENCH_DURATION", 4);
const WARMUP = envNumber("BENCH_WARMUP", 2);
/**
 * Seconds of unmeasured load right before each measured run. A server that sat idle while
 * the others were measured (half a minute and more) starts slower: ours on Deno used 29-48
 * µs per request in the first 4 s after 30 s idle against 23-25 µs warm, Deno.serve (little
 * JavaScript) hardly changes. This measures servers under steady load.
 */
const REWARM = envNumber("BENCH_REWARM", 1);
const REPEATS = envNumber("BENCH_REPEATS", 5);
const CONNS = (Deno.env.get("BENCH_CONNS") ?? "50").split(",").map(Number);
const ROUTES = (Deno.env.get("BENCH_ROUTES") ?? "/,/64k").split(",");
const ONLY = Deno.env.get("BENCH_SERVERS")?.split(",");

/** CPU pinning: servers on the last core, wrk on core 0, when there are two cores or more. */
const { cores, pin, pinned } = await pinning();
const SERVER_CPU = String(cores - 1);
const WRK_CPU = "0";

interface Running {
  spec: ServerSpec;
  port: number;
  banner: string;
  child: Deno.ChildProcess;
}

async function start(spec: ServerSpec): Promise<Running> {
  const cmd = pinned(SERVER_CPU, [...spec.cmd, "0"]);
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timeout = setTimeout(() => child.kill(), 60_000);
  while (!/listening \d+/.test(text)) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`${spec.name} exited before it listened: ${text}`);
    text += value;
  }
  clearTimeout(timeout);
  // Keep draining the server's stdout so that it never blocks on a full pipe.
  (async () => {
    while (!(await lines.read()).done);
  })().catch(() => {});
  const banner = text.match(/listening (\d+) (.*)/)!;
  return { spec, port: Number(banner[1]), banner: banner[2].trim(), child };
}

interface WrkResult {
  rps: number;
  /** The server process's CPU time (user + system) per request, in microseconds. */
  cpuPerRequest: number;
  errors: string;
}

/** CPU time (user + system) of a process so far, in microseconds, or NaN without /proc. */

async function wrk(port: number, route: string, conns: number, seconds: number, pid?: number) {
  const cpu0 = pid ? await cpuTime(pid) : NaN;
  const cmd = pinned(WRK_CPU, [
    "wrk",
    "-t1",
    `-c${conns}`,
    `-d${seconds}s`,
    `http://127.0.0.1:${port}${route}`,
  ]);
  const out = await output(cmd);
  const cpu1 = pid ? await cpuTime(pid) : NaN;
  const requests = Number(out.match(/(\d+) requests in/)?.[1] ?? NaN);
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? NaN);
  const errs: string[] = [];
  const socket = out.match(/Socket errors: (.*)/)?.[1];
  if (socket) errs.push(`socket errors ${socket}`);
  const non2xx = out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1];
  if (non2xx) errs.push(`${non2xx} non-2xx`);
  if (Number.isNaN(rps)) errs.push(`no result: ${out.slice(0, 200)}`);
  const cpuPerRequest = (cpu1 - cpu0) / requests;
  return { rps, cpuPerRequest, errors: errs.join("; ") } satisfies WrkResult;
}

const specs = SERVERS.filter((s) => !ONLY || ONLY.includes(s.name));
const started = new Date();
// What is measured: the checkout as it is when the run starts (others may commit meanwhile).
const commit = await output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]);
const dirty = (await output([
    "git",
    "-C",
    ROOT,
    "status",
    "--porcelain",
    "--",
    "server",
    "http1",
    "http2",
    "conn",
  ]))
  ? " (with uncommitted changes in server/, http1/, http2/ or conn/)"
  : "";

log(
  `pinning: ${
    pin ? `servers on CPU ${SERVER_CPU}, wrk on CPU ${WRK_CPU} (taskset)` : "none"
  }; ${cores} cores`,
);
const running: Running[] = [];
try {
  for (const spec of specs) {
    const r = await start(spec);
    running.push(r);
    log(`${spec.name}: ${r.banner} on port ${r.port}`);
  }
  for (const r of running) {
    for (const route of ROUTES) {
      for (const conns of CONNS) await wrk(r.port, route, conns, WARMUP);
    }
  }
  log("warmed up");

  const pairSwapped: Running[] = [];
  for (const runtime of ["Deno", "Node", "Bun"]) {
    pairSwapped.push(...running.filter((r) => r.spec.runtime === runtime && !r.spec.ours));
    pairSwapped.push(...running.filter((r) => r.spec.runtime === runtime && r.spec.ours));
  }
  const samples = new Map<string, number[]>();
  const cpuSamples = new Map<string, number[]>();
  const errors = new Map<string, string[]>();
  for (let rep = 1; rep <= REPEATS; rep++) {
    for (const route of ROUTES) {
      for (const conns of CONNS) {
        // Each server runs right after the other of its runtime's pair, the pair's order
        // alternating from one repeat to the next, so that each ratio compares two runs a few
        // seconds apart.
        const order = rep % 2 === 1 ? running : pairSwapped;
        for (const r of order) {
          const key = `${r.spec.name} ${route} ${conns}`;
          if (REWARM > 0) await wrk(r.port, route, conns, REWARM);
          const res = await wrk(r.port, route, conns, DURATION, r.child.pid);
          samples.set(key, [...(samples.get(key) ?? []), res.rps]);
          cpuSamples.set(key, [...(cpuSamples.get(key) ?? []), res.cpuPerRequest]);
          if (res.errors) errors.set(key, [...(errors.get(key) ?? []), res.errors]);
          log(
            `repeat ${rep} ${r.spec.name} ${route} -c${conns}: ${fmt(res.rps)} req/s, ${
              res.cpuPerRequest.toFixed(1)
            } us CPU/request${res.errors ? ` (${res.errors})` : ""}`,
          );
        }
      }
    }
  }

  const rows: string[] = [
    "| runtime | ours | route | conns | ours req/s | baseline | baseline req/s | req/s ours / baseline | ours CPU/req | baseline CPU/req | CPU/req ours / baseline |",
    "| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  const series = (
    m: Map<string, number[]>,
    spec: ServerSpec | undefined,
    route: string,
    c: number,
  ) => spec ? m.get(`${spec.name} ${route} ${c}`)! : [];
  const cell = (m: Map<string, number[]>, spec: ServerSpec | undefined, route: string, c: number) =>
    spec ? median(series(m, spec, route, c)) : NaN;
  /** The median of the per-repeat ratios ours / baseline (each of two runs side by side). */
  const paired = (m: Map<string, number[]>, o?: ServerSpec, b?: ServerSpec, route = "", c = 0) => {
    const os = series(m, o, route, c);
    const bs = series(m, b, route, c);
    if (!os.length || !bs.length) return "n/a";
    const r = median(os.map((x, i) => x / bs[i]));
    return Number.isFinite(r) ? r.toFixed(2) + "x" : "n/a";
  };
  const us = (n: number) => Number.isFinite(n) ? `${n.toFixed(1)} µs` : "n/a";
  for (const runtime of ["Deno", "Node", "Bun"] as const) {
    const base = running.find((r) => r.spec.runtime === runtime && !r.spec.ours)?.spec;
    const oursAll = running.filter((r) => r.spec.runtime === runtime && r.spec.ours);
    for (const ours of oursAll.length ? oursAll.map((r) => r.spec) : base ? [undefined] : []) {
      for (const route of ROUTES) {
        for (const conns of CONNS) {
          const o = cell(samples, ours, route, conns);
          const b = cell(samples, base, route, conns);
          const oc = cell(cpuSamples, ours, route, conns);
          const bc = cell(cpuSamples, base, route, conns);
          rows.push(
            `| ${runtime} | ${ours?.api ?? "serve"} | \`${route}\` | ${conns} | ${fmt(o)} | ${
              base?.label ?? "n/a"
            } | ${fmt(b)} | ${paired(samples, ours, base, route, conns)} | ${us(oc)} | ${
              us(bc)
            } | ${paired(cpuSamples, ours, base, route, conns)} |`,
          );
        }
      }
    }
  }

  const versions = running.map((r) => `${r.spec.label}: ${r.banner}`).join("; ");
  const wrkVersion = (await output(["wrk", "-v"])).split("\n")[0];
  const report = [
    `HTTP/1.1 server, ${
      started.toISOString().slice(0, 16).replace("T", " ")
    } UTC, commit ${commit}${dirty}`,
    "",
    ...rows,
    "",
    `req/s and CPU/req: medians of ${REPEATS} runs of \`wrk -t1 -c<conns> -d${DURATION}s\` per server and route ` +
    `(after ${WARMUP} s of warm-up per route, and ${REWARM} s of unmeasured load right before each run), ` +
    `all servers measured round-robin in one run; ` +
    `each runtime's servers run back to back (their order alternating), and the ratios are the ` +
    `medians of those side-by-side ratios. ` +
    (pin
      ? `Servers pinned to CPU ${SERVER_CPU}, wrk to CPU ${WRK_CPU} (taskset); ${cores} cores.`
      : `No CPU pinning; ${cores} cores.`),
    `CPU/req is the server process's CPU time (user + system, from /proc) per request served: ` +
    `steadier than req/s on a shared machine, and it shows how much of a core each server needs.`,
    `${wrkVersion}; ${versions}.`,
  ];
  const errorLines = [...errors].map(([k, v]) => `- ${k}: ${v.join(" | ")}`);
  if (errorLines.length) report.push("", "wrk reported errors:", ...errorLines);
  const text = report.join("\n") + "\n";
  console.log(text);
  await Deno.mkdir(`${ROOT}/bench/.results`, { recursive: true });
  const file = `${ROOT}/bench/.results/http1_server-${started.toISOString().replace(/[:.]/g, "-")}`;
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
  for (const r of running) {
    try {
      r.child.kill("SIGTERM");
    } catch { /* already gone */ }
  }
  await Promise.allSettled(running.map((r) => r.child.status));
}
