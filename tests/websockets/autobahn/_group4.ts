/** Group 4, opcodes: reserved non-control (3-7) and control (11-15) opcodes must fail the connection. */
import { type Case, failsWith, message } from "./_case.ts";

const HELLO = "Hello, world!";

function reserved(
  id: string,
  opcode: number,
  shape: "empty" | "payload" | "afterEcho",
  chopsize?: number,
): Case {
  return {
    id,
    description: shape === "afterEcho"
      ? `Send small text message, then frame with reserved opcode ${opcode}, then ping`
      : `Send frame with reserved opcode ${opcode}${
        shape === "payload" ? " and non-empty payload" : ""
      }`,
    onOpen(run) {
      run.expectedClose = failsWith(1002);
      if (shape !== "afterEcho") {
        run.expected.set("OK", []);
        run.peer.sendFrame({
          opcode,
          payload: shape === "payload" ? "reserved opcode payload" : "",
        });
      } else {
        run.expected.set("OK", [message(HELLO)]);
        run.expected.set("NON-STRICT", []);
        run.peer.sendFrame({ opcode: 1, payload: HELLO, chopsize });
        run.peer.sendFrame({
          opcode,
          payload: opcode === 5 || opcode === 13 ? "" : HELLO,
          chopsize,
        });
        run.peer.sendFrame({ opcode: 9, chopsize });
      }
      run.peer.killAfter(1);
    },
  };
}

/** The cases of group 4. */
export const GROUP_4: Case[] = [
  reserved("4.1.1", 3, "empty"),
  reserved("4.1.2", 4, "payload"),
  reserved("4.1.3", 5, "afterEcho"),
  reserved("4.1.4", 6, "afterEcho"),
  reserved("4.1.5", 7, "afterEcho", 1),
  reserved("4.2.1", 11, "empty"),
  reserved("4.2.2", 12, "payload"),
  reserved("4.2.3", 13, "afterEcho"),
  reserved("4.2.4", 14, "afterEcho"),
  reserved("4.2.5", 15, "afterEcho", 1),
];
