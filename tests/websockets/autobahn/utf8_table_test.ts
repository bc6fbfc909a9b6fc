/**
 * The UTF-8 table of Autobahn's cases 6.5 to 6.23, fed to the receiver as a fragmented text
 * message split at every octet, and octet by octet: valid sequences arrive whole, invalid
 * ones fail the connection with 1007, wherever the fragments cut them.
 */
import { assertEquals } from "@std/assert";
import { type Event, rawFrame, record } from "../_helpers.ts";
import { UTF8_GROUPS } from "./_utf8_table.ts";

function fragments(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const bounds = [0, ...cuts, bytes.length];
  return bounds.slice(0, -1).map((at, i) =>
    rawFrame(
      (i === bounds.length - 2 ? 0x80 : 0) | (i === 0 ? 0x1 : 0x0),
      bytes.subarray(at, bounds[i + 1]),
    )
  );
}

UTF8_GROUPS.forEach((group, g) => {
  Deno.test(`6.${g + 5} (${group.title}): every split of every sequence is judged as a whole`, async () => {
    for (const [valid, bytes] of group.sequences) {
      const expected: Event[] = valid
        ? [{ message: new TextDecoder().decode(bytes) }]
        : [{ error: 1007 }];
      const splits = [[], ...Array.from({ length: bytes.length - 1 }, (_, i) => [i + 1])];
      splits.push(Array.from({ length: bytes.length - 1 }, (_, i) => i + 1));
      for (const cuts of splits) {
        assertEquals(
          await record(fragments(bytes, cuts)),
          expected,
          `${bytes.join(" ")} cut at ${cuts}`,
        );
      }
    }
  });
});
