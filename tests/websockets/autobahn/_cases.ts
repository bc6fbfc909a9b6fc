/** Every case, by group, in Autobahn's order. */
import type { Case } from "./_case.ts";
import { GROUP_1 } from "./_group1.ts";
import { GROUP_2 } from "./_group2.ts";
import { GROUP_3 } from "./_group3.ts";
import { GROUP_4 } from "./_group4.ts";
import { GROUP_5 } from "./_group5.ts";
import { GROUP_6 } from "./_group6.ts";
import { GROUP_7 } from "./_group7.ts";
import { GROUP_9 } from "./_group9.ts";
import { GROUP_10 } from "./_group10.ts";
import { group12 } from "./_group12.ts";
import { group13 } from "./_group13.ts";

/** The groups that run with and without compression. */
export const PLAIN_GROUPS: [group: string, cases: Case[]][] = [
  ["1", GROUP_1],
  ["2", GROUP_2],
  ["3", GROUP_3],
  ["4", GROUP_4],
  ["5", GROUP_5],
  ["6", GROUP_6],
  ["7", GROUP_7],
  ["9", GROUP_9],
  ["10", GROUP_10],
];

/** The groups that need compression (UNIMPLEMENTED without it, so they run only with it). */
export function compressionGroups(): [group: string, cases: Case[]][] {
  return [["12", group12()], ["13", group13()]];
}
