/**
 * Where our WebSocket echo server's time goes: runs bench/servers/ws_ours.ts under
 * `--inspect` (Deno, or the Node bundle that bench/ws_servers.ts builds), takes a V8 sampling
 * CPU profile over the inspector protocol while bench/ws_load.mjs loads it, and prints the
 * functions with the most self time, the most inclusive time, and self time per file.
 * (The inspector part is bench/profile_http1_server.ts's.)
 *
 * `deno run -A bench/ws_profile.ts [deno|node] [size] [conns] [seconds]`
 * (defaults: deno, 65536, 50, 5). The raw `.cpuprofile` goes to `bench/.results/`.
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const [runtime = "deno", sizeArg = "65536", connsArg = "50", secondsArg = "5"] = Deno.args;
const SECONDS = Number(secondsArg);
const SIZE = Number(sizeArg);
const CONNS = Number(connsArg);
const route = `ws-${SIZE}B-${CONNS}c`;
const INSPECT_PORT = 9341;
const SERVER_PORT = 18092;

const cores = navigator.hardwareConcurrency;
const pin = cores >= 2 &&
  (await new Deno.Command("taskset", { args: ["-V"] }).output().then(
    (o) => o.success,
    () => false,
  ));
const pinned = (cpu: string, cmd: string[]) => (pin ? ["taskset", "-c", cpu, ...cmd] : cmd);

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
const cmd = pinned(String(cores - 1), [...serverCmd, String(SERVER_PORT)]);
const child = new Deno.Command(cmd[0], {
  args: cmd.slice(1),
  cwd: ROOT,
  stdout: "piped",
  stderr: "null",
}).spawn();

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

async function wrk(seconds: number): Promise<string> {
  const c = pinned("0", [
    "node",
    "bench/ws_load.mjs",
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
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening \d+/.test(text)) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`server exited: ${text}`);
    text += value;
  }
  (async () => {
    while (!(await lines.read()).done);
  })().catch(() => {});

  const targets = await (await fetch(`http://127.0.0.1:${INSPECT_PORT}/json/list`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)!(msg.result ?? msg.error);
      pending.delete(msg.id);
    }
  };
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });

  await send("Runtime.runIfWaitingForDebugger");
  await wrk(2); // warm up before sampling
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 200 });
  await send("Profiler.start");
  const wrkOut = await wrk(SECONDS);
  const { profile } = (await send("Profiler.stop")) as { profile: Profile };
  ws.close();

  await Deno.mkdir(`${ROOT}/bench/.results`, { recursive: true });
  const file = `${ROOT}/bench/.results/profile-${runtime}-${route.replace(/\W/g, "") || "root"}-${
    new Date().toISOString().replace(/[:.]/g, "-")
  }.cpuprofile`;
  await Deno.writeTextFile(file, JSON.stringify(profile));

  // Self time per node from the samples.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfTime = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const short = (url: string) =>
    url.replace(`file://${ROOT}/`, "").replace(/^ext:/, "ext:").replace(/^node:/, "node:");
  const key = (f: CallFrame) =>
    `${f.functionName || "(anonymous)"} ${f.url ? `${short(f.url)}:${f.lineNumber + 1}` : ""}`
      .trim();
  const total = [...selfTime.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfTime].filter(([id]) => byId.get(id)!.callFrame.functionName === "(idle)")
    .reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const perFile = new Map<string, number>();
  for (const [id, t] of selfTime) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === "(idle)") continue;
    self.set(key(f), (self.get(key(f)) ?? 0) + t);
    const fileKey = f.url ? short(f.url) : f.functionName;
    perFile.set(fileKey, (perFile.get(fileKey) ?? 0) + t);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const k = key(byId.get(n)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + t);
    }
  }
  const top = (m: Map<string, number>, count: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, count).map(([k, t]) =>
      `| ${(100 * t / busy).toFixed(1)}% | ${(t / 1000).toFixed(0)} ms | \`${k}\` |`
    );
  const rps = Math.round(JSON.parse(wrkOut).msgsPerSec);
  console.log(
    [
      `Profile of our WebSocket server on ${runtime}, ${CONNS} connections echoing ${SIZE}-byte ` +
      `messages for ${SECONDS} s: ${rps} msg/s ` +
      `under the inspector; ${(busy / 1000).toFixed(0)} ms busy of ${
        (total / 1000).toFixed(0)
      } ms ` +
      `sampled (${(100 * busy / total).toFixed(0)}%). Shares are of busy time.`,
      "",
      "Top self time:",
      "",
      "| share | self | function |",
      "| ---: | ---: | --- |",
      ...top(self, 25),
      "",
      "Self time per file:",
      "",
      "| share | self | file |",
      "| ---: | ---: | --- |",
      ...top(perFile, 15),
      "",
      "Top inclusive time:",
      "",
      "| share | total | function |",
      "| ---: | ---: | --- |",
      ...top(inclusive, 30),
      "",
      `Profile saved to ${file.replace(ROOT + "/", "")}`,
    ].join("\n"),
  );
} finally {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  await child.status;
}
