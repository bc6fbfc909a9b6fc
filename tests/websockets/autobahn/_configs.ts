/** The four runs of the suite: our server and our client, each without and with compression. */
import type { Case } from "./_case.ts";
import { compressionGroups, PLAIN_GROUPS } from "./_cases.ts";
import type { SuiteOptions } from "./_runner.ts";

/** One run: who is under test, how, and its groups. */
export interface Config {
  name: string;
  options: SuiteOptions;
  groups: () => [group: string, cases: Case[]][];
}

/** The runs, in report order. */
export const CONFIGS: Config[] = [
  { name: "server", options: { testee: "server", compress: false }, groups: () => PLAIN_GROUPS },
  {
    name: "server+deflate",
    options: { testee: "server", compress: true },
    groups: () => [...PLAIN_GROUPS, ...compressionGroups()],
  },
  { name: "client", options: { testee: "client", compress: false }, groups: () => PLAIN_GROUPS },
  {
    name: "client+deflate",
    options: { testee: "client", compress: true },
    groups: () => [...PLAIN_GROUPS, ...compressionGroups()],
  },
];
