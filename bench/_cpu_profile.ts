/**
 * What the profiling scripts share: wait for a server to say it listens, sample it with the
 * V8 inspector while a load runs, and sum the samples into self, inclusive and per-file time.
 *
 * @module
 */

/** A V8 call frame. */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** A node of a V8 CPU profile. */
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** A V8 CPU profile (`Profiler.stop`'s result). */
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Reads a server's stdout until it prints `listening <port>`, then drains the rest. */
export async function waitForListening(stdout: ReadableStream<Uint8Array>): Promise<void> {
  const lines = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening \d+/.test(text)) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`server exited: ${text}`);
    text += value;
  }
  (async () => {
    while (!(await lines.read()).done);
  })().catch(() => {});
}

/**
 * Connects to the inspector on `inspectPort`, runs `warmUp`, then samples a CPU profile
 * (every 200 µs) while `load` runs.
 */
export async function sampleProfile<T>(
  inspectPort: number,
  warmUp: () => Promise<unknown>,
  load: () => Promise<T>,
): Promise<{ profile: Profile; result: T }> {
  const targets = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
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
  try {
    await send("Runtime.runIfWaitingForDebugger");
    await warmUp();
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: 200 });
    await send("Profiler.start");
    const result = await load();
    const { profile } = (await send("Profiler.stop")) as { profile: Profile };
    return { profile, result };
  } finally {
    ws.close();
  }
}

/** Where a profile's busy time went. */
export interface ProfileSummary {
  /** Sampled time, idle included, in microseconds. */
  total: number;
  /** Sampled time without `(idle)`, in microseconds. */
  busy: number;
  /** Self time per function. */
  self: Map<string, number>;
  /** Inclusive time per function (each function counted once per sample). */
  inclusive: Map<string, number>;
  /** Self time per source file. */
  perFile: Map<string, number>;
  /** The `count` largest entries of a map as markdown table rows (share of busy, ms, name). */
  top(m: Map<string, number>, count: number): string[];
}

/** Sums a profile's samples; file URLs are shown relative to `root`. */
export function summarize(profile: Profile, root: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfTime = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const short = (url: string) => url.replace(`file://${root}/`, "");
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
  return { total, busy, self, inclusive, perFile, top };
}

export { type Pinning, pinning } from "./_measure.ts";

/** Starts a server command in `root` with its stdout piped (for {@linkcode waitForListening}). */
export function spawnServer(root: string, cmd: string[]): Deno.ChildProcess {
  return new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: root,
    stdout: "piped",
    stderr: "null",
  }).spawn();
}

/** Runs a command and returns what it printed on stdout. */
export async function stdoutOf(cmd: string[]): Promise<string> {
  const out = await new Deno.Command(cmd[0], { args: cmd.slice(1) }).output();
  return new TextDecoder().decode(out.stdout);
}

/**
 * Saves `profile` under `bench/.results/profile-<name>-<time>.cpuprofile` and prints where
 * its busy time went: `headline` (what ran and how fast), then the top self-time functions,
 * self time per file, and the top inclusive-time functions, as markdown tables.
 */
export async function report(
  root: string,
  name: string,
  profile: Profile,
  headline: string,
): Promise<void> {
  await Deno.mkdir(`${root}/bench/.results`, { recursive: true });
  const file = `${root}/bench/.results/profile-${name}-${
    new Date().toISOString().replace(/[:.]/g, "-")
  }.cpuprofile`;
  await Deno.writeTextFile(file, JSON.stringify(profile));
  const { total, busy, self, inclusive, perFile, top } = summarize(profile, root);
  console.log(
    [
      `${headline} under the inspector; ${(busy / 1000).toFixed(0)} ms busy of ${
        (total / 1000).toFixed(0)
      } ms sampled (${(100 * busy / total).toFixed(0)}%). Shares are of busy time.`,
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
      `Profile saved to ${file.replace(root + "/", "")}`,
    ].join("\n"),
  );
}
