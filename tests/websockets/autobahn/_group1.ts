/** Group 1, framing: text (1.1) and binary (1.2) messages of the lengths at the length-field edges. */
import { type Case, CLOSE_NORMALLY, message } from "./_case.ts";
import { repeatTo } from "./_wire.ts";

const SIZES: [length: number, chopsize: number | undefined, killAfter: number][] = [
  [0, undefined, 1],
  [125, undefined, 1],
  [126, undefined, 1],
  [127, undefined, 1],
  [128, undefined, 1],
  [65535, undefined, 10],
  [65536, undefined, 10],
  [65536, 997, 10],
];

function sized(group: string, opcode: 1 | 2, fill: number): Case[] {
  return SIZES.map(([length, chopsize, kill], i) => ({
    id: `${group}.${i + 1}`,
    description:
      `Send ${opcode === 1 ? "text" : "binary"} message with payload of length ${length}` +
      (chopsize ? `, in chops of ${chopsize} octets` : ""),
    onOpen(run) {
      const payload = repeatTo(new Uint8Array([fill]), length);
      run.expected.set("OK", [message(payload, opcode === 2)]);
      run.expectedClose = CLOSE_NORMALLY;
      run.peer.sendFrame({ opcode, payload, chopsize });
      run.peer.killAfter(kill);
    },
  }));
}

/** The cases of group 1. */
export const GROUP_1: Case[] = [...sized("1.1", 1, 0x2a), ...sized("1.2", 2, 0xfe)];
