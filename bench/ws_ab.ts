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

import { envNumber } from "./_measure.ts";
import { bundleForNode, type PairedServer, runPaired } from "./_paired.ts";

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
};

const deno = Deno.execPath();
const trees: [string, string][] = [["new", ROOT]];
if (BASE) trees.push(["base", BASE]);
const specs: PairedServer[] = [];
for (const [tag, dir] of trees) {
  const bundled = await bundleForNode(
    DEPS,
    `${dir}/bench/servers/ws_ours.ts`,
    `${DEPS}/.bench/ws-ab-${tag}.mjs`,
  );
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

await runPaired({
  root: ROOT,
  servers: specs.filter((s) => !ONLY || ONLY.includes(s.name)),
  rounds: ROUNDS,
  /** One measured run: messages per second and server CPU microseconds per message. */
  measure: async (port, pid) => {
    const out = await new Deno.Command("taskset", {
      args: [
        "-c",
        "0",
        `${DEPS}/.bin/bun`,
        `${ROOT}/bench/ws_load_bun.ts`,
        `ws://127.0.0.1:${port}/`,
        JSON.stringify([CASE]),
      ],
      stdout: "piped",
      stderr: "inherit",
      env: { WS_SERVER_PID: String(pid) },
    }).output();
    const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.startsWith("{"));
    const sample = line ? JSON.parse(line) : { error: "no output" };
    if (sample.error || !(sample.serverCpuPerMsg > 0)) {
      throw new Error(`port ${port}: ${sample.error ?? "no CPU time"}`);
    }
    return { rate: sample.msgsPerSec, cpu: sample.serverCpuPerMsg };
  },
  title: `WebSocket echo A/B, ${CASE.size} B x ${CASE.conns} connections, ${ROUNDS} rounds of ` +
    `${SECONDS} s` + (BASE ? `, base ${BASE}` : ""),
  unit: "msg",
  digits: 2,
});
