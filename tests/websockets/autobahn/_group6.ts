/** Group 6, UTF-8 handling: empty fragments, valid text split anywhere, invalid text, fail-fast. */
import { type Case, type CaseRun, CLOSE_NORMALLY, failsWith, message, timeout } from "./_case.ts";
import { encodeFrame, join } from "./_wire.ts";
import { UTF8_GROUPS } from "./_utf8_table.ts";

const hex = (s: string) =>
  Uint8Array.from({ length: s.length / 2 }, (_, i) => parseInt(s.slice(2 * i, 2 * i + 2), 16));
const MIXED = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!";
const KOSME = hex("cebae1bdb9cf83cebcceb5");
/** Invalid at octet 12 (the 0xa0 of a surrogate). */
const BAD_SURROGATE = join([KOSME, hex("eda080"), hex("656469746564")]);
/** Invalid at octet 12 (the 0x90 that makes U+110000). */
const BAD_RANGE = join([KOSME, hex("f4908080"), hex("656469746564")]);

function echoed(
  id: string,
  description: string,
  send: (run: CaseRun) => void,
  expected: Uint8Array | string,
): Case {
  return {
    id,
    description,
    onOpen(run) {
      run.expected.set("OK", [message(expected)]);
      run.expectedClose = CLOSE_NORMALLY;
      send(run);
      run.peer.closeAfter(1);
    },
  };
}

function invalid(id: string, description: string, fragmentSize?: number): Case {
  return {
    id,
    description,
    onOpen(run) {
      run.expected.set("OK", []);
      run.expectedClose = failsWith(1007, true);
      run.peer.sendMessage(BAD_SURROGATE, { binary: false, fragmentSize });
      run.peer.killAfter(1);
    },
  };
}

/**
 * 6.4.x: the valid start of an invalid message, a pause, the octets that make it invalid,
 * a pause, the rest. Failing at once is OK, failing at the end NON-STRICT.
 */
function failFast(id: string, description: string, cut: [number, number], asChops: boolean): Case {
  return {
    id,
    description,
    onOpen(run) {
      const p = run.peer;
      run.expected.set("OK", [timeout("A")]);
      run.expected.set("NON-STRICT", [timeout("A"), timeout("B")]);
      run.expectedClose = failsWith(1007, true);
      const parts = [
        BAD_RANGE.subarray(0, cut[0]),
        BAD_RANGE.subarray(cut[0], cut[1]),
        BAD_RANGE.subarray(cut[1]),
      ];
      let send: (i: number) => void;
      if (asChops) {
        // One frame, written in three pieces: its header and the first part, then the rest.
        const frame = encodeFrame({ opcode: 1, payload: BAD_RANGE, mask: p.masks });
        const h = frame.length - BAD_RANGE.length;
        const bounds = [0, h + cut[0], h + cut[1], frame.length];
        send = (i) => p.sendRaw(frame.subarray(bounds[i], bounds[i + 1]));
      } else {
        send = (i) => p.sendFrame({ opcode: i === 0 ? 1 : 0, fin: i === 2, payload: parts[i] });
      }
      send(0);
      p.continueLater(1, () => {
        if (p.state !== "open") return;
        p.record(timeout("A"));
        send(1);
        p.continueLater(1, () => {
          if (p.state !== "open") return;
          p.record(timeout("B"));
          send(2);
          p.killAfter(1);
        });
      });
    },
  };
}

function table(): Case[] {
  const cases: Case[] = [];
  UTF8_GROUPS.forEach((group, g) => {
    group.sequences.forEach(([valid, bytes], j) => {
      cases.push({
        id: `6.${g + 5}.${j + 1}`,
        description: `${group.title}: send a text message with payload ${
          Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
        }`,
        onOpen(run) {
          if (valid) {
            run.expected.set("OK", [message(bytes)]);
            run.expectedClose = CLOSE_NORMALLY;
          } else {
            run.expected.set("OK", []);
            run.expectedClose = failsWith(1007, true);
          }
          run.peer.sendMessage(bytes, { binary: false });
          run.peer.killAfter(0.5);
        },
      });
    });
  });
  return cases;
}

/** The cases of group 6. */
export const GROUP_6: Case[] = [
  echoed("6.1.1", "Send text message of length 0", (run) => run.peer.sendFrame({ opcode: 1 }), ""),
  echoed("6.1.2", "Send fragmented text message, 3 fragments each of length 0", (run) => {
    run.peer.sendFrame({ opcode: 1, fin: false });
    run.peer.sendFrame({ opcode: 0, fin: false });
    run.peer.sendFrame({ opcode: 0, fin: true });
  }, ""),
  echoed(
    "6.1.3",
    "Send fragmented text message, 3 fragments, first and last of length 0",
    (run) => {
      run.peer.sendFrame({ opcode: 1, fin: false });
      run.peer.sendFrame({ opcode: 0, fin: false, payload: "middle frame payload" });
      run.peer.sendFrame({ opcode: 0, fin: true });
    },
    "middle frame payload",
  ),
  echoed("6.2.1", "Send a valid UTF-8 text message in one fragment", (run) => {
    run.peer.sendMessage(MIXED, { binary: false });
  }, MIXED),
  echoed(
    "6.2.2",
    "Send a valid UTF-8 text message in two fragments, split on a code point boundary",
    (run) => {
      run.peer.sendFrame({ opcode: 1, fin: false, payload: MIXED.slice(0, 11) });
      run.peer.sendFrame({ opcode: 0, fin: true, payload: MIXED.slice(11) });
    },
    MIXED,
  ),
  echoed("6.2.3", "Send a valid UTF-8 text message in fragments of 1 octet", (run) => {
    run.peer.sendMessage(MIXED, { binary: false, fragmentSize: 1 });
  }, MIXED),
  echoed("6.2.4", "Send a valid UTF-8 text message in fragments of 1 octet", (run) => {
    run.peer.sendMessage(KOSME, { binary: false, fragmentSize: 1 });
  }, KOSME),
  invalid("6.3.1", "Send invalid UTF-8 text message unfragmented"),
  invalid("6.3.2", "Send invalid UTF-8 text message in fragments of 1 octet", 1),
  failFast("6.4.1", "Invalid UTF-8 text message in 3 frames with pauses", [11, 15], false),
  failFast(
    "6.4.2",
    "Same as 6.4.1, the 2nd frame only the octet that makes it invalid",
    [12, 13],
    false,
  ),
  failFast("6.4.3", "Same as 6.4.1, in 3 chops of one frame", [11, 15], true),
  failFast("6.4.4", "Same as 6.4.2, in 3 chops of one frame", [12, 13], true),
  ...table(),
];
