/**
 * The shape of every compression case (12.x, 13.x): negotiate permessage-deflate, then send
 * messages of one size cut from a payload source one after the other, each compressed and
 * possibly auto-fragmented, and expect each back unchanged before sending the next. Without
 * compression agreed the case is UNIMPLEMENTED.
 */
import type { DeflateOptions } from "../../../websockets/permessage_deflate.ts";
import { type Case, CLOSE_NORMALLY } from "./_case.ts";
import type { AcceptOffers, Offer } from "./_handshake.ts";
import { SCALE } from "./_scale.ts";
import type { TestData } from "./_testdata.ts";

/** The message sizes of each subgroup: size, Autobahn's wait (s), auto-fragment size. */
export const MESSAGE_SIZES: [size: number, wait: number, fragment: number][] = [
  [16, 60, 0],
  [64, 60, 0],
  [256, 120, 0],
  [1024, 240, 0],
  [4096, 480, 0],
  [8192, 480, 0],
  [16384, 480, 0],
  [32768, 480, 0],
  [65536, 480, 0],
  [131072, 480, 0],
  [8192, 480, 256],
  [16384, 480, 256],
  [32768, 480, 256],
  [65536, 480, 256],
  [131072, 480, 256],
  [131072, 480, 1024],
  [131072, 480, 4096],
  [131072, 480, 32768],
];

/** The compression a case negotiates. */
export interface CaseDeflate {
  /** What a fuzzing client offers. */
  offers: Offer[];
  /** How a fuzzing server accepts. */
  accept: AcceptOffers;
  /** What our client offers when it is the one under test. */
  ours: DeflateOptions;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One compression case. */
export function compressedEcho(
  id: string,
  data: TestData,
  [size, wait, fragment]: [number, number, number],
  deflate: CaseDeflate,
  what: string,
): Case {
  const count = SCALE.compressedMessages;
  return {
    id,
    description: `Send ${count} compressed messages each of payload size ${size}, auto-fragment ` +
      `to ${fragment} octets (${data.description}; ${what}; Autobahn: 1000 messages)`,
    deflate,
    onOpen(run) {
      const p = run.peer;
      run.expectedClose = CLOSE_NORMALLY;
      if (!p.compressing) {
        run.behavior = "UNIMPLEMENTED";
        run.result = "permessage-deflate was not agreed";
        p.sendClose(1000);
        return;
      }
      run.behavior = "FAILED";
      run.result = `Case did not finish within ${wait} seconds`;
      const source = data.bytes;
      let at = 0, sent = 0;
      let expected = new Uint8Array(0);
      const sendOne = () => {
        const out = new Uint8Array(size);
        for (let i = 0; i < size; i++) out[i] = source[(at + i) % source.length];
        at = (at + size) % source.length;
        expected = out;
        sent++;
        p.sendMessage(out, { binary: data.binary, fragmentSize: fragment });
      };
      p.onMessage = (got, binary) => {
        if (binary !== data.binary || !equal(got, expected)) {
          run.behavior = "FAILED";
          run.result = binary !== data.binary
            ? "Echoed message type differs from what was sent"
            : `Echoed message (${got.length} octets) differs from what was sent (${expected.length})`;
          p.sendClose(1000);
        } else if (sent < count) {
          sendOne();
        } else {
          run.behavior = "OK";
          run.result = "Received all echoed messages in time";
          p.sendClose(1000);
        }
      };
      p.closeAfter(wait);
      sendOne();
    },
  };
}
