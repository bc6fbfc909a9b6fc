/**
 * What the benchmark drivers share: running commands, CPU time from `/proc`, medians,
 * number formatting and a timestamped log on stderr.
 *
 * @module
 */

/** A command's stdout and stderr, trimmed; `""` if it cannot run. */
export async function output(cmd: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd[0], { args: cmd.slice(1), stderr: "piped" }).output();
    return (new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr)).trim();
  } catch {
    return "";
  }
}

/** A number from the environment, or `fallback`. */
export function envNumber(name: string, fallback: number): number {
  const v = Deno.env.get(name);
  return v ? Number(v) : fallback;
}

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`). */
const CLK_TCK = Number(await output(["getconf", "CLK_TCK"])) || 100;

/** A process's CPU time so far (user + system) in microseconds, or NaN. */
export async function cpuTime(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** The median of the finite values (NaN if there are none). */
export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A rounded number with thousands separators, or `"n/a"`. */
export function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a";
}

/** Logs progress to stderr with the time. */
export function log(msg: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

/** How commands are pinned: `taskset` puts the server on the last CPU, the load on CPU 0. */
export interface Pinning {
  /** CPUs here. */
  cores: number;
  /** Whether commands are pinned (`taskset` is there and there are two CPUs or more). */
  pin: boolean;
  /** `cmd` prefixed with `taskset -c cpu` when pinning is possible, else `cmd` itself. */
  pinned(cpu: string, cmd: string[]): string[];
}

/** Finds out whether commands can be pinned to CPUs here. */
export async function pinning(): Promise<Pinning> {
  const cores = navigator.hardwareConcurrency;
  const pin = cores >= 2 &&
    (await new Deno.Command("taskset", { args: ["-V"] }).output().then(
      (o) => o.success,
      () => false,
    ));
  return { cores, pin, pinned: (cpu, cmd) => (pin ? ["taskset", "-c", cpu, ...cmd] : cmd) };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** What one h2load run reports: requests per second, requests done, and what went wrong. */
export interface H2loadResult {
  /** Requests per second (NaN when a request failed or errored). */
  rps: number;
  /** Requests that succeeded. */
  done: number;
  /** Failed or errored requests, or the start of the output when it has no result; "" if none. */
  errors: string;
}

/** Reads h2load's summary out of its output. */
export function h2loadResult(out: string): H2loadResult {
  const m = out.match(
    /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/,
  );
  const rps = Number(out.match(/finished in [\d.]+m?s, ([\d.]+) req\/s/)?.[1] ?? NaN);
  const errors = !m
    ? `no result: ${out.slice(0, 200)}`
    : m[2] !== "0" || m[3] !== "0"
    ? `${m[2]} failed, ${m[3]} errored`
    : "";
  return { rps: errors ? NaN : rps, done: Number(m?.[1] ?? NaN), errors };
}
