/** Group 3, reserved bits: a frame with RSV bits that no extension defined must fail the connection. */
import { type Case, failsWith, message } from "./_case.ts";

const HELLO = "Hello, world!";
const BYTES = new Uint8Array([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);

/** A good text message, then the bad frame, then a ping: the echo may come or not. */
function afterEcho(id: string, rsv: number, how: { sync?: boolean; chopsize?: number }): Case {
  return {
    id,
    description: `Send small text message, then again with RSV = ${rsv}, then ping` +
      (how.sync ? ", frame by frame" : how.chopsize ? ", in octet-wise chops" : ""),
    onOpen(run) {
      run.expected.set("OK", [message(HELLO)]);
      run.expected.set("NON-STRICT", []);
      run.expectedClose = failsWith(1002);
      run.peer.sendFrame({ opcode: 1, payload: HELLO, ...how });
      run.peer.sendFrame({ opcode: 1, payload: HELLO, rsv, ...how });
      run.peer.sendFrame({ opcode: 9, ...how });
      run.peer.killAfter(1);
    },
  };
}

function alone(
  id: string,
  description: string,
  opcode: number,
  payload: Uint8Array | string,
  rsv: number,
): Case {
  return {
    id,
    description,
    onOpen(run) {
      run.expected.set("OK", []);
      run.expectedClose = failsWith(1002);
      run.peer.sendFrame({ opcode, payload, rsv });
      run.peer.killAfter(1);
    },
  };
}

/** The cases of group 3. */
export const GROUP_3: Case[] = [
  alone("3.1", "Send small text message with RSV = 1", 1, HELLO, 1),
  afterEcho("3.2", 2, {}),
  afterEcho("3.3", 3, { sync: true }),
  afterEcho("3.4", 4, { chopsize: 1 }),
  alone("3.5", "Send small binary message with RSV = 5", 2, BYTES, 5),
  alone("3.6", "Send small ping with RSV = 6", 9, HELLO, 6),
  alone("3.7", "Send small close with RSV = 7", 8, "", 7),
];
