/**
 * A focused before/after WebSocket echo benchmark: our server (`bench/servers/ws_ours.ts`)
 * from this tree and from an older copy of it (`BENCH_BASE`, e.g. made with
 * `git archive <commit> | tar -x -C <dir>`), on Deno and on Node, next to the runtimes' own
 * (`Deno.upgradeWebSocket`, ws), all under the fixed load client of `bench/ws_servers.ts`'s
 * uncompressed cases (Bun's native `WebSocket`, `bench/ws_load_bun.ts`), run after run with the
 * order rotating each round, so that the ratios are paired.
 *
 * `BENCH_BASE=/tmp/base deno run -A bench/ws_ab.ts [size] [conns]` (default 1024 bytes, 50
 * connections, 32 messages in flight each). Environment: `BENCH_ROUNDS` (default 8),
 * `BENCH_DURATION` seconds per run (default 1), `BENCH_SERVERS` (comma-separated names,
 * default all: `deno-new`, `deno-base`, `deno_upgrade`, `node-new`, `node-base`, `node_ws`).
 * Servers pinned to the last CPU, the client to CPU 0. Prints messages/s and server CPU
 * (user + system) per message, medians, and the medians of the per-round CPU ratios against
 * the runtime's own server and against the base. Run `deno run -A bench/ws_servers.ts` once
 * first (it installs ws and esbuild under `bench/.deps/ws`).
 *
 * @module
 */

import { envNumber, fmt, freePort, log, median, output, pinning } from "./_measure.ts";
import { spawnServer, waitForListening } from "./_cpu_profile.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BASE = Deno.env.get("BENCH_BASE");
const ROUNDS = envNumber("BENCH_ROUNDS", 8);
const SECONDS = envNumber("BENCH_DURATION", 1);
const ONLY = Deno.env.get("BENCH_SERVERS")?.split(",");
const [size = "1024", conns = "50"] = Deno.args;
const DEPS = `${ROOT}/bench/.deps/ws/node_modules`;
const CASE = {
  conns: Number(conns),
  size: Number(size),
  inflight: 32,
  seconds: SECONDS,
  warmup: 0.3,
  kind: "bin",
};

interface Spec {
  name: string;
  /** The server it is compared with (the runtime's own), if it is ours. */
  baseline?: string;
  cmd: (port: number) => string[];
}

/** Bundles a tree's WebSocket echo server for Node (as `bench/ws_servers.ts` does). */
async function bundle(dir: string, tag: string): Promise<string> {
  const out = `${DEPS}/.bench/ws-ab-${tag}.mjs`;
  const result = await output([
    `${DEPS}/.bin/esbuild`,
    `${dir}/bench/servers/ws_ours.ts`,
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--target=node20",
    "--log-level=error",
    `--alias:@std/http/status=${DEPS}/deno-std/http/status.js`,
    `--outfile=${out}`,
  ]);
  if (result) throw new Error(`esbuild failed for ${dir}: ${result}`);
  return out;
}

const deno = Deno.execPath();
const trees: [string, string][] = [["new", ROOT]];
if (BASE) trees.push(["base", BASE]);
const specs: Spec[] = [];
for (const [tag, dir] of trees) {
  const bundled = await bundle(dir, tag);
  specs.push(
    {
      name: `deno-${tag}`,
      baseline: "deno_upgrade",
      cmd: (p) => [deno, "run", "-A", `${dir}/bench/servers/ws_ours.ts`, String(p)],
    },
    { name: `node-${tag}`, baseline: "node_ws", cmd: (p) => ["node", bundled, String(p)] },
  );
}
specs.push(
  {
    name: "deno_upgrade",
    cmd: (p) => [deno, "run", "-A", `${ROOT}/bench/servers/ws_deno_serve.ts`, String(p)],
  },
  { name: "node_ws", cmd: (p) => ["node", `${ROOT}/bench/servers/ws_node_ws.mjs`, String(p)] },
);
const chosen = specs.filter((s) => !ONLY || ONLY.includes(s.name));

const { cores, pinned } = await pinning();
const serverCpu = String(cores - 1);

interface Running {
  spec: Spec;
  port: number;
  child: Deno.ChildProcess;
}

async function start(spec: Spec): Promise<Running> {
  const port = freePort();
  const child = spawnServer(ROOT, pinned(serverCpu, spec.cmd(port)));
  await waitForListening(child.stdout);
  return { spec, port, child };
}

/** One measured run: messages per second and server CPU microseconds per message. */
async function measure(r: Running): Promise<{ rate: number; cpu: number }> {
  const out = await new Deno.Command("taskset", {
    args: [
      "-c",
      "0",
      `${DEPS}/.bin/bun`,
      `${ROOT}/bench/ws_load_bun.ts`,
      `ws://127.0.0.1:${r.port}/`,
      JSON.stringify([CASE]),
    ],
    stdout: "piped",
    stderr: "inherit",
    env: { WS_SERVER_PID: String(r.child.pid) },
  }).output();
  const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.startsWith("{"));
  const sample = line ? JSON.parse(line) : { error: "no output" };
  if (sample.error || !(sample.serverCpuPerMsg > 0)) {
    throw new Error(`${r.spec.name}: ${sample.error ?? "no CPU time"}`);
  }
  return { rate: sample.msgsPerSec, cpu: sample.serverCpuPerMsg };
}

const running: Running[] = [];
try {
  for (const spec of chosen) running.push(await start(spec));
  for (const r of running) await measure(r); // warm up
  const results = new Map<string, { rate: number; cpu: number }[]>(
    running.map((r) => [r.spec.name, []]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < running.length; k++) {
      const r = running[(round + k) % running.length];
      const m = await measure(r);
      results.get(r.spec.name)!.push(m);
      log(
        `round ${round + 1}/${ROUNDS} ${r.spec.name}: ${fmt(m.rate)} msg/s, ${m.cpu.toFixed(2)} µs`,
      );
    }
  }
  const paired = (a: string, b: string) => {
    const xs = results.get(a)!, ys = results.get(b);
    if (!ys) return "";
    return `x${median(xs.map((x, i) => x.cpu / ys[i].cpu)).toFixed(3)}`;
  };
  console.log(
    `WebSocket echo A/B, ${CASE.size} B x ${CASE.conns} connections, ${ROUNDS} rounds of ` +
      `${SECONDS} s` + (BASE ? `, base ${BASE}` : ""),
  );
  console.log();
  console.log(
    "| server | msg/s | CPU/msg | CPU/msg vs runtime's own (paired) | CPU/msg vs base (paired) |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const r of running) {
    const xs = results.get(r.spec.name)!;
    const name = r.spec.name;
    const base = name.endsWith("-new") ? paired(name, name.replace(/-new$/, "-base")) : "";
    console.log(
      `| ${name} | ${fmt(median(xs.map((x) => x.rate)))} | ${
        median(xs.map((x) => x.cpu)).toFixed(2)
      } µs | ${r.spec.baseline ? paired(name, r.spec.baseline) : ""} | ${base} |`,
    );
  }
} finally {
  for (const r of running) {
    try {
      r.child.kill();
    } catch { /* gone already */ }
  }
}
