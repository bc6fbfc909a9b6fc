/**
 * A focused before/after HTTP/2 server benchmark: our servers from this tree and from an
 * older copy of it (`BENCH_BASE`, e.g. made with `git archive <commit> | tar -x -C <dir>`),
 * next to node:http2, all under one fixed h2load, alternating run by run in one process so
 * that the ratios are paired.
 *
 * `BENCH_BASE=/tmp/base deno run -A bench/http2_ab.ts [path] [h2load args...]`; defaults:
 * `/1m`, `-n 400 -c 2 -m 4`. Environment: `BENCH_ROUNDS` (default 5), `BENCH_MODES`
 * (`clear,tls`), `BENCH_SERVERS` (comma-separated names, default all). Servers pinned to the
 * last CPU, h2load to CPU 0. Prints req/s and server CPU (user + system) per request, medians,
 * and the medians of the per-round ratios against node:http2 and against the base.
 *
 * @module
 */

import { cpuTime, fmt, freePort, h2loadResult, log, median, output, pinning } from "./_measure.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BASE = Deno.env.get("BENCH_BASE");
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const MODES = (Deno.env.get("BENCH_MODES") ?? "clear,tls").split(",");
const ONLY = Deno.env.get("BENCH_SERVERS")?.split(",");
const [path = "/1m", ...rest] = Deno.args;
const ARGS = rest.length > 0 ? rest : ["-n", "400", "-c", "2", "-m", "4"];

interface Spec {
  name: string;
  mode: string;
  cwd: string;
  cmd: (port: number) => string[];
}

const deno = Deno.execPath();
const specs: Spec[] = [];
for (const mode of MODES) {
  const trees: [string, string][] = [["new", ROOT]];
  if (BASE) trees.push(["base", BASE]);
  for (const [tree, dir] of trees) {
    specs.push(
      {
        name: `stream-${tree}`,
        mode,
        cwd: dir,
        cmd: (p) => [deno, "run", "-A", "bench/servers/ours_h2_stream_deno.ts", String(p), mode],
      },
      {
        name: `response-${tree}`,
        mode,
        cwd: dir,
        cmd: (p) => [deno, "run", "-A", "bench/servers/ours_h2_deno.ts", String(p), mode],
      },
    );
  }
  specs.push({
    name: "node",
    mode,
    cwd: ROOT,
    cmd: (p) => ["node", "bench/servers/node_h2.mjs", String(p), mode],
  });
}

const { cores, pinned } = await pinning();

interface Running {
  spec: Spec;
  port: number;
  child: Deno.ChildProcess;
}

const url = (r: Running, p: string) =>
  `${r.spec.mode === "tls" ? "https" : "http"}://127.0.0.1:${r.port}${p}`;

async function start(spec: Spec): Promise<Running> {
  const port = freePort();
  const cmd = pinned(String(cores - 1), spec.cmd(port));
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: spec.cwd,
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const r = { spec, port, child };
  for (let i = 0; i < 100; i++) {
    if (/1 succeeded/.test(await output(["h2load", "-n", "1", url(r, "/hello")]))) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
  child.kill();
  throw new Error(`${spec.name} ${spec.mode} did not answer`);
}

async function run(r: Running): Promise<{ rps: number; cpu: number; err: string }> {
  const c0 = await cpuTime(r.child.pid);
  const out = await output(pinned("0", ["h2load", ...ARGS, url(r, path)]));
  const c1 = await cpuTime(r.child.pid);
  const { rps, done, errors } = h2loadResult(out);
  return { rps, cpu: (c1 - c0) / done, err: errors };
}

const chosen = specs.filter((s) => !ONLY || ONLY.includes(s.name));
const running: Running[] = [];
const commit = await output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]);
const load0 = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
try {
  for (const s of chosen) running.push(await start(s));
  for (const r of running) await run(r); // warm-up
  log(`started and warmed up ${running.length} servers`);
  const rps = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const errors: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? running : [...running].reverse();
    for (const r of order) {
      const key = `${r.spec.mode} ${r.spec.name}`;
      const res = await run(r);
      rps.set(key, [...(rps.get(key) ?? []), res.rps]);
      cpu.set(key, [...(cpu.get(key) ?? []), res.cpu]);
      if (res.err) errors.push(`round ${round} ${key}: ${res.err}`);
      log(
        `round ${round} ${key}: ${fmt(res.rps)} req/s, ${res.cpu.toFixed(0)} µs CPU/req ${res.err}`,
      );
    }
  }
  const ratio = (a: string, b: string) => {
    const as = rps.get(a), bs = rps.get(b);
    if (!as || !bs) return "n/a";
    const x = median(as.map((v, i) => v / bs[i]));
    return Number.isFinite(x) ? `${x.toFixed(2)}x` : "n/a";
  };
  const load1 = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  const lines = [
    `HTTP/2 A/B, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, commit ${commit}` +
    (BASE ? `, base ${BASE}` : ""),
    "",
    `\`h2load ${
      ARGS.join(" ")
    } <url>${path}\`, ${ROUNDS} rounds after a warm-up; load average ${load0} before, ${load1} after.`,
    "",
    "| transport | server | req/s | CPU/req | / node:http2 | / base |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of running) {
    const key = `${r.spec.mode} ${r.spec.name}`;
    const base = r.spec.name.endsWith("-new") ? key.replace(/-new$/, "-base") : "";
    lines.push(
      `| ${r.spec.mode} | ${r.spec.name} | ${fmt(median(rps.get(key)!))} | ${
        median(cpu.get(key)!).toFixed(0)
      } µs | ${r.spec.name === "node" ? "" : ratio(key, `${r.spec.mode} node`)} | ${
        base && rps.has(base) ? ratio(key, base) : ""
      } |`,
    );
  }
  if (errors.length) lines.push("", "h2load errors:", ...errors.map((e) => `- ${e}`));
  console.log(lines.join("\n"));
} finally {
  for (const r of running) {
    try {
      r.child.kill("SIGTERM");
    } catch { /* gone */ }
  }
  await Promise.allSettled(running.map((r) => r.child.status));
}
