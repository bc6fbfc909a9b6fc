/** Group 5, fragmentation: fragmented messages, control frames between fragments, bad continuations. */
import { type Case, CLOSE_NORMALLY, failsWith, message, pong } from "./_case.ts";
import type { SendFrame } from "./_peer.ts";

type How = { sync?: boolean; chopsize?: number };
const ONE_CHOP: How = {};
const PER_FRAME: How = { sync: true };
const OCTETS: How = { chopsize: 1 };
const f = (opcode: number, fin: boolean, payload: string): SendFrame => ({ opcode, fin, payload });

function echo(
  id: string,
  description: string,
  frames: SendFrame[],
  how: How,
  withPing: boolean,
): Case {
  return {
    id,
    description,
    onOpen(run) {
      const events = [message("fragment1fragment2")];
      if (withPing) events.unshift(pong("ping payload"));
      run.expected.set("OK", events);
      run.expectedClose = CLOSE_NORMALLY;
      for (const frame of frames) run.peer.sendFrame({ ...frame, ...how });
      run.peer.closeAfter(1);
    },
  };
}

function fails(id: string, description: string, frames: SendFrame[], how: How = ONE_CHOP): Case {
  return {
    id,
    description,
    onOpen(run) {
      run.expected.set("OK", []);
      run.expectedClose = failsWith(1002);
      for (const frame of frames) run.peer.sendFrame({ ...frame, ...how });
      run.peer.killAfter(1);
    },
  };
}

const TWO = [f(1, false, "fragment1"), f(0, true, "fragment2")];
const TWO_WITH_PING = [
  f(1, false, "fragment1"),
  f(9, true, "ping payload"),
  f(0, true, "fragment2"),
];
const NOTHING_TO_CONTINUE = (fin: boolean) => [
  f(0, fin, "non-continuation payload"),
  f(1, true, "Hello, world!"),
];
const REPEATED = (fin: boolean) => {
  const once = [f(0, fin, "fragment1"), f(1, false, "fragment2"), f(0, true, "fragment3")];
  return [...once, ...once];
};

/** 5.19 and 5.20: a ping between fragments, a pause, more fragments and a ping. */
function pauseInside(id: string, how: How): Case {
  return {
    id,
    description: "Send a fragmented text message in 5 frames with 2 pings between them and a " +
      "pause after the first ping" + (how.sync ? ", frame by frame" : ""),
    onOpen(run) {
      const p = run.peer;
      run.expected.set("OK", [
        pong("pongme 1!"),
        pong("pongme 2!"),
        message("fragment1fragment2fragment3fragment4fragment5"),
      ]);
      run.expectedClose = CLOSE_NORMALLY;
      p.sendFrame({ ...f(1, false, "fragment1"), ...how });
      p.sendFrame({ ...f(0, false, "fragment2"), ...how });
      p.sendFrame({ ...f(9, true, "pongme 1!"), ...how });
      p.continueLater(1, () => {
        p.sendFrame({ ...f(0, false, "fragment3"), ...how });
        p.sendFrame({ ...f(0, false, "fragment4"), ...how });
        p.sendFrame({ ...f(9, true, "pongme 2!"), ...how });
        p.sendFrame({ ...f(0, true, "fragment5"), ...how });
        p.closeAfter(1);
      });
    },
  };
}

/** The cases of group 5. */
export const GROUP_5: Case[] = [
  fails("5.1", "Send ping fragmented into 2 fragments", [
    f(9, false, "fragment1"),
    f(0, true, "fragment2"),
  ]),
  fails("5.2", "Send pong fragmented into 2 fragments", [
    f(10, false, "fragment1"),
    f(0, true, "fragment2"),
  ]),
  echo("5.3", "Send text message fragmented into 2 fragments", TWO, ONE_CHOP, false),
  echo(
    "5.4",
    "Send text message fragmented into 2 fragments, frame by frame",
    TWO,
    PER_FRAME,
    false,
  ),
  echo(
    "5.5",
    "Send text message fragmented into 2 fragments, in octet-wise chops",
    TWO,
    OCTETS,
    false,
  ),
  echo(
    "5.6",
    "Send text message in 2 fragments with a ping between",
    TWO_WITH_PING,
    ONE_CHOP,
    true,
  ),
  echo("5.7", "Same as 5.6, frame by frame", TWO_WITH_PING, PER_FRAME, true),
  echo("5.8", "Same as 5.6, in octet-wise chops", TWO_WITH_PING, OCTETS, true),
  fails(
    "5.9",
    "Send continuation (FIN) with nothing to continue, then text",
    NOTHING_TO_CONTINUE(true),
  ),
  fails("5.10", "Same as 5.9, frame by frame", NOTHING_TO_CONTINUE(true), PER_FRAME),
  fails("5.11", "Same as 5.9, in octet-wise chops", NOTHING_TO_CONTINUE(true), OCTETS),
  fails(
    "5.12",
    "Send continuation (no FIN) with nothing to continue, then text",
    NOTHING_TO_CONTINUE(false),
  ),
  fails("5.13", "Same as 5.12, frame by frame", NOTHING_TO_CONTINUE(false), PER_FRAME),
  fails("5.14", "Same as 5.12, in octet-wise chops", NOTHING_TO_CONTINUE(false), OCTETS),
  {
    id: "5.15",
    description:
      "Send text message in 2 fragments, then continuation with nothing to continue, then text",
    onOpen(run) {
      run.expected.set("OK", [message("fragment1fragment2")]);
      run.expected.set("NON-STRICT", []);
      run.expectedClose = failsWith(1002);
      for (
        const frame of [
          f(1, false, "fragment1"),
          f(0, true, "fragment2"),
          f(0, false, "fragment3"),
          f(1, true, "fragment4"),
        ]
      ) run.peer.sendFrame(frame);
      run.peer.killAfter(1);
    },
  },
  fails(
    "5.16",
    "Twice: continuation (no FIN) with nothing to continue, then a text message in 2 fragments",
    REPEATED(false),
  ),
  fails(
    "5.17",
    "Twice: continuation (FIN) with nothing to continue, then a text message in 2 fragments",
    REPEATED(true),
  ),
  fails("5.18", "Send text message in 2 fragments, both with the text opcode", [
    f(1, false, "fragment1"),
    f(1, true, "fragment2"),
  ]),
  pauseInside("5.19", ONE_CHOP),
  pauseInside("5.20", PER_FRAME),
];
