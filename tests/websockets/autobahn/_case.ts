/**
 * What a conformance case is, and how its run is judged: the rules of the Autobahn
 * TestSuite (its `Case.onConnectionLost`), restated. A case lists the event sequences it
 * accepts, each with a verdict (OK, NON-STRICT, ...), and how the connection should end
 * (who starts closing, which close codes, whether the close must be clean).
 */

import type { DeflateOptions } from "../../../websockets/permessage_deflate.ts";
import type { AcceptOffers, Offer } from "./_handshake.ts";
import type { Event, FuzzPeer } from "./_peer.ts";
import { bytesOf } from "./_wire.ts";

/** A case's main verdict. */
export type Behavior = "OK" | "NON-STRICT" | "INFORMATIONAL" | "UNIMPLEMENTED" | "FAILED";

/** The verdict on how the connection ended. */
export type CloseBehavior =
  | "OK"
  | "FAILED"
  | "UNCLEAN"
  | "WRONG CODE"
  | "FAILED BY CLIENT"
  | "INFORMATIONAL";

/** How the connection should end. */
export interface ExpectedClose {
  /** The fuzzer starts the closing handshake (else the implementation must). */
  closedByMe: boolean;
  /** Close codes the implementation may send. */
  codes: number[];
  /** The closing handshake must complete and the server drop TCP. */
  requireClean: boolean;
  /** Closing from the wrong end fails the case itself (the UTF-8 cases). */
  wrongEndpointIsFatal?: boolean;
}

/** The state of one case's run, as its code sees it. */
export interface CaseRun {
  readonly peer: FuzzPeer;
  /** Accepted event sequences, tried in insertion order. */
  readonly expected: Map<Behavior, Event[]>;
  expectedClose: ExpectedClose;
  /** The verdict when no expected sequence matches (cases that judge messages themselves). */
  behavior: Behavior;
  result: string;
  /** Do not start the closing handshake when the events match (cases that close by hand). */
  suppressClose: boolean;
}

/** One case. */
export interface Case {
  /** Autobahn's id, e.g. `"6.4.1"`. */
  id: string;
  description: string;
  /**
   * The compression this case negotiates (12.x, 13.x): a fuzzing client's offers, a fuzzing
   * server's acceptance, and what our client offers. Other cases follow the run's.
   */
  deflate?: { offers: Offer[]; accept: AcceptOffers; ours: DeflateOptions };
  /** Runs once the connection is open. */
  onOpen(run: CaseRun): void;
  /** Changes the verdict once the connection is gone (Autobahn's per-case overrides). */
  onLost?(run: CaseRun, verdict: Verdict): void;
}

/** The outcome of one case. */
export interface Verdict {
  id: string;
  behavior: Behavior;
  behaviorClose: CloseBehavior;
  result: string;
  resultClose: string;
  remoteCloseCode: number | null;
}

/** A message event. */
export function message(data: Uint8Array | string, binary = false): Event {
  return { type: "message", data: bytesOf(data), binary };
}

/** A pong event. */
export function pong(data: Uint8Array | string = ""): Event {
  return { type: "pong", data: bytesOf(data) };
}

/** A timeout event, as the cases that wait record them. */
export function timeout(tag: string): Event {
  return { type: "timeout", tag };
}

/** The fuzzer closes with 1000 once the events match; the close must be clean. */
export const CLOSE_NORMALLY: ExpectedClose = {
  closedByMe: true,
  codes: [1000],
  requireClean: true,
};

/** The implementation must fail the connection (with `code`, or just drop TCP). */
export function failsWith(code: number, wrongEndpointIsFatal = false): ExpectedClose {
  return { closedByMe: false, codes: [code], requireClean: false, wrongEndpointIsFatal };
}

function sameEvent(a: Event, b: Event): boolean {
  if (a.type !== b.type) return false;
  if (a.type === "timeout" || b.type === "timeout") {
    return a.type === "timeout" && b.type === "timeout" && a.tag === b.tag;
  }
  if (a.type === "message" && b.type === "message" && a.binary !== b.binary) return false;
  const x = a.data, y = (b as { data: Uint8Array }).data;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Whether two event lists are the same. */
export function sameEvents(a: Event[], b: Event[]): boolean {
  return a.length === b.length && a.every((e, i) => sameEvent(e, b[i]));
}

/**
 * Once the events match every expected sequence, the fuzzer starts the closing handshake
 * if it is the one to (Autobahn's `finishWhenDone`).
 */
export function finishWhenDone(run: CaseRun): void {
  for (const events of run.expected.values()) {
    if (!sameEvents(run.peer.received, events)) return;
  }
  if (run.expectedClose.closedByMe && !run.suppressClose) {
    run.peer.sendClose(run.expectedClose.codes[0]);
  }
}

/** Judges a finished run by Autobahn's rules, then by the case's own overrides. */
export function judge(c: Case, run: CaseRun, opened: boolean): Verdict {
  const peer = run.peer;
  const v: Verdict = {
    id: c.id,
    behavior: run.behavior,
    behaviorClose: "FAILED",
    result: run.result,
    resultClose: "The WebSocket opening handshake was never completed",
    remoteCloseCode: peer.remoteCloseCode,
  };
  for (const [behavior, events] of run.expected) {
    if (sameEvents(peer.received, events)) {
      v.behavior = behavior;
      v.result = "Actual events match at least one expected";
      break;
    }
  }
  if (v.behavior === "FAILED" && run.expected.size > 0 && v.result === "") {
    v.result = "Actual events differ from any expected";
  }
  const ec = run.expectedClose;
  if (opened) {
    if (ec.closedByMe !== peer.closedByMe) {
      v.behaviorClose = "FAILED";
      v.resultClose = "The connection was failed by the wrong endpoint";
    } else if (ec.requireClean && !peer.wasClean) {
      v.behaviorClose = "UNCLEAN";
      v.resultClose = "The spec requires the connection to be failed cleanly here";
    } else if (peer.remoteCloseCode !== null && !ec.codes.includes(peer.remoteCloseCode)) {
      v.behaviorClose = "WRONG CODE";
      v.resultClose = `The close code should have been ${ec.codes.join(",")} or empty`;
    } else if (peer.role === "client" && peer.droppedByMe) {
      v.behaviorClose = "FAILED BY CLIENT";
      v.resultClose = "It is preferred that the server close the TCP connection";
    } else {
      v.behaviorClose = "OK";
      v.resultClose = "Connection was properly closed";
    }
    if (ec.wrongEndpointIsFatal && ec.closedByMe !== peer.closedByMe) v.behavior = "FAILED";
  }
  c.onLost?.(run, v);
  if (peer.violation !== null && v.behavior !== "UNIMPLEMENTED") {
    v.behavior = "FAILED";
    v.result = `The implementation broke the protocol: ${peer.violation}`;
  }
  return v;
}

/** The override of the close-handling cases: a wrong close code fails the case. */
export function wrongCodeFails(_run: CaseRun, v: Verdict): void {
  if (v.behaviorClose === "WRONG CODE") {
    v.behavior = "FAILED";
    v.result = v.resultClose;
  }
}
