/** Group 10, misc: a message auto-fragmented by the sender must come back whole. */
import { type Case, type CaseRun, CLOSE_NORMALLY, type Verdict } from "./_case.ts";
import { bytesOf } from "./_wire.ts";

const LENGTH = 65536;
const FRAGMENT = 1300;

/** 10.1.1's check of the fuzzer's own frames: 1300-octet fragments, as asked. */
function countFrames(run: CaseRun, v: Verdict): void {
  const got = [run.peer.txFrames.get(0) ?? 0, run.peer.txFrames.get(1) ?? 0];
  const want = [Math.floor(LENGTH / FRAGMENT), LENGTH % FRAGMENT > 0 ? 1 : 0];
  if (got[0] !== want[0] || got[1] !== want[1]) {
    v.behavior = "FAILED";
    v.result = `Frames sent ${got} do not match the expected ${want}`;
  }
}

/** The case of group 10. */
export const GROUP_10: Case[] = [{
  id: "10.1.1",
  description: "Send text message with payload of length 65536 auto-fragmented into 1300 octets",
  onOpen(run) {
    const payload = "*".repeat(LENGTH);
    run.expected.set("OK", [{ type: "message", data: bytesOf(payload), binary: false }]);
    run.expectedClose = CLOSE_NORMALLY;
    run.peer.sendMessage(payload, { binary: false, fragmentSize: FRAGMENT, compress: false });
    run.peer.killAfter(10);
  },
  onLost: countFrames,
}];
