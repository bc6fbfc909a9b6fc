/**
 * Group 9, limits and performance: big messages (9.1, 9.2), big messages in many fragments
 * (9.3, 9.4), big messages in many small writes (9.5, 9.6), many round trips (9.7, 9.8).
 * Sizes and counts are Autobahn's divided as `_scale.ts` says; the list of cases is whole.
 */
import { type Case, type CaseRun, CLOSE_NORMALLY } from "./_case.ts";
import { SCALE } from "./_scale.ts";
import { bytesOf, repeatTo } from "./_wire.ts";

const KiB = 1024, MiB = 1024 * 1024;
const TEXT = "BAsd7&jh23";
const BINARY = Uint8Array.from([0x00, 0xfe, 0x23, 0xfa, 0xf0]);
const scaled = (n: number) => Math.max(1, Math.round(n / SCALE.bytes));
const human = (n: number) => n >= MiB ? `${n / MiB}M` : n >= KiB ? `${n / KiB}k` : `${n}`;

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Expects one echo of `payload`, judged by length, type and content; then closes. */
function expectEcho(run: CaseRun, payload: Uint8Array, binary: boolean): void {
  run.expectedClose = CLOSE_NORMALLY;
  run.behavior = "FAILED";
  run.result = "Did not receive the message in time";
  run.peer.onMessage = (data, isBinary) => {
    if (isBinary !== binary) run.result = `Expected a ${binary ? "binary" : "text"} message`;
    else if (!equal(data, payload)) {
      run.result = `Got ${data.length} octets that differ from the ${payload.length} sent`;
    } else {
      run.behavior = "OK";
      run.result = `Received the message of length ${data.length}`;
    }
    run.peer.sendClose(1000);
  };
}

const waitFor = (size: number) => (size > MiB / SCALE.bytes ? 100 : 10);

function big(id: string, size: number, binary: boolean): Case {
  const n = scaled(size);
  return {
    id,
    description: `Send ${binary ? "binary" : "text"} message with payload of length ${
      human(n)
    } (Autobahn: ${human(size)})`,
    onOpen(run) {
      const payload = repeatTo(binary ? BINARY : bytesOf(TEXT), n);
      expectEcho(run, payload, binary);
      run.peer.sendFrame({ opcode: binary ? 2 : 1, payload });
      run.peer.closeAfter(waitFor(n));
    },
  };
}

function fragmented(id: string, fragment: number, binary: boolean): Case {
  const n = scaled(4 * MiB), f = scaled(fragment);
  return {
    id,
    description: `Send fragmented ${binary ? "binary" : "text"} message of length ${
      human(n)
    } in fragments of ${human(f)} (Autobahn: 4M in ${human(fragment)})`,
    onOpen(run) {
      const payload = new Uint8Array(n).fill(binary ? 0xfe : 0x2a);
      expectEcho(run, payload, binary);
      run.peer.sendMessage(payload, { binary, fragmentSize: f });
      run.peer.closeAfter(100);
    },
  };
}

function chopped(id: string, chop: number, binary: boolean): Case {
  const n = scaled(MiB);
  return {
    id,
    description: `Send ${binary ? "binary" : "text"} message of length ${
      human(n)
    } in chops of ${chop} octets (Autobahn: 1M)`,
    onOpen(run) {
      const payload = repeatTo(binary ? BINARY : bytesOf(TEXT), n);
      expectEcho(run, payload, binary);
      run.peer.sendFrame({ opcode: binary ? 2 : 1, payload, chopsize: chop });
      run.peer.closeAfter(100);
    },
  };
}

function roundTrips(id: string, size: number, binary: boolean, wait: number): Case {
  const count = SCALE.roundTrips;
  return {
    id,
    description: `Send ${count} ${
      binary ? "binary" : "text"
    } messages of payload size ${size}, one after the other (Autobahn: 1000)`,
    onOpen(run) {
      const payload = new Uint8Array(size).fill(binary ? 0xfe : 0x2a);
      let sent = 0;
      const sendOne = () => {
        sent++;
        run.peer.sendFrame({ opcode: binary ? 2 : 1, payload });
      };
      run.expectedClose = CLOSE_NORMALLY;
      run.behavior = "FAILED";
      run.result = `Case did not finish within ${wait} seconds`;
      run.peer.onMessage = (data, isBinary) => {
        if (isBinary !== binary || !equal(data, payload)) {
          run.behavior = "FAILED";
          run.result = "Echoed message type or content differs from what was sent";
          run.peer.sendClose(1000);
        } else if (sent < count) {
          sendOne();
        } else {
          run.behavior = "OK";
          run.result = "Received all echoed messages in time";
          run.peer.sendClose(1000);
        }
      };
      run.peer.closeAfter(wait);
      sendOne();
    },
  };
}

const SIZES = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB];
const FRAGMENTS = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB];
const CHOPS = [64, 128, 256, 512, 1024, 2048];
const ROUND_TRIPS: [number, number][] = [[0, 60], [16, 60], [64, 60], [256, 120], [1024, 240], [
  4096,
  480,
]];

/** The cases of group 9. */
export const GROUP_9: Case[] = [
  ...SIZES.map((s, i) => big(`9.1.${i + 1}`, s, false)),
  ...SIZES.map((s, i) => big(`9.2.${i + 1}`, s, true)),
  ...FRAGMENTS.map((f, i) => fragmented(`9.3.${i + 1}`, f, false)),
  ...FRAGMENTS.map((f, i) => fragmented(`9.4.${i + 1}`, f, true)),
  ...CHOPS.map((c, i) => chopped(`9.5.${i + 1}`, c, false)),
  ...CHOPS.map((c, i) => chopped(`9.6.${i + 1}`, c, true)),
  ...ROUND_TRIPS.map(([s, w], i) => roundTrips(`9.7.${i + 1}`, s, false, w)),
  ...ROUND_TRIPS.map(([s, w], i) => roundTrips(`9.8.${i + 1}`, s, true, w)),
];
