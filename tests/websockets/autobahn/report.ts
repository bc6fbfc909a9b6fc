/**
 * Runs the whole Autobahn-style suite and prints the verdict counts per run and group,
 * then every case that did not end OK:
 *
 *   deno run -A tests/websockets/autobahn/report.ts [--all]
 *
 * `--all` lists every case with its verdicts. `AUTOBAHN_FULL=1` runs Autobahn's own sizes.
 */
import type { Verdict } from "./_case.ts";
import { CONFIGS } from "./_configs.ts";
import { Suite } from "./_runner.ts";

const VERDICTS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"] as const;
const all = Deno.args.includes("--all");
const rows: string[][] = [["run", "group", "cases", ...VERDICTS, "close not OK"]];
const notes: string[] = [];
const started = performance.now();

for (const config of CONFIGS) {
  await using suite = await Suite.start(config.options);
  for (const [group, cases] of config.groups()) {
    const verdicts: Verdict[] = await suite.run(cases);
    const count = (b: string) => String(verdicts.filter((v) => v.behavior === b).length);
    const closeNotOk = verdicts.filter((v) =>
      v.behaviorClose !== "OK" && v.behaviorClose !== "INFORMATIONAL"
    );
    rows.push([
      config.name,
      group,
      String(cases.length),
      ...VERDICTS.map(count),
      String(closeNotOk.length),
    ]);
    for (const v of verdicts) {
      if (
        all || v.behavior !== "OK" ||
        (v.behaviorClose !== "OK" && v.behaviorClose !== "INFORMATIONAL")
      ) {
        notes.push(
          `${config.name} ${v.id}: ${v.behavior} / close ${v.behaviorClose} (code ${v.remoteCloseCode}): ${v.result}; ${v.resultClose}`,
        );
      }
    }
  }
}

const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const [i, r] of rows.entries()) {
  console.log(
    r.map((cell, j) => (j < 2 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join("  "),
  );
  if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
}
console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s`);
if (notes.length > 0) console.log("\n" + notes.join("\n"));
