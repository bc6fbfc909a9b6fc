/**
 * A focused before/after HTTP/1.1 server benchmark: our servers from this tree and from an
 * older copy of it (`BENCH_BASE`, e.g. made with `git archive <commit> | tar -x -C <dir>`),
 * next to the runtimes' own (`node:http`, `Deno.serve`), all under one fixed wrk, run after
 * run in one process with the order rotating each round, so that the ratios are paired.
 *
 * `BENCH_BASE=/tmp/base deno run -A bench/http1_ab.ts [route]` (default `/`). Environment:
 * `BENCH_ROUNDS` (default 8), `BENCH_DURATION` seconds per wrk run (default 2),
 * `BENCH_SERVERS` (comma-separated names, default all: `stream-node-new`, `stream-node-base`,
 * `node_http`, `serve-deno-new`, `serve-deno-base`, `deno_serve`; `floor-node` and
 * `floor-conn-node` and `floor-web-node`, the floors of `bench/servers/h1_floor_node.ts`,
 * `floor-web-deno` and `floor-bare-deno`, those of `bench/servers/h1_floor_deno.ts`, and
 * `serve-node-new` and `serve-node-base`, `serve` on Node, only when named).
 * Servers pinned to the last CPU, wrk (`-t1 -c50`) to CPU 0. Prints req/s and server CPU
 * (user + system) per request, medians, and the medians of the per-round CPU ratios against
 * the runtime's own server and against the base. Run `bench/setup.sh` first (wrk, esbuild).
 *
 * @module
 */

import { cpuTime, envNumber, output, pinning } from "./_measure.ts";
import { bundleForNode, type PairedServer, runPaired } from "./_paired.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BASE = Deno.env.get("BENCH_BASE");
const ROUNDS = envNumber("BENCH_ROUNDS", 8);
const SECONDS = envNumber("BENCH_DURATION", 2);
const ONLY = Deno.env.get("BENCH_SERVERS")?.split(",");
const [route = "/"] = Deno.args;
const DEPS = `${ROOT}/bench/.deps/node_modules`;

/** Bundles a server of a tree for Node and names the bundle. */
function bundle(dir: string, tag: string, server = "ours_stream_node"): Promise<string> {
  return bundleForNode(DEPS, `${dir}/bench/servers/${server}.ts`, `${DEPS}/.bench/ab-${tag}.mjs`);
}

const deno = Deno.execPath();
const trees: [string, string][] = [["new", ROOT]];
if (BASE) trees.push(["base", BASE]);
const specs: PairedServer[] = [];
for (const [tag, dir] of trees) {
  const bundled = await bundle(dir, tag);
  specs.push(
    { name: `stream-node-${tag}`, baseline: "node_http", cmd: (p) => ["node", bundled, String(p)] },
    {
      name: `serve-deno-${tag}`,
      baseline: "deno_serve",
      cmd: (p) => [deno, "run", "-A", `${dir}/bench/servers/ours_deno.ts`, String(p)],
    },
  );
  if (ONLY?.includes(`serve-node-${tag}`)) {
    // Not run unless named: `serve` (a Request => Response handler) on Node.
    const serve = await bundle(dir, `serve-${tag}`, "ours_node");
    specs.push({
      name: `serve-node-${tag}`,
      baseline: "node_http",
      cmd: (p) => ["node", serve, String(p)],
    });
  }
}
if (ONLY?.some((name) => name.startsWith("floor-") && name.endsWith("-node"))) {
  // Not run unless named: bench/servers/h1_floor_node.ts, what a callback-driven server could
  // reach, and the same reading through our Conn with await.
  const floor = await bundle(ROOT, "floor", "h1_floor_node");
  specs.push(
    { name: "floor-node", baseline: "node_http", cmd: (p) => ["node", floor, String(p)] },
    {
      name: "floor-conn-node",
      baseline: "node_http",
      cmd: (p) => ["node", floor, String(p), "conn"],
    },
    {
      name: "floor-web-node",
      baseline: "node_http",
      cmd: (p) => ["node", floor, String(p), "web"],
    },
  );
}
if (ONLY?.some((name) => name.startsWith("floor-") && name.endsWith("-deno"))) {
  // Not run unless named: bench/servers/h1_floor_deno.ts, the least a Request => Response
  // server does on Deno (`web`), and the same without the Web objects (`bare`).
  const floor = `${ROOT}/bench/servers/h1_floor_deno.ts`;
  for (const mode of ["web", "bare"]) {
    specs.push({
      name: `floor-${mode}-deno`,
      baseline: "deno_serve",
      cmd: (p) => [deno, "run", "-A", floor, String(p), mode],
    });
  }
}
specs.push(
  { name: "node_http", cmd: (p) => ["node", `${ROOT}/bench/servers/node_http.mjs`, String(p)] },
  {
    name: "deno_serve",
    cmd: (p) => [deno, "run", "-A", `${ROOT}/bench/servers/deno_serve.ts`, String(p)],
  },
);

const { pinned } = await pinning();

async function wrk(port: number, seconds: number): Promise<number> {
  const out = await output(
    pinned("0", ["wrk", "-t1", "-c50", `-d${seconds}s`, `http://127.0.0.1:${port}${route}`]),
  );
  const m = out.match(/(\d+) requests in/);
  if (!m || /Non-2xx|Socket errors/.test(out)) throw new Error(`wrk: ${out}`);
  return Number(m[1]);
}

await runPaired({
  root: ROOT,
  servers: specs.filter((s) => !ONLY || ONLY.includes(s.name)),
  rounds: ROUNDS,
  /** One measured run: requests per second and server CPU microseconds per request. */
  measure: async (port, pid) => {
    await wrk(port, 1); // rewarm after the other servers' turns
    const c0 = await cpuTime(pid);
    const t0 = performance.now();
    const done = await wrk(port, SECONDS);
    const seconds = (performance.now() - t0) / 1000;
    const c1 = await cpuTime(pid);
    return { rate: done / seconds, cpu: (c1 - c0) / done };
  },
  title: `HTTP/1.1 A/B on \`${route}\`, ${ROUNDS} rounds of \`wrk -t1 -c50 -d${SECONDS}s\`` +
    (BASE ? `, base ${BASE}` : ""),
  unit: "req",
  digits: 1,
});
