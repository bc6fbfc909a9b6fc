/**
 * A seeded fuzz test of the receiving side (RFC 6455 framing, RFC 7692 permessage-deflate):
 * frame sequences built from random parts (reserved opcodes, RSV bits, wrong masking,
 * every length form including non-minimal and huge ones, invalid UTF-8 split across
 * fragments, bad control and close frames, corrupt and oversized deflate data), and valid
 * sequences mutated byte by byte, are written by a raw peer in random pieces to a
 * WebSocket over an in-memory pair (`Random.split`). The peer then ends its side of the
 * connection, so every case ends, within a deadline.
 *
 * What the WebSocket delivers, the close code it ends with and every frame it sends back
 * are compared with a small reference decoder written here from the RFCs: the messages of
 * the valid prefix exactly, a pong per ping, then the close frame (the peer's code echoed,
 * or the code of the failure: 1002, 1007 or 1009), or none when the bytes end first (1006,
 * and pongs not yet written may go with the connection then); `for await` ends quietly on
 * 1000, 1001 and 1005 and throws a `WebSocketError` with the close code otherwise. The
 * reference inflates only the compressed payloads a case made itself; any other compressed
 * message (mutated, random, or after one that was, unless the peer takes no context over)
 * is a wildcard: a message of its type within `maxFrameSize`, or a failure with 1007
 * (corrupt data; RFC 7692 names no code, and `ws` uses 1007 too) or 1009. That a bomb is
 * stopped without being held is websocket_test.ts's 1 GiB bomb test; here bombs of up to
 * 256 times `maxFrameSize` must end in 1009.
 *
 * Case `i` of a test is made by `new Random(seed + i)`; every assertion message names the
 * seed, the case, the bytes (hex) and the sizes of the writes, and how to replay it:
 * `FUZZ_SEED=<seed> FUZZ_CASE=<i> deno test -A tests/websockets/fuzz_test.ts --filter ...`
 * (`FUZZ_SEED` alone runs other cases). Compressed payloads come from the runtime's
 * compressors, so a deflate case's bytes may differ from one runtime to another (the
 * random choices do not).
 */
import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import zlib from "node:zlib";
import { memoryPair } from "../../conn/memory.ts";
import { WebSocketError } from "../../websockets/errors.ts";
import type { DeflateParams } from "../../websockets/permessage_deflate.ts";
import { WebSocket, type WebSocketMessage } from "../../websockets/websocket.ts";
import { join } from "../_bytes.ts";
import { knob, Random } from "../_random.ts";
import { deadline, rawFrame, syncFlushed, toHex, utf8 } from "./_helpers.ts";

/** The receiving end under test. */
interface Setup {
  role: "client" | "server";
  maxFrameSize: number;
  maxFragmentation: number;
  deflate: DeflateParams | null;
}

const MAX = 4096;
const FRAGMENTS = 4;

function deflateParams(noContextTakeover: boolean): DeflateParams {
  return {
    serverNoContextTakeover: noContextTakeover,
    clientNoContextTakeover: noContextTakeover,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  };
}

function chance(rnd: Random, p: number): boolean {
  return rnd.next() < p;
}

// ---------------------------------------------------------------------------------------
// The reference decoder (RFC 6455 section 5, RFC 7692 section 6)

type RefEvent =
  | { message: string | Uint8Array }
  | { unknown: "text" | "binary" }
  | { ping: Uint8Array }
  | { pong: Uint8Array };
type RefEnd = { close: number; reason: string } | { fail: number } | { eof: true };

interface RefOptions {
  role: "client" | "server";
  maxFrameSize: number;
  maxFragmentation: number;
  /** Inflates a compressed message, `null` when it cannot say; absent without deflate. */
  inflate?: (payload: Uint8Array) => Uint8Array | null;
}

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return fatal.decode(bytes);
  } catch {
    return null;
  }
}

/** Continuations that complete any valid incomplete tail (one of them fits every lead byte). */
const COMPLETIONS = [0x80, 0x90, 0xa0].flatMap((a) => [
  [a],
  ...[0x80, 0x90, 0xa0].flatMap((b) => [[a, b], ...[0x80, 0x90, 0xa0].map((c) => [a, b, c])]),
]);

/** Whether `bytes` can still become valid UTF-8 (RFC 6455 8.1: fail as soon as it cannot). */
function utf8Prefix(bytes: Uint8Array): boolean {
  if (decodeUtf8(bytes) !== null) return true;
  return COMPLETIONS.some((tail) => decodeUtf8(join([bytes, Uint8Array.from(tail)])) !== null);
}

/** Close codes a close frame may carry: RFC 6455 7.4.1 and 7.4.2, and IANA's 1012-1014. */
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/**
 * Decodes a byte stream as a correct receiver would, failing as early as the bytes allow
 * (the header checks with the first two bytes, the size limits once the length is known).
 * Extended lengths need not be minimal for data frames; a control frame's length must fit
 * in 7 bits.
 */
function reference(bytes: Uint8Array, o: RefOptions): { events: RefEvent[]; end: RefEnd } {
  const events: RefEvent[] = [];
  const done = (end: RefEnd) => ({ events, end });
  let at = 0;
  const has = (n: number) => at + n <= bytes.length;
  let msg: { op: number; compressed: boolean; size: number; frames: number; parts: Uint8Array[] } =
    { op: 0, compressed: false, size: 0, frames: 0, parts: [] };
  for (;;) {
    if (!has(2)) return done({ eof: true });
    const b0 = bytes[at];
    const b1 = bytes[at + 1];
    at += 2;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const op = b0 & 0x0f;
    const control = op >= 0x8;
    if ((b0 & 0x30) !== 0) return done({ fail: 1002 });
    if (control) {
      if (op > 0xa || !fin || rsv1 || (b1 & 0x7f) > 125) return done({ fail: 1002 });
    } else if (op === 0) {
      if (msg.op === 0 || rsv1) return done({ fail: 1002 });
    } else if (op <= 2) {
      if (msg.op !== 0 || (rsv1 && !o.inflate)) return done({ fail: 1002 });
    } else {
      return done({ fail: 1002 });
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked !== (o.role === "server")) return done({ fail: 1002 });
    let len = b1 & 0x7f;
    if (len === 126) {
      if (!has(2)) return done({ eof: true });
      len = bytes[at] * 256 + bytes[at + 1];
      at += 2;
    } else if (len === 127) {
      if (!has(8)) return done({ eof: true });
      let hi = 0;
      let lo = 0;
      for (let i = 0; i < 4; i++) hi = hi * 256 + bytes[at + i];
      for (let i = 4; i < 8; i++) lo = lo * 256 + bytes[at + i];
      at += 8;
      if (hi >= 2 ** 31) return done({ fail: 1002 });
      len = hi * 2 ** 32 + lo;
    }
    if (!control) {
      const size = (op === 0 ? msg.size : 0) + len;
      const frames = (op === 0 ? msg.frames : 0) + 1;
      if (size > o.maxFrameSize || frames > o.maxFragmentation) return done({ fail: 1009 });
    }
    let key: Uint8Array | null = null;
    if (masked) {
      if (!has(4)) return done({ eof: true });
      key = bytes.slice(at, at + 4);
      at += 4;
    }
    if (!has(len)) return done({ eof: true });
    const payload = bytes.slice(at, at + len);
    at += len;
    if (key) { for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3]; }

    if (op === 0x9) {
      events.push({ ping: payload });
      continue;
    }
    if (op === 0xa) {
      events.push({ pong: payload });
      continue;
    }
    if (op === 0x8) {
      if (payload.length === 0) return done({ close: 1005, reason: "" });
      const code = payload.length >= 2 ? payload[0] * 256 + payload[1] : 0;
      if (payload.length === 1 || !validCloseCode(code)) return done({ fail: 1002 });
      const reason = decodeUtf8(payload.subarray(2));
      if (reason === null) return done({ fail: 1007 });
      return done({ close: code, reason });
    }
    if (op !== 0) msg = { op, compressed: rsv1, size: 0, frames: 0, parts: [] };
    msg.size += len;
    msg.frames++;
    msg.parts.push(payload);
    let data = join(msg.parts);
    if (!msg.compressed && msg.op === 0x1 && !utf8Prefix(data)) return done({ fail: 1007 });
    if (!fin) continue;
    const { op: type, compressed } = msg;
    msg = { op: 0, compressed: false, size: 0, frames: 0, parts: [] };
    if (compressed) {
      const plain = o.inflate!(data);
      if (plain === null) {
        events.push({ unknown: type === 0x1 ? "text" : "binary" });
        continue;
      }
      if (plain.length > o.maxFrameSize) return done({ fail: 1009 });
      data = plain;
    }
    if (type === 0x2) {
      events.push({ message: data });
      continue;
    }
    const text = decodeUtf8(data);
    if (text === null) return done({ fail: 1007 });
    events.push({ message: text });
  }
}

// ---------------------------------------------------------------------------------------
// Compressed payloads the reference can inflate

/** A whole deflate stream ending in a final block, plus the 0x00 of RFC 7692 7.2.3.3. */
async function deflateWhole(plain: Uint8Array): Promise<Uint8Array> {
  const stream = new CompressionStream("deflate-raw");
  const writer = stream.writable.getWriter();
  const written = Promise.all([writer.write(plain.slice()), writer.close()]);
  const out = new Uint8Array(await new Response(stream.readable).arrayBuffer());
  await written;
  return join([out, new Uint8Array([0x00])]);
}

/** A message compressed on its own and sync-flushed, 00 00 ff ff removed (RFC 7692 7.2.1). */
function deflateAlone(plain: Uint8Array): Uint8Array {
  const out = zlib.deflateRawSync(plain, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return new Uint8Array(out.subarray(0, out.length - 4));
}

/**
 * The compressor of one case, which remembers what it made. In "takeover" mode messages are
 * compressed with context takeover (one sync-flushed stream), so only an unbroken run of
 * them from the first can be inflated; in "alone" mode each message is a stream of its own
 * (a final block, or a sync flush).
 */
class Compressor {
  readonly records: { payload: Uint8Array; plain: Uint8Array }[] = [];
  #stream: ReturnType<typeof zlib.createDeflateRaw> | null = null;

  constructor(readonly mode: "takeover" | "alone") {}

  async compress(rnd: Random, plain: Uint8Array): Promise<Uint8Array> {
    let payload: Uint8Array;
    if (this.mode === "takeover") payload = await this.#flushed(plain);
    else payload = chance(rnd, 0.5) ? await deflateWhole(plain) : deflateAlone(plain);
    this.records.push({ payload, plain });
    return payload;
  }

  #flushed(plain: Uint8Array): Promise<Uint8Array> {
    this.#stream ??= zlib.createDeflateRaw({ windowBits: 15 });
    return syncFlushed(this.#stream, plain);
  }

  close(): void {
    this.#stream?.close();
    this.#stream = null;
  }

  /**
   * The reference's inflater: a payload this compressor made, as long as the receiver's
   * inflater can be in the state it was made for. `independent`: the peer promised no
   * context takeover, so every message is inflated on its own.
   */
  inflater(independent: boolean): (payload: Uint8Array) => Uint8Array | null {
    let next = 0;
    let broken = false;
    return (payload) => {
      if (broken && !independent) return null;
      const i = this.mode === "takeover"
        ? (next < this.records.length && same(this.records[next].payload, payload) ? next : -1)
        : this.records.findIndex((r) => same(r.payload, payload));
      if (i < 0) {
        broken = true;
        return null;
      }
      next++;
      return this.records[i].plain;
    };
  }
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---------------------------------------------------------------------------------------
// Random frames

/** One of the case's frames; `noisy` adds wrong masking, RSV bits and length forms. */
function encode(
  rnd: Random,
  setup: Setup,
  b0: number,
  payload: Uint8Array,
  noisy: boolean,
): Uint8Array {
  let masked = setup.role === "server";
  if (noisy && chance(rnd, 0.03)) masked = !masked;
  if (noisy && chance(rnd, 0.02)) b0 |= rnd.pick([0x10, 0x20, 0x30]);
  if (noisy && chance(rnd, 0.02)) b0 ^= 0x40;
  const n = payload.length;
  const control = (b0 & 0x0f) >= 0x8;
  let len: "7" | "16" | "64" = n < 126 ? "7" : n < 65536 ? "16" : "64";
  // Non-minimal lengths: accepted on data frames, a protocol error on control frames.
  if ((!control || noisy) && chance(rnd, control ? 0.05 : 0.2)) {
    len = n < 65536 ? rnd.pick(["16", "64"]) : "64";
  }
  return rawFrame(b0, payload, { mask: masked ? Array.from(rnd.bytes(4)) : null, len });
}

/** A data frame's length (payload bytes), around the limit now and then. */
function size(rnd: Random, noisy: boolean): number {
  const r = rnd.int(10);
  if (r < 4) return rnd.int(20);
  if (r < 7) return 100 + rnd.int(300);
  if (r < 8) return noisy ? MAX - 1 + rnd.int(3) : MAX - rnd.int(2);
  return noisy ? 3000 + rnd.int(2000) : 1000 + rnd.int(2000);
}

const CHARS = ["a", "Z", " ", "\0", "é", "ß", "€", "\u0800", "\ud7ff", "\ue000", "\ufeff", "\uffff"]
  .concat(["𝄞", "😀", "\u{10ffff}"]);
const BAD_UTF8 = [
  [0xff],
  [0xfe],
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf0, 0x8f, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80, 0x80, 0x80],
  [0xe2, 0x82],
];

/** UTF-8 text of about `n` bytes; with `noisy`, now and then invalid. */
function text(rnd: Random, n: number, noisy: boolean): Uint8Array {
  let s = "";
  let bytes = 0;
  while (bytes < n) {
    const c = rnd.next() < 0.6 ? "a" : rnd.pick(CHARS);
    s += c;
    bytes += utf8(c).length;
  }
  let out = utf8(s);
  if (noisy && chance(rnd, 0.2)) {
    const at = rnd.int(out.length + 1);
    out = join([out.subarray(0, at), Uint8Array.from(rnd.pick(BAD_UTF8)), out.subarray(at)]);
  }
  return out;
}

/** Cuts `bytes` into `k` pieces (some may be empty), inside UTF-8 characters too. */
function cut(rnd: Random, bytes: Uint8Array, k: number): Uint8Array[] {
  const points = Array.from({ length: k - 1 }, () => rnd.int(bytes.length + 1)).sort((a, b) =>
    a - b
  );
  const edges = [0, ...points, bytes.length];
  return edges.slice(1).map((end, i) => bytes.subarray(edges[i], end));
}

const CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]
  .concat([3000, 3999, 4000, 4999]);
const BAD_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535];

function control(rnd: Random, setup: Setup, noisy: boolean): Uint8Array {
  const op = rnd.pick([0x9, 0x9, 0xa, 0x8]);
  let payload: Uint8Array;
  if (op !== 0x8) {
    const r = rnd.int(10);
    payload = rnd.bytes(
      r < 6 ? rnd.int(20) : r < 9 || !noisy ? 125 - rnd.int(4) : 126 + rnd.int(20),
    );
  } else {
    const r = rnd.int(10);
    if (r === 0) payload = new Uint8Array(0);
    else if (r === 1 && noisy) payload = rnd.bytes(1);
    else {
      const code = noisy && chance(rnd, 0.3) ? rnd.pick(BAD_CLOSE_CODES) : rnd.pick(CLOSE_CODES);
      const reasons = [[], utf8("bye"), utf8("€𝄞 done"), utf8("x".repeat(123))];
      if (noisy) reasons.push(Uint8Array.from(rnd.pick(BAD_UTF8)), utf8("y".repeat(124)));
      payload = join([new Uint8Array([code >> 8, code & 255]), Uint8Array.from(rnd.pick(reasons))]);
    }
  }
  const fin = noisy && chance(rnd, 0.05) ? 0 : 0x80;
  return encode(rnd, setup, fin | op, payload, noisy);
}

/** A data message in 1 to 5 frames, control frames now and then between them. */
async function message(
  rnd: Random,
  setup: Setup,
  noisy: boolean,
  compressor: Compressor | null,
  room: number,
): Promise<Uint8Array[]> {
  const op = rnd.pick([0x1, 0x2]);
  const compressed = compressor !== null && chance(rnd, 0.7);
  let payload: Uint8Array;
  let rsv1 = 0;
  if (compressed) {
    const r = rnd.int(20);
    const plain = r < 2
      // A bomb (up to 256 times the limit), or just at the limit.
      ? new Uint8Array(chance(rnd, 0.2) ? 1 << 20 : MAX * (1 + rnd.int(20)) + rnd.int(2))
      : op === 0x1
      ? text(rnd, size(rnd, noisy) * (1 + rnd.int(3)), noisy)
      : rnd.bytes(size(rnd, noisy));
    payload = await compressor.compress(rnd, plain);
    if (noisy) {
      const m = rnd.int(20);
      if (m < 3) payload = rnd.mutate(payload);
      else if (m < 4) payload = rnd.bytes(rnd.int(40));
    }
    rsv1 = noisy && chance(rnd, 0.05) ? 0 : 0x40;
  } else {
    payload = op === 0x1 ? text(rnd, size(rnd, noisy), noisy) : rnd.bytes(size(rnd, noisy));
  }
  const most = noisy ? FRAGMENTS + 1 : FRAGMENTS; // one more than allowed, now and then
  const k = 1 + rnd.int(Math.min(most, room));
  const frames: Uint8Array[] = [];
  const open = noisy && chance(rnd, 0.08); // left unfinished
  cut(rnd, payload, k).forEach((part, i) => {
    if (i > 0 && chance(rnd, 0.15)) frames.push(control(rnd, setup, noisy && chance(rnd, 0.3)));
    const fin = i === k - 1 && !open ? 0x80 : 0;
    const b0 = fin | (i === 0 ? op | rsv1 : 0);
    frames.push(encode(rnd, setup, b0, part, noisy));
  });
  return frames;
}

/** A frame declaring a length over the limit (or with its top bit set), then a few bytes. */
function huge(rnd: Random, setup: Setup): Uint8Array {
  const b0 = (chance(rnd, 0.8) ? 0x80 : 0) | rnd.pick([0x0, 0x1, 0x2, 0x2, 0x8, 0x9]);
  const m = setup.role === "server" ? 0x80 : 0;
  const len = rnd.pick([MAX + 1, MAX + 2 + rnd.int(60000), 65535, 65536, 2 ** 31, 2 ** 32 + 1]) +
    rnd.pick([0, 0, 2 ** 40, 2 ** 52]);
  const head = [b0];
  if (len < 65536 && chance(rnd, 0.7)) head.push(m | 126, len >> 8, len & 255);
  else {
    // The 64-bit form; a top bit set now and then (a protocol error, not a length).
    const hi = chance(rnd, 0.2) ? 0x80000000 + rnd.int(2 ** 31) : Math.floor(len / 2 ** 32);
    const lo = len % 2 ** 32;
    head.push(m | 127);
    for (const w of [hi, lo]) head.push(w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255);
  }
  if (m) head.push(...rnd.bytes(4));
  return join([Uint8Array.from(head), rnd.bytes(rnd.int(16))]);
}

/**
 * A sequence of 1-8 frames from random parts. `noisy`: with broken ones among them;
 * otherwise a valid sequence (the input of byte-level mutation).
 */
async function frames(
  rnd: Random,
  setup: Setup,
  noisy: boolean,
  compressor: Compressor | null,
): Promise<Uint8Array> {
  const target = 1 + rnd.int(8);
  const out: Uint8Array[] = [];
  while (out.length < target) {
    const r = rnd.int(100);
    const room = target - out.length;
    if (r < 55 || (!noisy && r < 75)) {
      out.push(...await message(rnd, setup, noisy, compressor, room));
    } else if (r < 75 || !noisy) out.push(control(rnd, setup, noisy));
    else if (r < 82) out.push(huge(rnd, setup));
    else if (r < 89) {
      const op = rnd.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]);
      out.push(encode(rnd, setup, 0x80 | op, rnd.bytes(rnd.int(10)), false));
    } else if (r < 95) {
      out.push(encode(rnd, setup, rnd.pick([0x00, 0x80]), rnd.bytes(rnd.int(10)), false));
    } else out.push(rnd.bytes(1 + rnd.int(12)));
  }
  const bytes = join(out);
  return noisy && chance(rnd, 0.08) ? bytes.subarray(0, rnd.int(bytes.length + 1)) : bytes;
}

// ---------------------------------------------------------------------------------------
// Running a case

/** What a WebSocket did with a case. */
interface Observed {
  messages: WebSocketMessage[];
  /** What `for await` threw, if it did. */
  thrown: { error: unknown } | null;
  closeCode: number | null;
  closeReason: string;
  /** Every byte the WebSocket wrote. */
  sent: Uint8Array;
}

/**
 * Writes `pieces` to a WebSocket of `setup` from a raw peer, which then ends its side, and
 * records what the WebSocket delivers and sends until it is closed.
 */
async function play(setup: Setup, pieces: Uint8Array[], what = ""): Promise<Observed> {
  const [mine, peer] = memoryPair();
  const ws = new WebSocket(mine, {
    role: setup.role,
    maxFrameSize: setup.maxFrameSize,
    maxFragmentation: setup.maxFragmentation,
    deflate: setup.deflate,
    closeTimeout: 60_000, // never what ends a case
  });
  const messages: WebSocketMessage[] = [];
  let thrown: { error: unknown } | null = null;
  const iterating = (async () => {
    try {
      for await (const m of ws) messages.push(m);
    } catch (error) {
      thrown = { error };
    }
  })();
  const reading = (async () => {
    const got: Uint8Array[] = [];
    for (let c = await peer.read(); c !== null; c = await peer.read()) got.push(c);
    return join(got);
  })();
  const writing = (async () => {
    for (const p of pieces) {
      try {
        await peer.write(p);
      } catch {
        break; // the WebSocket closed the connection
      }
    }
    await peer.closeWrite();
  })();
  const limit = deadline(5_000, `the WebSocket did not close: ${what}`);
  try {
    const [, sent] = await Promise.race([
      Promise.all([iterating, reading, writing, ws.closed]),
      limit.promise,
    ]);
    return { messages, thrown, closeCode: ws.closeCode, closeReason: ws.closeReason, sent };
  } finally {
    limit.cancel();
  }
}

/** Asserts what the WebSocket did with `bytes` is what the reference decoder says. */
function check(
  setup: Setup,
  bytes: Uint8Array,
  got: Observed,
  inflate: RefOptions["inflate"],
  what: string,
): void {
  const ref = reference(bytes, { ...setup, inflate: setup.deflate ? inflate : undefined });
  const pings: Uint8Array[] = [];
  let end: RefEnd | { unknown: true } = ref.end;
  let m = 0;
  for (const e of ref.events) {
    if ("ping" in e) pings.push(e.ping);
    else if ("message" in e) {
      assert(m < got.messages.length, `message ${m} was not delivered: ${what}`);
      assertEquals(got.messages[m++], e.message, `message ${m - 1}: ${what}`);
    } else if ("unknown" in e) {
      if (m === got.messages.length) {
        end = { unknown: true }; // it failed the connection, or the next assertions fail
        break;
      }
      const msg = got.messages[m++];
      const n = typeof msg === "string" ? utf8(msg).length : msg.length;
      assertEquals(
        typeof msg === "string" ? "text" : "binary",
        e.unknown,
        `message ${m - 1}: ${what}`,
      );
      assert(n <= setup.maxFrameSize, `message ${m - 1} of ${n} bytes: ${what}`);
    }
  }
  assertEquals(got.messages.length, m, `messages beyond the reference's: ${what}`);
  for (const msg of got.messages) {
    assert(typeof msg === "string" || msg instanceof Uint8Array, `a message's type: ${what}`);
  }

  // The close code, and the close frame sent for it.
  let code: number;
  let sentCode: number | null;
  if ("unknown" in end) {
    code = got.closeCode!;
    assert(code === 1007 || code === 1009, `closed with ${code} at a compressed message: ${what}`);
    sentCode = code;
  } else if ("close" in end) {
    code = end.close;
    sentCode = end.close;
    assertEquals(got.closeReason, end.reason, `the close reason: ${what}`);
  } else if ("fail" in end) {
    code = sentCode = end.fail;
  } else {
    code = 1006;
    sentCode = null;
  }
  assertEquals(got.closeCode, code, `the close code: ${what}`);

  // for await ends quietly on 1000, 1001 and 1005, and throws a WebSocketError otherwise.
  if (code === 1000 || code === 1001 || code === 1005) {
    assertEquals(got.thrown, null, `for await threw on ${code}: ${what}`);
  } else {
    const error = got.thrown?.error;
    assert(got.thrown !== null, `for await ended quietly on ${code}: ${what}`);
    assertInstanceOf(error, WebSocketError, `what for await threw: ${what}`);
    assertEquals((error as WebSocketError).code, code, `the code for await threw: ${what}`);
  }

  // What went back: a pong for each ping, then the close frame, well formed.
  const peerRole = setup.role === "server" ? "client" : "server";
  const back = reference(got.sent, {
    role: peerRole,
    maxFrameSize: Infinity,
    maxFragmentation: Infinity,
  });
  const sentWhat = `${what}; sent ${toHex(got.sent)}`;
  // Without a close frame the connection just ended (1006): pongs still waiting to be
  // written may be dropped with it.
  const pongs = pings.map((ping) => ({ pong: ping }));
  if (sentCode === null) pongs.length = Math.min(pongs.length, back.events.length);
  assertEquals(back.events, pongs, `the pongs: ${sentWhat}`);
  if (sentCode === null) assertEquals(back.end, { eof: true }, `no close frame: ${sentWhat}`);
  else {
    const close = "close" in back.end ? back.end.close : back.end;
    assertEquals(close, sentCode, `the close frame's code: ${sentWhat}`);
  }
}

/**
 * Runs `cases` cases made by `make`, case `i` from `new Random(seed + i)`, and checks each.
 * `FUZZ_SEED` replaces `seed` (to run other cases), `FUZZ_CASE` runs one case only (to
 * replay a failure, as its message says).
 */
async function fuzz(
  test: string,
  seed: number,
  cases: number,
  setup: Setup,
  make: (rnd: Random, compressor: Compressor | null) => Promise<Uint8Array>,
  mode: (rnd: Random) => "takeover" | "alone" = () => "alone",
): Promise<void> {
  seed = knob("FUZZ_SEED") ?? seed;
  const only = knob("FUZZ_CASE");
  for (let i = only ?? 0; i < (only === null ? cases : only + 1); i++) {
    const rnd = new Random(seed + i);
    const compressor = setup.deflate ? new Compressor(mode(rnd)) : null;
    try {
      const bytes = await make(rnd, compressor);
      const pieces = rnd.split(bytes);
      const what = `seed ${seed} case ${i} (replay: FUZZ_SEED=${seed} FUZZ_CASE=${i} ` +
        `deno test -A tests/websockets/fuzz_test.ts --filter "${test}"), ${setup.role}` +
        (setup.deflate ? ` with deflate (${compressor!.mode})` : "") +
        `, written in pieces of ${pieces.map((p) => p.length).join(" + ")} bytes: ${toHex(bytes)}`;
      const got = await play(setup, pieces, what);
      const independent = setup.role === "server"
        ? setup.deflate?.clientNoContextTakeover
        : setup.deflate?.serverNoContextTakeover;
      check(setup, bytes, got, compressor?.inflater(independent ?? false), what);
    } finally {
      compressor?.close();
    }
  }
}

// ---------------------------------------------------------------------------------------
// The cases

const SERVER: Setup = {
  role: "server",
  maxFrameSize: MAX,
  maxFragmentation: FRAGMENTS,
  deflate: null,
};
const CLIENT: Setup = { ...SERVER, role: "client" };

/** Frames from random parts, mostly broken ones, or a valid sequence mutated byte by byte. */
function mixed(setup: Setup, broken: number, mutated: number) {
  return async (rnd: Random, compressor: Compressor | null): Promise<Uint8Array> => {
    const bytes = await frames(rnd, setup, chance(rnd, broken), compressor);
    return chance(rnd, mutated) ? rnd.mutate(bytes) : bytes;
  };
}

const eitherMode = (rnd: Random) => rnd.pick(["takeover", "alone"] as const);

Deno.test("a server survives random frame sequences and answers each as RFC 6455 says", async (t) => {
  await fuzz(t.name, 0x6455_0001, 1500, SERVER, mixed(SERVER, 1, 0));
});

Deno.test("a server survives mutated frame sequences and answers each as RFC 6455 says", async (t) => {
  await fuzz(t.name, 0x6455_1001, 1500, SERVER, mixed(SERVER, 0, 1));
});

Deno.test("a server with permessage-deflate survives random, corrupt and oversized compressed messages", async (t) => {
  const setup: Setup = { ...SERVER, deflate: deflateParams(false) };
  await fuzz(t.name, 0x7692_0001, 600, setup, mixed(setup, 0.7, 0.3), eitherMode);
});

Deno.test("a server with permessage-deflate and no context takeover survives them too", async (t) => {
  const setup: Setup = { ...SERVER, deflate: deflateParams(true) };
  await fuzz(t.name, 0x7692_1001, 400, setup, mixed(setup, 0.7, 0.3));
});

Deno.test("a client survives random and mutated frame sequences, with and without deflate", async (t) => {
  await fuzz(t.name, 0x6455_2001, 500, CLIENT, mixed(CLIENT, 0.6, 0.4));
  const setup: Setup = { ...CLIENT, deflate: deflateParams(false) };
  await fuzz(t.name, 0x7692_2001, 300, setup, mixed(setup, 0.7, 0.3), eitherMode);
});
