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
