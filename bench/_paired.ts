/**
 * What the before/after drivers (`bench/http1_ab.ts`, `bench/ws_ab.ts`) share: bundling a
 * tree's server for Node, and running servers side by side under one load, round after round
 * with the order rotating, then printing each server's rate and CPU per unit of work with the
 * medians of its per-round CPU ratios against the runtime's own server and against the base.
 *
 * @module
 */

import { fmt, freePort, log, median, output, pinning } from "./_measure.ts";
import { spawnServer, waitForListening } from "./_cpu_profile.ts";

/** A server of a paired run. */
export interface PairedServer {
  /** Its name; `<x>-new` is compared with `<x>-base` when both run. */
  name: string;
  /** The server it is compared with (the runtime's own), if it is ours. */
  baseline?: string;
  /** Its command line, listening on `port`. */
  cmd: (port: number) => string[];
}

/** One measured run of one server. */
export interface PairedSample {
  /** Units of work per second (requests, messages). */
  rate: number;
  /** The server's CPU microseconds per unit of work. */
  cpu: number;
}

/** How to run and report a paired benchmark. */
export interface PairedRun {
  /** The repository root (the servers' working directory). */
  root: string;
  servers: PairedServer[];
  rounds: number;
  /** Measures the server listening on `port` whose process is `pid`. */
  measure: (port: number, pid: number) => Promise<PairedSample>;
  /** The table's first line. */
  title: string;
  /** What one unit of work is called in the table: `"req"`, `"msg"`. */
  unit: string;
  /** Decimals of the CPU column. */
  digits: number;
}

/**
 * Bundles a tree's server (or any entry point) for Node with esbuild, as
 * `bench/servers/build.sh` does.
 *
 * @param deps The `node_modules` folder with `.bin/esbuild` and `deno-std`.
 * @param entry The entry point.
 * @param out The bundle to write.
 * @returns `out`.
 */
export async function bundleForNode(deps: string, entry: string, out: string): Promise<string> {
  const result = await output([
    `${deps}/.bin/esbuild`,
    entry,
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--target=node20",
    "--log-level=error",
    `--alias:@std/http/status=${deps}/deno-std/http/status.js`,
    `--outfile=${out}`,
  ]);
  if (result) throw new Error(`esbuild failed for ${entry}: ${result}`);
  return out;
}

/**
 * Starts the servers (pinned to the last CPU), warms each up with one measurement, runs the
 * rounds and prints the markdown table; stops the servers in any case.
 *
 * @param run What to run and how to report it.
 */
export async function runPaired(run: PairedRun): Promise<void> {
  const { cores, pinned } = await pinning();
  const running: { server: PairedServer; port: number; child: Deno.ChildProcess }[] = [];
  try {
    for (const server of run.servers) {
      const port = freePort();
      const child = spawnServer(run.root, pinned(String(cores - 1), server.cmd(port)));
      await waitForListening(child.stdout);
      running.push({ server, port, child });
    }
    for (const r of running) await run.measure(r.port, r.child.pid);
    const results = new Map<string, PairedSample[]>(running.map((r) => [r.server.name, []]));
    for (let round = 0; round < run.rounds; round++) {
      for (let k = 0; k < running.length; k++) {
        const r = running[(round + k) % running.length];
        const m = await run.measure(r.port, r.child.pid);
        results.get(r.server.name)!.push(m);
        log(
          `round ${round + 1}/${run.rounds} ${r.server.name}: ${fmt(m.rate)} ${run.unit}/s, ` +
            `${m.cpu.toFixed(run.digits)} µs`,
        );
      }
    }
    const paired = (a: string, b: string) => {
      const xs = results.get(a)!, ys = results.get(b);
      if (!ys) return "";
      return `x${median(xs.map((x, i) => x.cpu / ys[i].cpu)).toFixed(3)}`;
    };
    const u = run.unit;
    console.log(run.title);
    console.log();
    console.log(
      `| server | ${u}/s | CPU/${u} | CPU/${u} vs runtime's own (paired) | CPU/${u} vs base (paired) |`,
    );
    console.log("| --- | ---: | ---: | ---: | ---: |");
    for (const { server } of running) {
      const xs = results.get(server.name)!;
      const name = server.name;
      const base = name.endsWith("-new") ? paired(name, name.replace(/-new$/, "-base")) : "";
      console.log(
        `| ${name} | ${fmt(median(xs.map((x) => x.rate)))} | ${
          median(xs.map((x) => x.cpu)).toFixed(run.digits)
        } µs | ${server.baseline ? paired(name, server.baseline) : ""} | ${base} |`,
      );
    }
  } finally {
    for (const r of running) {
      try {
        r.child.kill();
      } catch { /* gone already */ }
    }
  }
}
