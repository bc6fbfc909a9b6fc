/**
 * Where our WebSocket echo server's time goes: runs bench/servers/ws_ours.ts under
 * `--inspect` (Deno, or the Node bundle that bench/ws_servers.ts builds), takes a V8 sampling
 * CPU profile over the inspector protocol while bench/ws_load_bun.ts loads it, and prints the
 * functions with the most self time, the most inclusive time, and self time per file.
 * (The inspector part is bench/profile_http1_server.ts's.)
 *
 * `deno run -A bench/ws_profile.ts [deno|node] [size] [conns] [seconds]`
 * (defaults: deno, 65536, 50, 5). The raw `.cpuprofile` goes to `bench/.results/`.
 *
 * @module
 */

import { pinning, report, sampleProfile, spawnServer, waitForListening } from "./_cpu_profile.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const [runtime = "deno", sizeArg = "65536", connsArg = "50", secondsArg = "5"] = Deno.args;
const SECONDS = Number(secondsArg);
const SIZE = Number(sizeArg);
const CONNS = Number(connsArg);
const route = `ws-${SIZE}B-${CONNS}c`;
const INSPECT_PORT = 9341;
const SERVER_PORT = 18092;

const { cores, pinned } = await pinning();

const serverCmd = runtime === "node"
  ? [
    "node",
    `--inspect=127.0.0.1:${INSPECT_PORT}`,
    "bench/.deps/ws/node_modules/.bench/ws_ours.mjs",
  ]
  : [
    Deno.execPath(),
    "run",
    "-A",
    `--inspect=127.0.0.1:${INSPECT_PORT}`,
    "bench/servers/ws_ours.ts",
  ];
const child = spawnServer(ROOT, pinned(String(cores - 1), [...serverCmd, String(SERVER_PORT)]));

async function wrk(seconds: number): Promise<string> {
  const c = pinned("0", [
    "bench/.deps/ws/node_modules/.bin/bun",
    "bench/ws_load_bun.ts",
    `ws://127.0.0.1:${SERVER_PORT}/`,
    JSON.stringify([{
      conns: CONNS,
      size: SIZE,
      inflight: SIZE >= 65536 ? 8 : 32,
      seconds,
      warmup: 0.2,
      kind: "bin",
    }]),
  ]);
  const out = await new Deno.Command(c[0], { args: c.slice(1), cwd: ROOT }).output();
  return new TextDecoder().decode(out.stdout);
}

try {
  await waitForListening(child.stdout);
  const { profile, result: wrkOut } = await sampleProfile(
    INSPECT_PORT,
    () => wrk(2), // warm up before sampling
    () => wrk(SECONDS),
  );

  const rps = Math.round(JSON.parse(wrkOut).msgsPerSec);
  await report(
    ROOT,
    `${runtime}-${route.replace(/\W/g, "") || "root"}`,
    profile,
    `Profile of our WebSocket server on ${runtime}, ${CONNS} connections echoing ${SIZE}-byte ` +
      `messages for ${SECONDS} s: ${rps} msg/s`,
  );
} finally {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  await child.status;
}
