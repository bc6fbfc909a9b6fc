/**
 * WebSocket echo servers against one fixed load client, per runtime, side by side in one run
 * (DESIGN section 7). The client is Bun's native `WebSocket` (bench/ws_load_bun.ts) for the
 * uncompressed cases and ws on Node (bench/ws_load.mjs) for the compressed ones, pinned to
 * CPU 0 with taskset; each server runs pinned to CPU 1, started for its cases and stopped by
 * its pid.
 *
 *   deno run -A bench/ws_servers.ts            (about 4.5 minutes; prints markdown tables)
 *
 * Servers (bench/servers/): ours (`WebSockets.listen`, ws_ours.ts) on Deno, on Node (esbuild
 * bundle) and on Bun; `Deno.serve` + `Deno.upgradeWebSocket`; ws's `WebSocketServer` on Node;
 * `Bun.serve`'s websocket. Each with and without permessage-deflate where it has it.
 * Then a client section: our client on Deno next to Deno's native `WebSocket`, and on Node
 * next to ws's client (bench/ws_client_load.ts, bench/ws_load.mjs), against one fixed server
 * (`Bun.serve`, native code), with each client's own CPU time per message.
 *
 * Environment: WS_ROUNDS (3), WS_SECONDS (0.7, measured per case), WS_WARMUP (0.3),
 * WS_SECTIONS ("servers,compress,clients"), WS_RUNTIMES ("Deno,Node,Bun": the server
 * sections' runtimes; rows of the others stay empty). Raw samples go to bench/.results/.
 * Installs ws, esbuild, deno-std and bun under bench/.deps/ws (its own npm prefix, so that
 * bench/setup.sh's `npm install --prefix bench/.deps` neither prunes nor moves them mid-run).
 *
 * @module
 */

import { bundleForNode } from "./_paired.ts";
import type { WsCase } from "./_ws_case.ts";

const bench = new URL(".", import.meta.url).pathname;
const deps = `${bench}.deps/ws/node_modules`; // its own npm prefix: bench/setup.sh's installs leave it alone
const env = (k: string, d: string) => Deno.env.get(k) ?? d;
const ROUNDS = Number(env("WS_ROUNDS", "3"));
const SECONDS = Number(env("WS_SECONDS", "0.7"));
const WARMUP = Number(env("WS_WARMUP", "0.3"));
const SECTIONS = env("WS_SECTIONS", "servers,compress,clients").split(",");
const RUNTIMES = env("WS_RUNTIMES", "Deno,Node,Bun").split(",");
const MiB = 1 << 20;

interface Case extends WsCase {
  kind: "bin" | "json";
  compress?: boolean;
}

interface Sample extends Case {
  msgsPerSec: number;
  /** The server's CPU time per message echoed, in microseconds. */
  serverCpuPerMsg?: number;
  /** The client's CPU time per message echoed, in microseconds (the client section). */
  clientCpuPerMsg?: number;
  bytesPerSec: number;
  ratioIn?: number;
  extensions?: string;
  error?: string;
}

async function sh(cmd: string[], quiet = false): Promise<void> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: quiet ? "null" : "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`failed: ${cmd.join(" ")}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function setup(): Promise<void> {
  const need = ["ws/package.json", ".bin/esbuild", ".bin/bun", "deno-std/http/status.js"];
  if (!(await Promise.all(need.map((f) => exists(`${deps}/${f}`)))).every(Boolean)) {
    await sh([
      "npm",
      "install",
      "--prefix",
      `${bench}.deps/ws`,
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      "esbuild@0.28.2",
      "deno-std@1.4.0",
      "bun@1.4.5",
      "ws@8.23.0",
    ]);
  }
  await bundleForNode(deps, `${bench}servers/ws_ours.ts`, `${deps}/.bench/ws_ours.mjs`);
  await bundleForNode(deps, `${bench}ws_client_load.ts`, `${deps}/.bench/ws_client_load.mjs`);
}

interface ServerSpec {
  name: string;
  runtime: "Deno" | "Node" | "Bun";
  ours: boolean;
  cmd: (port: number, compress: boolean) => string[];
  deflate: boolean;
}

const bun = `${deps}/.bin/bun`;
const SERVERS: ServerSpec[] = [
  {
    name: "ours (Deno)",
    runtime: "Deno",
    ours: true,
    deflate: true,
    cmd: (p, c) => ["deno", "run", "-A", `${bench}servers/ws_ours.ts`, `${p}`, c ? "1" : "0"],
  },
  {
    name: "Deno.upgradeWebSocket",
    runtime: "Deno",
    ours: false,
    deflate: false,
    cmd: (p) => ["deno", "run", "-A", `${bench}servers/ws_deno_serve.ts`, `${p}`],
  },
  {
    name: "ours (Node)",
    runtime: "Node",
    ours: true,
    deflate: true,
    cmd: (p, c) => ["node", `${deps}/.bench/ws_ours.mjs`, `${p}`, c ? "1" : "0"],
  },
  {
    name: "ws (Node)",
    runtime: "Node",
    ours: false,
    deflate: true,
    cmd: (p, c) => ["node", `${bench}servers/ws_node_ws.mjs`, `${p}`, c ? "1" : "0"],
  },
  {
    name: "ours (Bun)",
    runtime: "Bun",
    ours: true,
    deflate: true,
    cmd: (p, c) => [
      bun,
      "--tsconfig-override",
      `${bench}servers/tsconfig.ws_bun.json`,
      `${bench}servers/ws_ours.ts`,
      `${p}`,
      c ? "1" : "0",
    ],
  },
  {
    name: "Bun.serve",
    runtime: "Bun",
    ours: false,
    deflate: true,
    cmd: (p, c) => [bun, `${bench}servers/ws_bun_serve.ts`, `${p}`, c ? "1" : "0"],
  },
];

/** The fixed server of the client section: native code, so that the clients are what is measured. */
const BUN_SERVE = SERVERS.find((s) => s.name === "Bun.serve")!;

/** The clients of the client section, each next to the one it is compared with. */
const CLIENTS: { name: string; cmd: string[] }[] = [
  { name: "ours (Deno)", cmd: ["deno", "run", "-A", `${bench}ws_client_load.ts`, "ours"] },
  { name: "Deno WebSocket", cmd: ["deno", "run", "-A", `${bench}ws_client_load.ts`, "native"] },
  { name: "ours (Node)", cmd: ["node", `${deps}/.bench/ws_client_load.mjs`, "ours"] },
  { name: "ws (Node)", cmd: ["node", `${bench}ws_load.mjs`] },
];

const CLIENT_PAIRS: [string, string][] = [
  ["ours (Deno)", "Deno WebSocket"],
  ["ours (Node)", "ws (Node)"],
];

/** Starts a server pinned to CPU 1 and waits for its `listening PORT ...` line. */
async function startServer(
  cmd: string[],
): Promise<{ port: number; label: string; child: Deno.ChildProcess }> {
  const argv = cmd;
  const child = new Deno.Command("taskset", {
    args: ["-c", "1", ...argv],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), 20_000);
  while (!text.includes("\n")) {
    const r = await reader.read();
    if (r.done) throw new Error(`server ended before listening: ${argv.join(" ")}`);
    text += r.value;
  }
  clearTimeout(deadline);
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const m = /^listening (\d+) (.*)$/m.exec(text);
  if (!m) throw new Error(`unexpected server output: ${text}`);
  return { port: Number(m[1]), label: m[2], child };
}

async function stopServer(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  const t = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 3000);
  await child.status;
  clearTimeout(t);
}

async function runClient(argv: string[], serverPid?: number): Promise<Sample[]> {
  const out = await new Deno.Command("taskset", {
    args: ["-c", "0", ...argv],
    stdout: "piped",
    stderr: "inherit",
    env: serverPid ? { WS_SERVER_PID: String(serverPid) } : {},
  }).output();
  return new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
}

/**
 * Runs the fixed load client of a section: Bun's native `WebSocket` for the uncompressed
 * cases (bench/ws_load_bun.ts; the Node + ws client levels off below what the servers
 * echo), ws for the compressed ones (bench/ws_load.mjs, which counts the bytes on the wire).
 */
function loadCases(cases: Case[], port: number, serverPid: number): Promise<Sample[]> {
  const url = `ws://127.0.0.1:${port}/`;
  const client = cases.some((x) => x.compress)
    ? ["node", `${bench}ws_load.mjs`]
    : [bun, `${bench}ws_load_bun.ts`];
  return runClient([...client, url, JSON.stringify(cases)], serverPid);
}

const c = (
  conns: number,
  size: number,
  inflight: number,
  kind: "bin" | "json" = "bin",
  compress = false,
): Case => ({
  conns,
  size,
  inflight,
  seconds: SECONDS,
  warmup: WARMUP,
  kind,
  compress,
});

const PLAIN: Case[] = [
  c(1, 16, 32),
  c(50, 16, 32),
  c(1, 1024, 32),
  c(50, 1024, 32),
  c(1, 65536, 32),
  c(50, 65536, 8),
  c(1, MiB, 4),
];
const JSON_CASES: Case[] = [c(1, 0, 32, "json", true), c(50, 0, 8, "json", true)];
const CLIENT_CASES: Case[] = [
  c(1, 16, 32),
  c(50, 16, 32),
  c(1, 1024, 32),
  c(50, 1024, 32),
  c(1, MiB, 4),
];

const key = (x: Case) => `${x.kind} ${x.size} ${x.conns}`;
type Results = Map<string, Map<string, Sample[]>>; // server -> case -> samples per round

function record(results: Results, server: string, samples: Sample[]): void {
  let m = results.get(server);
  if (!m) results.set(server, m = new Map());
  for (const s of samples) {
    const k = key(s);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(s);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
    ? s[s.length >> 1]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtN = (x: number) => Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a";
const fmtR = (x: number) => Number.isFinite(x) ? `${x.toFixed(2)}x` : "n/a";
/** The per-round ratios a/b, for the spread. */
function rounds(
  results: Results,
  a: string,
  b: string,
  x: Case,
  f: (s: Sample) => number = (s) => s.msgsPerSec,
): string {
  const sa = samplesOf(results, a, x);
  const sb = samplesOf(results, b, x);
  const rs: string[] = [];
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    rs.push(!sa[i].error && !sb[i].error ? (f(sa[i]) / f(sb[i])).toFixed(2) : "err");
  }
  return rs.join(" ");
}
const sizeName = (x: Case) =>
  x.kind === "json"
    ? "JSON ~1.4 KB"
    : x.size >= MiB
    ? "1 MiB"
    : x.size >= 1024
    ? `${x.size / 1024} KiB`
    : `${x.size} B`;

function samplesOf(results: Results, server: string, x: Case): Sample[] {
  return results.get(server)?.get(key(x)) ?? [];
}
function med(
  results: Results,
  server: string,
  x: Case,
  f: (s: Sample) => number = (s) => s.msgsPerSec,
): number {
  return median(samplesOf(results, server, x).filter((s) => !s.error).map(f));
}
/** Median of the per-round ratios a/b (each round ran both side by side). */
function ratio(
  results: Results,
  a: string,
  b: string,
  x: Case,
  f: (s: Sample) => number = (s) => s.msgsPerSec,
): number {
  const sa = samplesOf(results, a, x);
  const sb = samplesOf(results, b, x);
  const rs: number[] = [];
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    if (!sa[i].error && !sb[i].error) rs.push(f(sa[i]) / f(sb[i]));
  }
  return median(rs);
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((x, i) => x.padEnd(w[i])).join(" | ")} |`;
  return [line(head), `| ${w.map((n) => "-".repeat(n)).join(" | ")} |`, ...rows.map(line)].join(
    "\n",
  );
}

const PAIRS: [string, string][] = [
  ["ours (Deno)", "Deno.upgradeWebSocket"],
  ["ours (Node)", "ws (Node)"],
  ["ours (Bun)", "Bun.serve"],
];

async function main() {
  await setup();
  const plain: Results = new Map();
  const deflate: Results = new Map();
  const clients: Results = new Map();
  const labels = new Map<string, string>();
  const started = Date.now();
  for (let round = 0; round < ROUNDS; round++) {
    // The servers of one runtime run at once (both pinned to CPU 1, the idle one costs
    // nothing) and the client alternates between them case by case, in an order that flips
    // every round: each ratio compares runs a second apart.
    for (const runtime of RUNTIMES) {
      const group = SERVERS.filter((s) => s.runtime === runtime);
      const sections: [Results, Case[], boolean][] = [];
      if (SECTIONS.includes("servers")) sections.push([plain, PLAIN, false]);
      if (SECTIONS.includes("compress")) sections.push([deflate, JSON_CASES, true]);
      for (const [results, cases, compress] of sections) {
        const specs = group.filter((s) => !compress || s.deflate);
        const running = [];
        for (const s of specs) {
          const srv = await startServer(s.cmd(0, compress));
          if (!compress) labels.set(s.name, srv.label);
          running.push({ name: s.name, ...srv });
        }
        for (const x of cases) {
          const order = round % 2 ? [...running].reverse() : running;
          for (const srv of order) {
            record(results, srv.name, await loadCases([x], srv.port, srv.child.pid));
          }
        }
        for (const srv of running) await stopServer(srv.child);
      }
    }
    if (SECTIONS.includes("clients")) {
      const srv = await startServer(BUN_SERVE.cmd(0, false));
      const url = `ws://127.0.0.1:${srv.port}/`;
      for (const x of CLIENT_CASES) {
        const order = round % 2 ? [...CLIENTS].reverse() : CLIENTS;
        for (const client of order) {
          record(clients, client.name, await runClient([...client.cmd, url, JSON.stringify([x])]));
        }
      }
      await stopServer(srv.child);
    }
    console.error(
      `round ${round + 1}/${ROUNDS} done after ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  }

  await Deno.mkdir(`${bench}.results`, { recursive: true });
  const toObj = (r: Results) =>
    Object.fromEntries([...r].map(([k, v]) => [k, Object.fromEntries(v)]));
  await Deno.writeTextFile(
    `${bench}.results/ws_servers-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
    JSON.stringify(
      {
        labels: Object.fromEntries(labels),
        plain: toObj(plain),
        deflate: toObj(deflate),
        clients: toObj(clients),
      },
      null,
      1,
    ),
  );

  const errs = [plain, deflate, clients].flatMap((r) =>
    [...r].flatMap(([srv, m]) =>
      [...m.values()].flat().filter((s) => s.error).map((s) => `${srv} ${key(s)}: ${s.error}`)
    )
  );
  const out: string[] = [];
  out.push(`Servers: ${[...labels].map(([k, v]) => `${k} = \`${v}\``).join("; ")}.`, "");
  /** A table of `metric` per pair of peers and its side-by-side ratio, then the per-round ratios. */
  const pairTables = (
    results: Results,
    cases: Case[],
    pairs: [string, string][],
    title: string,
    roundsTitle: string,
    metric: ((s: Sample) => number) | undefined,
    fmt: (x: number) => string,
    oursOverTheirs: boolean,
  ) => {
    const over = ([a, b]: [string, string]): [string, string] => oursOverTheirs ? [a, b] : [b, a];
    const head = ["message", "conns"];
    for (const [a, b] of pairs) head.push(a, b, "ratio");
    out.push(title, "");
    out.push(
      table(
        head,
        cases.map((x) => {
          const r = [sizeName(x), `${x.conns}`];
          for (const pair of pairs) {
            const [n, d] = over(pair);
            r.push(
              fmt(med(results, pair[0], x, metric)),
              fmt(med(results, pair[1], x, metric)),
              fmtR(ratio(results, n, d, x, metric)),
            );
          }
          return r;
        }),
      ),
      "",
    );
    out.push(roundsTitle, "");
    out.push(
      table(
        ["message", "conns", ...pairs.map((pair) => over(pair).join(" / "))],
        cases.map((x) => [
          sizeName(x),
          `${x.conns}`,
          ...pairs.map((pair) => rounds(results, ...over(pair), x, metric)),
        ]),
      ),
      "",
    );
  };
  const cpuFmt = (x: number) => Number.isFinite(x) ? x.toFixed(1) : "n/a";
  if (SECTIONS.includes("servers")) {
    const small = PLAIN.filter((x) => x.size < MiB);
    pairTables(
      plain,
      small,
      PAIRS,
      "### Echo, messages/s (median of rounds), ratio ours/theirs (median of per-round ratios)",
      "Per-round ratios (ours/theirs, in run order):",
      undefined,
      fmtN,
      true,
    );
    pairTables(
      plain,
      small,
      PAIRS,
      "### Echo, server CPU time per message (µs, median of rounds); ratio theirs/ours (above 1: ours needs less)",
      "Per-round CPU ratios (theirs/ours, in run order):",
      (s) => s.serverCpuPerMsg ?? NaN,
      cpuFmt,
      false,
    );
    const big = PLAIN.find((x) => x.size >= MiB)!;
    out.push(
      "### 1 MiB binary messages, 1 connection, 4 in flight: echoed payload MB/s (each way)",
      "",
    );
    const mb = (s: Sample) => s.bytesPerSec / 1e6;
    out.push(
      table(
        ["server", "MB/s", "ratio ours/theirs", "per round"],
        SERVERS.map((s) => {
          const pair = PAIRS.find(([a]) => a === s.name);
          return [
            s.name,
            fmtN(med(plain, s.name, big, mb)),
            pair ? fmtR(ratio(plain, pair[0], pair[1], big, mb)) : "",
            pair ? rounds(plain, pair[0], pair[1], big, mb) : "",
          ];
        }),
      ),
      "",
    );
  }
  if (SECTIONS.includes("compress")) {
    out.push(
      "### permessage-deflate on, repetitive JSON (~1.4 KB): messages/s and server-to-client wire bytes / payload bytes",
      "",
    );
    const rows: string[][] = [];
    for (const s of SERVERS.filter((s) => s.deflate)) {
      for (const x of JSON_CASES) {
        const ext = samplesOf(deflate, s.name, x)[0]?.extensions ?? "";
        rows.push([
          s.name,
          `${x.conns}`,
          fmtN(med(deflate, s.name, x)),
          med(deflate, s.name, x, (v) => v.ratioIn ?? NaN).toFixed(4),
          ext || "(none)",
        ]);
      }
    }
    out.push(table(["server", "conns", "msg/s", "wire/payload", "negotiated"], rows), "");
    const r2 = JSON_CASES.map((x) => [
      `${x.conns}`,
      fmtR(ratio(deflate, "ours (Node)", "ws (Node)", x)),
      rounds(deflate, "ours (Node)", "ws (Node)", x),
      fmtR(ratio(deflate, "ours (Bun)", "Bun.serve", x)),
      rounds(deflate, "ours (Bun)", "Bun.serve", x),
    ]);
    out.push(
      table(["conns", "ours (Node) / ws", "per round", "ours (Bun) / Bun.serve", "per round"], r2),
      "",
    );
  }
  if (SECTIONS.includes("clients")) {
    pairTables(
      clients,
      CLIENT_CASES,
      CLIENT_PAIRS,
      "### Clients against one fixed server (Bun.serve, CPU 1), messages/s (median of rounds), ratio ours/theirs",
      "Per-round ratios (ours/theirs, in run order):",
      undefined,
      fmtN,
      true,
    );
    pairTables(
      clients,
      CLIENT_CASES,
      CLIENT_PAIRS,
      "### Clients, client CPU time per message (µs, median of rounds); ratio theirs/ours (above 1: ours needs less)",
      "Per-round CPU ratios (theirs/ours, in run order):",
      (s) => s.clientCpuPerMsg ?? NaN,
      cpuFmt,
      false,
    );
  }
  if (errs.length) out.push("Errors:", ...errs.map((e) => `- ${e}`), "");
  console.log(out.join("\n"));
}

await main();
