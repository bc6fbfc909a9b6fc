/** Group 2, pings and pongs: payloads up to the 125-octet limit, chopped pings, unsolicited pongs. */
import { type Case, CLOSE_NORMALLY, failsWith, pong } from "./_case.ts";
import type { CaseRun } from "./_case.ts";

const BYTES = new Uint8Array([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
const fe = (n: number) => new Uint8Array(n).fill(0xfe);

function pingCase(
  id: string,
  description: string,
  payload: Uint8Array | string,
  chopsize?: number,
): Case {
  return {
    id,
    description,
    onOpen(run) {
      run.expected.set("OK", [pong(payload)]);
      run.expectedClose = CLOSE_NORMALLY;
      run.peer.sendFrame({ opcode: 9, payload, chopsize });
      run.peer.closeAfter(chopsize ? 2 : 1);
    },
  };
}

function tenPings(run: CaseRun, chopsize?: number): void {
  const pongs = [];
  for (let i = 0; i < 10; i++) {
    pongs.push(pong(`payload-${i}`));
    run.peer.sendFrame({ opcode: 9, payload: `payload-${i}`, chopsize });
  }
  run.expected.set("OK", pongs);
  run.expectedClose = CLOSE_NORMALLY;
  run.peer.closeAfter(3);
}

/** The cases of group 2. */
export const GROUP_2: Case[] = [
  pingCase("2.1", "Send ping without payload", ""),
  pingCase("2.2", "Send ping with small text payload", "Hello, world!"),
  pingCase("2.3", "Send ping with small binary (non UTF-8) payload", BYTES),
  pingCase("2.4", "Send ping with binary payload of 125 octets", fe(125)),
  {
    id: "2.5",
    description: "Send ping with binary payload of 126 octets",
    onOpen(run) {
      run.expected.set("OK", []);
      run.expectedClose = failsWith(1002);
      run.peer.sendFrame({ opcode: 9, payload: fe(126) });
      run.peer.killAfter(1);
    },
  },
  pingCase("2.6", "Send ping with binary payload of 125 octets, in octet-wise chops", fe(125), 1),
  {
    id: "2.7",
    description: "Send unsolicited pong without payload; nothing comes back",
    onOpen(run) {
      run.expected.set("OK", []);
      run.expectedClose = CLOSE_NORMALLY;
      run.peer.sendFrame({ opcode: 10 });
      run.peer.sendClose(1000);
      run.peer.closeAfter(1);
    },
  },
  {
    id: "2.8",
    description: "Send unsolicited pong with payload; nothing comes back",
    onOpen(run) {
      run.expected.set("OK", []);
      run.expectedClose = CLOSE_NORMALLY;
      run.peer.sendFrame({ opcode: 10, payload: "unsolicited pong payload" });
      run.peer.sendClose(1000);
      run.peer.closeAfter(1);
    },
  },
  {
    id: "2.9",
    description:
      "Send unsolicited pong with payload, then ping with payload; only the ping is answered",
    onOpen(run) {
      run.expected.set("OK", [pong("ping payload")]);
      run.expectedClose = CLOSE_NORMALLY;
      run.peer.sendFrame({ opcode: 10, payload: "unsolicited pong payload" });
      run.peer.sendFrame({ opcode: 9, payload: "ping payload" });
      run.peer.closeAfter(1);
    },
  },
  { id: "2.10", description: "Send 10 pings with payload", onOpen: (run) => tenPings(run) },
  {
    id: "2.11",
    description: "Send 10 pings with payload, in octet-wise chops",
    onOpen: (run) => tenPings(run, 1),
  },
];
