/**
 * Seeded fuzzing of the HTTP/2 server connection: random frame sequences after a valid
 * handshake (any type, unknown ones included; any flags; stream ids open, closed, idle,
 * even, huge or with the reserved bit; lengths that lie or exceed SETTINGS_MAX_FRAME_SIZE;
 * payloads and HPACK blocks mutated), and byte-level mutations of a whole valid client
 * session, split across writes. Whatever arrives, within a deadline the server either
 * keeps the connection usable (a request on a fresh stream is answered) or ends it with a
 * GOAWAY carrying an RFC 9113 error code and closes. On the way, every frame it sends is
 * checked (`ServerFrames`): valid codes, nothing on idle streams or after RST_STREAM, and
 * so on. Where RFC 9113 fixes the outcome it is checked too: frames of unknown types, PINGs
 * and PRIORITYs leave the connection usable (section 4.1), a frame over the limit after them
 * is FRAME_SIZE_ERROR (section 4.2), a broken preface is PROTOCOL_ERROR (section 3.4). Once
 * the connection is closed, no stream is left open and every handler has settled; handlers
 * only ever see HTTP/2 errors; a bystander connection with the same options and handler
 * answers after every case; and Deno's sanitizers catch unhandled rejections and leaks.
 *
 * Each case draws from its own `Random`, seeded from the test's seed and the case index,
 * and its failure message names both, with the frames or bytes in hex. To replay case `i`
 * alone, call `fuzz()` with the same seed, a count of 1 and `first = i`.
 */

import { assert, assertEquals } from "@std/assert";
import type { Random } from "../_random.ts";
import { Http2Error } from "../../http2/errors.ts";
import { HpackEncoder } from "../../http2/hpack/mod.ts";
import { HTTP2Settings } from "../../http2/settings.ts";
import type { Http2ServerOptions } from "../../http2/server_connection.ts";
import type { Stream } from "../../server/stream.ts";
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
  PREFACE,
  priority,
  type RawFrame,
  readU32,
  req,
  rst,
  S,
  settings,
  settingsAck,
  T,
  windowUpdate,
} from "./_frames.ts";
import { breakSome, caseRandom, describeFrame, hex, typeName, within } from "./_fuzz.ts";
import {
  checkAlive,
  finish,
  type RawServer,
  startHandshaken,
  startServer,
  testHandler,
} from "./_server.ts";

/** The largest stream id. */
const MAX_ID = 0x7fffffff;
/** The highest error code RFC 9113 section 7 defines (HTTP_1_1_REQUIRED). */
const MAX_CODE = 0xd;
/** How long the server may take to answer the probe, or to close after its GOAWAY. */
const DEADLINE_MS = 3000;

// ---------------------------------------------------------------- what the server reads

/** What the server's frame decoder makes of a byte stream that starts on a frame boundary. */
interface Walk {
  /** Stream ids (reserved bit cleared) of the frame headers read. */
  ids: Set<number>;
  /** Zero bytes that complete the last frame, so that what follows starts a new one. */
  lacking: number;
  /** The largest frame the server may send: 16384, or more if a SETTINGS frame said so. */
  peerMaxFrameSize: number;
  /**
   * The outcome RFC 9113 fixes, when it does: `"alive"` when every frame is one the server
   * must ignore or merely acknowledge (section 4.1: unknown types; a PING; a PRIORITY), a
   * GOAWAY code when such frames lead to a frame over SETTINGS_MAX_FRAME_SIZE (section 4.2:
   * FRAME_SIZE_ERROR), else `null` (any valid outcome).
   */
  expected: "alive" | number | null;
}

/** Whether the server must ignore the frame at `pos` of `b` (or answer it with an ACK only). */
function ignorable(b: Uint8Array, pos: number): boolean {
  const len = (b[pos] << 16) | (b[pos + 1] << 8) | b[pos + 2];
  const type = b[pos + 3];
  const id = readU32(b, pos + 5) & MAX_ID;
  if (type > T.CONTINUATION) return true;
  if (type === T.PING) return id === 0 && len === 8;
  if (type === T.PRIORITY) return id !== 0 && len === 5 && (readU32(b, pos + 9) & MAX_ID) !== id;
  return false;
}

/**
 * Walks the frame headers of `bytes` as the server's decoder does. A trailing partial frame
 * makes the server wait for its end, which is right; `lacking` says how many zero bytes
 * complete it (a header over `maxFrameSize` ends the walk: the server fails on it at once).
 * With `judge` false, `expected` is left `null` (right after the preface, where the first
 * frame must be SETTINGS, section 3.4).
 */
function walk(bytes: Uint8Array, maxFrameSize: number, judge = true): Walk {
  const ids = new Set<number>();
  let peerMaxFrameSize = 16384;
  let b = bytes;
  let lacking = 0;
  let pos = 0;
  let benign = judge;
  let expected: Walk["expected"] = null;
  while (pos < b.byteLength) {
    if (pos + 9 > b.byteLength) {
      // A partial header: complete it with zeros, then read its length.
      const add = pos + 9 - b.byteLength;
      lacking += add;
      b = concat(b, new Uint8Array(add));
    }
    const len = (b[pos] << 16) | (b[pos + 1] << 8) | b[pos + 2];
    ids.add(readU32(b, pos + 5) & MAX_ID);
    if (len > maxFrameSize) {
      if (benign) expected = E.FRAME_SIZE_ERROR;
      benign = false;
      break;
    }
    if (pos + 9 + len > b.byteLength) {
      lacking += pos + 9 + len - b.byteLength;
      b = concat(b, new Uint8Array(pos + 9 + len - b.byteLength));
    }
    if (b[pos + 3] === T.SETTINGS) {
      for (let i = pos + 9; i + 6 <= pos + 9 + len; i += 6) {
        const id = (b[i] << 8) | b[i + 1];
        if (id === S.MAX_FRAME_SIZE) {
          peerMaxFrameSize = Math.max(peerMaxFrameSize, readU32(b, i + 2));
        }
      }
    }
    if (!ignorable(b, pos)) benign = false;
    pos += 9 + len;
  }
  if (benign && lacking === 0) expected = "alive";
  return { ids, lacking, peerMaxFrameSize, expected };
}

// ---------------------------------------------------------------- the server under test

/** What the `/throw` route throws: the one error a handler may see that is not HTTP/2's. */
class HandlerError extends Error {}

/**
 * {@linkcode testHandler} (`/hold` waits, anything else reads the body and answers `ok`),
 * and routes that make the server send more: a large body (flow control), an echo of the
 * request body with trailers, an answer before the body is read, an informational head,
 * and a handler that throws (a 500).
 */
async function fuzzHandler(stream: Stream): Promise<void> {
  switch (stream.request.target) {
    case "/big":
      await stream.respond(200);
      await stream.write(new Uint8Array(100_000));
      return await stream.end();
    case "/echo":
      await stream.respond(200);
      for await (const chunk of stream.body) await stream.write(chunk);
      return await stream.end({ "x-trailer": "1" });
    case "/early":
      await stream.respond(200, { "content-length": "0" });
      return await stream.end();
    case "/info":
      await stream.respond(103, { link: "</style.css>; rel=preload" });
      await stream.respond(204);
      return await stream.end();
    case "/throw":
      throw new HandlerError("thrown by the /throw route");
    default:
      return await testHandler(stream);
  }
}

/** A server connection whose handlers and reported errors are tracked. */
interface Fuzzed extends RawServer {
  handlers: Promise<void>[];
  errors: unknown[];
}

function tracked(
  start: (
    options: Partial<Http2ServerOptions>,
    handler: (stream: Stream) => Promise<void>,
  ) => RawServer | Promise<RawServer>,
  options: Partial<Http2ServerOptions>,
): Promise<Fuzzed> {
  const handlers: Promise<void>[] = [];
  const errors: unknown[] = [];
  const handler = (stream: Stream) => {
    const p = fuzzHandler(stream);
    handlers.push(p.then(() => {}, () => {}));
    return p;
  };
  return Promise.resolve(start({ ...options, onError: (e) => errors.push(e) }, handler)).then(
    (s) => {
      // The fuzz may announce any SETTINGS_HEADER_TABLE_SIZE: the server may then use it.
      s.peer.hpack.setMaxTableSize(0xffffffff);
      return { ...s, handlers, errors };
    },
  );
}

/**
 * Checks the frames a server sends against RFC 9113: error codes it defines; RST_STREAM,
 * HEADERS, DATA and WINDOW_UPDATE only on streams the client named (section 5.1: nothing
 * on an idle stream); no DATA before the response head; nothing but RST_STREAM and
 * WINDOW_UPDATE after END_STREAM, nothing after RST_STREAM (section 5.1); an informational
 * head never ends a stream (section 8.1); a GOAWAY's last-stream-id covers every stream
 * answered (section 6.8); no frame over the client's SETTINGS_MAX_FRAME_SIZE (section 4.2);
 * no PUSH_PROMISE, PING only as an ACK, WINDOW_UPDATE never of 0 (section 6.9).
 */
class ServerFrames {
  readonly #ended = new Set<number>();
  readonly #reset = new Set<number>();
  readonly #answered = new Set<number>();
  #goAwayLast = MAX_ID;

  constructor(
    readonly ids: Set<number>,
    readonly maxFrameSize: number,
    readonly label: string,
  ) {}

  add(f: RawFrame & { fields?: [string, string][] }): void {
    const id = f.streamId;
    const where = `${this.label}: server sent ${typeName(f.type)} on stream ${id}`;
    const onStream = () => {
      assert(id !== 0 && this.ids.has(id), `${where}: a stream the client never named`);
      assert(!this.#reset.has(id), `${where} after its RST_STREAM`);
    };
    assert(f.payload.byteLength <= this.maxFrameSize, `${where}: over SETTINGS_MAX_FRAME_SIZE`);
    switch (f.type) {
      case T.RST_STREAM: {
        onStream();
        const code = readU32(f.payload);
        assert(code <= MAX_CODE, `${where} with error code 0x${code.toString(16)}`);
        this.#reset.add(id);
        break;
      }
      case T.HEADERS: {
        onStream();
        assert(!this.#ended.has(id), `${where} after END_STREAM`);
        const status = Number(f.fields?.[0]?.[1]);
        if (this.#answered.has(id)) {
          assert((f.flags & F.END_STREAM) !== 0, `${where}: trailers without END_STREAM`);
        } else if (status >= 100 && status < 200) {
          assert((f.flags & F.END_STREAM) === 0, `${where}: ${status} with END_STREAM`);
        } else {
          assert(id <= this.#goAwayLast, `${where}: answered above its GOAWAY's last stream`);
          this.#answered.add(id);
        }
        break;
      }
      case T.DATA:
        onStream();
        assert(this.#answered.has(id), `${where} before the response head`);
        assert(!this.#ended.has(id), `${where} after END_STREAM`);
        break;
      case T.WINDOW_UPDATE:
        if (id !== 0) onStream();
        assert((readU32(f.payload) & MAX_ID) > 0, `${where}: an increment of 0`);
        break;
      case T.GOAWAY: {
        const code = readU32(f.payload, 4);
        assert(code <= MAX_CODE, `${where} with error code 0x${code.toString(16)}`);
        const last = readU32(f.payload) & MAX_ID;
        assert(last === 0 || this.ids.has(last), `${where}: last-stream-id ${last} never named`);
        for (const a of this.#answered) {
          assert(a <= last, `${where}: last-stream-id ${last} below answered stream ${a}`);
        }
        this.#goAwayLast = Math.min(this.#goAwayLast, last);
        break;
      }
      case T.PING:
        assert((f.flags & F.ACK) !== 0, `${where}: a PING of its own`);
        break;
      case T.SETTINGS:
        break;
      default:
        throw new Error(`${where}: not a frame a server sends here`);
    }
    if ((f.type === T.HEADERS || f.type === T.DATA) && (f.flags & F.END_STREAM) !== 0) {
      this.#ended.add(id);
    }
  }
}

/** How a case ended. */
type Outcome = "alive" | "refused" | "goaway" | "closed";

/**
 * Sends what completes the last frame, then a probe (a GET on a fresh odd stream, or a PING
 * when no odd id is left), and reads until the server answers it or ends the connection.
 * Checks every frame read on the way.
 *
 * @param s The server.
 * @param ids Stream ids the client named (the server may reset only these).
 * @param lacking Zero bytes that complete the last frame sent.
 * @param maxFrameSize The largest frame the server may send (the client's setting).
 * @param label What to print on failure.
 * @param allowBareClose Whether the server may close without a GOAWAY (a broken preface).
 */
async function probe(
  s: Fuzzed,
  ids: Set<number>,
  lacking: number,
  maxFrameSize: number,
  label: string,
  allowBareClose = false,
): Promise<Outcome> {
  const { peer } = s;
  const highest = Math.max(0, ...[...ids].filter((id) => id % 2 === 1));
  const probeId = highest + 2 <= MAX_ID ? highest + 2 : 0;
  const probePing = [0x70, 0x72, 0x6f, 0x62, 0x65, 0x21, 0x21, 0x21];
  const request = probeId > 0
    ? headers(probeId, req("GET", "/"), { endStream: true })
    : ping(probePing);
  if (probeId > 0) ids.add(probeId);
  // Writes fail once the server has closed: that is one of the outcomes, read below.
  await within(
    peer.send(new Uint8Array(lacking), request).catch(() => {}),
    DEADLINE_MS,
    () => `${label}: the server stopped reading`,
  );
  const check = new ServerFrames(ids, maxFrameSize, label);
  for (const f of peer.log) check.add(f); // the handshake's and the prelude's
  for (;;) {
    const f = await peer.next(DEADLINE_MS);
    if (f === "timeout") throw new Error(`${label}: no answer to the probe and no GOAWAY (a hang)`);
    if (f === null) {
      assert(allowBareClose, `${label}: closed without a GOAWAY`);
      return "closed";
    }
    check.add(f);
    if (f.type === T.GOAWAY) {
      for (;;) {
        const g = await peer.next(DEADLINE_MS);
        if (g === "timeout") throw new Error(`${label}: not closed after GOAWAY`);
        if (g === null) return "goaway";
        check.add(g);
      }
    }
    if (probeId === 0 && f.type === T.PING && (f.flags & F.ACK) !== 0) {
      if (probePing.every((b, i) => f.payload[i] === b)) return "alive";
    }
    if (probeId > 0 && f.streamId === probeId) {
      if (f.type === T.RST_STREAM) {
        assertEquals(readU32(f.payload), E.REFUSED_STREAM, `${label}: probe reset`);
        return "refused";
      }
      if (f.type === T.HEADERS) {
        const fields = (f as RawFrame & { fields?: [string, string][] }).fields;
        assertEquals(fields?.[0], [":status", "200"], `${label}: probe answer`);
        return "alive";
      }
    }
  }
}

/** Ends the case: the connection closes, every handler settles, no stream is left. */
async function closeCase(s: Fuzzed, outcome: Outcome, label: string): Promise<void> {
  if (outcome === "alive" || outcome === "refused") s.peer.close();
  await within(s.h2.closed, DEADLINE_MS, () => `${label}: the server connection never closed`);
  s.peer.close();
  assertEquals(s.h2.activeStreams, 0, `${label}: streams left open after close`);
  await within(
    Promise.all(s.handlers),
    DEADLINE_MS,
    () => `${label}: a handler never settled after close`,
  );
  for (const e of s.errors) {
    assert(
      e instanceof Http2Error || e instanceof HandlerError,
      `${label}: the handler saw a non-HTTP/2 error: ${e}`,
    );
  }
}

// ---------------------------------------------------------------- structured frames

const METHODS = ["GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "get", ""];
const PATHS = [
  "/",
  "/hold",
  "/hold",
  "/big",
  "/echo",
  "/early",
  "/info",
  "/throw",
  "*",
  "",
  "/a?b=c",
  "no-slash",
];
/** Header fields that make a request malformed (RFC 9113 section 8.2 and 8.3), or not. */
const EXTRAS: [string, string][] = [
  ["content-length", "0"],
  ["content-length", "5"],
  ["content-length", "-1"],
  ["content-length", "12345678901234567890"],
  ["connection", "keep-alive"],
  ["te", "trailers"],
  ["te", "gzip"],
  ["X-Upper", "1"],
  [":status", "200"],
  [":path", "/again"],
  ["host", "other.test"],
  ["x-nul", "a\x00b"],
  ["x-long", "v".repeat(300)],
  ["cookie", "a=1"],
  ["cookie", "b=2"],
];

/**
 * A request field block: literal (the helpers'), or indexed and Huffman-coded (HPACK's, whose
 * dynamic table then disagrees with the server's once a block is lost); a quarter of them
 * mutated, for the HPACK decoder to meet corrupt input inside well-formed frames.
 */
function fieldBlock(r: Random, hpack: HpackEncoder): Uint8Array {
  const extra: [string, string][] = [];
  for (let n = r.int(3); n > 0; n--) extra.push(r.pick(EXTRAS));
  let fields = req(r.pick(METHODS), r.pick(PATHS), extra);
  if (r.int(6) === 0) {
    const drop = r.int(fields.length);
    fields = fields.filter((_, i) => i !== drop);
  }
  const b = r.int(3) === 0 ? hpack.encode(fields).slice() : block(fields);
  return r.int(4) === 0 ? r.mutate(b) : b;
}

/** Stream ids: open, closed (ended and reset), idle, even, huge, reserved bit set. */
function streamId(r: Random): number {
  switch (r.int(10)) {
    case 0:
      return 0;
    case 1:
    case 2:
      return r.pick([1, 3, 5]); // 1 ended, 3 open (body pending), 5 reset by the client
    case 3:
    case 4:
      return 7 + 2 * r.int(4); // idle, the next ones
    case 5:
      return 2 * (1 + r.int(8)); // even: the server's, idle
    case 6:
      return r.pick([MAX_ID, MAX_ID - 2, 1 + 2 * r.int(1 << 20)]);
    case 7:
      return (0x80000000 + r.pick([1, 3, 7, r.int(MAX_ID)])) >>> 0;
    default:
      return r.pick([3, 7, 9]);
  }
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** A setting value near the edges of what RFC 9113 section 6.5.2 allows. */
function settingValue(r: Random): number {
  return r.pick([
    0,
    1,
    100,
    4096,
    16383,
    16384,
    65535,
    65536,
    16777215,
    16777216,
    MAX_ID,
    0x80000000,
    0xffffffff,
    r.int(0x100000000),
  ]);
}

/** State kept across the frames of one case, so that sequences can be coherent. */
interface Seq {
  /** The stream a HEADERS without END_HEADERS left open, waiting for CONTINUATION. */
  openBlock: number | null;
  /** The next idle client stream id. */
  next: number;
  /** Client streams opened so far (1 ended, 3 open, 5 reset, then the fuzz's). */
  opened: number[];
  hpack: HpackEncoder;
}

/** A stream id that suits the frame most of the time, and any kind of id otherwise. */
function idFor(r: Random, seq: Seq, kind: "open" | "new" | "any"): number {
  if (r.int(8) === 0) return streamId(r);
  if (kind === "new") {
    const id = seq.next;
    seq.next += 2 * (1 + (r.int(4) === 0 ? r.int(5) : 0));
    seq.opened.push(id);
    return id;
  }
  return kind === "open" ? r.pick(seq.opened) : streamId(r);
}

/** One frame, built well-formed with the helpers, on a stream id that mostly suits it. */
function wellFormed(r: Random, seq: Seq): Uint8Array {
  if (seq.openBlock !== null && r.int(10) < 8) {
    const end = r.int(3) !== 0;
    const f = continuation(seq.openBlock, fieldBlock(r, seq.hpack).subarray(0, r.int(24)), end);
    if (end) seq.openBlock = null;
    return f;
  }
  switch (r.pick([0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 10])) {
    case 0: {
      const id = idFor(r, seq, "open");
      const payload = r.int(8) === 0 ? new Uint8Array(r.pick([16384, 70000])) : r.bytes(r.int(40));
      const pad = r.int(4) === 0 ? r.int(20) : undefined;
      return data(id, payload, { endStream: r.int(2) === 0, pad });
    }
    case 1: {
      // A new request mostly; trailers (or a second head) on an open stream sometimes.
      const id = idFor(r, seq, r.int(4) === 0 ? "open" : "new");
      const endHeaders = r.int(5) !== 0;
      const f = headers(id, fieldBlock(r, seq.hpack), {
        endStream: r.int(2) === 0,
        endHeaders,
        pad: r.int(5) === 0 ? r.int(10) : undefined,
        priority: r.int(5) === 0
          ? { dependency: r.pick([0, 1, id, r.int(20)]), weight: 1 + r.int(256) }
          : undefined,
      });
      if (!endHeaders) seq.openBlock = id;
      return f;
    }
    case 2: {
      const id = idFor(r, seq, "any");
      return priority(id, r.pick([0, 1, 3, id, r.int(100)]), 1 + r.int(256), r.int(2) === 0);
    }
    case 3:
      return rst(
        idFor(r, seq, "open"),
        r.pick([E.NO_ERROR, E.CANCEL, E.PROTOCOL_ERROR, 0xe, 0xffffffff]),
      );
    case 4: {
      if (r.int(4) === 0) return settingsAck();
      const pairs: [number, number][] = [];
      for (let n = r.int(4); n > 0; n--) {
        const key = r.pick([...Object.values(S), 0, 7, 8, 9, 0xffff]);
        pairs.push([key, r.int(2) === 0 ? settingValue(r) : r.int(70000)]);
      }
      return settings(...pairs);
    }
    case 5:
      return ping([...r.bytes(8)], r.int(3) === 0);
    case 6: { // a client GOAWAY, with debug data now and then
      const f = goaway(r.pick([0, 1, 3, MAX_ID, r.int(100)]), r.pick([0, 1, 2, 0xb, 0xff]));
      const debug = r.int(3) === 0 ? r.bytes(r.int(20)) : new Uint8Array(0);
      return frame(T.GOAWAY, 0, 0, concat(f.subarray(9), debug));
    }
    case 7:
    case 8:
      return windowUpdate(
        r.int(3) === 0 ? 0 : idFor(r, seq, "open"),
        r.pick([0, 1, 100, 65535, MAX_ID, 0x80000000, 0x80000001, r.int(0x100000000)]),
      );
    case 9:
      if (r.int(2) === 0) { // a client may not push (RFC 9113 section 8.4)
        return frame(
          T.PUSH_PROMISE,
          F.END_HEADERS,
          idFor(r, seq, "open"),
          concat(Uint8Array.from(u32(2 * (1 + r.int(8)))), fieldBlock(r, seq.hpack)),
        );
      }
      // CONTINUATION with no HEADERS before it
      return continuation(
        idFor(r, seq, "open"),
        fieldBlock(r, seq.hpack).subarray(0, r.int(10)),
        r.int(2) === 0,
      );
    default: // unknown and extension types are ignored (RFC 9113 section 4.1)
      return frame(
        r.pick([0x0a, 0x0b, 0x0c, 0x10, 0x20, 0xfa, 0xff, 10 + r.int(246)]),
        r.int(256),
        idFor(r, seq, "any"),
        r.bytes(r.int(30)),
      );
  }
}

/**
 * A frame the server must ignore: of an unknown or extension type (RFC 9113 section 4.1),
 * any flags, any stream id; or a PING (acknowledged); or a PRIORITY (section 5.3.2).
 */
function ignorableFrame(r: Random): Uint8Array {
  const id = streamId(r);
  switch (r.int(5)) {
    case 0:
      return ping([...r.bytes(8)], r.int(2) === 0);
    case 1: {
      const stream = (id & MAX_ID) === 0 ? 1 : id;
      const dependency = r.pick([0, 1, 3, 7, r.int(1000)]);
      return priority(stream, dependency === (stream & MAX_ID) ? 0 : dependency, 1 + r.int(256));
    }
    default:
      return frame(10 + r.int(246), r.int(256), id, r.bytes(r.int(40)));
  }
}

/** A frame made well-formed, then maybe broken: flags, stream id, payload or length. */
function fuzzFrame(r: Random, seq: Seq, breakRate: number): Uint8Array {
  const f = wellFormed(r, seq);
  const out = breakSome(r, f, breakRate, () => streamId(r), (n) => [
    0,
    Math.max(0, n - 1 - r.int(4)),
    n + 1 + r.int(4),
    16384,
    16385,
    1 << 20,
    0xffffff,
    r.int(64),
  ]);
  if (out !== f && out[3] === T.HEADERS && (out[4] & F.END_HEADERS) === 0) {
    seq.openBlock = readU32(out, 5) & MAX_ID;
  }
  return out;
}

/** The streams each structured case starts with: 1 ended, 3 open, 5 reset by the client. */
async function prelude(s: Fuzzed): Promise<void> {
  await checkAlive(s.peer, 1);
  await s.peer.send(
    headers(3, req("POST", "/hold")),
    headers(5, req("GET", "/hold"), { endStream: true }),
    rst(5, E.CANCEL),
  );
}

/** One fuzz case: the bytes to send after the set-up, and how to judge the outcome. */
interface Case {
  /** Written one piece at a time. */
  pieces: Uint8Array[];
  /** For messages: the seed, the case index, the frames or bytes. */
  label: string;
  /** Whether the handshake and {@linkcode prelude} come first (else `pieces` start at the preface). */
  handshaken: boolean;
  /** What the server reads of `pieces`. */
  walk: Walk;
  /** Whether the pieces start with a valid client preface. */
  prefaceOk: boolean;
}

/** Tallies of a run, so that a run which never reached an outcome is noticed. */
interface Tally {
  outcomes: Record<Outcome, number>;
  /** RST_STREAM frames received (stream errors), GOAWAYs by error code. */
  resets: number;
  goAwayCodes: Map<number, number>;
  /** Requests handed to handlers (bystander excluded). */
  handlers: number;
  /** Cases made only of frames to ignore (they must leave the connection usable). */
  ignorable: number;
}

/**
 * Runs cases `first` to `first + count - 1` of a seed, each on a new server connection,
 * while a bystander connection (same options, same handler) must stay usable after each.
 * To replay a failure alone, run its seed with its index as `first` and a count of 1.
 */
async function fuzz(
  seed: number,
  count: number,
  options: Partial<Http2ServerOptions>,
  makeCase: (r: Random, label: string) => Case,
  first = 0,
): Promise<Tally> {
  const settings = options.settings ?? new HTTP2Settings();
  const tally: Tally = {
    outcomes: { alive: 0, refused: 0, goaway: 0, closed: 0 },
    resets: 0,
    goAwayCodes: new Map(),
    handlers: 0,
    ignorable: 0,
  };
  const bystander = await tracked(startHandshaken, options);
  let bystanderId = 1;
  await checkAlive(bystander.peer, bystanderId);
  for (let i = first; i < first + count; i++) {
    const c = makeCase(caseRandom(seed, i), `seed 0x${seed.toString(16)} case ${i}`);
    const s = await tracked(c.handshaken ? startHandshaken : startServer, options);
    if (c.handshaken) await prelude(s);
    const ids = new Set(c.walk.ids);
    if (c.handshaken) [1, 3, 5].forEach((id) => ids.add(id)); // the prelude's
    // Writes fail once the server has closed: that is one of the outcomes, judged below.
    for (const piece of c.pieces) await s.peer.send(piece).catch(() => {});
    const outcome = await probe(
      s,
      ids,
      c.walk.lacking,
      c.walk.peerMaxFrameSize,
      c.label,
      !c.prefaceOk,
    );
    if (outcome === "refused") {
      // Only when the fuzz's streams can fill the table (RFC 9113 section 5.1.2).
      assert(settings.maxConcurrentStreams <= 8, `${c.label}: probe refused with room left`);
    }
    const expected = c.walk.expected;
    if (expected === "alive") {
      tally.ignorable++;
      assertEquals(outcome, "alive", `${c.label}: frames to ignore ended the connection`);
    } else if (expected !== null) {
      // A bad preface (RFC 9113 section 3.4) may also be answered by closing at once.
      assert(outcome === "goaway" || outcome === "closed", `${c.label}: not ended (${outcome})`);
      const goAway = s.peer.log.find((f) => f.type === T.GOAWAY);
      if (goAway !== undefined) {
        assertEquals(readU32(goAway.payload, 4), expected, `${c.label}: GOAWAY code`);
      }
    }
    if (outcome === "alive") {
      assert(
        s.h2.activeStreams <= settings.maxConcurrentStreams,
        `${c.label}: ${s.h2.activeStreams} streams open, over SETTINGS_MAX_CONCURRENT_STREAMS`,
      );
    }
    tally.outcomes[outcome]++;
    for (const f of s.peer.log) {
      if (f.type === T.RST_STREAM) tally.resets++;
      if (f.type === T.GOAWAY) {
        const code = readU32(f.payload, 4);
        tally.goAwayCodes.set(code, (tally.goAwayCodes.get(code) ?? 0) + 1);
      }
    }
    await closeCase(s, outcome, c.label);
    tally.handlers += s.handlers.length;
    bystanderId += 2;
    await checkAlive(bystander.peer, bystanderId);
  }
  await finish(bystander);
  assertEquals(bystander.handlers.length, count + 1, "the bystander's requests");
  assertEquals(bystander.errors, [], "the bystander's handler errors");
  return tally;
}

/** 1-10 frames, well-formed or broken, after the handshake and the prelude. */
function frameCase(r: Random, label: string, maxFrameSize: number): Case {
  const seq: Seq = { openBlock: null, next: 7, opened: [1, 3, 5], hpack: new HpackEncoder() };
  const breakRate = r.pick([0, 0.1, 0.25, 0.5]);
  const quiet = r.int(8) === 0;
  const frames: Uint8Array[] = [];
  for (let n = 1 + r.int(10); n > 0; n--) {
    frames.push(quiet ? ignorableFrame(r) : fuzzFrame(r, seq, breakRate));
  }
  const bytes = concat(...frames);
  const pieces = r.split(bytes);
  return {
    pieces,
    label: `${label}: frames [${frames.map(describeFrame).join("; ")}] written as ${
      pieces.map((p) => hex(p)).join(" | ")
    }`,
    handshaken: true,
    walk: walk(bytes, maxFrameSize),
    prefaceOk: true,
  };
}

/** Minimum counts a run must reach, so that it keeps testing something. */
interface Reached {
  alive: number;
  goaway: number;
  resets: number;
  handlers: number;
  /** Distinct GOAWAY error codes. */
  codes: number;
  /** Cases of frames to ignore only. */
  ignorable: number;
}

function assertReached(t: Tally, min: Reached): void {
  const summary = JSON.stringify({ ...t, goAwayCodes: Object.fromEntries(t.goAwayCodes) });
  assert(t.outcomes.alive >= min.alive && t.outcomes.goaway >= min.goaway, summary);
  assert(t.resets >= min.resets && t.handlers >= min.handlers, summary);
  assert(t.goAwayCodes.size >= min.codes && t.ignorable >= min.ignorable, summary);
}

Deno.test("fuzz: random frame sequences after the handshake never break the server", async () => {
  const maxFrameSize = new HTTP2Settings().maxFrameSize;
  const cases = 1000;
  const tally = await fuzz(0x5eed0001, cases, {}, (r, l) => frameCase(r, l, maxFrameSize));
  assertReached(tally, {
    alive: 120,
    goaway: 400,
    resets: 100,
    handlers: 1500,
    codes: 5,
    ignorable: 70,
  });
});

Deno.test("fuzz: random frame sequences against tight limits never break the server", async () => {
  const settings = new HTTP2Settings({
    maxConcurrentStreams: 4,
    initialWindowSize: 100,
    maxHeaderListSize: 400,
  });
  const cases = 600;
  const tally = await fuzz(0x5eed0002, cases, {
    settings,
    maxContinuationFrames: 2,
    maxHeaderBlockSize: 300,
    maxHeaderFieldCount: 8,
    maxEmptyDataFrames: 2,
    maxQueuedControlFrames: 20,
    resetBurst: 3,
    resetRate: 1,
    maxBufferedBytes: 65535,
  }, (r, l) => frameCase(r, l, settings.maxFrameSize));
  assertReached(tally, {
    alive: 70,
    goaway: 200,
    resets: 60,
    handlers: 900,
    codes: 6,
    ignorable: 40,
  });
  // The limits were reached: ENHANCE_YOUR_CALM.
  assert(tally.goAwayCodes.has(E.ENHANCE_YOUR_CALM));
});

// ---------------------------------------------------------------- byte-level mutation

/** A valid client session: preface, SETTINGS, its ACK, a request with a body. */
function session(r: Random): Uint8Array {
  const body = "hello, fuzz";
  const path = r.pick(["/upload", "/echo", "/big", "/early"]);
  const fields = req("POST", path, [
    ["content-length", String(body.length)],
    ["user-agent", "fuzz/1.0"],
  ]);
  const head = r.int(2) === 0 ? block(fields) : new HpackEncoder().encode(fields).slice();
  return concat(
    PREFACE,
    settings([S.INITIAL_WINDOW_SIZE, 65535], [S.MAX_FRAME_SIZE, 16384], [S.ENABLE_PUSH, 0]),
    settingsAck(),
    headers(1, head),
    data(1, body, { endStream: true }),
  );
}

/** A whole session with one or two byte edits, written in 1-4 pieces. */
function sessionCase(r: Random, label: string, maxFrameSize: number): Case {
  const bytes = r.mutate(session(r), 1 + r.int(2));
  const pieces = r.split(bytes);
  const prefaceOk = bytes.byteLength >= 24 && PREFACE.every((b, j) => bytes[j] === b);
  return {
    pieces,
    label: `${label}: bytes written as ${pieces.map((p) => hex(p)).join(" | ")}`,
    handshaken: false,
    walk: prefaceOk
      ? walk(bytes.subarray(24), maxFrameSize, false)
      : { ids: new Set(), lacking: 0, peerMaxFrameSize: 16384, expected: E.PROTOCOL_ERROR },
    prefaceOk,
  };
}

Deno.test("fuzz: mutated client sessions split across writes never break the server", async () => {
  const maxFrameSize = new HTTP2Settings().maxFrameSize;
  const cases = 1000;
  let badPrefaces = 0;
  const tally = await fuzz(0x5eed0003, cases, {}, (r, l) => {
    const c = sessionCase(r, l, maxFrameSize);
    if (!c.prefaceOk) badPrefaces++;
    return c;
  });
  assertReached(tally, {
    alive: 45,
    goaway: 450,
    resets: 30,
    handlers: 120,
    codes: 3,
    ignorable: 0,
  });
  assert(badPrefaces >= cases / 20, `${badPrefaces} broken prefaces`);
});
