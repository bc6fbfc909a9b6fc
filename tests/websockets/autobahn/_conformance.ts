/**
 * Registers one test per group for a run of the suite: no case may be FAILED, a case may be
 * UNIMPLEMENTED only where RFC 7692 lets an end decline the offer, and no connection may end
 * by the wrong end or uncleanly where the case requires a clean close.
 */
import { assertEquals } from "@std/assert";
import type { Verdict } from "./_case.ts";
import type { Config } from "./_configs.ts";
import { mayDecline } from "./_group13.ts";
import { Suite } from "./_runner.ts";

function problems(verdicts: Verdict[]): string[] {
  const out: string[] = [];
  for (const v of verdicts) {
    const unimplemented = v.behavior === "UNIMPLEMENTED" && !mayDecline(v.id);
    if (v.behavior === "FAILED" || unimplemented) out.push(`${v.id}: ${v.behavior}: ${v.result}`);
    if (v.behaviorClose === "FAILED" || v.behaviorClose === "UNCLEAN") {
      out.push(`${v.id}: close ${v.behaviorClose}: ${v.resultClose}`);
    }
  }
  return out;
}

const BEHAVIORS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"];

/** `OK 4, NON-STRICT 3, ...`: the verdict counts, for the log of every runtime. */
export function tally(verdicts: Verdict[]): string {
  return BEHAVIORS.map((b) => `${b} ${verdicts.filter((v) => v.behavior === b).length}`).join(", ");
}

/** Registers the tests of one run. */
export function conformanceTests(config: Config): void {
  for (const [group, cases] of config.groups()) {
    Deno.test(`autobahn ${config.name}: the ${cases.length} cases of group ${group} end OK, NON-STRICT or INFORMATIONAL`, async () => {
      await using suite = await Suite.start(config.options);
      const verdicts = await suite.run(cases);
      console.log(`autobahn ${config.name} group ${group}: ${tally(verdicts)}`);
      assertEquals(problems(verdicts), []);
    });
  }
}
