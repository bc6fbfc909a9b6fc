/**
 * HTTP/2 server benchmark: one fixed load generator (h2load, Debian `nghttp2-client`) against
 * our server on Deno, `node:http2`, `Deno.serve` and `nghttpd`, each over cleartext prior
 * knowledge and over TLS (ALPN h2), side by side in one run.
 *
 * Every server is started once (pinned to the last CPU with `taskset`, h2load to CPU 0),
 * warmed up, then measured round-robin: each round, each scenario, every server gets one
 * h2load run in turn. Reported: the median req/s and server CPU time per request, and the
 * medians of the per-round ratios ours / node:http2, ours / Deno.serve, ours / nghttpd (same
 * transport).
 *
 * `deno run -A bench/http2_server.ts`. Environment: `BENCH_ROUNDS` (default 3),
 * `BENCH_SCALE` (multiplies every `-n`, default 1), `BENCH_SERVERS` (comma-separated names).
 *
 * @module
 */

import { cpuTime, fmt, freePort, h2loadResult, log, median, output, pinning } from "./_measure.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const FIX = `${ROOT}/tests/fixtures`;
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const SCALE = Number(Deno.env.get("BENCH_SCALE") ?? 1);
const ONLY = Deno.env.get("BENCH_SERVERS")?.split(",");

interface ServerSpec {
  name: string;
  label: string;
  tls: boolean;
  cmd: (port: number) => string[];
}

const WWW = await Deno.makeTempDir({ prefix: "h2bench-www-" });
await Deno.writeTextFile(`${WWW}/hello`, "Hello World!");
await Deno.writeFile(`${WWW}/1m`, new Uint8Array(1 << 20).fill(120));

const deno = Deno.execPath();
const SERVERS: ServerSpec[] = [];
for (const tls of [false, true]) {
  const mode = tls ? "tls" : "clear";
  SERVERS.push(
    {
      name: `ours_${mode}`,
      label: "ours on Deno",
      tls,
      cmd: (p) => [deno, "run", "-A", "bench/servers/ours_h2_deno.ts", String(p), mode],
    },
    {
      name: `oursstream_${mode}`,
      label: "ours on Deno, Stream handler",
      tls,
      cmd: (p) => [deno, "run", "-A", "bench/servers/ours_h2_stream_deno.ts", String(p), mode],
    },
    {
      name: `node_${mode}`,
      label: "node:http2",
      tls,
      cmd: (p) => ["node", "bench/servers/node_h2.mjs", String(p), mode],
    },
    {
      name: `deno_${mode}`,
      label: "Deno.serve",
      tls,
      cmd: (p) => [deno, "run", "-A", "bench/servers/deno_serve_h2.ts", String(p), mode],
    },
    {
      name: `nghttpd_${mode}`,
      label: "nghttpd",
      tls,
      cmd: (p) =>
        tls
          ? [
            "nghttpd",
            "-a",
            "127.0.0.1",
            "-d",
            WWW,
            String(p),
            `${FIX}/key.pem`,
            `${FIX}/cert.pem`,
          ]
          : ["nghttpd", "-a", "127.0.0.1", "-d", WWW, "--no-tls", String(p)],
    },
  );
}

interface Scenario {
  name: string;
  path: string;
  args: string[];
}
const SCENARIOS: Scenario[] = [
  { name: "12 B", path: "/hello", args: ["-n", String(20000 * SCALE), "-c", "4", "-m", "32"] },
  { name: "1 MiB", path: "/1m", args: ["-n", String(200 * SCALE), "-c", "2", "-m", "4"] },
];

const { cores, pin, pinned } = await pinning();
const SERVER_CPU = String(cores - 1);
const GEN_CPU = "0";

interface Running {
  spec: ServerSpec;
  port: number;
  child: Deno.ChildProcess;
}

async function start(spec: ServerSpec): Promise<Running> {
  const port = freePort();
  const cmd = pinned(SERVER_CPU, spec.cmd(port));
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  // Wait until h2load gets an answer.
  for (let i = 0; i < 100; i++) {
    const out = await output(["h2load", "-n", "1", url(spec, port, "/hello")]);
    if (/1 succeeded/.test(out)) return { spec, port, child };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new Error(`${spec.name} did not answer`);
}

function url(spec: ServerSpec, port: number, path: string) {
  return `${spec.tls ? "https" : "http"}://127.0.0.1:${port}${path}`;
}

interface H2Result {
  rps: number;
  cpuPerRequest: number;
  errors: string;
}

async function h2load(r: Running, s: Scenario): Promise<H2Result> {
  const cpu0 = await cpuTime(r.child.pid);
  const out = await output(pinned(GEN_CPU, ["h2load", ...s.args, url(r.spec, r.port, s.path)]));
  const cpu1 = await cpuTime(r.child.pid);
  const { rps, done, errors } = h2loadResult(out);
  return { rps, cpuPerRequest: (cpu1 - cpu0) / done, errors };
}

const started = new Date();
const commit = await output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]);
const specs = SERVERS.filter((s) => !ONLY || ONLY.includes(s.name));
const running: Running[] = [];
try {
  for (const spec of specs) running.push(await start(spec));
  log(`started ${running.map((r) => r.spec.name).join(", ")}; pinning ${pin}`);
  for (const r of running) for (const s of SCENARIOS) await h2load(r, s);
  log("warmed up");
  const samples = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const errors: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of SCENARIOS) {
      const order = round % 2 ? running : [...running].reverse();
      for (const r of order) {
        const key = `${r.spec.name} ${s.name}`;
        const res = await h2load(r, s);
        samples.set(key, [...(samples.get(key) ?? []), res.rps]);
        cpu.set(key, [...(cpu.get(key) ?? []), res.cpuPerRequest]);
        if (res.errors) errors.push(`round ${round} ${key}: ${res.errors}`);
        log(
          `round ${round} ${key}: ${fmt(res.rps)} req/s, ${
            res.cpuPerRequest.toFixed(1)
          } µs CPU/req ${res.errors}`,
        );
      }
    }
  }
  const ratio = (a: string, b: string) => {
    const as = samples.get(a), bs = samples.get(b);
    if (!as || !bs) return "n/a";
    const r = median(as.map((x, i) => x / bs[i]));
    return Number.isFinite(r) ? `${r.toFixed(2)}x` : "n/a";
  };
  const rows = [
    "| transport | response | ours | ours (Stream) | node:http2 | Deno.serve | nghttpd | ours / node:http2 | ours (Stream) / node:http2 | ours / Deno.serve | ours / nghttpd |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const cpuRows = [
    "| transport | response | ours | ours (Stream) | node:http2 | Deno.serve | nghttpd |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const mode of ["clear", "tls"]) {
    for (const s of SCENARIOS) {
      const k = (n: string) => `${n}_${mode} ${s.name}`;
      const t = mode === "tls" ? "TLS (ALPN h2)" : "cleartext (prior knowledge)";
      rows.push(
        `| ${t} | ${s.name} | ${
          ["ours", "oursstream", "node", "deno", "nghttpd"].map((n) =>
            fmt(median(samples.get(k(n)) ?? []))
          ).join(" | ")
        } | ${ratio(k("ours"), k("node"))} | ${ratio(k("oursstream"), k("node"))} | ${
          ratio(k("ours"), k("deno"))
        } | ${ratio(k("ours"), k("nghttpd"))} |`,
      );
      cpuRows.push(
        `| ${t} | ${s.name} | ${
          ["ours", "oursstream", "node", "deno", "nghttpd"].map((n) =>
            `${median(cpu.get(k(n)) ?? []).toFixed(1)} µs`
          ).join(" | ")
        } |`,
      );
    }
  }
  const h2v = (await output(["h2load", "--version"])).split("\n")[0];
  const nodeV = await output(["node", "--version"]);
  const text = [
    `HTTP/2 server, ${started.toISOString().slice(0, 16).replace("T", " ")} UTC, commit ${commit}`,
    "",
    "req/s (median of rounds; ratios are medians of per-round ratios):",
    "",
    ...rows,
    "",
    "Server CPU time (user + system, /proc) per request, median:",
    "",
    ...cpuRows,
    "",
    `Scenarios: ${
      SCENARIOS.map((s) => `${s.name}: \`h2load ${s.args.join(" ")} <url>${s.path}\``).join("; ")
    }. ` +
    `${ROUNDS} rounds after one warm-up run of each; ` +
    (pin
      ? `servers pinned to CPU ${SERVER_CPU}, h2load to CPU ${GEN_CPU} (taskset); `
      : "no pinning; ") +
    `${cores} cores. ${h2v}; Deno ${Deno.version.deno}; Node ${nodeV}.`,
    ...(errors.length
      ? ["", "h2load errors (those runs counted as n/a):", ...errors.map((e) => `- ${e}`)]
      : []),
  ].join("\n") + "\n";
  console.log(text);
  await Deno.mkdir(`${ROOT}/bench/.results`, { recursive: true });
  const file = `${ROOT}/bench/.results/http2_server-${started.toISOString().replace(/[:.]/g, "-")}`;
  await Deno.writeTextFile(`${file}.md`, text);
  await Deno.writeTextFile(
    `${file}.json`,
    JSON.stringify(
      { samples: Object.fromEntries(samples), cpu: Object.fromEntries(cpu), errors },
      null,
      2,
    ),
  );
} finally {
  for (const r of running) {
    try {
      r.child.kill("SIGTERM");
    } catch { /* gone */ }
  }
  await Promise.allSettled(running.map((r) => r.child.status));
  await Deno.remove(WWW, { recursive: true });
}
