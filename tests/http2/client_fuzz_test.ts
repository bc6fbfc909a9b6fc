/**
 * Seeded fuzzing of the HTTP/2 client connection (`Http2ClientConnection`, what `client/` uses
 * for `h2` and prior knowledge) against a hostile server: a raw peer on a memory pair does the
 * handshake, reads the client's requests (GET, HEAD, a small POST, an upload larger than the
 * windows, a body stream that never ends), then answers with frames built from random parts:
 * response heads valid and malformed (no :status, uppercase names, pseudo-headers after regular
 * ones, connection-specific fields, bad :status), split over CONTINUATION frames or interrupted,
 * bodies within and beyond the windows, content-length mismatches, trailers, DATA on streams
 * never opened, PUSH_PROMISE, RST_STREAM, GOAWAY with various last-stream-ids, SETTINGS with
 * invalid values, WINDOW_UPDATE of 0 or overflowing, PING, PRIORITY, unknown types, oversized
 * frames, broken HPACK; now and then a frame's flags, stream id, payload or length broken on
 * top; or a whole valid server session mutated byte by byte. Everything is written in 1-4
 * pieces, then a PING probe (after zero bytes that complete a cut frame).
 *
 * Invariants, in every case:
 * - the client answers the probe (the connection is usable) or sends a GOAWAY with an RFC 9113
 *   error code (0x0-0xd) and a last-stream-id of 0, then closes: never a hang, never a close
 *   without GOAWAY;
 * - every frame it sends is checked (`ClientFrames`): only frames a client may send, nothing
 *   after a GOAWAY for an error (section 5.4.1), nothing on a stream after its RST_STREAM,
 *   no DATA or HEADERS after END_STREAM, no DATA beyond the windows or SETTINGS_MAX_FRAME_SIZE
 *   the server advertised (sections 4.2, 6.9), WINDOW_UPDATE only for bytes received, PING
 *   only as the ACK of the server's, new streams only on increasing odd ids and not after its
 *   GOAWAY (section 5.1.1), no interleaved field block (section 6.10);
 * - every request settles within a deadline once the connection ends: to a response whose
 *   body ends or fails, or to an `Error`; the typed ones are tallied (`FUZZ_VERBOSE=1`);
 * - no unhandled rejection or leak (Deno's sanitizers; Node and Bun fail on the former).
 *
 * Where RFC 9113 fixes the outcome, it is checked exactly: an oracle (`Model`) follows the
 * frames as the client must read them (stream states, both flow-control windows as bounds,
 * field validation of sections 8.1-8.3 re-implemented here, HPACK literals) and names the
 * connection error and its code, the RST_STREAMs and their codes, how each request settles
 * and each body ends. It gives up (the case is then checked by the invariants only) where the
 * RFC leaves a choice or where timing decides (a window the client may or may not have
 * granted back yet). The "RFC-fixed outcomes" test walks a list of rules with explicit
 * expectations (PUSH_PROMISE with push disabled: PROTOCOL_ERROR; SETTINGS_INITIAL_WINDOW_SIZE
 * above 2^31-1: FLOW_CONTROL_ERROR; ENABLE_PUSH not 0: PROTOCOL_ERROR; a frame over
 * SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR; and so on), each of which the oracle must fix too.
 *
 * Each case draws from its own `Random`, seeded from the test's seed and the case index; a
 * failure names both, with the frames (or bytes) in hex. `FUZZ_SEED=<n>` runs another seed,
 * `FUZZ_CASE=<i>` only case `i` of it, `FUZZ_VERBOSE=1` prints what the cases came to:
 * `FUZZ_SEED=<n> FUZZ_CASE=<i> deno test -A tests/http2/client_fuzz_test.ts --filter '<test>'`.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import {
  type ProtocolRequest,
  type ProtocolResponse,
  RetryableRequestError,
} from "../../client/_protocol.ts";
import { Http2ClientConnection } from "../../http2/client_connection.ts";
import { errorCodeName, Http2Error } from "../../http2/errors.ts";
import { type HpackDecoder, HpackEncoder } from "../../http2/hpack/mod.ts";
import { HTTP2Settings, type HTTP2SettingsInit } from "../../http2/settings.ts";
import { knob, type Random } from "../_random.ts";
import {
  block,
  concat,
  continuation,
  data,
  E,
  F,
  frame,
  goaway,
  headers,
  ping,
  priority,
  type RawFrame,
  rawPair,
  readU32,
  rst,
  S,
  settings,
  settingsAck,
  T,
  windowUpdate,
} from "./_frames.ts";
import { breakSome, caseRandom, describeFrame, hex, typeName, within } from "./_fuzz.ts";

/** The largest stream id, and the largest flow-control window (both 2^31-1). */
const MAX_ID = 0x7fffffff;
const MAX_WINDOW = 0x7fffffff;
/** The highest error code RFC 9113 section 7 defines (HTTP_1_1_REQUIRED). */
const MAX_CODE = 0xd;
/** How long the client may take to answer, to close after its GOAWAY, or to settle. */
const DEADLINE_MS = 3000;
/** The payload of the PING that ends the set-up, and of the probe. */
const SETUP_PING = [0x73, 0x65, 0x74, 0x2d, 0x75, 0x70, 0x21, 0x21];
const PROBE_PING = [0x70, 0x72, 0x6f, 0x62, 0x65, 0x21, 0x21, 0x21];
/** RFC 9113 limits the client applies (its defaults): CONTINUATIONs, block size, empty DATA. */
const MAX_CONTINUATIONS = 64;
const MAX_BLOCK = 256 * 1024;
const MAX_EMPTY_DATA = 100;
const MAX_FIELDS = 500;

const { NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, FRAME_SIZE_ERROR } = E;
const { REFUSED_STREAM, CANCEL, COMPRESSION_ERROR } = E;

// ---------------------------------------------------------------- helpers

/** Lets the promise callbacks of the current turn (settled requests) run. */
function turns(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function codeSet(codes: readonly number[]): string {
  return codes.map((c) => errorCodeName(c)).join(" or ");
}

// ---------------------------------------------------------------- frames as a receiver cuts them

/** A frame cut from a byte stream. */
interface Cut {
  len: number;
  type: number;
  flags: number;
  /** Stream id, reserved bit cleared. */
  id: number;
  payload: Uint8Array;
}

/** Cuts a byte stream into frames by their length fields, as the client's decoder does. */
class Splitter {
  #buf: Uint8Array = new Uint8Array(0);

  push(bytes: Uint8Array): Cut[] {
    const b = this.#buf.byteLength === 0 ? bytes : concat(this.#buf, bytes);
    const out: Cut[] = [];
    let pos = 0;
    while (b.byteLength - pos >= 9) {
      const len = (b[pos] << 16) | (b[pos + 1] << 8) | b[pos + 2];
      if (b.byteLength - pos - 9 < len) break;
      out.push({
        len,
        type: b[pos + 3],
        flags: b[pos + 4],
        id: readU32(b, pos + 5) & MAX_ID,
        payload: b.slice(pos + 9, pos + 9 + len),
      });
      pos += 9 + len;
    }
    this.#buf = b.slice(pos);
    return out;
  }

  /** The header of the frame being received, once its 9 bytes are in. */
  get partial(): { len: number; type: number; id: number } | null {
    const b = this.#buf;
    if (b.byteLength < 9) return null;
    return { len: (b[0] << 16) | (b[1] << 8) | b[2], type: b[3], id: readU32(b, 5) & MAX_ID };
  }

  /**
   * Zero bytes that complete the frame being received, so that what follows starts a new
   * frame; only its header's when its length is over `max` (the client fails on the header).
   */
  lacking(max: number): number {
    const have = this.#buf.byteLength;
    if (have === 0) return 0;
    const head = concat(this.#buf.subarray(0, 9), new Uint8Array(Math.max(0, 9 - have)));
    const len = (head[0] << 16) | (head[1] << 8) | head[2];
    if (len > max) return Math.max(0, 9 - have);
    return 9 + len - have;
  }
}

// ---------------------------------------------------------------- what the server sent

/**
 * What the server granted and sent, from all the bytes it wrote so far (read generously: a
 * frame the client may refuse still counts), for bounds on what the client may send back.
 */
class ServerLedger {
  readonly #split = new Splitter();
  /**
   * SETTINGS_INITIAL_WINDOW_SIZE and SETTINGS_MAX_FRAME_SIZE in force after each SETTINGS frame
   * sent (index 0: the defaults, before any): the client, having acknowledged `n` of them,
   * works with the values of index `n` or later.
   */
  readonly iws: number[] = [65535];
  readonly maxFrameSizes: number[] = [16384];
  connWu = 0;
  readonly streamWu = new Map<number, number>();
  /** Flow-controlled bytes of DATA sent, per stream and in all. */
  dataTotal = 0;
  readonly data = new Map<number, number>();
  /** Payloads (hex) of the PINGs sent, not yet acknowledged. */
  readonly pings: string[] = [];
  /** SETTINGS frames (not ACKs) sent, and the SETTINGS_HEADER_TABLE_SIZE values of each. */
  settings = 0;
  readonly tableSizes: number[][] = [];

  push(bytes: Uint8Array): void {
    for (const f of this.#split.push(bytes)) this.#add(f);
  }

  #add(f: Cut): void {
    switch (f.type) {
      case T.SETTINGS: {
        if (f.id !== 0 || (f.flags & F.ACK) !== 0 || f.len % 6 !== 0) return;
        this.settings++;
        const sizes: number[] = [];
        this.tableSizes.push(sizes);
        let iws = this.iws.at(-1)!;
        let mfs = this.maxFrameSizes.at(-1)!;
        for (let i = 0; i < f.len; i += 6) {
          const id = (f.payload[i] << 8) | f.payload[i + 1];
          const v = readU32(f.payload, i + 2);
          if (id === S.HEADER_TABLE_SIZE) sizes.push(v);
          if (id === S.INITIAL_WINDOW_SIZE) iws = v;
          if (id === S.MAX_FRAME_SIZE) mfs = v;
        }
        this.iws.push(iws);
        this.maxFrameSizes.push(mfs);
        return;
      }
      case T.WINDOW_UPDATE: {
        if (f.len !== 4) return;
        const inc = readU32(f.payload) & MAX_WINDOW;
        if (f.id === 0) this.connWu += inc;
        else this.streamWu.set(f.id, (this.streamWu.get(f.id) ?? 0) + inc);
        return;
      }
      case T.DATA:
        this.dataTotal += f.len;
        this.data.set(f.id, (this.data.get(f.id) ?? 0) + f.len);
        return;
      case T.PING:
        if (f.id === 0 && f.len === 8 && (f.flags & F.ACK) === 0) this.pings.push(hex(f.payload));
        return;
    }
  }

  /**
   * What the client may have sent on stream `id` at most, the stream opened once `acked`
   * SETTINGS frames were acknowledged: its window is the largest initial window in force
   * since, plus the WINDOW_UPDATEs.
   */
  streamBound(id: number, acked: number): number {
    return Math.max(...this.iws.slice(acked)) + (this.streamWu.get(id) ?? 0);
  }

  /** The largest frame the client may send once `acked` SETTINGS frames were acknowledged. */
  maxFrameSize(acked: number): number {
    return Math.max(...this.maxFrameSizes.slice(acked));
  }

  /** What the client may have sent on the connection at most. */
  connBound(): number {
    return 65535 + this.connWu;
  }
}

// ---------------------------------------------------------------- what the client sends

/**
 * Checks the frames the client sends against RFC 9113 (see the module doc), and keeps what
 * the cases judge by: RST_STREAMs, what was sent per stream, the GOAWAY.
 */
class ClientFrames {
  readonly opened: number[] = [];
  /** SETTINGS frames the client had acknowledged when it opened each stream. */
  readonly #ackedAtOpen = new Map<number, number>();
  readonly endedLocal = new Set<number>();
  readonly reset = new Set<number>();
  readonly sent = new Map<number, number>();
  connSent = 0;
  connWu = 0;
  readonly wu = new Map<number, number>();
  settingsAcks = 0;
  #settings = 0;
  pingAcks = 0;
  goAway: { code: number; last: number } | null = null;
  /** RST_STREAMs sent, `[stream, code]`, in order. */
  readonly rsts: [number, number][] = [];
  #block: number | null = null;
  #count = 0;

  constructor(
    readonly ledger: ServerLedger,
    /** The WINDOW_UPDATE the preface carries when the connection window is larger. */
    readonly initialConnGrant: number,
    readonly label: string,
    /**
     * The raw peer's HPACK decoder (it decodes the client's blocks as they are read): told of
     * each SETTINGS_HEADER_TABLE_SIZE once the client acknowledges it, so that the client's
     * encoder must keep to it and signal a reduction at the start of its next block (RFC
     * 7541 section 4.2).
     */
    readonly hpack: HpackDecoder,
  ) {}

  add(f: RawFrame): void {
    const id = f.streamId;
    const first = this.#count++ === 0;
    const where = `${this.label}: client sent ${typeName(f.type)} on stream ${id}`;
    const onStream = () => {
      assert(id % 2 === 1 && this.opened.includes(id), `${where}: a stream it never opened`);
      assert(!this.reset.has(id), `${where} after its RST_STREAM`);
    };
    assert(
      this.goAway === null || this.goAway.code === NO_ERROR,
      `${where} after its GOAWAY ${errorCodeName(this.goAway?.code ?? 0)} (RFC 9113 5.4.1)`,
    );
    const maxFrameSize = this.ledger.maxFrameSize(this.settingsAcks);
    assert(
      f.payload.byteLength <= maxFrameSize,
      `${where}: ${f.payload.byteLength} bytes, over SETTINGS_MAX_FRAME_SIZE ${maxFrameSize} (4.2)`,
    );
    if (this.#block !== null) {
      assert(
        f.type === T.CONTINUATION && id === this.#block,
        `${where} inside its field block on stream ${this.#block} (6.10)`,
      );
    }
    assert(first === (f.type === T.SETTINGS && (f.flags & F.ACK) === 0), `${where}: preface (3.4)`);
    switch (f.type) {
      case T.SETTINGS:
        assertEquals(id, 0, `${where}`);
        if ((f.flags & F.ACK) !== 0) {
          assertEquals(f.payload.byteLength, 0, `${where}: an ACK with a payload`);
          assert(++this.settingsAcks <= this.ledger.settings, `${where}: an ACK of nothing`);
          for (const size of this.ledger.tableSizes[this.settingsAcks - 1]) {
            this.hpack.setMaxTableSize(size);
          }
        } else assert(++this.#settings === 1, `${where}: a second SETTINGS`);
        break;
      case T.HEADERS: {
        assert(id % 2 === 1, `${where}: an even stream`);
        assert(!this.reset.has(id), `${where} after its RST_STREAM`);
        if (!this.opened.includes(id)) {
          const last = this.opened.at(-1) ?? 0;
          assert(id > last, `${where}: not above stream ${last} (5.1.1)`);
          assert(this.goAway === null, `${where}: a new stream after its GOAWAY`);
          this.opened.push(id);
          this.#ackedAtOpen.set(id, this.settingsAcks);
        } else {
          assert(!this.endedLocal.has(id), `${where} after END_STREAM`);
          assert((f.flags & F.END_STREAM) !== 0, `${where}: trailers without END_STREAM`);
        }
        if ((f.flags & F.END_HEADERS) === 0) this.#block = id;
        if ((f.flags & F.END_STREAM) !== 0) this.endedLocal.add(id);
        break;
      }
      case T.CONTINUATION:
        assert(this.#block === id, `${where}: no field block open`);
        if ((f.flags & F.END_HEADERS) !== 0) this.#block = null;
        break;
      case T.DATA: {
        onStream();
        assert(!this.endedLocal.has(id), `${where} after END_STREAM`);
        const n = (this.sent.get(id) ?? 0) + f.payload.byteLength;
        this.sent.set(id, n);
        this.connSent += f.payload.byteLength;
        const bound = this.ledger.streamBound(id, this.#ackedAtOpen.get(id)!);
        assert(n <= bound, `${where}: ${n} bytes on the stream, beyond its window (${bound})`);
        assert(
          this.connSent <= this.ledger.connBound(),
          `${where}: ${this.connSent} bytes in all, beyond the connection window (${this.ledger.connBound()})`,
        );
        if ((f.flags & F.END_STREAM) !== 0) this.endedLocal.add(id);
        break;
      }
      case T.RST_STREAM: {
        onStream();
        assertEquals(f.payload.byteLength, 4, where);
        const code = readU32(f.payload);
        assert(code <= MAX_CODE, `${where} with error code 0x${code.toString(16)}`);
        this.reset.add(id);
        this.rsts.push([id, code]);
        break;
      }
      case T.WINDOW_UPDATE: {
        assertEquals(f.payload.byteLength, 4, where);
        const inc = readU32(f.payload);
        assert(inc > 0 && inc <= MAX_WINDOW, `${where}: an increment of ${inc}`);
        if (id === 0) {
          this.connWu += inc;
          assert(
            this.connWu <= this.ledger.dataTotal + this.initialConnGrant,
            `${where}: ${this.connWu} granted, more than the ${this.ledger.dataTotal} bytes of DATA received`,
          );
        } else {
          onStream();
          const n = (this.wu.get(id) ?? 0) + inc;
          this.wu.set(id, n);
          const got = this.ledger.data.get(id) ?? 0;
          assert(n <= got, `${where}: ${n} granted, more than the ${got} bytes received`);
        }
        break;
      }
      case T.PING: {
        assert((f.flags & F.ACK) !== 0, `${where}: a PING of its own`);
        const i = this.ledger.pings.indexOf(hex(f.payload));
        assert(i >= 0, `${where}: the ACK of a PING never sent (${hex(f.payload)})`);
        this.ledger.pings.splice(i, 1);
        this.pingAcks++;
        break;
      }
      case T.GOAWAY: {
        assertEquals(id, 0, where);
        const code = readU32(f.payload, 4);
        assert(code <= MAX_CODE, `${where} with error code 0x${code.toString(16)}`);
        const last = readU32(f.payload) & MAX_ID;
        assertEquals(last, 0, `${where}: last-stream-id ${last} (it accepts no server stream)`);
        this.goAway = { code, last };
        break;
      }
      default:
        throw new Error(`${where}: not a frame this client may send`);
    }
  }
}

// ---------------------------------------------------------------- field rules (RFC 9113 8.2, 8.3)

const CONNECTION_SPECIFIC = ["connection", "keep-alive", "proxy-connection", "transfer-encoding"]
  .concat(["upgrade"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** A regular field: `"ok"`, `"malformed"` (a MUST of section 8.2), or `"open"` (a SHOULD). */
function judgeRegular(name: string, value: string): "ok" | "malformed" | "open" {
  if (name.length === 0) return "open";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // 8.2.1: no 0x00-0x20, 0x41-0x5a, 0x7f-0xff in a name; no colon in a regular name.
    if (c <= 0x20 || (c >= 0x41 && c <= 0x5a) || c >= 0x7f || c === 0x3a) return "malformed";
  }
  if (!TOKEN.test(name)) return "open"; // other non-token characters: a SHOULD
  // 8.2.1: no NUL, CR, LF in a value; no leading or trailing space or tab.
  if (/[\0\r\n]/.test(value) || /^[ \t]|[ \t]$/.test(value)) return "malformed";
  if (CONNECTION_SPECIFIC.includes(name)) return "malformed"; // 8.2.2
  if (name === "te") return "open"; // a request field; in a response RFC 9113 says nothing
  return "ok";
}

/** A response head by sections 8.1.1, 8.2 and 8.3: its status and content-length, or a verdict. */
function judgeResponse(
  fields: [string, string][],
): { status: number; contentLength: number } | "malformed" | "open" {
  let status: string | null = null;
  let regular = false;
  let contentLength = -1;
  let open = false;
  for (const [name, value] of fields) {
    if (name.startsWith(":")) {
      // 8.3: pseudo-headers first, only :status in a response, once.
      if (regular || name !== ":status" || status !== null) return "malformed";
      status = value;
      continue;
    }
    regular = true;
    const v = judgeRegular(name, value);
    if (v === "malformed") return v;
    if (v === "open") open = true;
    if (name === "content-length") {
      const n = Number(value);
      if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n)) open = true;
      else if (contentLength >= 0 && contentLength !== n) open = true;
      else contentLength = n;
    }
  }
  if (status === null || !/^[0-9]{3}$/.test(status)) return "malformed"; // 8.3.2
  const code = Number(status);
  if (code < 100 || code > 599) return "open"; // RFC 9110 15: a client SHOULD take it as 5xx
  return open ? "open" : { status: code, contentLength };
}

/** Trailers by section 8.1: no pseudo-headers, the field rules. */
function judgeTrailers(fields: [string, string][]): "ok" | "malformed" | "open" {
  let verdict: "ok" | "open" = "ok";
  for (const [name, value] of fields) {
    if (name.startsWith(":")) return "malformed";
    const v = judgeRegular(name, value);
    if (v === "malformed") return v;
    if (v === "open") verdict = "open";
  }
  return verdict;
}

/**
 * Decodes an HPACK block made of literals without indexing or never indexed, with new names
 * and no Huffman coding (what `block()` writes), and table size updates at its start: the
 * fields, `"error"` for what RFC 7541 makes a decoding error, `"open"` for anything else
 * (indexed or Huffman-coded fields, which this oracle does not follow).
 */
function hpackLiterals(b: Uint8Array, tableLimit: number): [string, string][] | "error" | "open" {
  let i = 0;
  const int = (prefix: number): number | "error" | "open" => {
    const max = (1 << prefix) - 1;
    let v = b[i++] & max;
    if (v < max) return v;
    for (let shift = 0;; shift += 7) {
      if (i >= b.byteLength) return "error"; // truncated
      const c = b[i++];
      v += (c & 0x7f) * 2 ** shift;
      if ((c & 0x80) === 0) return v > 1 << 24 ? "open" : v;
      if (shift > 21) return "open";
    }
  };
  const str = (): string | "error" | "open" => {
    if (i >= b.byteLength) return "error";
    if (b[i] & 0x80) return "open"; // Huffman
    const len = int(7);
    if (typeof len !== "number") return len;
    if (len > b.byteLength - i) return "error";
    const s = String.fromCharCode(...b.subarray(i, i + len));
    i += len;
    return s;
  };
  const fields: [string, string][] = [];
  while (i < b.byteLength) {
    const c = b[i];
    if (c & 0x80) {
      if ((c & 0x7f) === 0) return "error"; // index 0 (RFC 7541 6.1)
      return "open";
    }
    if (c & 0x40) return "open"; // incremental indexing: the table changes
    if (c & 0x20) {
      if (fields.length > 0) return "error"; // a size update after a field (4.2)
      const size = int(5);
      if (typeof size !== "number") return size;
      if (size > tableLimit) return "error"; // above SETTINGS_HEADER_TABLE_SIZE (6.3)
      continue;
    }
    if ((c & 0x0f) !== 0) return "open"; // an indexed name
    i++;
    const name = str();
    if (typeof name !== "string" || name === "open" || name === "error") {
      return name as "open" | "error";
    }
    const value = str();
    if (value === "open" || value === "error") return value;
    fields.push([name, value]);
  }
  return fields;
}

// ---------------------------------------------------------------- the oracle

/** The request kinds: how each opens and what it sends. */
type ReqKind = "get" | "head" | "post" | "upload" | "stream";

interface ReqSpec {
  kind: ReqKind;
  /** Body bytes (post, upload). */
  size: number;
}

/** How a request settles, as the oracle sees it. */
type ReqOutcome =
  | { t: "pending" }
  | { t: "resolved"; status: number }
  | { t: "retryable" }
  | { t: "rejected"; codes: readonly number[]; scope: "stream" | "connection"; remote: boolean }
  /** Rejected with the connection error (the code of the client's GOAWAY). */
  | { t: "conn" };

interface MReq {
  spec: ReqSpec;
  out: ReqOutcome;
  stream: MStream | null;
}

/** A client stream, as the oracle follows it. */
interface MStream {
  id: number;
  req: MReq;
  /** Still in the client's stream table (not closed). */
  inTable: boolean;
  closed: "ended" | "resetLocal" | "resetRemote" | null;
  /** The final response head arrived. */
  head: boolean;
  /** The server's END_STREAM arrived. */
  remoteEnded: boolean;
  /** Whether the client's side is open: a body still to send, or not known. */
  local: "open" | "closed" | "uncertain";
  noBody: boolean;
  contentLength: number;
  received: number;
  body: Uint8Array[];
  /** Body bytes buffered unread. */
  buffered: number;
  trailers: [string, string][] | null;
  /** The client's receive window if it granted nothing back, and what it may have granted. */
  recvLo: number;
  recvCredit: number;
  /** The client's send window if it sends nothing more, and the body bytes it may still send. */
  sendHi: number;
  pending: number;
}

/** How the oracle says a case ends. */
type Verdict =
  | { kind: "alive" }
  | { kind: "goaway"; codes: readonly number[]; rule: string }
  | { kind: "open"; why: string };

/** An RST_STREAM the client must (or, `optional`, may) send. */
interface ExpectedRst {
  id: number;
  codes: readonly number[];
  optional: boolean;
  rule: string;
}

/**
 * Follows the server's bytes as RFC 9113 says the client must read them (see the module
 * doc). `end` is set at the first connection error (or the graceful end after a GOAWAY), or
 * when the oracle gives up (`kind: "open"`): later bytes are then only cut into frames.
 */
class Model {
  readonly reqs: MReq[];
  readonly streams = new Map<number, MStream>();
  readonly queue: MReq[] = [];
  readonly rsts: ExpectedRst[] = [];
  /** The rules that decided something, for the tallies. */
  readonly rules = new Set<string>();
  /** Codes with which the client may end the connection instead (where RFC 9113 lets it). */
  readonly alt = new Set<number>();
  end: Verdict | null = null;
  pings = 0;
  nextId = 1;
  gotFirst = false;
  acked = false;
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS (the client assumes 100 until it knows). */
  mcs = 100;
  peerSettings = false;
  peerIws = 65535;
  goAway: number | null = null;
  connRecvLo: number;
  connCredit = 0;
  connSendHi = 65535;
  #block: {
    id: number;
    push: boolean;
    flags: number;
    dep: number | null;
    parts: Uint8Array[];
    size: number;
    frames: number;
  } | null = null;
  #emptyData = 0;
  readonly #split = new Splitter();
  readonly #iws: number;
  readonly #preAck: number;
  readonly #mfs: number;
  readonly #tableLimit: number;
  readonly #maxList: number;

  constructor(settings: HTTP2Settings, specs: ReqSpec[]) {
    this.reqs = specs.map((spec) => ({ spec, out: { t: "pending" }, stream: null }));
    this.#iws = settings.initialWindowSize;
    this.#preAck = Math.max(65535, settings.initialWindowSize);
    this.#mfs = settings.maxFrameSize;
    this.#tableLimit = Math.max(4096, settings.headerTableSize);
    this.#maxList = settings.maxHeaderListSize;
    this.connRecvLo = Math.max(65535, settings.connectionWindowSize);
  }

  /** The verdict once every byte is in. */
  get verdict(): Verdict {
    return this.end ?? { kind: "alive" };
  }

  /** Zero bytes that complete the frame being received. */
  lacking(): number {
    return this.#split.lacking(this.#mfs);
  }

  /** Streams in the client's table. */
  get tableSize(): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.inTable) n++;
    return n;
  }

  get canOpen(): boolean {
    return this.end === null && this.goAway === null && this.tableSize < this.mcs;
  }

  /** The client issues its requests: streams for those it can open, a queue for the rest. */
  openRequests(): void {
    for (const q of this.reqs) {
      if (this.canOpen && this.queue.length === 0) this.#openStream(q, false);
      else this.queue.push(q);
    }
  }

  /**
   * What the client sent of its request bodies before the case: its windows shrink by as
   * much, and a body sent whole ends its side of the stream.
   */
  synced(check: ClientFrames, label: string): void {
    const ids = [...this.streams.keys()];
    assertEquals(check.opened, ids, `${label}: the streams the client opened at set-up`);
    for (const s of this.streams.values()) {
      const n = check.sent.get(s.id) ?? 0;
      s.sendHi -= n;
      this.connSendHi -= n;
      if (s.req.spec.kind === "post" || s.req.spec.kind === "upload") {
        s.pending -= n;
        s.local = s.pending === 0 ? "closed" : "open";
      }
      assertEquals(
        check.endedLocal.has(s.id),
        s.local === "closed",
        `${label}: END_STREAM of stream ${s.id} at set-up (${n} bytes sent)`,
      );
    }
  }

  push(bytes: Uint8Array): void {
    for (const f of this.#split.push(bytes)) if (this.end === null) this.#frame(f);
    const h = this.#split.partial;
    if (this.end === null && h !== null && h.len > this.#mfs) this.#oversized(h);
  }

  // ---- outcomes

  #fail(codes: readonly number[], rule: string): void {
    if (this.end !== null) return;
    this.rules.add(rule);
    this.end = { kind: "goaway", codes: [...new Set(codes)], rule };
    for (const s of this.streams.values()) {
      if (!s.inTable) continue;
      if (!s.head && s.req.out.t === "pending") s.req.out = { t: "conn" };
    }
    for (const q of this.queue.splice(0)) q.out = { t: "retryable" };
  }

  /** The oracle gives up: RFC 9113 leaves the outcome open, or timing decides it. */
  #giveUp(why: string): void {
    if (this.end === null) this.end = { kind: "open", why };
  }

  #idle(id: number): boolean {
    return id % 2 === 0 || id >= this.nextId;
  }

  #openStream(q: MReq, midCase: boolean): void {
    const kind = q.spec.kind;
    if (midCase && (kind === "post" || kind === "upload")) {
      this.#giveUp("a queued request with a body opened during the case");
    }
    const id = this.nextId;
    this.nextId += 2;
    const s: MStream = {
      id,
      req: q,
      inTable: true,
      closed: null,
      head: false,
      remoteEnded: false,
      local: kind === "get" || kind === "head" ? "closed" : "open",
      noBody: kind === "head",
      contentLength: -1,
      received: 0,
      body: [],
      buffered: 0,
      trailers: null,
      recvLo: this.acked ? this.#iws : this.#preAck,
      recvCredit: 0,
      sendHi: this.peerIws,
      pending: kind === "post" || kind === "upload" ? q.spec.size : 0,
    };
    q.stream = s;
    this.streams.set(id, s);
  }

  #drainQueue(): void {
    while (this.queue.length > 0 && this.canOpen) this.#openStream(this.queue.shift()!, true);
  }

  #maybeFinish(): void {
    if (
      this.end === null && this.goAway !== null && this.tableSize === 0 && this.queue.length === 0
    ) {
      this.rules.add("6.8 the client ends a drained connection after GOAWAY");
      this.end = { kind: "goaway", codes: [NO_ERROR], rule: "6.8 graceful end" };
    }
  }

  #close(s: MStream, how: "ended" | "resetLocal" | "resetRemote"): void {
    s.inTable = false;
    s.closed = how;
    if (how !== "ended" && !s.remoteEnded) this.connCredit += s.buffered;
    s.buffered = 0;
    s.pending = 0;
    this.#drainQueue();
    this.#maybeFinish();
  }

  /** A stream error on a stream in the table: RST_STREAM, and the request fails. */
  #streamError(s: MStream, codes: readonly number[], rule: string, alt: number[] = []): void {
    this.rules.add(rule);
    for (const c of alt) this.alt.add(c);
    this.rsts.push({ id: s.id, codes, optional: false, rule });
    if (!s.head && s.req.out.t === "pending") {
      s.req.out = { t: "rejected", codes, scope: "stream", remote: false };
    }
    this.#close(s, "resetLocal");
  }

  /** A stream error by stream id (the stream may be closed, or idle). */
  #streamErrorId(id: number, codes: readonly number[], rule: string, type: number): void {
    const s = this.streams.get(id);
    if (s?.inTable) return this.#streamError(s, codes, rule);
    if (s === undefined || this.#idle(id)) {
      // 5.1: a WINDOW_UPDATE on an idle stream is a connection error whatever its increment.
      if (type === T.WINDOW_UPDATE) return this.#fail([PROTOCOL_ERROR], "5.1 frame on idle stream");
      return this.#giveUp("a stream error on an idle stream (no RST_STREAM may go there)");
    }
    if (s.closed === "resetLocal") return; // 5.1: ignored after our RST_STREAM
    this.rsts.push({ id, codes, optional: true, rule });
    s.closed = "resetLocal";
  }

  /** DATA or HEADERS on a stream no longer in the table (section 5.1). */
  #onClosed(s: MStream, what: string): void {
    switch (s.closed) {
      case "resetLocal":
        return; // ignored after our RST_STREAM
      case "ended":
        return this.#fail([STREAM_CLOSED], `5.1 ${what} after END_STREAM both ways`);
      default:
        this.rules.add(`5.1 ${what} after the server's RST_STREAM`);
        this.rsts.push({
          id: s.id,
          codes: [STREAM_CLOSED],
          optional: false,
          rule: `5.1 ${what} after RST_STREAM`,
        });
        s.closed = "resetLocal";
    }
  }

  // ---- frames

  #oversized(h: { len: number; type: number; id: number }): void {
    const codes: number[] = [FRAME_SIZE_ERROR];
    const b = this.#block;
    if (b !== null && (b.push || h.type !== T.CONTINUATION || h.id !== b.id)) {
      codes.push(PROTOCOL_ERROR);
    }
    if (!this.gotFirst) codes.push(PROTOCOL_ERROR);
    this.#fail(codes, "4.2 a frame over SETTINGS_MAX_FRAME_SIZE");
  }

  #frame(f: Cut): void {
    if (f.len > this.#mfs) return this.#oversized(f);
    const b = this.#block;
    if (b !== null) {
      if (f.type !== T.CONTINUATION || f.id !== b.id) {
        return this.#fail([PROTOCOL_ERROR], "6.10 a field block interrupted");
      }
      if (++b.frames > MAX_CONTINUATIONS) return this.#giveUp("the CONTINUATION limit");
      b.parts.push(f.payload);
      b.size += f.len;
      if (b.size > MAX_BLOCK) return this.#giveUp("the field block size limit");
      if ((f.flags & F.END_HEADERS) === 0) return;
      this.#block = null;
      if (b.push) return this.#fail([PROTOCOL_ERROR], "8.4 PUSH_PROMISE with push disabled");
      return this.#headers(b.id, b.flags, b.dep, concat(...b.parts));
    }
    if (f.type === T.CONTINUATION) {
      return this.#fail([PROTOCOL_ERROR], "6.10 CONTINUATION without HEADERS");
    }
    const bad = frameError(f);
    if (!this.gotFirst && !(f.type === T.SETTINGS && (f.flags & F.ACK) === 0)) {
      const codes = [PROTOCOL_ERROR, ...(bad?.codes ?? [])];
      if (
        (f.type === T.HEADERS || f.type === T.PUSH_PROMISE) && (f.flags & F.END_HEADERS) === 0
      ) codes.push(FRAME_SIZE_ERROR);
      return this.#fail(codes, "3.4 a server preface not starting with SETTINGS");
    }
    if (bad !== null) {
      const codes = this.gotFirst ? bad.codes : [...bad.codes, PROTOCOL_ERROR];
      if (bad.scope === "connection") return this.#fail(codes, bad.rule);
      return this.#streamErrorId(f.id, bad.codes, bad.rule, f.type);
    }
    switch (f.type) {
      case T.DATA:
        return this.#data(f);
      case T.HEADERS:
        return this.#headersFrame(f);
      case T.RST_STREAM:
        return this.#rst(f);
      case T.SETTINGS:
        return this.#settings(f);
      case T.PUSH_PROMISE:
        if ((f.flags & F.END_HEADERS) !== 0) {
          return this.#fail([PROTOCOL_ERROR], "8.4 PUSH_PROMISE with push disabled");
        }
        this.#block = {
          id: f.id,
          push: true,
          flags: f.flags,
          dep: null,
          parts: [],
          size: f.len,
          frames: 0,
        };
        return;
      case T.PING:
        if ((f.flags & F.ACK) === 0) this.pings++;
        return;
      case T.GOAWAY:
        return this.#goaway(f);
      case T.WINDOW_UPDATE:
        return this.#windowUpdate(f);
      default:
        return; // PRIORITY (5.3.2), unknown types (4.1): ignored
    }
  }

  #data(f: Cut): void {
    const padded = (f.flags & F.PADDED) !== 0;
    const pad = padded ? f.payload[0] : 0;
    const bytes = f.payload.subarray(padded ? 1 : 0, f.len - pad);
    const n = bytes.byteLength;
    const len = f.len;
    const end = (f.flags & F.END_STREAM) !== 0;
    if (len > this.connRecvLo + this.connCredit) {
      return this.#fail([FLOW_CONTROL_ERROR], "6.9.1 DATA beyond the connection window");
    }
    if (len > this.connRecvLo) return this.#giveUp("DATA within what the client may have granted");
    this.connRecvLo -= len;
    const s = this.streams.get(f.id);
    if (s === undefined || !s.inTable) {
      this.connCredit += len;
      if (s === undefined || this.#idle(f.id)) {
        return this.#fail([PROTOCOL_ERROR], "5.1 DATA on an idle stream");
      }
      return this.#onClosed(s, "DATA");
    }
    if (s.remoteEnded) {
      this.connCredit += len;
      return this.#streamError(s, [STREAM_CLOSED], "5.1 DATA on a half-closed (remote) stream");
    }
    const over = len > s.recvLo + s.recvCredit;
    if (!s.head) {
      this.connCredit += len;
      const codes = over ? [PROTOCOL_ERROR, FLOW_CONTROL_ERROR] : [PROTOCOL_ERROR];
      return this.#streamError(s, codes, "8.1 DATA before the response head", codes.slice(1));
    }
    if (over) {
      this.connCredit += len;
      return this.#streamError(s, [FLOW_CONTROL_ERROR], "6.9.1 DATA beyond the stream window", [
        FLOW_CONTROL_ERROR,
      ]);
    }
    if (len > s.recvLo) return this.#giveUp("DATA within what the client may have granted");
    s.recvLo -= len;
    if (n !== len) {
      this.connCredit += len - n;
      s.recvCredit += len - n;
    }
    if (n === 0) {
      if (!end && ++this.#emptyData > MAX_EMPTY_DATA) return this.#giveUp("the empty DATA limit");
    } else {
      this.#emptyData = 0;
      s.received += n;
      if (s.contentLength >= 0 && s.received > s.contentLength) {
        this.connCredit += n;
        return this.#streamError(s, [PROTOCOL_ERROR], "8.1.1 DATA beyond content-length");
      }
      if (s.noBody) return this.#giveUp("DATA on a response without content");
      s.body.push(bytes.slice());
      s.buffered += n;
    }
    if (end) this.#recvEnd(s, null);
  }

  #recvEnd(s: MStream, trailers: [string, string][] | null): void {
    if (s.contentLength >= 0 && s.received !== s.contentLength) {
      return this.#streamError(s, [PROTOCOL_ERROR], "8.1.1 content-length not matched");
    }
    if (s.local === "uncertain") {
      return this.#giveUp("the response ended while the upload may or may not have");
    }
    s.remoteEnded = true;
    s.trailers = trailers;
    if (s.local === "closed") this.#close(s, "ended");
  }

  #headersFrame(f: Cut): void {
    const padded = (f.flags & F.PADDED) !== 0;
    let start = padded ? 1 : 0;
    const pad = padded ? f.payload[0] : 0;
    let dep: number | null = null;
    if ((f.flags & F.PRIORITY) !== 0) {
      dep = readU32(f.payload, start) & MAX_ID;
      start += 5;
    }
    const fragment = f.payload.subarray(start, f.len - pad);
    if ((f.flags & F.END_HEADERS) === 0) {
      this.#block = {
        id: f.id,
        push: false,
        flags: f.flags,
        dep,
        parts: [fragment],
        size: fragment.byteLength,
        frames: 0,
      };
      return;
    }
    this.#headers(f.id, f.flags, dep, fragment);
  }

  #headers(id: number, flags: number, dep: number | null, fragment: Uint8Array): void {
    const s = this.streams.get(id);
    const fields = hpackLiterals(fragment, this.#tableLimit);
    if (fields === "open") return this.#giveUp("HPACK beyond literals");
    if (fields === "error") {
      const codes: number[] = [COMPRESSION_ERROR];
      if (s === undefined || this.#idle(id)) codes.push(PROTOCOL_ERROR);
      if (s?.closed === "ended") codes.push(STREAM_CLOSED);
      return this.#fail(codes, "4.3 an HPACK decoding error");
    }
    const size = fields.reduce((n, [a, b]) => n + a.length + b.length + 32, 0);
    if (size > this.#maxList || fields.length > MAX_FIELDS) {
      return this.#giveUp("a header list too large");
    }
    const end = (flags & F.END_STREAM) !== 0;
    if (s?.inTable) {
      if (s.remoteEnded) {
        return this.#streamError(
          s,
          [STREAM_CLOSED],
          "5.1 HEADERS on a half-closed (remote) stream",
        );
      }
      if (dep === id) return this.#streamError(s, [PROTOCOL_ERROR], "5.3.1 self-dependency");
      if (!s.head) {
        const v = judgeResponse(fields);
        if (v === "open") return this.#giveUp("a response head RFC 9113 leaves to the client");
        if (v === "malformed") {
          return this.#streamError(s, [PROTOCOL_ERROR], "8.1.1 a malformed response head");
        }
        if (v.status < 200) {
          if (v.status === 101) return this.#giveUp("101 (RFC 9113 8.6 only says unsupported)");
          if (end) {
            return this.#streamError(
              s,
              [PROTOCOL_ERROR],
              "8.1 an informational head ending the stream",
            );
          }
          return;
        }
        s.head = true;
        s.req.out = { t: "resolved", status: v.status };
        s.noBody = s.req.spec.kind === "head" || v.status === 204 || v.status === 304;
        s.contentLength = s.noBody ? -1 : v.contentLength;
        if (end) this.#recvEnd(s, null);
        return;
      }
      if (!end) {
        return this.#streamError(s, [PROTOCOL_ERROR], "8.1 a second head without END_STREAM");
      }
      const t = judgeTrailers(fields);
      if (t === "open") return this.#giveUp("trailers RFC 9113 leaves to the client");
      if (t === "malformed") {
        return this.#streamError(s, [PROTOCOL_ERROR], "8.1 malformed trailers");
      }
      return this.#recvEnd(s, fields);
    }
    if (s === undefined || this.#idle(id)) {
      return this.#fail([PROTOCOL_ERROR], "5.1.1 HEADERS on a stream the client did not open");
    }
    this.#onClosed(s, "HEADERS");
  }

  #rst(f: Cut): void {
    const code = readU32(f.payload);
    const s = this.streams.get(f.id);
    if (s?.inTable) {
      if (!s.head && s.req.out.t === "pending") {
        s.req.out = code === REFUSED_STREAM
          ? { t: "retryable" }
          : { t: "rejected", codes: [code], scope: "stream", remote: true };
      }
      this.rules.add("8.7 RST_STREAM fails the request");
      return this.#close(s, "resetRemote");
    }
    if (s === undefined || this.#idle(f.id)) {
      return this.#fail([PROTOCOL_ERROR], "6.4 RST_STREAM on an idle stream");
    }
  }

  #settings(f: Cut): void {
    if ((f.flags & F.ACK) !== 0) {
      if (!this.acked) {
        this.acked = true;
        const delta = this.#iws - this.#preAck;
        for (const s of this.streams.values()) if (s.inTable) s.recvLo += delta;
      }
      return;
    }
    const pairs: [number, number][] = [];
    for (let i = 0; i < f.len; i += 6) {
      pairs.push([(f.payload[i] << 8) | f.payload[i + 1], readU32(f.payload, i + 2)]);
    }
    // Values RFC 9113 6.5.2 forbids: the frame is refused whole, with any of their codes.
    const codes: number[] = [];
    for (const [id, v] of pairs) {
      if (id === S.ENABLE_PUSH && v > 1) codes.push(PROTOCOL_ERROR);
      if (id === S.INITIAL_WINDOW_SIZE && v > MAX_WINDOW) codes.push(FLOW_CONTROL_ERROR);
      if (id === S.MAX_FRAME_SIZE && (v < 16384 || v > 16777215)) codes.push(PROTOCOL_ERROR);
      if (id === 8 && v > 1) return this.#giveUp("SETTINGS_ENABLE_CONNECT_PROTOCOL above 1");
    }
    if (codes.length > 0) {
      if (!this.gotFirst) codes.push(PROTOCOL_ERROR);
      for (const [id, v] of pairs) if (id === S.ENABLE_PUSH && v === 1) codes.push(PROTOCOL_ERROR);
      return this.#fail(codes, "6.5.2 a SETTINGS value out of range");
    }
    this.gotFirst = true;
    if (!this.peerSettings) this.mcs = Infinity;
    for (const [id, v] of pairs) {
      switch (id) {
        case S.ENABLE_PUSH:
          if (v === 1) return this.#fail([PROTOCOL_ERROR], "6.5.2 ENABLE_PUSH 1 from a server");
          break;
        case S.MAX_CONCURRENT_STREAMS:
          this.mcs = v;
          break;
        case S.INITIAL_WINDOW_SIZE: {
          const delta = v - this.peerIws;
          this.peerIws = v;
          for (const s of this.streams.values()) {
            if (!s.inTable) continue;
            const hi = s.sendHi + delta;
            if (hi - s.pending > MAX_WINDOW) {
              return this.#fail(
                [FLOW_CONTROL_ERROR],
                "6.9.2 SETTINGS_INITIAL_WINDOW_SIZE overflowing a stream window",
              );
            }
            if (hi > MAX_WINDOW) return this.#giveUp("a window that may or may not overflow");
            s.sendHi = hi;
            if (delta > 0 && s.pending > 0) s.local = "uncertain";
          }
          break;
        }
      }
    }
    this.peerSettings = true;
    this.#drainQueue();
  }

  #goaway(f: Cut): void {
    const last = readU32(f.payload) & MAX_ID;
    if (this.goAway !== null && last > this.goAway) {
      return this.#giveUp("a GOAWAY raising its last-stream-id (6.8: the sender MUST NOT)");
    }
    this.goAway = last;
    this.rules.add("6.8 GOAWAY");
    for (const s of [...this.streams.values()]) {
      if (!s.inTable || s.id <= last) continue;
      if (!s.head && s.req.out.t === "pending") s.req.out = { t: "retryable" };
      this.#close(s, "resetLocal");
    }
    for (const q of this.queue.splice(0)) q.out = { t: "retryable" };
    this.#maybeFinish();
  }

  #windowUpdate(f: Cut): void {
    const inc = readU32(f.payload) & MAX_WINDOW;
    if (f.id === 0) {
      let pending = 0;
      for (const s of this.streams.values()) if (s.inTable) pending += s.pending;
      const hi = this.connSendHi + inc;
      if (hi - pending > MAX_WINDOW) {
        return this.#fail(
          [FLOW_CONTROL_ERROR],
          "6.9.1 WINDOW_UPDATE overflowing the connection window",
        );
      }
      if (hi > MAX_WINDOW) return this.#giveUp("a window that may or may not overflow");
      this.connSendHi = hi;
      for (const s of this.streams.values()) if (s.inTable && s.pending > 0) s.local = "uncertain";
      return;
    }
    const s = this.streams.get(f.id);
    if (s?.inTable) {
      const hi = s.sendHi + inc;
      if (hi - s.pending > MAX_WINDOW) {
        return this.#streamError(
          s,
          [FLOW_CONTROL_ERROR],
          "6.9.1 WINDOW_UPDATE overflowing a stream window",
        );
      }
      if (hi > MAX_WINDOW) return this.#giveUp("a window that may or may not overflow");
      s.sendHi = hi;
      if (s.pending > 0) s.local = "uncertain";
      return;
    }
    if (s === undefined || this.#idle(f.id)) {
      return this.#fail([PROTOCOL_ERROR], "5.1 WINDOW_UPDATE on an idle stream");
    }
  }
}

/** What a frame's own fields break (RFC 9113 section 6), whatever the state. */
function frameError(
  f: Cut,
): { scope: "connection" | "stream"; codes: number[]; rule: string } | null {
  const conn = (codes: number[], rule: string) => ({ scope: "connection" as const, codes, rule });
  const padded = (f.flags & F.PADDED) !== 0;
  /** Padding rules of DATA (fixed 0), HEADERS (5 with PRIORITY) and PUSH_PROMISE (4). */
  const padding = (fixed: number, rule: string) => {
    const min = (padded ? 1 : 0) + fixed;
    if (f.len < min) return conn([FRAME_SIZE_ERROR], `${rule} too short`);
    if (!padded) return null;
    const pad = f.payload[0];
    if (pad >= f.len) return conn([PROTOCOL_ERROR], `${rule} padding as long as the payload`);
    if (pad > f.len - min) return conn([PROTOCOL_ERROR, FRAME_SIZE_ERROR], `${rule} padding`);
    return null;
  };
  switch (f.type) {
    case T.DATA:
      if (f.id === 0) return conn([PROTOCOL_ERROR], "6.1 DATA on stream 0");
      return padding(0, "6.1 DATA");
    case T.HEADERS:
      if (f.id === 0) return conn([PROTOCOL_ERROR], "6.2 HEADERS on stream 0");
      return padding((f.flags & F.PRIORITY) !== 0 ? 5 : 0, "6.2 HEADERS");
    case T.PRIORITY:
      if (f.id === 0) return conn([PROTOCOL_ERROR], "6.3 PRIORITY on stream 0");
      if (f.len !== 5) {
        return { scope: "stream", codes: [FRAME_SIZE_ERROR], rule: "6.3 PRIORITY not 5 bytes" };
      }
      if ((readU32(f.payload) & MAX_ID) === f.id) {
        return { scope: "stream", codes: [PROTOCOL_ERROR], rule: "5.3.1 self-dependency" };
      }
      return null;
    case T.RST_STREAM:
      if (f.id === 0) return conn([PROTOCOL_ERROR], "6.4 RST_STREAM on stream 0");
      if (f.len !== 4) return conn([FRAME_SIZE_ERROR], "6.4 RST_STREAM not 4 bytes");
      return null;
    case T.SETTINGS:
      if (f.id !== 0) return conn([PROTOCOL_ERROR], "6.5 SETTINGS on a stream");
      if ((f.flags & F.ACK) !== 0 && f.len > 0) {
        return conn([FRAME_SIZE_ERROR], "6.5 SETTINGS ACK with a payload");
      }
      if (f.len % 6 !== 0) return conn([FRAME_SIZE_ERROR], "6.5 SETTINGS not a multiple of 6");
      return null;
    case T.PUSH_PROMISE: {
      // 8.4: refused with push disabled whatever else is wrong with it.
      if (f.id === 0) return conn([PROTOCOL_ERROR], "6.6 PUSH_PROMISE on stream 0");
      const bad = padding(4, "6.6 PUSH_PROMISE");
      return bad === null ? null : conn([...bad.codes, PROTOCOL_ERROR], bad.rule);
    }
    case T.PING:
      if (f.id !== 0) return conn([PROTOCOL_ERROR], "6.7 PING on a stream");
      if (f.len !== 8) return conn([FRAME_SIZE_ERROR], "6.7 PING not 8 bytes");
      return null;
    case T.GOAWAY:
      if (f.id !== 0) return conn([PROTOCOL_ERROR], "6.8 GOAWAY on a stream");
      if (f.len < 8) return conn([FRAME_SIZE_ERROR], "6.8 GOAWAY shorter than 8 bytes");
      return null;
    case T.WINDOW_UPDATE:
      if (f.len !== 4) return conn([FRAME_SIZE_ERROR], "6.9 WINDOW_UPDATE not 4 bytes");
      if ((readU32(f.payload) & MAX_WINDOW) !== 0) return null;
      if (f.id === 0) return conn([PROTOCOL_ERROR], "6.9 WINDOW_UPDATE of 0 on the connection");
      return { scope: "stream", codes: [PROTOCOL_ERROR], rule: "6.9 WINDOW_UPDATE of 0" };
    default:
      return null;
  }
}

// ---------------------------------------------------------------- a case

/** Who connects, with what settings, and which requests the client makes first. */
interface Setup {
  client: HTTP2SettingsInit;
  /** The raw server's SETTINGS in the handshake (handshaken cases only). */
  server: [number, number][];
  requests: ReqSpec[];
  /**
   * Whether the handshake (SETTINGS both ways and their ACKs), the requests and a PING round
   * trip come before the pieces; else the requests go out at once and the pieces are the
   * whole server side, preface included.
   */
  handshaken: boolean;
}

/** What a rule of the "RFC-fixed outcomes" test wants. */
type Expect =
  | { goaway: number }
  | { rst: number; stream: number }
  | { alive: true; request?: { index: number; error: "retryable" | number } };

/** One fuzz case: the bytes the server writes after the set-up, in pieces. */
interface Case {
  setup: Setup;
  pieces: Uint8Array[];
  /** For messages: the seed, the case index, the frames or bytes. */
  label: string;
  /** Targeted cases: what must happen, and the rule that says so. */
  expect?: Expect;
  rule?: string;
}

/** A request of the case, as it settles. */
interface Tracked {
  state: "pending" | "resolved" | "rejected";
  res: ProtocolResponse | null;
  err: unknown;
  done: Promise<void>;
}

function track(p: Promise<ProtocolResponse>): Tracked {
  const t: Tracked = { state: "pending", res: null, err: null, done: Promise.resolve() };
  t.done = p.then((res) => {
    t.state = "resolved";
    t.res = res;
  }, (err) => {
    t.state = "rejected";
    t.err = err;
  });
  return t;
}

function makeRequest(spec: ReqSpec, i: number): ProtocolRequest {
  const method = spec.kind === "get" ? "GET" : spec.kind === "head" ? "HEAD" : "POST";
  let body: ProtocolRequest["body"] = null;
  if (spec.kind === "post" || spec.kind === "upload") {
    const b = new Uint8Array(spec.size);
    for (let j = 0; j < b.byteLength; j++) b[j] = (j * 31 + i) & 0xff;
    body = b;
  } else if (spec.kind === "stream") {
    body = new ReadableStream<Uint8Array>(); // never yields: the stream stays open
  }
  return {
    method,
    url: new URL(`http://fuzz.test/${spec.kind}/${i}`),
    headers: new Headers(),
    body,
  };
}

type BodyResult = { kind: "null" } | { kind: "bytes"; bytes: Uint8Array } | {
  kind: "error";
  err: unknown;
};

async function readBody(res: ProtocolResponse): Promise<BodyResult> {
  if (res.body === null) return { kind: "null" };
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
  } catch (err) {
    return { kind: "error", err };
  }
  return { kind: "bytes", bytes: concat(...parts) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describeError(err: unknown): string {
  if (err instanceof Http2Error) {
    return `Http2Error ${err.codeName} (${err.scope}${err.remote ? ", from the server" : ""})`;
  }
  if (err instanceof Error) return err.name;
  return `not an Error: ${String(err)}`;
}

function isPingAck(f: RawFrame, payload: number[]): boolean {
  return f.type === T.PING && (f.flags & F.ACK) !== 0 && hex(f.payload) === hex(payload);
}

/** How a case ended: the probe answered, or the client's GOAWAY (then its close). */
type Outcome = { kind: "alive" } | { kind: "goaway"; code: number };

/** What a case came to, for the tests' own checks. */
interface CaseResult {
  outcome: Outcome;
  verdict: Verdict;
  check: ClientFrames;
  reqs: Tracked[];
}

/** Counts what the cases came to; printed with `FUZZ_VERBOSE=1`, and checked for coverage. */
class Tally {
  readonly counts = new Map<string, number>();

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** How many keys start with `prefix`. */
  kinds(prefix: string): number {
    return [...this.counts.keys()].filter((k) => k.startsWith(prefix)).length;
  }

  print(title: string): void {
    if (!knob("FUZZ_VERBOSE")) return;
    const rows = [...this.counts].sort((a, b) => a[0].localeCompare(b[0]));
    console.log(
      `${title}:\n${rows.map(([k, n]) => `  ${String(n).padStart(5)}  ${k}`).join("\n")}`,
    );
  }
}

/**
 * Runs one case on a new client connection: the set-up, the pieces, the probe; then judges
 * the outcome against the oracle, makes a request on a fresh stream when the connection is
 * alive, closes the server side and checks how every request and body settled.
 */
async function runCase(c: Case, tally: Tally): Promise<CaseResult> {
  const label = c.label;
  const { peer, conn } = rawPair();
  const ours = new HTTP2Settings(c.setup.client);
  const client = await Http2ClientConnection.connect(conn, { settings: ours });
  const ledger = new ServerLedger();
  const grant = Math.max(65535, ours.connectionWindowSize) - 65535;
  const check = new ClientFrames(ledger, grant, label, peer.hpack);
  const model = new Model(ours, c.setup.requests);
  const reqs: Tracked[] = [];
  let feeding = true;
  const send = async (bytes: Uint8Array) => {
    ledger.push(bytes);
    if (feeding) model.push(bytes);
    // Writes fail once the client has closed: that is one of the outcomes, read below.
    await within(
      peer.send(bytes).catch(() => {}),
      DEADLINE_MS,
      () => `${label}: the client stopped reading`,
    );
  };
  const read = async (): Promise<RawFrame | null> => {
    let f: RawFrame | null | "timeout";
    try {
      f = await peer.next(DEADLINE_MS);
    } catch (err) {
      throw new Error(`${label}: a frame of the client does not decode: ${err}`);
    }
    if (f === "timeout") throw new Error(`${label}: nothing from the client (a hang)`);
    if (f !== null) check.add(f);
    return f;
  };
  const until = async (pred: (f: RawFrame) => boolean, what: string): Promise<RawFrame> => {
    for (;;) {
      const f = await read();
      if (f === null) throw new Error(`${label}: the client closed before ${what}`);
      if (pred(f)) return f;
    }
  };
  try {
    const issue = () => {
      for (const [i, spec] of c.setup.requests.entries()) {
        reqs.push(track(client.request(makeRequest(spec, i))));
      }
      model.openRequests();
    };
    const preface = within(peer.expectPreface(), DEADLINE_MS, () => `${label}: no preface`);
    if (c.setup.handshaken) {
      await preface;
      await send(concat(settings(...c.setup.server), settingsAck()));
      await until((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0, "its SETTINGS ACK");
      issue();
      await send(ping(SETUP_PING));
      await until((f) => isPingAck(f, SETUP_PING), "the ACK of the set-up PING");
    } else {
      issue();
      await preface;
      const ids = [...model.streams.keys()];
      while (!ids.every((id) => check.endedLocal.has(id))) await until(() => true, "its requests");
    }
    model.synced(check, label);
    assertEquals(check.rsts, [], `${label}: RST_STREAM at set-up`);
    for (const piece of c.pieces) await send(piece);
    await send(concat(new Uint8Array(model.lacking()), ping(PROBE_PING)));
    feeding = false;

    // The probe's ACK, or the client's GOAWAY and close.
    let outcome: Outcome | null = null;
    while (outcome === null) {
      const f = await read();
      if (f === null) throw new Error(`${label}: the client closed without a GOAWAY`);
      if (f.type === T.GOAWAY) {
        while ((await read()) !== null) { /* checked by ClientFrames */ }
        outcome = { kind: "goaway", code: readU32(f.payload, 4) };
      } else if (isPingAck(f, PROBE_PING)) outcome = { kind: "alive" };
    }
    await turns();
    const verdict = model.verdict;
    const exact = judge(label, model, verdict, outcome, check, reqs);
    tally.add(
      outcome.kind === "alive"
        ? "outcome: alive"
        : `outcome: GOAWAY ${errorCodeName(outcome.code)}`,
    );
    for (const [, code] of check.rsts) tally.add(`RST_STREAM ${errorCodeName(code)}`);
    if (verdict.kind === "open") tally.add(`oracle gave up: ${verdict.why}`);
    else if (exact) tally.add("oracle: outcome fixed and checked");
    else tally.add("oracle: the client chose a connection error where RFC 9113 allows one");
    for (const rule of model.rules) tally.add(`rule ${rule}`);

    if (outcome.kind === "alive") {
      await probeRequest(label, client, model, exact, check, until, send, tally);
    }

    // The end: every request and body settles once the connection is gone.
    peer.close();
    await within(client.finished, DEADLINE_MS, () => `${label}: the client never closed`);
    for (const [i, t] of reqs.entries()) {
      await within(t.done, DEADLINE_MS, () => `${label}: request ${i} never settled`);
    }
    assertEquals(client.activeRequests, 0, `${label}: requests left after close`);
    assert(client.closed, `${label}: not closed`);
    for (const [i, t] of reqs.entries()) {
      const what = `${label}: request ${i} (${c.setup.requests[i].kind})`;
      if (t.state === "rejected") {
        assert(t.err instanceof Error, `${what} rejected with a non-Error: ${String(t.err)}`);
        tally.add(`request: ${describeError(t.err)}`);
        continue;
      }
      const res = t.res!;
      const body = await within(readBody(res), DEADLINE_MS, () => `${what}: the body never ended`);
      const trailers = await within(
        res.trailers.then((h): Headers | Error => h, (e: Error) => e),
        DEADLINE_MS,
        () => `${what}: the trailers never settled`,
      );
      tally.add(`request: a response, body ${body.kind}`);
      if (body.kind === "error") {
        assert(body.err instanceof Error, `${what}: the body failed with a non-Error`);
        tally.add(`body: ${describeError(body.err)}`);
      }
      const s = model.reqs[i].stream;
      if (!exact || s === null) continue;
      if (s.noBody) {
        assertEquals(body.kind, "null", `${what}: a body on a response without content`);
      } else if (s.remoteEnded) {
        const want = concat(...s.body);
        assert(
          body.kind === "bytes" && sameBytes(body.bytes, want),
          `${what}: the body is not the ${want.byteLength} bytes sent (${body.kind}${
            body.kind === "bytes" ? `, ${body.bytes.byteLength} bytes` : ""
          })`,
        );
        if (!(trailers instanceof Headers)) {
          throw new Error(`${what}: trailers failed: ${trailers}`);
        }
        assertEquals(
          [...trailers],
          [...new Headers(s.trailers ?? [])],
          `${what}: trailers`,
        );
      } else {
        assertEquals(body.kind, "error", `${what}: a body cut short ended normally`);
        assert(!(trailers instanceof Headers), `${what}: trailers of a body cut short`);
      }
    }
    return { outcome, verdict, check, reqs };
  } finally {
    peer.close();
    client.close();
    await within(client.finished, DEADLINE_MS, () => `${label}: the client never closed`)
      .catch(() => {});
  }
}

/**
 * Compares the outcome with the oracle's verdict: the connection kept or ended with the code
 * RFC 9113 wants, the RST_STREAMs, how each request settled. Returns whether the oracle fixed
 * the outcome (false when it gave up, or when the client took a connection error where the
 * RFC let it choose one).
 */
function judge(
  label: string,
  model: Model,
  verdict: Verdict,
  outcome: Outcome,
  check: ClientFrames,
  reqs: Tracked[],
): boolean {
  const rules = () => [...model.rules].join("; ");
  const got = outcome.kind === "alive"
    ? "the connection kept"
    : `GOAWAY ${errorCodeName(outcome.code)}`;
  if (verdict.kind === "open") return false;
  if (outcome.kind === "goaway" && model.alt.has(outcome.code)) {
    const wanted = verdict.kind === "goaway" ? verdict.codes : [];
    if (!wanted.includes(outcome.code)) return false;
  }
  if (verdict.kind === "alive") {
    assert(
      outcome.kind === "alive",
      `${label}: ${got}; RFC 9113 wants the connection kept (${rules()})`,
    );
    // Every PING answered (the set-up's and the probe's included), by an ACK each.
    assertEquals(check.pingAcks, model.pings, `${label}: PING ACKs`);
  } else {
    assert(
      outcome.kind === "goaway" && verdict.codes.includes(outcome.code),
      `${label}: ${got}; RFC 9113 wants GOAWAY ${codeSet(verdict.codes)} (${verdict.rule})`,
    );
  }
  // The RST_STREAMs: each one expected, every one required sent.
  const expected = [...model.rsts];
  for (const [id, code] of check.rsts) {
    const i = expected.findIndex((e) => e.id === id && e.codes.includes(code));
    assert(
      i >= 0,
      `${label}: RST_STREAM ${errorCodeName(code)} on stream ${id}, not what RFC 9113 wants (${
        expected.map((e) => `${codeSet(e.codes)} on ${e.id}`).join(", ") || "none"
      }; ${rules()})`,
    );
    expected.splice(i, 1);
  }
  const missing = expected.filter((e) => !e.optional);
  assert(
    missing.length === 0,
    `${label}: no RST_STREAM ${missing.map((e) => `${codeSet(e.codes)} on ${e.id} (${e.rule})`)}`,
  );
  // How each request settled so far.
  for (const [i, m] of model.reqs.entries()) {
    const a = reqs[i];
    const what = `${label}: request ${i} (${m.spec.kind}, stream ${m.stream?.id ?? "queued"})`;
    const state = a.state === "rejected" ? `rejected with ${describeError(a.err)}` : a.state;
    const out = m.out;
    switch (out.t) {
      case "pending":
        assertEquals(a.state, "pending", `${what}: ${state}, nothing settles it`);
        break;
      case "resolved":
        assert(a.state === "resolved", `${what}: ${state}, but its head came`);
        assertEquals(a.res!.status, out.status, `${what}: status`);
        break;
      case "retryable":
        assert(a.err instanceof RetryableRequestError, `${what}: ${state}, not retryable`);
        break;
      case "rejected": {
        const err = a.err;
        assert(
          err instanceof Http2Error && out.codes.includes(err.code) && err.scope === out.scope &&
            err.remote === out.remote,
          `${what}: ${state}, wanted Http2Error ${codeSet(out.codes)} (${out.scope}${
            out.remote ? ", from the server" : ""
          })`,
        );
        break;
      }
      case "conn": {
        const err = a.err;
        const code = outcome.kind === "goaway" ? outcome.code : -1;
        assert(
          err instanceof Http2Error && err.code === code && err.scope === "connection",
          `${what}: ${state}, wanted the connection error ${errorCodeName(code)}`,
        );
        break;
      }
    }
  }
  return true;
}

/**
 * On a connection kept: a GOAWAY received makes a new request retryable at once; else a
 * request on a fresh stream (when the stream limit allows) gets its answer.
 */
async function probeRequest(
  label: string,
  client: Http2ClientConnection,
  model: Model,
  exact: boolean,
  check: ClientFrames,
  until: (pred: (f: RawFrame) => boolean, what: string) => Promise<RawFrame>,
  send: (bytes: Uint8Array) => Promise<void>,
  tally: Tally,
): Promise<void> {
  if (exact) {
    assertEquals(client.closed, model.goAway !== null, `${label}: closed after a GOAWAY`);
    assertEquals(
      client.available,
      model.goAway === null && model.queue.length === 0 && model.tableSize < model.mcs,
      `${label}: available`,
    );
  }
  const probe = makeRequest({ kind: "get", size: 0 }, 99);
  if (client.closed) {
    const err = await within(
      client.request(probe).then(() => null, (e) => e),
      DEADLINE_MS,
      () => `${label}: a request after GOAWAY`,
    );
    assert(err instanceof RetryableRequestError, `${label}: a request after GOAWAY: ${err}`);
    return;
  }
  if (!client.available) return;
  const opened = check.opened.length;
  const t = track(client.request(probe));
  const h = await until(() => check.opened.length > opened, "the probe request");
  if (exact) assertEquals(h.streamId, model.nextId, `${label}: the probe's stream`);
  await send(headers(h.streamId, [[":status", "200"], ["x-probe", "1"]], { endStream: true }));
  await within(t.done, DEADLINE_MS, () => `${label}: the probe request`);
  assert(t.state === "resolved", `${label}: the probe request failed: ${describeError(t.err)}`);
  assertEquals([t.res!.status, t.res!.headers.get("x-probe")], [200, "1"], `${label}: probe`);
  const body = await within(readBody(t.res!), DEADLINE_MS, () => `${label}: the probe's body`);
  assert(body.kind === "bytes" && body.bytes.byteLength === 0, `${label}: the probe's body`);
  tally.add("probe request answered");
}

// ---------------------------------------------------------------- the server's frames

/** Fields a response may carry. */
const GOOD_FIELDS: [string, string][] = [
  ["content-type", "text/plain"],
  ["cache-control", "no-store"],
  ["set-cookie", "a=1; Path=/"],
  ["x-obs-text", "caf\xe9"],
  ["server", "fuzz/1.0"],
  ["vary", "accept-encoding"],
  ["x-empty", ""],
  ["x-long", "v".repeat(300)],
];

/** Response heads RFC 9113 makes malformed (sections 8.1.1, 8.2.1, 8.2.2, 8.3, 8.3.2). */
const MALFORMED_HEADS: [string, string][][] = [
  [["content-type", "text/plain"]], // no :status
  [[":status", "200"], ["Content-Type", "text/plain"]], // uppercase
  [["x-a", "1"], [":status", "200"]], // a pseudo-header after a regular one
  [[":status", "200"], ["connection", "close"]],
  [[":status", "200"], ["keep-alive", "timeout=5"]],
  [[":status", "200"], ["transfer-encoding", "chunked"]],
  [[":status", "200"], ["upgrade", "h2c"]],
  [[":status", "200"], ["proxy-connection", "keep-alive"]],
  [[":status", "2000"]],
  [[":status", "20"]],
  [[":status", "abc"]],
  [[":status", ""]],
  [[":status", " 200"]],
  [[":status", "200"], [":status", "204"]],
  [[":status", "200"], [":path", "/"]],
  [[":method", "GET"], [":status", "200"]],
  [[":Status", "200"]],
  [[":status", "200"], [":foo", "x"]],
  [[":status", "200"], ["x-nul", "a\x00b"]],
  [[":status", "200"], ["x-crlf", "a\r\nb"]],
  [[":status", "200"], ["x-lead", " v"]],
  [[":status", "200"], ["x-trail", "v\t"]],
  [[":status", "200"], ["x:colon", "1"]],
  [[":status", "200"], ["x sp", "1"]],
  [[":status", "200"], ["x-\x7f", "1"]],
  [[":status", "200"], ["x-\xe9", "1"]],
];

const INFORMATIONAL: [string, string][][] = [
  [[":status", "100"]],
  [[":status", "103"], ["link", "</s.css>; rel=preload"]],
  [[":status", "101"]],
];

const TRAILERS: [string, string][][] = [
  [["x-checksum", "abc"]],
  [["grpc-status", "0"], ["grpc-message", "ok"]],
  [],
  [[":status", "200"]],
  [["X-Upper", "1"]],
  [["connection", "close"]],
  [["x-nul", "a\x00"]],
];

/** HPACK blocks RFC 7541 makes decoding errors (index 0, truncated, size updates). */
const BAD_HPACK: number[][] = [
  [0x80],
  [0x00, 0x05, 0x61, 0x62],
  [0x00, 0x01, 0x61, 0x7f],
  [0x3f, 0xe2, 0x1f], // a table size update to 4097, above SETTINGS_HEADER_TABLE_SIZE
  [0x00, 0x01, 0x61, 0x01, 0x62, 0x20], // a size update after a field
  [0x00, 0x7f],
];

const PUSH_BLOCK = block([
  [":method", "GET"],
  [":scheme", "http"],
  [":authority", "fuzz.test"],
  [":path", "/pushed"],
]);

/** What the generator knows of the streams, so that frames mostly land where they mean something. */
interface Gen {
  r: Random;
  /** The streams the client opened at set-up. */
  open: number[];
  /** Streams given a final head, and END_STREAM, by the frames so far. */
  answered: Set<number>;
  ended: Set<number>;
  /** The lowest odd id the client has not used. */
  next: number;
  /** For indexed, Huffman-coded blocks (the oracle does not follow them). */
  hpack: HpackEncoder;
  /** The client's SETTINGS_MAX_FRAME_SIZE and SETTINGS_INITIAL_WINDOW_SIZE. */
  mfs: number;
  window: number;
}

function newGen(r: Random, setup: Setup): Gen {
  const limit = setup.handshaken
    ? setup.server.findLast(([id]) => id === S.MAX_CONCURRENT_STREAMS)?.[1] ?? Infinity
    : Infinity;
  const n = Math.min(setup.requests.length, limit);
  const ours = new HTTP2Settings(setup.client);
  const open = Array.from({ length: n }, (_, i) => 2 * i + 1);
  return {
    r,
    open,
    answered: new Set(),
    ended: new Set(),
    next: 2 * setup.requests.length + 1,
    hpack: new HpackEncoder(),
    mfs: ours.maxFrameSize,
    window: ours.initialWindowSize,
  };
}

function pickOpen(g: Gen): number {
  const live = g.open.filter((id) => !g.ended.has(id));
  if (live.length > 0) return g.r.pick(live);
  return g.open.length > 0 ? g.r.pick(g.open) : g.next;
}

function pickAwaiting(g: Gen): number {
  const waiting = g.open.filter((id) => !g.answered.has(id));
  return waiting.length > 0 ? g.r.pick(waiting) : pickOpen(g);
}

function pickAnswered(g: Gen): number {
  const live = g.open.filter((id) => g.answered.has(id) && !g.ended.has(id));
  return live.length > 0 ? g.r.pick(live) : pickOpen(g);
}

/** Any kind of stream id: open, idle (odd or even), huge, 0, the reserved bit set. */
function pickId(g: Gen): number {
  switch (g.r.int(10)) {
    case 0:
      return 0;
    case 1:
      return g.next + 2 * g.r.int(3);
    case 2:
      return 2 * (1 + g.r.int(4));
    case 3:
      return g.r.pick([MAX_ID, MAX_ID - 1]);
    case 4:
      return (0x80000000 + pickOpen(g)) >>> 0;
    default:
      return pickOpen(g);
  }
}

/** A field block: literal (the oracle follows it) or, now and then, HPACK's own. */
function fieldBlock(g: Gen, fields: [string, string][]): Uint8Array {
  return g.r.int(8) === 0 ? g.hpack.encode(fields).slice() : block(fields);
}

/** A field block as HEADERS, padded or with priority now and then, or over CONTINUATIONs. */
function headFrames(g: Gen, id: number, blk: Uint8Array, endStream: boolean): Uint8Array[] {
  const r = g.r;
  const pad = r.int(6) === 0 ? r.int(20) : undefined;
  const dep = r.pick([0, 1, 3, 11]);
  const prio = r.int(8) === 0
    ? { dependency: dep === id ? 0 : dep, weight: 1 + r.int(256), exclusive: r.int(2) === 0 }
    : undefined;
  if (blk.byteLength < 2 || r.int(4) !== 0) {
    return [headers(id, blk, { endStream, pad, priority: prio })];
  }
  const cut = 1 + r.int(blk.byteLength - 1);
  const out = [
    headers(id, blk.subarray(0, cut), { endStream, endHeaders: false, pad, priority: prio }),
  ];
  let rest = blk.subarray(cut);
  while (rest.byteLength > 0) {
    if (r.int(6) === 0) out.push(continuation(id, new Uint8Array(0), false));
    const n = rest.byteLength === 1 || r.int(2) === 0
      ? rest.byteLength
      : 1 + r.int(rest.byteLength - 1);
    out.push(continuation(id, rest.subarray(0, n), n === rest.byteLength));
    rest = rest.subarray(n);
  }
  return out;
}

function responseHead(g: Gen): Uint8Array[] {
  const r = g.r;
  const id = pickAwaiting(g);
  const fields: [string, string][] = [[
    ":status",
    r.pick(["200", "200", "201", "204", "304", "404", "500"]),
  ]];
  for (let n = r.int(3); n > 0; n--) fields.push(r.pick(GOOD_FIELDS));
  if (r.int(3) === 0) {
    fields.push(["content-length", String(r.pick([0, 1, 5, 16, 100, r.int(70000)]))]);
  }
  const end = r.int(4) === 0;
  g.answered.add(id);
  if (end) g.ended.add(id);
  return headFrames(g, id, fieldBlock(g, fields), end);
}

function bodyPart(g: Gen): Uint8Array[] {
  const r = g.r;
  const id = r.int(6) === 0 ? pickOpen(g) : pickAnswered(g);
  const out: Uint8Array[] = [];
  if (r.int(5) === 0) {
    // Windows: 4 frames of 16384 are one byte beyond the default 65535.
    for (let k = 1 + r.int(5); k > 0; k--) out.push(data(id, new Uint8Array(16384)));
  } else {
    for (let k = 1 + r.int(3); k > 0; k--) {
      out.push(data(id, r.bytes(r.int(120)), { pad: r.int(6) === 0 ? r.int(30) : undefined }));
    }
  }
  if (r.int(2) === 0) {
    out.push(data(id, r.bytes(r.int(20)), { endStream: true }));
    g.ended.add(id);
  }
  return out;
}

/** A response whose body fills the stream window, or goes one byte (or more) beyond it. */
function windowPart(g: Gen): Uint8Array[] {
  const r = g.r;
  const id = pickAwaiting(g);
  g.answered.add(id);
  const out = headFrames(g, id, block([[":status", "200"]]), false);
  let left = g.window + r.pick([-1, 0, 0, 1, 1, 100]);
  while (left > 0) {
    const n = Math.min(left, 16384, 1 + r.int(g.window));
    out.push(data(id, new Uint8Array(n)));
    left -= n;
  }
  return out;
}

/** A valid exchange: a head with content-length, the body, END_STREAM (or trailers). */
function completeResponse(g: Gen): Uint8Array[] {
  const r = g.r;
  const id = pickAwaiting(g);
  const body = r.bytes(r.int(200));
  const out = headFrames(
    g,
    id,
    fieldBlock(g, [[":status", "200"], ["content-length", String(body.byteLength)]]),
    false,
  );
  const trailers = r.int(3) === 0;
  if (body.byteLength > 0) out.push(data(id, body, { endStream: !trailers }));
  if (trailers || body.byteLength === 0) {
    out.push(headers(id, block([["x-trailer", "done"]]), { endStream: true }));
  }
  g.answered.add(id);
  g.ended.add(id);
  return out;
}

function trailersPart(g: Gen): Uint8Array[] {
  const id = pickAnswered(g);
  const end = g.r.int(6) !== 0;
  if (end) g.ended.add(id);
  return [headers(id, block(g.r.pick(TRAILERS)), { endStream: end })];
}

function interimPart(g: Gen): Uint8Array[] {
  return [
    headers(pickAwaiting(g), block(g.r.pick(INFORMATIONAL)), { endStream: g.r.int(6) === 0 }),
  ];
}

function malformedPart(g: Gen): Uint8Array[] {
  return headFrames(g, pickAwaiting(g), block(g.r.pick(MALFORMED_HEADS)), g.r.int(2) === 0);
}

function dataIdle(g: Gen): Uint8Array[] {
  const id = g.r.pick([g.next, g.next + 2, 2, 4, MAX_ID]);
  return [data(id, g.r.bytes(1 + g.r.int(20)), { endStream: g.r.int(2) === 0 })];
}

function dataEarly(g: Gen): Uint8Array[] {
  return [data(pickAwaiting(g), g.r.bytes(1 + g.r.int(20)))];
}

function continuationGames(g: Gen): Uint8Array[] {
  const r = g.r;
  const id = pickAwaiting(g);
  const other = g.open.find((x) => x !== id) ?? g.next;
  const blk = block([[":status", "200"], ["x-a", "1"]]);
  const cut = 1 + r.int(blk.byteLength - 1);
  const first = headers(id, blk.subarray(0, cut), { endHeaders: false, endStream: r.int(2) === 0 });
  switch (r.int(5)) {
    case 0: // interrupted
      return [
        first,
        r.pick([
          ping(),
          data(id, "x"),
          headers(other, blk),
          priority(id, 0),
          frame(0xfa, 0, 0, [1]),
          rst(id, CANCEL),
          windowUpdate(0, 1),
        ]),
      ];
    case 1: // on another stream
      return [first, continuation(other, blk.subarray(cut), true)];
    case 2: // alone
      return [continuation(id, blk.subarray(cut), r.int(2) === 0)];
    case 3: // left open: the probe interrupts it
      return [first];
    default: { // valid, with empty CONTINUATIONs
      g.answered.add(id);
      const out = [first];
      for (let n = r.int(4); n > 0; n--) out.push(continuation(id, new Uint8Array(0), false));
      out.push(continuation(id, blk.subarray(cut), true));
      return out;
    }
  }
}

function pushPart(g: Gen): Uint8Array[] {
  const r = g.r;
  const id = pickOpen(g);
  const promised = Uint8Array.from(u32(2 * (1 + r.int(4))));
  if (r.int(3) === 0) {
    return [
      frame(T.PUSH_PROMISE, 0, id, concat(promised, PUSH_BLOCK.subarray(0, 3))),
      continuation(id, PUSH_BLOCK.subarray(3), true),
    ];
  }
  if (r.int(4) === 0) {
    const pad = r.int(10);
    return [frame(
      T.PUSH_PROMISE,
      F.END_HEADERS | F.PADDED,
      id,
      concat(Uint8Array.from([pad]), promised, PUSH_BLOCK, new Uint8Array(pad)),
    )];
  }
  return [frame(T.PUSH_PROMISE, F.END_HEADERS, id, concat(promised, PUSH_BLOCK))];
}

function rstPart(g: Gen): Uint8Array[] {
  const r = g.r;
  if (r.int(5) === 0) return [frame(T.RST_STREAM, 0, pickId(g), r.bytes(r.pick([0, 3, 5, 8])))];
  const id = r.int(3) === 0 ? pickId(g) : pickOpen(g);
  return [rst(id, r.pick([0, 1, 2, 5, 7, 7, 8, 0xb, 0xd, 0xff]))];
}

function goawayPart(g: Gen): Uint8Array[] {
  const r = g.r;
  const f = goaway(
    r.pick([0, 1, 3, 5, g.open.at(-1) ?? 0, MAX_ID, r.int(10)]),
    r.pick([0, 0, 1, 2, 0xb, 0xff]),
  );
  if (r.int(3) !== 0) return [f];
  return [frame(T.GOAWAY, 0, 0, concat(f.subarray(9), r.bytes(r.int(20))))];
}

/** A setting RFC 9113 section 6.5.2 allows (known or not). */
function validSetting(r: Random): [number, number] {
  return r.pick<() => [number, number]>([
    () => [S.MAX_CONCURRENT_STREAMS, r.pick([0, 1, 2, 100, MAX_ID])],
    () => [S.HEADER_TABLE_SIZE, r.pick([0, 100, 4096, 65536])],
    () => [S.INITIAL_WINDOW_SIZE, r.pick([0, 1, 1000, 65535, 65536, 1 << 20, MAX_WINDOW])],
    () => [S.MAX_FRAME_SIZE, r.pick([16384, 16385, 1 << 20, 16777215])],
    () => [S.MAX_HEADER_LIST_SIZE, r.pick([1, 100, 65536])],
    () => [S.ENABLE_PUSH, 0],
    () => [r.pick([0, 7, 9, 0x10, 0xffff]), r.int(2)],
  ])();
}

/** A setting RFC 9113 section 6.5.2 makes a connection error. */
function invalidSetting(r: Random): [number, number] {
  return r.pick<() => [number, number]>([
    () => [S.ENABLE_PUSH, r.pick([1, 1, 2, 0xffffffff])],
    () => [S.INITIAL_WINDOW_SIZE, r.pick([0x80000000, 0xffffffff])],
    () => [S.MAX_FRAME_SIZE, r.pick([0, 16383, 16777216, 0xffffffff])],
  ])();
}

function settingsPart(g: Gen): Uint8Array[] {
  const r = g.r;
  switch (r.int(10)) {
    case 0:
      return [settingsAck()];
    case 1:
      return [frame(T.SETTINGS, F.ACK, 0, r.bytes(6))];
    case 2:
      return [frame(T.SETTINGS, 0, 0, r.bytes(r.pick([1, 5, 7, 11])))];
    case 3:
      return [frame(T.SETTINGS, 0, pickOpen(g))];
    default: {
      const pairs: [number, number][] = [];
      for (let n = 1 + r.int(3); n > 0; n--) {
        pairs.push(r.int(3) === 0 ? invalidSetting(r) : validSetting(r));
      }
      return [settings(...pairs)];
    }
  }
}

function windowUpdatePart(g: Gen): Uint8Array[] {
  const r = g.r;
  if (r.int(8) === 0) {
    return [
      frame(T.WINDOW_UPDATE, 0, r.int(2) === 0 ? 0 : pickOpen(g), r.bytes(r.pick([0, 3, 5, 8]))),
    ];
  }
  const id = r.int(3) === 0 ? 0 : r.int(4) === 0 ? pickId(g) : pickOpen(g);
  const inc = r.pick([
    0,
    0,
    1,
    100,
    65535,
    MAX_WINDOW - 65535,
    MAX_WINDOW - 65534,
    MAX_WINDOW,
    0x80000000,
    0x80000001,
    r.int(0x100000000),
  ]);
  return [windowUpdate(id, inc)];
}

function pingPart(g: Gen): Uint8Array[] {
  const r = g.r;
  switch (r.int(5)) {
    case 0:
      return [ping([...r.bytes(8)], true)];
    case 1:
      return [frame(T.PING, 0, 0, r.bytes(r.pick([0, 7, 9, 16])))];
    case 2:
      return [frame(T.PING, 0, pickOpen(g), r.bytes(8))];
    default:
      return [ping([...r.bytes(8)])];
  }
}

function priorityPart(g: Gen): Uint8Array[] {
  const r = g.r;
  const id = pickOpen(g);
  switch (r.int(5)) {
    case 0:
      return [priority(id, id)];
    case 1:
      return [frame(T.PRIORITY, 0, id, r.bytes(r.pick([0, 4, 6])))];
    case 2:
      return [priority(0, 1)];
    default: {
      const on = r.int(2) === 0 ? id : (pickId(g) || 1);
      const dep = r.pick([0, 1, 3, 7, r.int(1000)]);
      return [priority(on, dep === (on & MAX_ID) ? 0 : dep, 1 + r.int(256), r.int(2) === 0)];
    }
  }
}

function unknownPart(g: Gen): Uint8Array[] {
  const r = g.r;
  const type = r.pick([0x0a, 0x0b, 0x0c, 0x10, 0xfa, 0xff, 10 + r.int(246)]);
  return [frame(type, r.int(256), pickId(g), r.bytes(r.int(40)))];
}

function oversizedPart(g: Gen): Uint8Array[] {
  const r = g.r;
  const type = r.pick([
    T.DATA,
    T.HEADERS,
    T.PING,
    T.SETTINGS,
    T.CONTINUATION,
    T.WINDOW_UPDATE,
    0xee,
  ]);
  const id = type === T.PING || type === T.SETTINGS ? 0 : pickOpen(g);
  if (r.int(2) === 0) return [frame(type, 0, id, new Uint8Array(g.mfs + 1 + r.int(64)))];
  // A header that announces more than is ever sent: the client fails on the header.
  return [frame(type, 0, id, r.bytes(r.int(8)), r.pick([g.mfs + 1, 1 << 20, 0xffffff]))];
}

function badHpackPart(g: Gen): Uint8Array[] {
  const r = g.r;
  const id = r.int(4) === 0 ? pickId(g) || 1 : pickAwaiting(g);
  const prefix = r.int(2) === 0 ? block([[":status", "200"]]) : new Uint8Array(0);
  return [
    headers(id, concat(prefix, Uint8Array.from(r.pick(BAD_HPACK))), { endStream: r.int(2) === 0 }),
  ];
}

/** A head over the client's header list limit (64 KiB), over CONTINUATIONs. */
function hugeHead(g: Gen): Uint8Array[] {
  const r = g.r;
  const id = pickAwaiting(g);
  const blk = block([[":status", "200"], ["x-big", "b".repeat(r.pick([20_000, 70_000]))]]);
  const out = [headers(id, blk.subarray(0, 16384), { endHeaders: false })];
  for (let at = 16384; at < blk.byteLength; at += 16384) {
    out.push(continuation(id, blk.subarray(at, at + 16384), at + 16384 >= blk.byteLength));
  }
  return out;
}

/** More CONTINUATION frames, or empty DATA frames, than the client allows. */
function flood(g: Gen): Uint8Array[] {
  const r = g.r;
  const id = pickAwaiting(g);
  const n = r.pick([60, 70, 110]);
  if (r.int(2) === 0) {
    const out = [headers(id, OK_HEAD.subarray(0, 1), { endHeaders: false })];
    for (let i = 0; i < n; i++) out.push(continuation(id, new Uint8Array(0), false));
    out.push(continuation(id, OK_HEAD.subarray(1), true));
    return out;
  }
  g.answered.add(id);
  const out = [headers(id, OK_HEAD)];
  for (let i = 0; i < n; i++) out.push(data(id, new Uint8Array(0)));
  return out;
}

const OK_HEAD = block([[":status", "200"]]);

function rawPart(g: Gen): Uint8Array[] {
  const r = g.r;
  return [frame(r.int(10), r.int(256), pickId(g), r.bytes(r.int(24)))];
}

const PARTS: ((g: Gen) => Uint8Array[])[] = [
  responseHead,
  responseHead,
  responseHead,
  completeResponse,
  completeResponse,
  bodyPart,
  bodyPart,
  bodyPart,
  windowPart,
  trailersPart,
  interimPart,
  malformedPart,
  malformedPart,
  dataIdle,
  dataEarly,
  continuationGames,
  continuationGames,
  pushPart,
  rstPart,
  rstPart,
  goawayPart,
  goawayPart,
  settingsPart,
  settingsPart,
  windowUpdatePart,
  windowUpdatePart,
  pingPart,
  priorityPart,
  unknownPart,
  oversizedPart,
  badHpackPart,
  hugeHead,
  flood,
  rawPart,
];

/** A frame as built, then maybe broken: its flags, stream id, payload or length field. */
function breakFrame(r: Random, g: Gen, f: Uint8Array, rate: number): Uint8Array {
  return breakSome(r, f, rate, () => pickId(g), (n) => [
    0,
    Math.max(0, n - 1 - r.int(4)),
    n + 1 + r.int(4),
    r.int(64),
  ]);
}

/** 1-6 random parts (mostly fewer) after the set-up, their frames now and then broken. */
function frameCase(r: Random, label: string, setup: Setup, parts = PARTS): Case {
  const g = newGen(r, setup);
  const rate = r.pick([0, 0, 0, 0.05, 0.15]);
  const frames: Uint8Array[] = [];
  for (let n = 1 + r.int(r.pick([2, 4, 6])); n > 0; n--) {
    for (const f of r.pick(parts)(g)) frames.push(breakFrame(r, g, f, rate));
  }
  const pieces = r.split(concat(...frames));
  return {
    setup,
    pieces,
    label: `${label}: requests ${setup.requests.map((q) => q.kind)}, server SETTINGS ${
      JSON.stringify(setup.server)
    }, frames [${frames.map(describeFrame).join("; ")}] written in pieces of ${
      pieces.map((p) => p.byteLength).join(" + ")
    } bytes`,
  };
}

/** Runs cases `0 .. count - 1` of a seed (or `FUZZ_SEED`; only `FUZZ_CASE` if set). */
async function fuzz(
  name: string,
  fixedSeed: number,
  count: number,
  makeCase: (r: Random, label: string, index: number) => Case,
  after?: (c: Case, result: CaseResult) => void,
): Promise<{ tally: Tally; full: boolean }> {
  const seed = knob("FUZZ_SEED") ?? fixedSeed;
  const only = knob("FUZZ_CASE");
  const tally = new Tally();
  for (let i = 0; i < count; i++) {
    if (only !== null && i !== only) continue;
    const label = `seed ${seed} case ${i} (replay: FUZZ_SEED=${seed} FUZZ_CASE=${i} deno test -A ` +
      `tests/http2/client_fuzz_test.ts --filter "${name}")`;
    const c = makeCase(caseRandom(seed, i), label, i);
    const result = await runCase(c, tally);
    after?.(c, result);
    tally.add("cases");
  }
  tally.print(name);
  return { tally, full: only === null && seed === fixedSeed };
}

/** Minimum counts a run must reach, so that it keeps testing something. */
function assertReached(tally: Tally, min: Record<string, number>): void {
  const summary = JSON.stringify(Object.fromEntries(tally.counts));
  for (const [key, n] of Object.entries(min)) {
    const got = key.endsWith("*") ? tally.kinds(key.slice(0, -1)) : tally.get(key);
    assert(got >= n, `${key}: ${got} < ${n}; ${summary}`);
  }
}

// ---------------------------------------------------------------- random frames

function requestsOf(r: Random, kinds: ReqKind[]): ReqSpec[] {
  const out: ReqSpec[] = [];
  for (let n = 1 + r.int(3); n > 0; n--) {
    const kind = r.pick(kinds);
    out.push({ kind, size: kind === "upload" ? 20_000 + r.int(80_000) : 1 + r.int(64) });
  }
  return out;
}

Deno.test("client fuzz: random server frames after the handshake", async () => {
  const name = "client fuzz: random server frames after the handshake";
  const { tally, full } = await fuzz(name, 0xc11e0001, 700, (r, label) => {
    const setup: Setup = {
      client: {},
      server: r.pick<[number, number][]>([
        [],
        [],
        [],
        [[S.MAX_CONCURRENT_STREAMS, r.pick([0, 1, 2])]],
        [[S.INITIAL_WINDOW_SIZE, r.pick([0, 100])]],
        [[S.MAX_FRAME_SIZE, 1 << 20]],
        [[S.HEADER_TABLE_SIZE, 0]],
      ]),
      requests: requestsOf(r, ["get", "get", "head", "post", "stream"]),
      handshaken: true,
    };
    return frameCase(r, label, setup);
  });
  if (full) {
    assertReached(tally, {
      "outcome: alive": 160,
      "outcome: GOAWAY*": 7,
      "oracle: outcome fixed and checked": 470,
      "RST_STREAM*": 4,
      "probe request answered": 140,
      "rule *": 40,
    });
  }
});

Deno.test("client fuzz: random server frames against small stream windows and uploads", async () => {
  const name = "client fuzz: random server frames against small stream windows and uploads";
  const { tally, full } = await fuzz(name, 0xc11e0002, 400, (r, label) => {
    const setup: Setup = {
      client: { initialWindowSize: 1000, connectionWindowSize: 1 << 20, maxFrameSize: 32768 },
      server: [
        [S.INITIAL_WINDOW_SIZE, r.pick([0, 100, 5000, 65535, 1 << 20])],
        ...(r.int(3) === 0
          ? [[S.MAX_FRAME_SIZE, r.pick([16384, 1 << 20])] as [number, number]]
          : []),
      ],
      requests: requestsOf(r, ["get", "post", "upload", "upload", "stream"]),
      handshaken: true,
    };
    return frameCase(r, label, setup, [
      ...PARTS,
      windowPart,
      windowPart,
      windowPart,
      windowUpdatePart,
    ]);
  });
  if (full) {
    assertReached(tally, {
      "outcome: alive": 125,
      "outcome: GOAWAY*": 6,
      "oracle: outcome fixed and checked": 270,
      "rule 6.9.1 DATA beyond the stream window": 15,
      "RST_STREAM FLOW_CONTROL_ERROR": 15,
      "probe request answered": 110,
      "rule *": 32,
    });
  }
});

// ---------------------------------------------------------------- byte-level mutation

/** A valid server session: the preface SETTINGS, the ACK, a response to each request. */
function session(r: Random, requests: ReqSpec[]): Uint8Array {
  const hpack = r.int(4) === 0 ? new HpackEncoder() : null;
  const pairs: [number, number][] = [];
  for (let n = r.int(3); n > 0; n--) pairs.push(validSetting(r));
  const frames = [settings(...pairs), settingsAck()];
  for (const [i, q] of requests.entries()) {
    const id = 2 * i + 1;
    const body = q.kind === "head" ? new Uint8Array(0) : r.bytes(r.int(60));
    const fields: [string, string][] = [[":status", r.pick(["200", "200", "404"])], [
      "content-type",
      "text/plain",
    ]];
    if (r.int(2) === 0 && q.kind !== "head") {
      fields.push(["content-length", String(body.byteLength)]);
    }
    const blk = hpack !== null ? hpack.encode(fields).slice() : block(fields);
    const trailers = q.kind !== "head" && r.int(4) === 0;
    if (body.byteLength === 0 && !trailers) {
      frames.push(headers(id, blk, { endStream: true }));
      continue;
    }
    frames.push(headers(id, blk));
    if (body.byteLength > 0) frames.push(data(id, body, { endStream: !trailers }));
    if (trailers) frames.push(headers(id, block([["x-trailer", "1"]]), { endStream: true }));
  }
  if (r.int(3) === 0) frames.push(ping([...r.bytes(8)]));
  if (r.int(3) === 0) frames.push(windowUpdate(0, 1 + r.int(1000)));
  return concat(...frames);
}

Deno.test("client fuzz: mutated server sessions split across writes", async () => {
  const name = "client fuzz: mutated server sessions split across writes";
  const { tally, full } = await fuzz(name, 0xc11e0004, 600, (r, label) => {
    const setup: Setup = {
      client: {},
      server: [],
      requests: requestsOf(r, ["get", "head", "post"]),
      handshaken: false,
    };
    const bytes = r.mutate(session(r, setup.requests), 1 + r.int(2));
    const pieces = r.split(bytes);
    return {
      setup,
      pieces,
      label: `${label}: requests ${setup.requests.map((q) => q.kind)}, bytes written as ${
        pieces.map((p) => hex(p)).join(" | ")
      }`,
    };
  });
  if (full) {
    assertReached(tally, {
      "outcome: alive": 55,
      "outcome: GOAWAY*": 3,
      "oracle: outcome fixed and checked": 320,
      "rule 3.4 a server preface not starting with SETTINGS": 5,
      "rule *": 15,
    });
  }
});

// ---------------------------------------------------------------- outcomes RFC 9113 fixes

/** A rule: its section, what the server does, and what the client must do. */
interface Rule {
  rfc: string;
  what: string;
  /** The frames; at set-up the client opened 1 (a GET), 3 (a small POST) and 5 (a body stream). */
  frames: (r: Random) => Uint8Array[];
  expect: Expect;
  /** The frames are the server's preface (no handshake before them). */
  preface?: boolean;
}

const RULES: Rule[] = [
  {
    rfc: "8.4, 6.6",
    what: "PUSH_PROMISE while push is disabled",
    frames: (r) => {
      const promised = Uint8Array.from(u32(2 * (1 + r.int(4))));
      const id = r.pick([1, 3, 5]);
      if (r.int(2) === 0) {
        return [frame(T.PUSH_PROMISE, F.END_HEADERS, id, concat(promised, PUSH_BLOCK))];
      }
      return [
        frame(T.PUSH_PROMISE, 0, id, concat(promised, PUSH_BLOCK.subarray(0, 4))),
        continuation(id, PUSH_BLOCK.subarray(4), true),
      ];
    },
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.5.2",
    what: "SETTINGS_ENABLE_PUSH 1 from a server",
    frames: () => [settings([S.ENABLE_PUSH, 1])],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.5.2",
    what: "SETTINGS_ENABLE_PUSH neither 0 nor 1",
    frames: (r) => [settings([S.ENABLE_PUSH, r.pick([2, 0xffffffff])])],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.5.2",
    what: "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
    frames: (r) => [settings([S.INITIAL_WINDOW_SIZE, r.pick([0x80000000, 0xffffffff])])],
    expect: { goaway: FLOW_CONTROL_ERROR },
  },
  {
    rfc: "6.5.2",
    what: "SETTINGS_MAX_FRAME_SIZE below 2^14",
    frames: (r) => [settings([S.MAX_FRAME_SIZE, r.pick([0, 16383])])],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.5.2",
    what: "SETTINGS_MAX_FRAME_SIZE above 2^24-1",
    frames: (r) => [settings([S.MAX_FRAME_SIZE, r.pick([16777216, 0xffffffff])])],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.5",
    what: "SETTINGS of a length not a multiple of 6",
    frames: (r) => [frame(T.SETTINGS, 0, 0, r.bytes(r.pick([1, 4, 7])))],
    expect: { goaway: FRAME_SIZE_ERROR },
  },
  {
    rfc: "6.5",
    what: "SETTINGS ACK with a payload",
    frames: (r) => [frame(T.SETTINGS, F.ACK, 0, r.bytes(6))],
    expect: { goaway: FRAME_SIZE_ERROR },
  },
  {
    rfc: "6.5",
    what: "SETTINGS on a stream",
    frames: (r) => [frame(T.SETTINGS, 0, r.pick([1, 3, 7]))],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "4.2",
    what: "a frame over SETTINGS_MAX_FRAME_SIZE",
    frames: (r) => {
      const type = r.pick([T.DATA, T.HEADERS, T.PING, 0xee]);
      const id = type === T.PING ? 0 : 1;
      if (r.int(2) === 0) return [frame(type, 0, id, new Uint8Array(16385 + r.int(100)))];
      return [frame(type, 0, id, new Uint8Array(0), r.pick([16385, 1 << 20, 0xffffff]))];
    },
    expect: { goaway: FRAME_SIZE_ERROR },
  },
  {
    rfc: "6.9",
    what: "WINDOW_UPDATE of 0 on the connection",
    frames: () => [windowUpdate(0, 0)],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.9",
    what: "WINDOW_UPDATE of 0 on a stream",
    frames: () => [windowUpdate(3, 0)],
    expect: { rst: PROTOCOL_ERROR, stream: 3 },
  },
  {
    rfc: "6.9.1",
    what: "WINDOW_UPDATE overflowing the connection window",
    frames: (r) => [windowUpdate(0, MAX_WINDOW - r.int(60000))],
    expect: { goaway: FLOW_CONTROL_ERROR },
  },
  {
    rfc: "6.9.1",
    what: "WINDOW_UPDATE overflowing a stream window",
    frames: (r) => [windowUpdate(1, MAX_WINDOW - r.int(65000))],
    expect: { rst: FLOW_CONTROL_ERROR, stream: 1 },
  },
  {
    rfc: "6.9",
    what: "WINDOW_UPDATE of a length other than 4",
    frames: (r) => [frame(T.WINDOW_UPDATE, 0, r.pick([0, 1]), r.bytes(r.pick([0, 3, 5])))],
    expect: { goaway: FRAME_SIZE_ERROR },
  },
  {
    rfc: "6.9.2",
    what: "SETTINGS_INITIAL_WINDOW_SIZE taking a stream window over 2^31-1",
    frames: (r) => [
      windowUpdate(1, MAX_WINDOW - 65535),
      settings([S.INITIAL_WINDOW_SIZE, 65536 + r.int(100)]),
    ],
    expect: { goaway: FLOW_CONTROL_ERROR },
  },
  {
    rfc: "6.9.1",
    what: "DATA beyond the connection window",
    frames: () => [
      headers(1, OK_HEAD),
      ...Array.from({ length: 4 }, () => data(1, new Uint8Array(16384))),
    ],
    expect: { goaway: FLOW_CONTROL_ERROR },
  },
  {
    rfc: "5.1",
    what: "DATA on a stream the client never opened",
    frames: (r) => [data(r.pick([7, 9, 2, 4]), "x")],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "8.1",
    what: "DATA before the response head",
    frames: () => [data(5, "x")],
    expect: { rst: PROTOCOL_ERROR, stream: 5 },
  },
  {
    rfc: "6.1",
    what: "DATA on stream 0",
    frames: () => [data(0, "x")],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.1",
    what: "DATA padding as long as the payload",
    frames: (r) => {
      const n = 1 + r.int(10);
      return [
        headers(1, OK_HEAD),
        frame(T.DATA, F.PADDED, 1, concat(Uint8Array.from([n]), new Uint8Array(n - 1))),
      ];
    },
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "5.1.1",
    what: "HEADERS on a stream the client never opened",
    frames: (r) => [headers(r.pick([7, 9, 2, 4]), OK_HEAD)],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "8.1.1, 8.2.1, 8.2.2, 8.3",
    what: "a malformed response head",
    frames: (r) => headFramesPlain(r, 3, block(r.pick(MALFORMED_HEADS))),
    expect: { rst: PROTOCOL_ERROR, stream: 3 },
  },
  {
    rfc: "8.1.1",
    what: "DATA beyond the response's content-length",
    frames:
      () => [headers(1, block([[":status", "200"], ["content-length", "3"]])), data(1, "toolong")],
    expect: { rst: PROTOCOL_ERROR, stream: 1 },
  },
  {
    rfc: "8.1.1",
    what: "END_STREAM short of the content-length",
    frames: (r) => {
      const head = block([[":status", "200"], ["content-length", "10"]]);
      if (r.int(2) === 0) return [headers(1, head, { endStream: true })];
      return [headers(1, head), data(1, "short", { endStream: true })];
    },
    expect: { rst: PROTOCOL_ERROR, stream: 1 },
  },
  {
    rfc: "8.1",
    what: "an informational head with END_STREAM",
    frames: (r) => [headers(1, block([[":status", r.pick(["100", "103"])]]), { endStream: true })],
    expect: { rst: PROTOCOL_ERROR, stream: 1 },
  },
  {
    rfc: "8.1",
    what: "a second HEADERS without END_STREAM",
    frames: () => [headers(1, OK_HEAD), headers(1, block([["x-t", "1"]]))],
    expect: { rst: PROTOCOL_ERROR, stream: 1 },
  },
  {
    rfc: "8.1",
    what: "trailers with a pseudo-header",
    frames: (
      r,
    ) => [
      headers(1, OK_HEAD),
      headers(1, block([[r.pick([":status", ":path"]), "1"]]), { endStream: true }),
    ],
    expect: { rst: PROTOCOL_ERROR, stream: 1 },
  },
  {
    rfc: "6.10",
    what: "CONTINUATION without HEADERS",
    frames: (r) => [continuation(r.pick([1, 3]), OK_HEAD, r.int(2) === 0)],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.10",
    what: "a field block interrupted by another frame",
    frames: (r) => [
      headers(1, OK_HEAD.subarray(0, 2), { endHeaders: false }),
      r.pick([ping(), data(1, "x"), frame(0xfa, 0, 0, [1]), priority(3, 0), windowUpdate(0, 1)]),
    ],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.10",
    what: "CONTINUATION on another stream",
    frames: () => [
      headers(1, OK_HEAD.subarray(0, 2), { endHeaders: false }),
      continuation(3, OK_HEAD.subarray(2), true),
    ],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "4.3 (RFC 7541 2.3.3, 4.2, 5.1, 6.1, 6.3)",
    what: "an HPACK decoding error",
    frames: (r) => [headers(r.pick([1, 3, 5]), Uint8Array.from(r.pick(BAD_HPACK)))],
    expect: { goaway: COMPRESSION_ERROR },
  },
  {
    rfc: "6.4",
    what: "RST_STREAM on an idle stream",
    frames: (r) => [rst(r.pick([7, 9, 2, 4]), CANCEL)],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.4",
    what: "RST_STREAM of a length other than 4",
    frames: (r) => [frame(T.RST_STREAM, 0, 1, r.bytes(r.pick([0, 3, 5])))],
    expect: { goaway: FRAME_SIZE_ERROR },
  },
  {
    rfc: "6.4",
    what: "RST_STREAM on stream 0",
    frames: () => [rst(0, CANCEL)],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.7",
    what: "PING of a length other than 8",
    frames: (r) => [frame(T.PING, 0, 0, r.bytes(r.pick([0, 7, 9])))],
    expect: { goaway: FRAME_SIZE_ERROR },
  },
  {
    rfc: "6.7",
    what: "PING on a stream",
    frames: (r) => [frame(T.PING, 0, 1, r.bytes(8))],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.8",
    what: "GOAWAY on a stream",
    frames: () => [frame(T.GOAWAY, 0, 1, goaway(0, 0).subarray(9))],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "6.8",
    what: "GOAWAY shorter than 8 bytes",
    frames: (r) => [frame(T.GOAWAY, 0, 0, r.bytes(r.pick([0, 4, 7])))],
    expect: { goaway: FRAME_SIZE_ERROR },
  },
  {
    rfc: "6.3",
    what: "PRIORITY of a length other than 5",
    frames: (r) => [frame(T.PRIORITY, 0, 5, r.bytes(r.pick([0, 4, 6])))],
    expect: { rst: FRAME_SIZE_ERROR, stream: 5 },
  },
  {
    rfc: "6.3",
    what: "PRIORITY on stream 0",
    frames: () => [priority(0, 1)],
    expect: { goaway: PROTOCOL_ERROR },
  },
  {
    rfc: "5.3.1",
    what: "a stream depending on itself",
    frames: (
      r,
    ) => [r.int(2) === 0 ? priority(3, 3) : headers(3, OK_HEAD, { priority: { dependency: 3 } })],
    expect: { rst: PROTOCOL_ERROR, stream: 3 },
  },
  {
    rfc: "5.1",
    what: "DATA or HEADERS after END_STREAM both ways",
    frames: (r) => [
      headers(1, OK_HEAD, { endStream: true }),
      r.int(2) === 0 ? data(1, "late") : headers(1, OK_HEAD),
    ],
    expect: { goaway: STREAM_CLOSED },
  },
  {
    rfc: "5.1",
    what: "DATA after the server's RST_STREAM",
    frames: (r) => [rst(3, r.pick([CANCEL, E.INTERNAL_ERROR])), data(3, "late")],
    expect: { rst: STREAM_CLOSED, stream: 3 },
  },
  {
    rfc: "5.1",
    what: "DATA on a half-closed (remote) stream",
    frames: () => [headers(5, OK_HEAD, { endStream: true }), data(5, "x")],
    expect: { rst: STREAM_CLOSED, stream: 5 },
  },
  {
    rfc: "4.1, 5.3.2, 6.5.2, 6.7",
    what: "frames to ignore or merely acknowledge",
    frames: (r) => {
      const out: Uint8Array[] = [];
      for (let n = 1 + r.int(4); n > 0; n--) out.push(ignorable(r));
      return out;
    },
    expect: { alive: true },
  },
  {
    rfc: "8.7",
    what: "RST_STREAM REFUSED_STREAM (retryable) or another code (that Http2Error)",
    frames: (r) => [rst(1, r.pick([REFUSED_STREAM, CANCEL, E.INTERNAL_ERROR, 0xff]))],
    expect: { alive: true },
  },
  {
    rfc: "6.8",
    what: "GOAWAY: streams above its last-stream-id retryable, the others kept",
    frames: (r) => [goaway(1, r.pick([NO_ERROR, E.INTERNAL_ERROR, E.ENHANCE_YOUR_CALM]))],
    expect: { alive: true, request: { index: 2, error: "retryable" } },
  },
  {
    rfc: "8.1, 8.3.2",
    what: "a valid response, with content-length and trailers",
    frames: (r) => [
      ...headFramesPlain(r, 3, block([[":status", "200"], ["content-length", "5"]])),
      data(3, "hello"),
      headers(3, block([["x-trailer", "1"]]), { endStream: true }),
    ],
    expect: { alive: true },
  },
  {
    rfc: "3.4",
    what: "a server preface not starting with SETTINGS",
    preface: true,
    frames: (r) => [
      r.pick([
        ping(),
        windowUpdate(0, 100),
        windowUpdate(1, 0),
        frame(T.PRIORITY, 0, 1, [0, 0, 0]),
        priority(1, 1),
        headers(1, OK_HEAD),
        data(1, "x"),
        rst(1, CANCEL),
        goaway(0, 0),
        frame(0xfa, 0, 0, [1, 2]),
        settingsAck(),
      ]),
      settings(),
      settingsAck(),
    ],
    expect: { goaway: PROTOCOL_ERROR },
  },
];

/** A field block as one HEADERS, or over CONTINUATIONs. */
function headFramesPlain(r: Random, id: number, blk: Uint8Array): Uint8Array[] {
  if (r.int(2) === 0 || blk.byteLength < 2) return [headers(id, blk)];
  const cut = 1 + r.int(blk.byteLength - 1);
  return [
    headers(id, blk.subarray(0, cut), { endHeaders: false }),
    continuation(id, blk.subarray(cut), true),
  ];
}

/** A frame the client must ignore or only acknowledge (sections 4.1, 5.3.2, 6.5.2, 6.7). */
function ignorable(r: Random): Uint8Array {
  switch (r.int(5)) {
    case 0:
      return ping([...r.bytes(8)], r.int(2) === 0);
    case 1: {
      const on = r.pick([1, 3, 5, 7, 9, 2, 4, 1001]);
      const dep = r.pick([0, 1, 3, 7, 100]);
      return priority(on, dep === on ? 0 : dep, 1 + r.int(256), r.int(2) === 0);
    }
    case 2:
      return settings([r.pick([0, 7, 9, 0x10, 0xffff]), r.int(2)]);
    default:
      return frame(
        10 + r.int(246),
        r.int(256),
        r.pick([0, 1, 3, 5, 7, 2, MAX_ID]),
        r.bytes(r.int(40)),
      );
  }
}

Deno.test("client fuzz: outcomes RFC 9113 fixes", async () => {
  const name = "client fuzz: outcomes RFC 9113 fixes";
  const perRule = 6;
  const seen = new Set<string>();
  const { full } = await fuzz(name, 0xc11e0003, RULES.length * perRule, (r, label, i) => {
    return ruleCase(r, label, RULES[i % RULES.length]);
  }, (c, result) => {
    const e = c.expect!;
    const { outcome, check, verdict } = result;
    const got = outcome.kind === "alive"
      ? "the connection kept"
      : `GOAWAY ${errorCodeName(outcome.code)}`;
    if ("goaway" in e) {
      assert(
        outcome.kind === "goaway" && outcome.code === e.goaway,
        `${c.label}: ${got}, RFC 9113 wants GOAWAY ${errorCodeName(e.goaway)}`,
      );
    } else {
      assert(outcome.kind === "alive", `${c.label}: ${got}, RFC 9113 wants the connection kept`);
      const rsts = check.rsts.map(([id, code]) => `${errorCodeName(code)} on ${id}`);
      const want = "rst" in e ? [`${errorCodeName(e.rst)} on ${e.stream}`] : [];
      assertEquals(rsts, want, `${c.label}: RST_STREAMs`);
    }
    if ("alive" in e && e.request !== undefined) {
      const t = result.reqs[e.request.index];
      const err = t.err;
      if (e.request.error === "retryable") {
        assert(err instanceof RetryableRequestError, `${c.label}: ${describeError(err)}`);
      } else {
        assert(
          err instanceof Http2Error && err.code === e.request.error,
          `${c.label}: ${describeError(err)}`,
        );
      }
    }
    assert(
      verdict.kind !== "open",
      `${c.label}: the oracle gave up (${verdict.kind === "open" ? verdict.why : ""})`,
    );
    seen.add(c.rule!);
  });
  if (full) assertEquals(seen.size, RULES.length, "every rule ran");
});

/** A case of `rule`: its frames after 0-2 frames to ignore (not before a preface), in pieces. */
function ruleCase(r: Random, label: string, rule: Rule): Case {
  const setup: Setup = {
    client: {},
    server: [],
    requests: rule.preface ? [{ kind: "get", size: 0 }] : [
      { kind: "get", size: 0 },
      { kind: "post", size: 10 },
      { kind: "stream", size: 0 },
    ],
    handshaken: !rule.preface,
  };
  const frames: Uint8Array[] = [];
  if (!rule.preface) { for (let n = r.int(3); n > 0; n--) frames.push(ignorable(r)); }
  frames.push(...rule.frames(r));
  const pieces = r.split(concat(...frames));
  return {
    setup,
    pieces,
    expect: rule.expect,
    rule: `${rule.rfc}: ${rule.what}`,
    label: `${label}: rule ${rule.rfc}: ${rule.what}; frames [${
      frames.map(describeFrame).join("; ")
    }] written in pieces of ${pieces.map((p) => p.byteLength).join(" + ")} bytes`,
  };
}
