/** Group 7, close handling: close then more frames, close payload lengths and values, close codes. */
import {
  type Case,
  type CaseRun,
  CLOSE_NORMALLY,
  type ExpectedClose,
  message,
  wrongCodeFails,
} from "./_case.ts";

const INVALID_REASON = Uint8Array.from([
  0xce,
  0xba,
  0xe1,
  0xbd,
  0xb9,
  0xcf,
  0x83,
  0xce,
  0xbc,
  0xce,
  0xb5,
  0xed,
  0xa0,
  0x80,
  0x65,
  0x64,
  0x69,
  0x74,
  0x65,
  0x64,
]);
const ERROR_OR_DROP = (...codes: number[]): ExpectedClose => ({
  closedByMe: true,
  codes,
  requireClean: false,
});

/** A case that closes by hand and fails on a wrong close code. */
function closing(
  id: string,
  description: string,
  expectedClose: ExpectedClose,
  send: (run: CaseRun) => void,
): Case {
  return {
    id,
    description,
    onOpen(run) {
      run.suppressClose = true;
      run.expected.set("OK", []);
      run.expectedClose = expectedClose;
      send(run);
      run.peer.killAfter(1);
    },
    onLost: wrongCodeFails,
  };
}

const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999];

/** 7.13.x: codes the spec leaves open; whatever happens is informational. */
function informational(id: string, code: number): Case {
  return {
    id,
    description: `Send close with close code ${code}`,
    onOpen(run) {
      run.suppressClose = true;
      run.expected.set("OK", []);
      run.expectedClose = { closedByMe: true, codes: [1000, code, 1002], requireClean: false };
      run.peer.sendClose(code);
      run.peer.killAfter(1);
    },
    onLost(_run, v) {
      v.behavior = "INFORMATIONAL";
      v.behaviorClose = "INFORMATIONAL";
      v.result = "Actual events are undefined by the spec";
    },
  };
}

/** The cases of group 7. */
export const GROUP_7: Case[] = [
  {
    id: "7.1.1",
    description: "Send a message followed by a close frame",
    onOpen(run) {
      run.expected.set("OK", [message("Hello World!")]);
      run.expectedClose = CLOSE_NORMALLY;
      run.peer.sendFrame({ opcode: 1, payload: "Hello World!" });
      run.peer.killAfter(1);
    },
    onLost: wrongCodeFails,
  },
  closing("7.1.2", "Send two close frames", CLOSE_NORMALLY, (run) => {
    run.peer.sendClose(1000);
    run.peer.sendFrame({ opcode: 8 });
  }),
  closing("7.1.3", "Send a ping after close message", CLOSE_NORMALLY, (run) => {
    run.peer.sendClose(1000);
    run.peer.sendFrame({ opcode: 9 });
  }),
  closing("7.1.4", "Send text message after sending a close frame", CLOSE_NORMALLY, (run) => {
    run.peer.sendClose(1000);
    run.peer.sendFrame({ opcode: 1, payload: "Hello World!" });
  }),
  closing(
    "7.1.5",
    "Send message fragment1 followed by close then fragment",
    CLOSE_NORMALLY,
    (run) => {
      run.peer.sendFrame({ opcode: 1, fin: false, payload: "fragment1" });
      run.peer.sendClose(1000);
      run.peer.sendFrame({ opcode: 0, fin: true, payload: "fragment2" });
    },
  ),
  {
    id: "7.1.6",
    description: "Send 256K message followed by close then a ping",
    onOpen(run) {
      run.suppressClose = true;
      run.expected.set("OK", [message("Hello World!")]);
      run.expected.set("NON-STRICT", []);
      run.expectedClose = CLOSE_NORMALLY;
      run.peer.sendFrame({ opcode: 1, payload: "BAsd7&jh23", payloadLen: 256 * 1024 });
      run.peer.sendFrame({ opcode: 1, payload: "Hello World!" });
      run.peer.sendClose(1000);
      run.peer.sendFrame({ opcode: 9 });
      run.peer.killAfter(1);
    },
    onLost(_run, v) {
      v.result = v.behavior === "OK"
        ? "Text message was processed before close"
        : "Close was processed before text message could be returned";
      v.behavior = "INFORMATIONAL";
      v.behaviorClose = "INFORMATIONAL";
    },
  },
  closing(
    "7.3.1",
    "Send a close frame with payload length 0 (no close code, no close reason)",
    CLOSE_NORMALLY,
    (run) => {
      run.peer.sendClose(null);
    },
  ),
  closing("7.3.2", "Send a close frame with payload length 1", ERROR_OR_DROP(1002), (run) => {
    run.peer.sendClose(null, "a");
  }),
  closing(
    "7.3.3",
    "Send a close frame with payload length 2 (regular close with a code)",
    CLOSE_NORMALLY,
    (run) => {
      run.peer.sendClose(1000);
    },
  ),
  closing("7.3.4", "Send a close frame with close code and close reason", CLOSE_NORMALLY, (run) => {
    run.peer.sendClose(1000, "Hello World!");
  }),
  closing(
    "7.3.5",
    "Send a close frame with close code and close reason of maximum length (123)",
    CLOSE_NORMALLY,
    (run) => {
      run.peer.sendClose(1000, "*".repeat(123));
    },
  ),
  closing(
    "7.3.6",
    "Send a close frame with close code and close reason which is too long (124)",
    ERROR_OR_DROP(1002),
    (run) => {
      run.peer.sendClose(1000, "*".repeat(124));
    },
  ),
  closing(
    "7.5.1",
    "Send a close frame with invalid UTF8 payload",
    ERROR_OR_DROP(1002, 1007),
    (run) => {
      run.peer.sendClose(1000, INVALID_REASON);
    },
  ),
  ...VALID_CODES.map((code, i) =>
    closing(`7.7.${i + 1}`, `Send close with valid close code ${code}`, {
      closedByMe: true,
      codes: [1000, code],
      requireClean: true,
    }, (run) => run.peer.sendClose(code))
  ),
  ...INVALID_CODES.map((code, i) =>
    closing(
      `7.9.${i + 1}`,
      `Send close with invalid close code ${code}`,
      ERROR_OR_DROP(1002),
      (run) => {
        run.peer.sendClose(code);
      },
    )
  ),
  informational("7.13.1", 5000),
  informational("7.13.2", 65535),
];
