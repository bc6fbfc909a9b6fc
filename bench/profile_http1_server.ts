/**
 * Where our HTTP/1.1 server's time goes: runs it under `--inspect`, takes a V8 sampling CPU
 * profile over the inspector protocol while wrk loads it, and prints the functions with the
 * most self time, the most inclusive time, and self time per source file.
 *
 * `deno run -A bench/profile_http1_server.ts [deno|node] [route] [seconds] [serve|stream]`
 * (defaults: deno, `/`, 10, serve; `stream` profiles the `listen` server with a `Stream`
 * handler, `bench/servers/ours_stream_node.ts`). `node` profiles the esbuild bundle (run `bench/setup.sh` first),
 * whose functions still carry their names; its files then show as the bundle. The raw
 * profile is saved under `bench/.results/` as a `.cpuprofile` (open it in Chrome DevTools).
 *
 * @module
 */

import {
  pinning,
  report,
  sampleProfile,
  spawnServer,
  stdoutOf,
  waitForListening,
} from "./_cpu_profile.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const [runtime = "deno", route = "/", secondsArg = "10", api = "serve"] = Deno.args;
const name = api === "stream" ? "ours_stream_node" : runtime === "node" ? "ours_node" : "ours_deno";
const SECONDS = Number(secondsArg);
const INSPECT_PORT = 9339;
const SERVER_PORT = 18090;

const { cores, pinned } = await pinning();

const serverCmd = runtime === "node"
  ? [
    "node",
    `--inspect=127.0.0.1:${INSPECT_PORT}`,
    `bench/.deps/node_modules/.bench/${name}.mjs`,
  ]
  : [
    Deno.execPath(),
    "run",
    "-A",
    `--inspect=127.0.0.1:${INSPECT_PORT}`,
    `bench/servers/${name}.ts`,
  ];
const child = spawnServer(ROOT, pinned(String(cores - 1), [...serverCmd, String(SERVER_PORT)]));

async function wrk(seconds: number): Promise<string> {
  const c = pinned("0", [
    "wrk",
    "-t1",
    "-c50",
    `-d${seconds}s`,
    `http://127.0.0.1:${SERVER_PORT}${route}`,
  ]);
  return await stdoutOf(c);
}

try {
  await waitForListening(child.stdout);
  const { profile, result: wrkOut } = await sampleProfile(
    INSPECT_PORT,
    () => wrk(3), // warm up before sampling
    () => wrk(SECONDS),
  );

  const rps = wrkOut.match(/Requests\/sec:\s+([\d.]+)/)?.[1];
  await report(
    ROOT,
    `${runtime}-${api}-${route.replace(/\W/g, "") || "root"}`,
    profile,
    `Profile of ours (${api}) on ${runtime}, \`wrk -t1 -c50 -d${SECONDS}s\` on \`${route}\`: ${rps} req/s`,
  );
} finally {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  await child.status;
}
