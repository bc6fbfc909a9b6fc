/**
 * Where our HTTP/2 server's time goes: runs bench/servers/ours_h2_deno.ts under `--inspect`,
 * takes a V8 sampling CPU profile over the inspector protocol while h2load loads it, and
 * prints the functions with the most self time, the most inclusive time, and self time per
 * source file (the same method as profile_http1_server.ts).
 *
 * `deno run -A bench/http2_profile.ts [clear|tls] [path] [seconds] [server]` (defaults: clear,
 * `/hello`, 10, `ours_h2_deno.ts`; `stream` profiles `ours_h2_stream_deno.ts`, the `listen`
 * Stream-handler server). h2load: `-c 4 -m 32` for `/hello`, `-c 2 -m 4` otherwise. The raw
 * profile is saved under `bench/.results/` as a `.cpuprofile`.
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
const [mode = "clear", route = "/hello", secondsArg = "10", server = ""] = Deno.args;
const stream = server === "stream";
const runtime = `h2-${stream ? "stream-" : ""}${mode}`;
const SECONDS = Number(secondsArg);
const INSPECT_PORT = 9341;
const SERVER_PORT = 18091;

const { cores, pinned } = await pinning();

const serverCmd = [
  Deno.execPath(),
  "run",
  "-A",
  `--inspect=127.0.0.1:${INSPECT_PORT}`,
  stream ? "bench/servers/ours_h2_stream_deno.ts" : "bench/servers/ours_h2_deno.ts",
];
const child = spawnServer(
  ROOT,
  pinned(String(cores - 1), [...serverCmd, String(SERVER_PORT), mode]),
);

async function wrk(seconds: number): Promise<string> {
  const load = route === "/hello" ? ["-c", "4", "-m", "32"] : ["-c", "2", "-m", "4"];
  const c = pinned("0", [
    "h2load",
    ...load,
    "-D",
    String(seconds),
    `${mode === "tls" ? "https" : "http"}://127.0.0.1:${SERVER_PORT}${route}`,
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

  const rps = wrkOut.match(/finished in [\d.]+m?s, ([\d.]+) req\/s/)?.[1];
  await report(
    ROOT,
    `${runtime}-${route.replace(/\W/g, "") || "root"}`,
    profile,
    `Profile of our HTTP/2 server on Deno (${mode}${
      stream ? ", Stream handler" : ""
    }), h2load for ${SECONDS} s on \`${route}\`: ${rps} req/s`,
  );
} finally {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  await child.status;
}
