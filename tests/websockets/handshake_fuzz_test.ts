/**
 * A seeded fuzz test of the WebSocket opening handshake on both ends (RFC 6455 section 4,
 * permessage-deflate negotiation of RFC 7692 sections 5-7).
 *
 * Client side: `WebSockets.open` over a caller-supplied connection (one end of a
 * `memoryPair`, wrapped to count `close()` / `closeWrite()` calls) and over TCP to a URL.
 * A raw server reads the client's request (checked too: RFC 6455 4.1, the deflate offer of
 * RFC 7692 7.1), then answers with a valid 101 (the right `Sec-WebSocket-Accept`, a
 * subprotocol the client offered, a permessage-deflate answer to its offer) changed at
 * random: a wrong or missing accept, Upgrade or Connection, other statuses (1xx before the
 * answer, 1xx alone, 2xx, 3xx, 4xx and 5xx with bodies), subprotocols not offered, and
 * extension answers with every permessage-deflate parameter in valid and invalid forms
 * (duplicates, values outside 8-15 or with leading zeros, windows the client cannot
 * honour, missing values, quoted values, unknown parameters and extensions, bad grammar),
 * and now and then mutated byte by byte (`Random.mutate`); it is written in random pieces
 * (`Random.split`). A reference written here from the RFCs judges the bytes: `open` must
 * succeed exactly when they are a valid answer (with `ws.protocol` and `ws.extensions` what
 * was accepted) and reject with an Error otherwise (`WebSocketHandshakeError` with the
 * status for a final status other than 101), always within a deadline. A caller's
 * connection is never closed or half-closed by `open`, also when it fails, and still
 * carries bytes both ways afterwards; a URL's connection is closed when the handshake
 * fails. After a valid answer the raw server speaks frames: messages both ways, compressed
 * as negotiated (the client's compressed messages are inflated here with the window it
 * may use and, when it must not use context takeover, each on its own), then the closing
 * handshake.
 *
 * Server side: random and mutated upgrade requests (keys of every validity, versions,
 * methods, HTTP/1.0, Origin against a `checkOrigin`, offered subprotocols, permessage-deflate
 * offers with every parameter combination, valid and not) go over TCP to four servers:
 * `WebSockets.listen` and `serve` + `WebSockets.upgrade`, with and without compression and
 * with different deflate options. The answer must be 101 exactly for a valid request, with
 * the right accept, the expected subprotocol, and a valid RFC 7692 answer to the first
 * acceptable offer (offers the server cannot take are declined, never failed); otherwise
 * 400, 403 or 426 (with `Sec-WebSocket-Version: 13`) as RFC 6455 4.2.2 says, never 500;
 * after a 101 messages are echoed as negotiated (the server's compressed messages inflate
 * with the window it announced); and every server keeps serving.
 *
 * Readings the RFCs leave open are let go either way (and counted, see `FUZZ_VERBOSE`): a
 * 101 in HTTP/1.0, an empty `Sec-WebSocket-Protocol`, extension or parameter names in
 * other case, a key with its base64 pad bits set (RFC 4648 3.5), a subprotocol offer that
 * is not a token or an extension header outside the grammar (400, or declined), a Host
 * the URL standard refuses, and "get" through `serve` (a fetch `Request` uppercases it).
 *
 * Case `i` of a run is made by `new Random(seed + i)`; every assertion message names the
 * seed, the case, the bytes (as a JSON string, one character a byte) and the sizes of the
 * writes, and how to replay it:
 * `FUZZ_SEED=<seed> FUZZ_CASE=<i> deno test -A tests/websockets/handshake_fuzz_test.ts --filter ...`
 * (`FUZZ_SEED` alone runs other cases; `FUZZ_VERBOSE=1` prints what the cases came to).
 * Windows are checked by inflating with `chunkSize` 64, where the runtime's zlib refuses a
 * distance beyond its window then (Deno and Bun; Node's bundled zlib does not, and there
 * only the context rules are checked).
 */
import { assert, assertEquals } from "@std/assert";
import zlib from "node:zlib";
import { connect } from "../../conn/connect.ts";
import { memoryPair } from "../../conn/memory.ts";
import type { Addr, Conn } from "../../conn/types.ts";
import {
  HttpParseError,
  parseRequestHead,
  parseResponseHead,
  toHeaders,
} from "../../http1/parse.ts";
import { serve } from "../../server/serve.ts";
import { WebSocketError } from "../../websockets/errors.ts";
import { WebSockets } from "../../websockets/namespace.ts";
import { WebSocketHandshakeError } from "../../websockets/open.ts";
import type { DeflateOptions } from "../../websockets/permessage_deflate.ts";
import type { WebSocket } from "../../websockets/websocket.ts";
import type { WebSocketConnection } from "../../websockets/upgrade.ts";
import { ProxyConfig } from "../../client/proxy.ts";
import { RequestTimeoutError, ResponseHeaderTimeoutError } from "../../client/errors.ts";
import { join } from "../_bytes.ts";
import { knob, Random } from "../_random.ts";
import { bytes, rawServer, str } from "../client/_helpers.ts";
import { KEY as MASK, rawFrame, RUNTIME, syncFlushed, utf8 } from "./_helpers.ts";
import { within } from "../_fixtures.ts";

const NO_PROXY = new ProxyConfig();
const CASE_DEADLINE = 5_000;

/** `assert`, narrowing the type (the npm build of @std/assert carries no types). */
function ok(condition: unknown, message: string): asserts condition {
  assert(condition, message);
}

function chance(rnd: Random, p: number): boolean {
  return rnd.next() < p;
}

function shuffle<T>(rnd: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Counts what the cases came to, printed with `FUZZ_VERBOSE=1`. */
class Tally {
  #counts = new Map<string, number>();
  /** Counts a reason, its numbers and quoted parts left out. */
  why(prefix: string, why: string): void {
    const short = why.replace(/"[^"]*"/g, '"..."').replace(/\d+/g, "N").replace(
      / in \S+ field/,
      "",
    );
    this.add(`${prefix}: ${short.toLowerCase().slice(0, 70)}`);
  }
  add(key: string): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }
  print(title: string): void {
    if (!knob("FUZZ_VERBOSE")) return;
    this.add(`windows checked by inflating: ${WINDOWS_ENFORCED}`);
    const rows = [...this.#counts].sort((a, b) => a[0].localeCompare(b[0]));
    console.log(
      `${title}:\n${rows.map(([k, n]) => `  ${String(n).padStart(5)}  ${k}`).join("\n")}`,
    );
  }
}

/** Collects unhandled rejections while a test runs, on all three runtimes. */
function watchRejections(): {
  seen: { reason: unknown; during: string }[];
  during: string;
  stop(): void;
} {
  const state = { seen: [] as { reason: unknown; during: string }[], during: "", stop: () => {} };
  const record = (reason: unknown) => state.seen.push({ reason, during: state.during });
  const proc = (globalThis as {
    process?: {
      on(e: string, f: (r: unknown) => void): void;
      off(e: string, f: (r: unknown) => void): void;
    };
  }).process;
  if (RUNTIME === "deno") {
    const onEvent = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      record(e.reason);
    };
    globalThis.addEventListener("unhandledrejection", onEvent);
    state.stop = () => globalThis.removeEventListener("unhandledrejection", onEvent);
  } else if (proc) {
    proc.on("unhandledRejection", record);
    state.stop = () => proc.off("unhandledRejection", record);
  }
  return state;
}

function assertNoRejections(watch: ReturnType<typeof watchRejections>): void {
  watch.stop();
  assertEquals(
    watch.seen.map(({ reason, during }) => `${String(reason)} (around ${during})`),
    [],
    "unhandled rejections",
  );
}

/** The bytes as a JSON string, one character a byte. */
function show(b: Uint8Array): string {
  return JSON.stringify(str(b));
}

// ---------------------------------------------------------------------------------------
// The reference: header grammar and the RFC 7692 rules, written from the RFCs

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const isToken = (s: string) => TOKEN_RE.test(s);

/** A window-bits value of RFC 7692 7.1.2: a decimal 8-15 without leading zeros. */
function bitsOf(v: string | true): number | null {
  return v !== true && /^(?:[89]|1[0-5])$/.test(v) ? Number(v) : null;
}

interface Ext {
  name: string;
  params: [string, string | true][];
}

/**
 * An `Sec-WebSocket-Extensions` value (RFC 6455 9.1 with RFC 9110 5.6.1 lists: empty
 * elements allowed, OWS around separators; a quoted value must unquote to a token), or
 * `null` when it is not in the grammar.
 */
function parseExtList(s: string): Ext[] | null {
  let i = 0;
  const ows = () => {
    while (s[i] === " " || s[i] === "\t") i++;
  };
  const token = (): string | null => {
    const m = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(s.slice(i));
    if (!m) return null;
    i += m[0].length;
    return m[0];
  };
  const out: Ext[] = [];
  for (;;) {
    ows();
    if (i >= s.length) return out;
    if (s[i] === ",") {
      i++;
      continue;
    }
    const name = token();
    if (name === null) return null;
    const ext: Ext = { name, params: [] };
    ows();
    while (s[i] === ";") {
      i++;
      ows();
      const p = token();
      if (p === null) return null;
      ows();
      let v: string | true = true;
      if (s[i] === "=") {
        i++;
        ows();
        if (s[i] === '"') {
          i++;
          let q = "";
          for (;;) {
            if (i >= s.length) return null;
            const c = s[i++];
            if (c === '"') break;
            if (c === "\\") {
              if (i >= s.length) return null;
              q += s[i++];
            } else q += c;
          }
          if (!isToken(q)) return null;
          v = q;
        } else {
          const t = token();
          if (t === null) return null;
          v = t;
        }
        ows();
      }
      ext.params.push([p, v]);
    }
    out.push(ext);
    if (i >= s.length) return out;
    if (s[i] !== ",") return null;
    i++;
  }
}

/** A permessage-deflate offer: what the client asked and allowed (RFC 7692 7.1). */
interface Offer {
  snct: boolean;
  cnct: boolean;
  /** server_max_window_bits asked for, or null. */
  smwb: number | null;
  /** client_max_window_bits: a value, `true` without one, null when absent. */
  cmwb: number | true | null;
}

/** What both ends use once a negotiation settled. */
interface Agreed {
  snct: boolean;
  cnct: boolean;
  smwb: number;
  cmwb: number;
}

const KNOWN = [
  "server_no_context_takeover",
  "client_no_context_takeover",
  "server_max_window_bits",
  "client_max_window_bits",
];

/** Parameter names that are known only when lowercased: a reading the RFCs leave open. */
function caseVariant(ext: Ext): boolean {
  return (ext.name !== "permessage-deflate" && ext.name.toLowerCase() === "permessage-deflate") ||
    ext.params.some(([n]) => !KNOWN.includes(n) && KNOWN.includes(n.toLowerCase()));
}

/** An offer's parameters (RFC 7692 7.1), or why the server must decline it. */
function readOffer(params: Ext["params"]): Offer | string {
  const offer: Offer = { snct: false, cnct: false, smwb: null, cmwb: null };
  const seen = new Set<string>();
  for (const [name, v] of params) {
    if (seen.has(name)) return `${name} repeated`;
    seen.add(name);
    if (name === "server_no_context_takeover" || name === "client_no_context_takeover") {
      if (v !== true) return `${name} with a value`;
      if (name === "server_no_context_takeover") offer.snct = true;
      else offer.cnct = true;
    } else if (name === "server_max_window_bits") {
      const b = bitsOf(v);
      if (b === null) return `bad ${name}`;
      offer.smwb = b;
    } else if (name === "client_max_window_bits") {
      if (v === true) offer.cmwb = true;
      else {
        const b = bitsOf(v);
        if (b === null) return `bad ${name}`;
        offer.cmwb = b;
      }
    } else return `unknown parameter ${name}`;
  }
  return offer;
}

/**
 * Whether `params` answer `offer` (RFC 7692 7.1.1.1, 7.1.1.2, 7.1.2.1, 7.1.2.2): known
 * parameters once each, window values 8-15 always given, server_max_window_bits at most
 * the offer's and present when it was offered, client_max_window_bits only when offered
 * and at most its value, server_no_context_takeover present when offered. Returns what
 * both ends then use, or why not.
 */
function answerTo(offer: Offer, params: Ext["params"]): Agreed | string {
  const seen = new Set<string>();
  const got: { snct: boolean; cnct: boolean; smwb: number | null; cmwb: number | null } = {
    snct: false,
    cnct: false,
    smwb: null,
    cmwb: null,
  };
  for (const [name, v] of params) {
    if (seen.has(name)) return `${name} repeated`;
    seen.add(name);
    if (name === "server_no_context_takeover" || name === "client_no_context_takeover") {
      if (v !== true) return `${name} with a value`;
      if (name === "server_no_context_takeover") got.snct = true;
      else got.cnct = true;
    } else if (name === "server_max_window_bits" || name === "client_max_window_bits") {
      const b = bitsOf(v);
      if (b === null) return `bad ${name}`;
      if (name === "server_max_window_bits") {
        if (offer.smwb !== null && b > offer.smwb) return `${name} above the offer`;
        got.smwb = b;
      } else {
        if (offer.cmwb === null) return `${name} not offered`;
        if (offer.cmwb !== true && b > offer.cmwb) return `${name} above the offer`;
        got.cmwb = b;
      }
    } else return `unknown parameter ${name}`;
  }
  if (offer.snct && !got.snct) return "server_no_context_takeover offered, not accepted";
  if (offer.smwb !== null && got.smwb === null) {
    return "server_max_window_bits offered, not accepted";
  }
  return {
    snct: got.snct,
    cnct: got.cnct,
    smwb: got.smwb ?? 15,
    cmwb: got.cmwb ?? (typeof offer.cmwb === "number" ? offer.cmwb : 15),
  };
}

function offerOf(o: DeflateOptions): Offer {
  return {
    snct: !!o.serverNoContextTakeover,
    cnct: !!o.clientNoContextTakeover,
    smwb: o.serverMaxWindowBits ?? null,
    cmwb: o.clientMaxWindowBits ?? true, // offerDeflate always offers it
  };
}

function listTokens(value: string | null): string[] {
  if (value === null) return [];
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

async function acceptOf(key: string): Promise<string> {
  const data = new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", data));
  return btoa(String.fromCharCode(...digest));
}

/** Index just past the first CRLF CRLF at or after `from`, or -1. */
function headEnd(b: Uint8Array, from: number): number {
  for (let i = from; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i + 4;
  }
  return -1;
}

/** Skips the empty lines a recipient ignores before a head (RFC 9112 2.2). */
function skipEmptyLines(b: Uint8Array, at: number): number {
  while (at + 1 < b.length && b[at] === 13 && b[at + 1] === 10) at += 2;
  return at;
}

// ---------------------------------------------------------------------------------------
// Compression as a peer does it, and checks of what the library compressed

const TRAILER = new Uint8Array([0, 0, 0xff, 0xff]);

/** Whether this runtime's zlib refuses, with chunkSize 64, a distance beyond the window. */
const WINDOWS_ENFORCED = (() => {
  const block = new Random(7).bytes(5000);
  const deflated = zlib.deflateRawSync(join([block, block]));
  try {
    zlib.inflateRawSync(deflated, { windowBits: 9, chunkSize: 64 });
    return false;
  } catch {
    return true;
  }
})();

/**
 * Inflates a peer's compressed messages as RFC 7692 7.2.2 says, checking that the peer kept
 * to the window it may use and, with `noContext`, that each message stands on its own.
 */
class Inflater {
  #history: Uint8Array[] = [];
  #plain = 0;
  constructor(readonly bits: number, readonly noContext: boolean) {}

  inflate(payload: Uint8Array): Uint8Array {
    const data = join([payload, TRAILER]);
    const options = {
      windowBits: Math.max(this.bits, 8),
      chunkSize: 64,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    };
    const check = (input: Uint8Array, why: string): Uint8Array => {
      try {
        return new Uint8Array(zlib.inflateRawSync(input, options));
      } catch (error) {
        throw new Error(`${why}: ${(error as Error).message}`);
      }
    };
    if (this.noContext) {
      return check(data, `a message that must inflate on its own with a ${this.bits}-bit window`);
    }
    this.#history.push(data);
    const all = check(join(this.#history), `a message inflated with a ${this.bits}-bit window`);
    const out = all.subarray(this.#plain);
    this.#plain = all.length;
    return out;
  }
}

/** Compresses messages as a peer with the negotiated window and context rules; `null`: send plain. */
class Deflater {
  #stream: ReturnType<typeof zlib.createDeflateRaw> | null = null;
  constructor(readonly bits: number, readonly noContext: boolean) {}

  compress(plain: Uint8Array): Promise<Uint8Array | null> {
    if (this.bits < 9) return Promise.resolve(null); // zlib makes no 8-bit raw deflate
    if (this.noContext) {
      const out = zlib.deflateRawSync(plain, {
        windowBits: this.bits,
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
      });
      return Promise.resolve(new Uint8Array(out.subarray(0, out.length - 4)));
    }
    this.#stream ??= zlib.createDeflateRaw({ windowBits: this.bits });
    return syncFlushed(this.#stream, plain);
  }

  close(): void {
    this.#stream?.close();
    this.#stream = null;
  }
}

/** A random block repeated: distances of `block` bytes, beyond small windows. */
function repeated(rnd: Random): Uint8Array {
  const block = rnd.bytes(600 + rnd.int(12_000));
  return join([block, block]);
}

function closePayload(code: number, reason: string): Uint8Array {
  return join([new Uint8Array([code >> 8, code & 255]), utf8(reason)]);
}

// ---------------------------------------------------------------------------------------
// A raw peer

interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/** Reads a connection as a raw peer: heads, frames, the end. */
class Peer {
  #buf: Uint8Array = new Uint8Array(0);
  constructor(readonly conn: Conn) {}

  async #fill(): Promise<boolean> {
    let chunk: Uint8Array | null;
    try {
      chunk = await this.conn.read();
    } catch {
      chunk = null;
    }
    if (chunk === null) return false;
    this.#buf = join([this.#buf, chunk]);
    return true;
  }

  /** One head, up to CRLF CRLF; `null` at the end. */
  async head(): Promise<Uint8Array | null> {
    for (;;) {
      const end = headEnd(this.#buf, skipEmptyLines(this.#buf, 0));
      if (end >= 0) {
        const head = this.#buf.slice(0, end);
        this.#buf = this.#buf.slice(end);
        return head;
      }
      if (!(await this.#fill())) return null;
    }
  }

  async bytes(n: number): Promise<Uint8Array | null> {
    while (this.#buf.length < n) if (!(await this.#fill())) return null;
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  async frame(): Promise<Frame | null> {
    const h = await this.bytes(2);
    if (h === null) return null;
    let len = h[1] & 0x7f;
    if (len >= 126) {
      const ext = await this.bytes(len === 126 ? 2 : 8);
      if (ext === null) return null;
      len = 0;
      for (const b of ext) len = len * 256 + b;
    }
    const masked = (h[1] & 0x80) !== 0;
    const key = masked ? await this.bytes(4) : null;
    const payload = await this.bytes(len);
    if (payload === null || (masked && key === null)) return null;
    if (key) { for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3]; }
    return { fin: (h[0] & 0x80) !== 0, rsv: (h[0] >> 4) & 7, opcode: h[0] & 15, masked, payload };
  }

  /** A whole message (its frames joined), or a control frame; `null` at the end. */
  async message(): Promise<Frame | null> {
    const first = await this.frame();
    if (first === null || first.fin || first.opcode >= 8) return first;
    const parts = [first.payload];
    let masked = first.masked;
    for (;;) {
      const f = await this.frame();
      if (f === null) return null;
      if (f.opcode !== 0) throw new Error(`frame of opcode ${f.opcode} inside a message`);
      masked &&= f.masked;
      parts.push(f.payload);
      if (f.fin) return { ...first, fin: true, masked, payload: join(parts) };
    }
  }

  /** Reads until the end of the stream, dropping what comes. */
  async end(): Promise<void> {
    this.#buf = new Uint8Array(0);
    while (await this.#fill()) this.#buf = new Uint8Array(0);
  }
}

/** A caller's connection: counts what the library does to it. */
class CallerConn implements Conn {
  readonly localAddr: Addr = { transport: "memory", hostname: "", port: 0 };
  readonly remoteAddr: Addr = { transport: "memory", hostname: "", port: 0 };
  readonly alpnProtocol = null;
  readonly secure = false;
  closes = 0;
  closeWrites = 0;
  constructor(readonly inner: Conn) {}
  read(): Promise<Uint8Array | null> {
    return this.inner.read();
  }
  write(data: Uint8Array): Promise<void> {
    return this.inner.write(data);
  }
  closeWrite(): Promise<void> {
    this.closeWrites++;
    return this.inner.closeWrite();
  }
  close(): void {
    this.closes++;
    this.inner.close();
  }
  setNoDelay(_noDelay: boolean): void {}
}

// ---------------------------------------------------------------------------------------
// Extension headers from random parts

const BITS_BAD = [
  "7",
  "16",
  "0",
  "08",
  "010",
  "015",
  "1e1",
  "-9",
  "9.0",
  "+9",
  "abc",
  "99999999999",
];

/** A parameter as written: a name and its raw value text (maybe quoted), or none. */
type RawParam = [string, string | true];

function bitsValue(rnd: Random, max: number = 15): string {
  return String(8 + rnd.int(max - 7));
}

/** Writes a value: quoted now and then, an escape inside a quote now and then. */
function writeValue(rnd: Random, v: string): string {
  if (!chance(rnd, 0.15) || !isToken(v)) return v;
  if (v.length > 1 && chance(rnd, 0.3)) {
    const at = rnd.int(v.length);
    return `"${v.slice(0, at)}\\${v.slice(at)}"`;
  }
  return `"${v}"`;
}

/** One or two invalid changes to an offer's or an answer's parameters. */
function spoil(rnd: Random, params: RawParam[], answer: boolean): void {
  for (let n = 1 + rnd.int(2); n > 0; n--) {
    switch (rnd.int(8)) {
      case 0: // a repeated parameter
        params.push(params.length > 0 ? rnd.pick(params) : ["server_no_context_takeover", true]);
        break;
      case 1: // an unknown parameter
        params.push(rnd.pick<RawParam>([
          ["foo", true],
          ["foo", "bar"],
          ["x_max_window_bits", "10"],
          ["server_max_window", "10"],
          ["max_window_bits", "15"],
        ]));
        break;
      case 2: // a value where none is allowed
        params.push([
          rnd.pick(["server_no_context_takeover", "client_no_context_takeover"]),
          rnd.pick(["1", "true", '"x"']),
        ]);
        break;
      case 3: // a malformed window
        params.push([
          rnd.pick(["server_max_window_bits", "client_max_window_bits"]),
          rnd.pick(BITS_BAD),
        ]);
        break;
      case 4: // a window without a value (only client_max_window_bits in an offer)
        params.push([
          answer
            ? rnd.pick(["server_max_window_bits", "client_max_window_bits"])
            : "server_max_window_bits",
          true,
        ]);
        break;
      case 5: // quoted, but not a token inside
        params.push([rnd.pick(KNOWN), rnd.pick(['""', '"1 0"', '"1,0"'])]);
        break;
      case 6: // a well-formed window, any value
        params.push([
          rnd.pick(["server_max_window_bits", "client_max_window_bits"]),
          bitsValue(rnd),
        ]);
        break;
      default: // drop one
        if (params.length > 0) params.splice(rnd.int(params.length), 1);
    }
  }
  shuffle(rnd, params);
}

/** Formats one extension, with random spacing. */
function writeExt(rnd: Random, name: string, params: RawParam[]): string {
  const sp = () => (chance(rnd, 0.15) ? rnd.pick([" ", "  ", "\t"]) : "");
  let out = name;
  for (const [k, v] of params) {
    out += `${sp()};${chance(rnd, 0.8) ? " " : sp()}${k}`;
    if (v !== true) out += `${sp()}=${sp()}${v.startsWith('"') ? v : writeValue(rnd, v)}`;
  }
  return out;
}

/** Breaks the grammar of an extension header value. */
function garble(rnd: Random, value: string): string {
  const junk = rnd.pick([";", " ;", "; ", "=", '"', "a b", "; =1", ";;x", "(x)", "; x=", "/", "@"]);
  const at = chance(rnd, 0.5) ? value.length : rnd.int(value.length + 1);
  return value.slice(0, at) + junk + value.slice(at);
}

/** A list of extension elements: empty ones, other extensions, around `main`. */
function extList(rnd: Random, main: string[]): string {
  const items = [...main];
  if (chance(rnd, 0.1)) {
    items.splice(rnd.int(items.length + 1), 0, rnd.pick(["x-webkit-deflate-frame", "foo; bar=1"]));
  }
  if (chance(rnd, 0.08)) items.splice(rnd.int(items.length + 1), 0, "");
  return items.join(chance(rnd, 0.8) ? ", " : ",");
}

// ---------------------------------------------------------------------------------------
// Client side: a raw server's answers

/** What a client's case offers. */
interface ClientSetup {
  offer: DeflateOptions | null;
  protocols: string[];
  target: string;
  host: string;
}

const PROTOCOLS = ["chat", "superchat", "v1.chat", "v2", "mqtt"];

function clientSetup(rnd: Random): ClientSetup {
  let offer: DeflateOptions | null = null;
  if (chance(rnd, 0.75)) {
    offer = {};
    if (chance(rnd, 0.3)) offer.serverNoContextTakeover = true;
    if (chance(rnd, 0.3)) offer.clientNoContextTakeover = true;
    if (chance(rnd, 0.35)) offer.serverMaxWindowBits = 8 + rnd.int(8);
    if (chance(rnd, 0.35)) offer.clientMaxWindowBits = 8 + rnd.int(8);
  }
  const protocols = chance(rnd, 0.5) ? [] : shuffle(rnd, [...PROTOCOLS]).slice(0, 1 + rnd.int(3));
  return { offer, protocols, target: rnd.pick(["/", "/chat", "/a/b?c=d"]), host: "example.com" };
}

/** What the reference says of an answer. */
type ClientVerdict =
  | {
    kind: "valid";
    protocol: string | null;
    ext: Ext | null;
    agreed: Agreed | null;
    /** Bytes after the 101's head. */
    rest: Uint8Array;
  }
  | { kind: "invalid"; why: string; status: number | null }
  | { kind: "either"; why: string };

/** Judges the bytes a server sent as RFC 6455 4.1 and RFC 7692 7.1 say a client must. */
async function judgeResponse(
  b: Uint8Array,
  key: string,
  setup: ClientSetup,
): Promise<ClientVerdict> {
  let at = 0;
  for (;;) {
    at = skipEmptyLines(b, at);
    const end = headEnd(b, at);
    if (end < 0) return { kind: "invalid", why: "no whole head before the end", status: null };
    let parsed;
    try {
      parsed = parseResponseHead(b.subarray(at, end));
    } catch (error) {
      return {
        kind: "invalid",
        why: `a malformed head (${(error as Error).message})`,
        status: null,
      };
    }
    at = end;
    const status = parsed.status;
    if (status >= 100 && status < 200 && status !== 101) continue; // interim (RFC 9110 15.2)
    if (status !== 101) return { kind: "invalid", why: `status ${status}`, status };
    const h = toHeaders(parsed.fields);
    const fail = (why: string): ClientVerdict => ({ kind: "invalid", why, status: null });
    if (h.get("upgrade")?.trim().toLowerCase() !== "websocket") return fail("Upgrade");
    if (!listTokens(h.get("connection")).some((t) => t.toLowerCase() === "upgrade")) {
      return fail("Connection");
    }
    if (h.get("sec-websocket-accept")?.trim() !== await acceptOf(key)) return fail("accept");
    let protocol: string | null = null;
    const p = h.get("sec-websocket-protocol");
    if (p !== null) {
      if (p.trim() === "") return { kind: "either", why: "an empty Sec-WebSocket-Protocol" };
      if (!setup.protocols.includes(p.trim())) return fail(`subprotocol ${p} not offered`);
      protocol = p.trim();
    }
    let ext: Ext | null = null;
    let agreed: Agreed | null = null;
    const e = h.get("sec-websocket-extensions");
    if (e !== null) {
      const list = parseExtList(e);
      if (list === null) return fail(`extensions ${JSON.stringify(e)} not in the grammar`);
      if (list.length > 0) {
        if (list.length > 1) return fail("more than one extension");
        if (caseVariant(list[0])) return { kind: "either", why: "a name in other case" };
        if (setup.offer === null) return fail("an extension not offered");
        if (list[0].name !== "permessage-deflate") return fail(`${list[0].name} not offered`);
        const answer = answerTo(offerOf(setup.offer), list[0].params);
        if (typeof answer === "string") return fail(answer);
        ext = list[0];
        agreed = answer;
      }
    }
    if (parsed.minor === 0) return { kind: "either", why: "a 101 in HTTP/1.0" };
    return { kind: "valid", protocol, ext, agreed, rest: b.slice(at) };
  }
}

/** The messages of a round trip after a valid answer. */
interface RoundTrip {
  /** A message the server sends with its 101, in the same writes. */
  early: string | null;
  fromClient: (string | Uint8Array)[];
  fromServer: (string | Uint8Array)[];
  /** The server compresses (when negotiated), with this deflater. */
  deflater: Deflater | null;
}

interface ClientPlan {
  /** Everything written after the request: the answer and any early frames. */
  written: Uint8Array;
  pieces: Uint8Array[];
  mutated: boolean;
  verdict: ClientVerdict;
  roundTrip: RoundTrip | null;
  /** The refusal's body, when it is delimited and not mutated. */
  body: string | null;
}

const FINAL_STATUSES = [200, 204, 301, 302, 307, 400, 401, 403, 404, 426, 429, 500, 503];

/** A server's answer to the request with `key`: a valid 101 changed at random. */
async function planAnswer(
  rnd: Random,
  key: string,
  setup: ClientSetup,
): Promise<ClientPlan> {
  const fields: [string, string][] = [
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Accept", await acceptOf(key)],
  ];
  const field = (name: string) => fields.find(([n]) => n === name);
  const set = (name: string, value: string | null) => {
    const i = fields.findIndex(([n]) => n === name);
    if (i >= 0) fields.splice(i, 1);
    if (value !== null) fields.push([name, value]);
  };
  let statusLine = "HTTP/1.1 101 Switching Protocols";
  let interim = "";
  let body = "";
  let bodyDelimited = false;

  // The subprotocol and the extension answer.
  if (setup.protocols.length > 0 && chance(rnd, 0.7)) {
    fields.push(["Sec-WebSocket-Protocol", rnd.pick(setup.protocols)]);
  }
  if (chance(rnd, 0.1)) {
    set(
      "Sec-WebSocket-Protocol",
      rnd.pick(["other", "", "chat, v2", `${setup.protocols[0] ?? "chat"} `, "CHAT"]),
    );
  }
  if (setup.offer !== null && chance(rnd, 0.8)) {
    const offer = offerOf(setup.offer);
    const params: RawParam[] = [];
    if (offer.snct || chance(rnd, 0.2)) params.push(["server_no_context_takeover", true]);
    if (chance(rnd, offer.cnct ? 0.6 : 0.25)) params.push(["client_no_context_takeover", true]);
    if (offer.smwb !== null) params.push(["server_max_window_bits", bitsValue(rnd, offer.smwb)]);
    else if (chance(rnd, 0.3)) params.push(["server_max_window_bits", bitsValue(rnd)]);
    if (offer.cmwb !== null && chance(rnd, 0.4)) {
      params.push([
        "client_max_window_bits",
        bitsValue(rnd, offer.cmwb === true ? 15 : offer.cmwb),
      ]);
    }
    shuffle(rnd, params);
    if (chance(rnd, 0.35)) spoil(rnd, params, true);
    let value = extList(rnd, [writeExt(rnd, "permessage-deflate", params)]);
    if (chance(rnd, 0.05)) value = garble(rnd, value);
    if (chance(rnd, 0.05)) value = `${value}, permessage-deflate`;
    fields.push(["Sec-WebSocket-Extensions", value]);
  } else if (chance(rnd, 0.06)) {
    fields.push(["Sec-WebSocket-Extensions", rnd.pick(["permessage-deflate", "foo", ""])]);
  }

  // Random changes to the 101.
  if (chance(rnd, 0.07)) {
    set("Upgrade", rnd.pick([null, "h2c", "websocket, h2c", "WebSocket", "websocket2", ""]));
  }
  if (chance(rnd, 0.07)) {
    set(
      "Connection",
      rnd.pick([null, "close", "keep-alive", "keep-alive, Upgrade", "upgrade", "Upgradex"]),
    );
  }
  if (chance(rnd, 0.08)) {
    const right = field("Sec-WebSocket-Accept")![1];
    const choice = rnd.int(5);
    if (choice === 0) set("Sec-WebSocket-Accept", null);
    else if (choice === 1) set("Sec-WebSocket-Accept", await acceptOf(key.toLowerCase() + "x"));
    else if (choice === 2) set("Sec-WebSocket-Accept", right.toLowerCase());
    else if (choice === 3) set("Sec-WebSocket-Accept", right.slice(0, -2));
    else fields.push(["Sec-WebSocket-Accept", right]); // twice
  }
  if (chance(rnd, 0.04)) fields.push(["Upgrade", "websocket"]); // twice
  if (chance(rnd, 0.3)) fields.push(["Server", "fuzz/1.0"]);
  if (chance(rnd, 0.1)) fields.push(["Content-Length", "0"]);

  // Other statuses.
  const r = rnd.int(100);
  if (r < 8) {
    interim = rnd.pick([
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
      "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n",
    ]);
  } else if (r < 11) {
    statusLine = rnd.pick(["HTTP/1.1 100 Continue", "HTTP/1.1 103 Early Hints"]);
  } else if (r < 26) {
    const status = rnd.pick(FINAL_STATUSES);
    statusLine = `HTTP/1.1 ${status} ${status === 200 ? "OK" : "Nope"}`;
    if (chance(rnd, 0.6)) fields.splice(0, fields.length); // a plain HTTP answer
    if (status >= 300 && status < 400) fields.push(["Location", "/elsewhere"]);
    if (status !== 204) {
      body = rnd.pick(["", "go away", "x".repeat(300), "no websockets here\n"]);
      const framing = rnd.int(4);
      if (framing <= 1) {
        set("Content-Length", String(body.length));
        bodyDelimited = true;
      } else if (framing === 2) {
        fields.push(["Transfer-Encoding", "chunked"]);
        body = body ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : "0\r\n\r\n";
      }
    }
  } else if (r < 28) {
    statusLine = "HTTP/1.0 101 Switching Protocols";
  } else if (r < 30) {
    statusLine = "HTTP/1.1 101"; // no reason phrase
  }

  const names = (n: string) =>
    rnd.pick([n, n.toLowerCase(), n.toUpperCase(), n.replace("WebSocket", "Websocket")]);
  let head = bytes(
    interim + statusLine + "\r\n" +
      shuffle(rnd, fields).map(([n, v]) => `${names(n)}:${chance(rnd, 0.9) ? " " : ""}${v}\r\n`)
        .join("") +
      "\r\n" + body,
  );
  const mutated = chance(rnd, 0.25);
  if (mutated) head = rnd.mutate(head);
  const verdict = await judgeResponse(head, key, setup);

  // After a valid answer, the server speaks: an early message with the head, then a round trip.
  let roundTrip: RoundTrip | null = null;
  let written = head;
  if (verdict.kind === "valid" && verdict.rest.length === 0 && chance(rnd, 0.8)) {
    const agreed = verdict.agreed;
    const deflater = agreed && chance(rnd, 0.8) ? new Deflater(agreed.smwb, agreed.snct) : null;
    roundTrip = {
      early: chance(rnd, 0.5) ? `early ${rnd.int(1000)}` : null,
      fromClient: [`hello ${rnd.int(1000)}`],
      fromServer: [`reply ${"r".repeat(rnd.int(3000))}`],
      deflater,
    };
    if (agreed) {
      const big = repeated(rnd);
      roundTrip.fromClient.push(big, big.slice(), `${"text ".repeat(300)}`);
      roundTrip.fromServer.push(repeated(rnd), "s".repeat(2000));
    }
    if (roundTrip.early !== null) {
      written = join([head, await serverFrame(roundTrip, roundTrip.early)]);
    }
  }
  return {
    written,
    pieces: rnd.split(written),
    mutated,
    verdict,
    roundTrip,
    body: bodyDelimited && !mutated ? body : null,
  };
}

/** A server's (unmasked) frame of a message, compressed when the round trip does. */
async function serverFrame(rt: RoundTrip, message: string | Uint8Array): Promise<Uint8Array> {
  const plain = typeof message === "string" ? utf8(message) : message;
  const compressed = rt.deflater ? await rt.deflater.compress(plain) : null;
  const op = typeof message === "string" ? 0x1 : 0x2;
  return rawFrame(0x80 | (compressed ? 0x40 : 0) | op, compressed ?? plain);
}

/** Checks the client's request (RFC 6455 4.1, RFC 7692 7.1) and returns its key. */
function checkRequest(head: Uint8Array, setup: ClientSetup, what: string): string {
  const req = parseRequestHead(head);
  const h = toHeaders(req.fields);
  const w = `${what}; the request ${show(head)}`;
  assertEquals([req.method, req.minor], ["GET", 1], w);
  assertEquals([req.target, h.get("host")], [setup.target, setup.host], w);
  assertEquals(h.get("upgrade"), "websocket", w);
  assert(listTokens(h.get("connection")).some((t) => t.toLowerCase() === "upgrade"), w);
  const key = h.get("sec-websocket-key") ?? "";
  assert(/^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key), `a key of 16 bytes: ${w}`);
  assertEquals(h.get("sec-websocket-version"), "13", w);
  const protocols = setup.protocols.length ? setup.protocols.join(", ") : null;
  assertEquals(h.get("sec-websocket-protocol"), protocols, w);
  const e = h.get("sec-websocket-extensions");
  if (setup.offer === null) assertEquals(e, null, w);
  else {
    const list = parseExtList(e ?? "");
    ok(list !== null && list.length === 1 && list[0].name === "permessage-deflate", w);
    assertEquals(readOffer(list[0].params), offerOf(setup.offer), `the deflate offer: ${w}`);
  }
  return key;
}

/**
 * The raw server's side of a round trip: the client's messages (masked; compressed only
 * as negotiated and within its window), the server's messages, then the closing handshake.
 */
async function serverRoundTrip(
  peer: Peer,
  rt: RoundTrip,
  agreed: Agreed | null,
  clientNoContext: boolean,
  what: string,
): Promise<void> {
  const inflater = agreed ? new Inflater(agreed.cmwb, clientNoContext) : null;
  for (const [n, expected] of rt.fromClient.entries()) {
    const m = await peer.message();
    ok(m !== null, `the client's message ${n} did not come: ${what}`);
    assert(m.masked, `the client's message ${n} is not masked: ${what}`);
    assertEquals(m.opcode, typeof expected === "string" ? 1 : 2, `message ${n}'s type: ${what}`);
    assert(m.rsv === 0 || (m.rsv === 4 && inflater !== null), `message ${n}'s RSV: ${what}`);
    let data = m.payload;
    if (m.rsv === 4) {
      try {
        data = inflater!.inflate(data);
      } catch (error) {
        throw new Error(`the client's message ${n}: ${(error as Error).message}: ${what}`);
      }
    }
    const want = typeof expected === "string" ? utf8(expected) : expected;
    assert(
      data.length === want.length && data.every((x, i) => x === want[i]),
      `the client's message ${n} arrived changed: ${what}`,
    );
  }
  for (const message of rt.fromServer) await peer.conn.write(await serverFrame(rt, message));
  await peer.conn.write(rawFrame(0x88, closePayload(1000, "bye")));
  const close = await peer.message();
  ok(close !== null && close.opcode === 8 && close.masked, `no masked close frame: ${what}`);
  assertEquals(close.payload.subarray(0, 2), new Uint8Array([0x03, 0xe8]), `its code: ${what}`);
}

/** The client's side of a round trip. */
async function clientRoundTrip(ws: WebSocket, rt: RoundTrip, what: string): Promise<void> {
  if (rt.early !== null) assertEquals(await ws.receive(), rt.early, `the early message: ${what}`);
  for (const m of rt.fromClient) await ws.send(m);
  for (const [n, m] of rt.fromServer.entries()) {
    assertEquals(await ws.receive(), m, `the server's message ${n}: ${what}`);
  }
  await ws.closed;
  assertEquals(ws.closeCode, 1000, `the close code: ${what}`);
}

/** Names a rejection for the tally. */
function errorKind(error: unknown): string {
  if (error instanceof WebSocketHandshakeError) return `WebSocketHandshakeError (${error.status})`;
  if (error instanceof WebSocketError) return `WebSocketError ${error.code}`;
  if (error instanceof Error) return `${error.name}: ${error.message.replace(/\d+/g, "N")}`;
  return `not an Error: ${typeof error}`;
}

/** Checks a rejection of `open` against the verdict. */
function checkRejection(error: unknown, plan: ClientPlan, what: string): void {
  ok(error instanceof Error, `open rejected with a non-Error ${String(error)}: ${what}`);
  const v = plan.verdict;
  assert(v.kind !== "valid", `open rejected a valid answer (${error}): ${what}`);
  if (v.kind === "invalid" && v.status !== null) {
    ok(
      error instanceof WebSocketHandshakeError,
      `a ${v.status} rejected with ${error.name}, not WebSocketHandshakeError: ${what}`,
    );
    assertEquals(error.status, v.status, `the error's status: ${what}`);
    if (plan.body !== null) assertEquals(error.body, plan.body, `the error's body: ${what}`);
  } else if (v.kind === "invalid" && error instanceof WebSocketError) {
    assert([1002, 1010].includes(error.code), `code ${error.code}: ${what}`);
  }
}

/** Checks a successful `open` against the verdict: what was accepted, the round trip. */
function checkAccepted(ws: WebSocket, plan: ClientPlan, what: string): void {
  const v = plan.verdict;
  assert(
    v.kind !== "invalid",
    `open accepted an invalid answer (${v.kind === "invalid" && v.why}): ${what}`,
  );
  if (v.kind !== "valid") return;
  assertEquals(ws.protocol, v.protocol ?? "", `ws.protocol: ${what}`);
  if (v.ext === null) assertEquals(ws.extensions, "", `ws.extensions: ${what}`);
  else assertEquals(parseExtList(ws.extensions), [v.ext], `ws.extensions: ${what}`);
}

interface ClientRun {
  seed: number;
  i: number;
  test: string;
  tally: Tally;
  watch: ReturnType<typeof watchRejections>;
}

/** One case of `open` over a caller-supplied connection (a memory pair). */
async function clientOverConn(run: ClientRun): Promise<void> {
  const { seed, i, test, tally } = run;
  const rnd = new Random(seed + i);
  const setup = clientSetup(rnd);
  const useF = chance(rnd, 0.3);
  // Now and then the server stalls in its head, and a handshake timeout ends the wait.
  const stall = chance(rnd, 0.01) ? rnd.pick(["requestTimeout", "responseHeaderTimeout"]) : null;
  let what = `seed ${seed} case ${i} (replay: FUZZ_SEED=${seed} FUZZ_CASE=${i} deno test -A ` +
    `tests/websockets/handshake_fuzz_test.ts --filter "${test}"), over a caller's connection, ` +
    (stall ? `with a ${stall} of 100 ms, ` : "") +
    `offering ${JSON.stringify(setup.offer)} and subprotocols ${JSON.stringify(setup.protocols)}`;
  run.watch.during = `case ${i}`;
  const [mine, theirs] = memoryPair();
  const caller = new CallerConn(mine);
  const peer = new Peer(theirs);
  let resolvePlan!: (plan: ClientPlan) => void;
  const planned = new Promise<ClientPlan>((resolve) => (resolvePlan = resolve));
  const options = {
    target: setup.target,
    host: setup.host,
    compress: setup.offer ?? false,
    subprotocols: setup.protocols,
    ...(stall ? { [stall]: 100 } : {}),
  };
  const opened: Promise<{ ws: WebSocket } | { error: unknown }> =
    (useF
      ? WebSockets.open(caller, async (ws) => {
        const plan = await planned;
        if (plan?.roundTrip) await clientRoundTrip(ws, plan.roundTrip, what);
        return ws;
      }, options)
      : WebSockets.open(caller, options)).then((ws) => ({ ws }), (error) => ({ error }));

  try {
    const head = await within(peer.head(), CASE_DEADLINE, `no request: ${what}`);
    ok(head !== null, `no request: ${what}`);
    const key = checkRequest(head, setup, what);
    if (stall) {
      const part = bytes(
        rnd.pick(["", "HTTP/1.1 100 Continue\r\n\r\n"]) +
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConn".slice(
            0,
            1 + rnd.int(60),
          ),
      );
      what += `, answered ${show(part)} and nothing more`;
      resolvePlan(undefined as unknown as ClientPlan);
      await theirs.write(part);
      const outcome = await within(opened, CASE_DEADLINE, `open did not settle: ${what}`);
      ok("error" in outcome, `open succeeded: ${what}`);
      tally.add(`stalled: ${errorKind(outcome.error)}`);
      const expected = stall === "requestTimeout"
        ? RequestTimeoutError
        : ResponseHeaderTimeoutError;
      ok(
        outcome.error instanceof expected,
        `${errorKind(outcome.error)}, not ${expected.name}: ${what}`,
      );
      assertEquals(
        [caller.closes, caller.closeWrites],
        [0, 0],
        `closed the caller's connection: ${what}`,
      );
      // It still carries bytes out; what comes in next goes to the read the handshake left
      // pending (open cannot take a read back without closing the connection).
      await caller.write(utf8("still open"));
      const after = await within(peer.bytes(10), CASE_DEADLINE, `no bytes after: ${what}`);
      assertEquals(after && str(after), "still open", `the caller's connection after: ${what}`);
      return;
    }
    const plan = await planAnswer(rnd, key, setup);
    what +=
      `, answered (${plan.verdict.kind}${"why" in plan.verdict ? `: ${plan.verdict.why}` : ""}` +
      `${plan.mutated ? ", mutated" : ""}) in pieces of ${
        plan.pieces.map((p) => p.length).join(" + ")
      }` +
      ` bytes: ${show(plan.written)}`;
    resolvePlan(plan);
    tally.add(`verdict ${plan.verdict.kind}${plan.roundTrip ? " with a round trip" : ""}`);
    if ("why" in plan.verdict) tally.why(`  ${plan.verdict.kind} because`, plan.verdict.why);
    for (const piece of plan.pieces) await theirs.write(piece).catch(() => {});
    const rt = plan.roundTrip;
    const v = plan.verdict;
    let serving: Promise<void> = Promise.resolve();
    if (rt && v.kind === "valid") {
      const clientNoContext = !!v.agreed?.cnct || !!setup.offer?.clientNoContextTakeover;
      serving = serverRoundTrip(peer, rt, v.agreed, clientNoContext, what);
      serving.catch(() => {}); // awaited below
    } else await theirs.closeWrite();

    const settled = Promise.race([opened, serving.then(() => opened)]);
    const outcome = await within(settled, CASE_DEADLINE, `open did not settle: ${what}`);
    if ("error" in outcome) {
      tally.add(`rejected: ${errorKind(outcome.error)}`);
      if (v.kind === "either") tally.why("  either, rejected", v.why);
      checkRejection(outcome.error, plan, what);
    } else {
      tally.add("accepted");
      if (v.kind === "either") tally.why("  either, accepted", v.why);
      const ws = outcome.ws;
      checkAccepted(ws, plan, what);
      // Both sides at once, so the first failure is the one reported.
      const client = rt && !useF ? clientRoundTrip(ws, rt, what) : null;
      await within(Promise.all([client, serving]), CASE_DEADLINE, `round trip: ${what}`);
      await within(ws.closed, CASE_DEADLINE, `the WebSocket did not close: ${what}`);
    }
    rt?.deflater?.close();

    // The caller's connection: never closed, never half-closed, still carrying bytes.
    assertEquals(
      [caller.closes, caller.closeWrites],
      [0, 0],
      `closed the caller's connection: ${what}`,
    );
    if ("error" in outcome) {
      await caller.write(utf8("still open"));
      const after = await within(peer.bytes(10), CASE_DEADLINE, `no bytes after: ${what}`);
      assertEquals(after && str(after), "still open", `the caller's connection after: ${what}`);
      await within(
        (async () => {
          while ((await caller.read()) !== null); // no read of the library's left pending
        })(),
        CASE_DEADLINE,
        `the caller's connection does not end: ${what}`,
      );
    }
  } finally {
    resolvePlan(undefined as unknown as ClientPlan);
    mine.close();
    theirs.close();
  }
}

/** One case of `open` to a ws:// URL, the raw server on TCP: the connection is ours to close. */
async function clientOverUrl(
  run: ClientRun,
  server: { port: number; next: (handler: (conn: Conn) => Promise<void>) => void },
): Promise<void> {
  const { seed, i, test, tally } = run;
  const rnd = new Random(seed + i);
  const setup = { ...clientSetup(rnd), host: `127.0.0.1:${server.port}` };
  let what = `seed ${seed} case ${i} (replay: FUZZ_SEED=${seed} FUZZ_CASE=${i} deno test -A ` +
    `tests/websockets/handshake_fuzz_test.ts --filter "${test}"), to a URL, ` +
    `offering ${JSON.stringify(setup.offer)} and subprotocols ${JSON.stringify(setup.protocols)}`;
  run.watch.during = `case ${i}`;
  let resolvePlan!: (plan: ClientPlan) => void;
  const planned = new Promise<ClientPlan>((resolve) => (resolvePlan = resolve));
  const handled = new Promise<void>((resolve, reject) => {
    server.next((conn) => {
      const serverDone = (async () => {
        const peer = new Peer(conn);
        const head = await peer.head();
        ok(head !== null, `no request: ${what}`);
        const key = checkRequest(head, setup, what);
        const plan = await planAnswer(rnd, key, setup);
        what +=
          `, answered (${plan.verdict.kind}${
            "why" in plan.verdict ? `: ${plan.verdict.why}` : ""
          }` +
          `${plan.mutated ? ", mutated" : ""}) in pieces of ` +
          `${plan.pieces.map((p) => p.length).join(" + ")} bytes: ${show(plan.written)}`;
        resolvePlan(plan);
        tally.add(`verdict ${plan.verdict.kind}${plan.roundTrip ? " with a round trip" : ""}`);
        if ("why" in plan.verdict) tally.why(`  ${plan.verdict.kind} because`, plan.verdict.why);
        for (const piece of plan.pieces) await conn.write(piece).catch(() => {});
        const v = plan.verdict;
        if (plan.roundTrip && v.kind === "valid") {
          const clientNoContext = !!v.agreed?.cnct || !!setup.offer?.clientNoContextTakeover;
          await serverRoundTrip(peer, plan.roundTrip, v.agreed, clientNoContext, what);
          conn.close(); // the server closes the TCP connection first
          return;
        }
        await conn.closeWrite().catch(() => {});
        // The client closes its connection: after a failed handshake, or a WebSocket that ended.
        await peer.end();
      })();
      serverDone.then(resolve, reject);
      return serverDone;
    });
  });
  const target = `ws://127.0.0.1:${server.port}${setup.target}`;
  const opened = WebSockets.open(target, {
    compress: setup.offer ?? false,
    subprotocols: setup.protocols,
    proxy: NO_PROXY,
  }).then((ws) => ({ ws }), (error) => ({ error }));
  // The raw server's failures first, when it has any.
  const settled = Promise.race([opened, handled.then(() => opened)]);
  const outcome = await within(settled, CASE_DEADLINE, `open did not settle: ${what}`);
  const plan = await within(planned, CASE_DEADLINE, `no answer: ${what}`);
  if ("error" in outcome) {
    tally.add(`rejected: ${errorKind(outcome.error)}`);
    checkRejection(outcome.error, plan, what);
  } else {
    tally.add("accepted");
    checkAccepted(outcome.ws, plan, what);
    if (plan.roundTrip) {
      const client = clientRoundTrip(outcome.ws, plan.roundTrip, what);
      await within(Promise.all([client, handled]), CASE_DEADLINE, `round trip: ${what}`);
    }
    await within(outcome.ws.closed, CASE_DEADLINE, `the WebSocket did not close: ${what}`);
  }
  await within(handled, CASE_DEADLINE, `the connection was not closed: ${what}`);
  plan.roundTrip?.deflater?.close();
}

// ---------------------------------------------------------------------------------------
// Server side: random and mutated upgrade requests

interface ServerSetup {
  label: string;
  /** The deflate options, `null` without compression. */
  deflate: DeflateOptions | null;
  /** The subprotocol the server picks among the client's offers. */
  choose(offered: string[]): string | null;
  /** Whether the handler sees a fetch `Request` (serve + upgrade), not a `Stream`. */
  request: boolean;
  /** Whether the origin passes (no checkOrigin: all). */
  allows(origin: string | null): boolean;
  port: number;
  close(): Promise<void>;
}

const echo = async (ws: WebSocketConnection) => {
  for await (const message of ws) await ws.send(message);
};

async function startServers(errors: unknown[]): Promise<ServerSetup[]> {
  const onError = (error: unknown) => errors.push(error);
  const started: ServerSetup[] = [];
  const good = (o: string | null) => o === null || o === "https://good.example";
  const a = await WebSockets.listen("127.0.0.1", 0, echo, {
    compress: true,
    subprotocols: ["chat", "v2"],
    checkOrigin: good,
    onError,
  });
  started.push({
    label: "listen, compress: true, subprotocols [chat, v2], checkOrigin",
    request: false,
    deflate: {},
    choose: (o) => o.find((p) => ["chat", "v2"].includes(p)) ?? null,
    allows: good,
    port: a.port,
    close: () => WebSockets.forceClose(a),
  });
  const bOptions: DeflateOptions = {
    serverMaxWindowBits: 11,
    clientMaxWindowBits: 10,
    clientNoContextTakeover: true,
  };
  const pick = (offered: string[]) => offered.find((p) => p.startsWith("v"));
  const b = await serve("127.0.0.1", 0, (request) => {
    return WebSockets.upgrade(request, echo, { compress: bOptions, subprotocols: pick, onError });
  }, {
    onError: (error) => {
      errors.push(error);
      return new Response(null, { status: 500 });
    },
  });
  started.push({
    label: `serve + upgrade, compress: ${JSON.stringify(bOptions)}, subprotocols v*`,
    request: true,
    deflate: bOptions,
    choose: (o) => pick(o) ?? null,
    allows: () => true,
    port: b.port,
    close: () => WebSockets.forceClose(b),
  });
  const cOptions: DeflateOptions = { serverNoContextTakeover: true, serverMaxWindowBits: 9 };
  const c = await WebSockets.listen("127.0.0.1", 0, echo, { compress: cOptions, onError });
  started.push({
    label: `listen, compress: ${JSON.stringify(cOptions)}`,
    request: false,
    deflate: cOptions,
    choose: () => null,
    allows: () => true,
    port: c.port,
    close: () => WebSockets.forceClose(c),
  });
  const d = await WebSockets.listen("127.0.0.1", 0, echo, { subprotocols: ["chat"], onError });
  started.push({
    label: "listen, no compression, subprotocols [chat]",
    request: false,
    deflate: null,
    choose: (o) => (o.includes("chat") ? "chat" : null),
    allows: () => true,
    port: d.port,
    close: () => WebSockets.forceClose(d),
  });
  return started;
}

/** What the reference expects of the server. */
interface ServerExpect {
  /** No whole head was sent: the server waits, then sees the end. */
  incomplete: boolean;
  /** Statuses allowed (101 only if the request is valid, or arguably so). */
  statuses: Set<number>;
  /** Why, for messages. */
  why: string[];
  protocol: string | null;
  /** The first offer the server can take, when it compresses. */
  offer: Offer | null;
  /** Its place among the extensions offered. */
  offerIndex: number;
  /** A name in other case: any answer to the offers will do. */
  looseExtensions: boolean;
  /** The key sent. */
  key: string;
  /** Bytes after the head. */
  rest: Uint8Array;
}

/** Judges a request as RFC 6455 4.2.1 and 4.2.2 and RFC 7692 5 and 7.1 say a server must. */
function judgeRequest(b: Uint8Array, setup: ServerSetup): ServerExpect {
  const expect: ServerExpect = {
    incomplete: false,
    statuses: new Set(),
    why: [],
    protocol: null,
    offer: null,
    offerIndex: -1,
    looseExtensions: false,
    key: "",
    rest: new Uint8Array(0),
  };
  const start = skipEmptyLines(b, 0);
  const end = headEnd(b, start);
  if (end < 0) {
    expect.incomplete = true;
    return expect;
  }
  expect.rest = b.slice(end);
  let parsed;
  try {
    parsed = parseRequestHead(b.subarray(start, end), { maxHeaderCount: 100 });
  } catch (error) {
    if (!(error instanceof HttpParseError)) throw error;
    expect.statuses.add(error.status);
    expect.why.push(`unparsable: ${error.message}`);
    return expect;
  }
  const h = toHeaders(parsed.fields);
  let hard = false;
  /** A fault that rules out a 101. */
  const fault = (why: string, ...statuses: number[]) => {
    hard = true;
    expect.why.push(why);
    for (const s of statuses) expect.statuses.add(s);
  };
  /** A fault the RFCs let a server refuse or overlook. */
  const soft = (why: string) => {
    expect.why.push(why);
    expect.statuses.add(400);
  };
  if (parsed.method !== "GET") {
    // `serve` hands handlers a fetch `Request`, whose constructor uppercases "get" (Fetch
    // "normalize a method"): upgrade() cannot tell it from GET.
    if (setup.request && parsed.method.toUpperCase() === "GET") soft(`method ${parsed.method}`);
    else fault(`method ${parsed.method}`, 400, 405, 501);
  }
  if (parsed.minor === 0) fault("HTTP/1.0", 400, 426, 505);
  if (h.get("host") === null) fault("no Host", 400);
  else if (!URL.canParse(`http://${h.get("host")}${parsed.target}`)) {
    // A Host the URL standard refuses (a port above 65535, `1.2.3x.4`): RFC 3986 allows
    // some, RFC 9112 3.2 answers an invalid one with 400; the server refuses them all.
    soft(`a Host the URL standard refuses`);
  }
  if (!listTokens(h.get("upgrade")).some((t) => t.toLowerCase() === "websocket")) {
    fault("no websocket in Upgrade", 400, 426);
  }
  if (!listTokens(h.get("connection")).some((t) => t.toLowerCase() === "upgrade")) {
    fault("no upgrade in Connection", 400, 426);
  }
  expect.key = h.get("sec-websocket-key")?.trim() ?? "";
  if (!/^[A-Za-z0-9+/]{21}[AQgw]==$/.test(expect.key)) {
    // Base64 of 16 bytes with pad bits set: RFC 4648 3.5 lets a decoder take or refuse it.
    if (/^[A-Za-z0-9+/]{22}==$/.test(expect.key)) soft("a key with pad bits set");
    else fault(`key ${JSON.stringify(expect.key)}`, 400);
  }
  const version = h.get("sec-websocket-version");
  if (version === null) fault("no version", 400, 426);
  else if (version.trim() !== "13") fault(`version ${JSON.stringify(version)}`, 426, 400);
  const offered = listTokens(h.get("sec-websocket-protocol"));
  if (offered.some((p) => !isToken(p))) soft("a subprotocol that is not a token");
  expect.protocol = setup.choose(offered.filter(isToken));
  if (!setup.allows(h.get("origin"))) fault(`origin ${h.get("origin")}`, 403);
  const e = h.get("sec-websocket-extensions");
  if (setup.deflate !== null && e !== null) {
    const list = parseExtList(e);
    if (list === null) soft("extensions outside the grammar"); // refused, or declined
    else {
      for (const ext of list) {
        if (caseVariant(ext)) {
          soft("a deflate name in other case");
          expect.looseExtensions = true;
        }
        if (ext.name !== "permessage-deflate") continue;
        const offer = readOffer(ext.params);
        if (typeof offer === "string") continue; // declined (RFC 7692 5)
        expect.offer = offer;
        expect.offerIndex = list.indexOf(ext);
        break;
      }
    }
  }
  if (!hard) expect.statuses.add(101);
  return expect;
}

/** The client's offers: permessage-deflate elements valid and not, other extensions. */
function offerHeader(rnd: Random): string | null {
  if (chance(rnd, 0.25)) return null;
  const items: string[] = [];
  for (let n = 1 + rnd.int(3); n > 0; n--) {
    if (chance(rnd, 0.15)) {
      items.push(rnd.pick(["x-webkit-deflate-frame", "foo; bar=1", "permessage-foo"]));
      continue;
    }
    const params: RawParam[] = [];
    if (chance(rnd, 0.3)) params.push(["server_no_context_takeover", true]);
    if (chance(rnd, 0.3)) params.push(["client_no_context_takeover", true]);
    if (chance(rnd, 0.35)) params.push(["server_max_window_bits", bitsValue(rnd)]);
    if (chance(rnd, 0.6)) {
      params.push(["client_max_window_bits", chance(rnd, 0.5) ? true : bitsValue(rnd)]);
    }
    shuffle(rnd, params);
    if (chance(rnd, 0.35)) spoil(rnd, params, false);
    items.push(writeExt(rnd, "permessage-deflate", params));
  }
  let value = extList(rnd, items);
  if (chance(rnd, 0.05)) value = garble(rnd, value);
  return value;
}

function keyVariant(rnd: Random): string {
  const b64 = (n: number) => btoa(String.fromCharCode(...rnd.bytes(n)));
  const good = b64(16);
  if (chance(rnd, 0.8)) return good;
  switch (rnd.int(10)) {
    case 0:
      return b64(15);
    case 1:
      return b64(17);
    case 2:
      return good.slice(0, 22); // no padding
    case 3:
      return good.replace(/[+/]/g, "-").replace(/^./, "_"); // base64url
    case 4:
      return `${good.slice(0, 10)} ${good.slice(10)}`;
    case 5:
      return "";
    case 6:
      return good.slice(0, 21) + rnd.pick(["B", "R", "h", "x", "9"]) + "=="; // pad bits set
    case 7:
      return `${good}, ${b64(16)}`;
    case 8:
      return b64(32);
    default:
      return good.slice(0, 23) + "=";
  }
}

interface RequestPlan {
  bytes: Uint8Array;
  pieces: Uint8Array[];
  mutated: boolean;
  target: string;
  expect: ServerExpect;
}

/** A random upgrade request for `setup`. */
function planRequest(rnd: Random, setup: ServerSetup): RequestPlan {
  const fields: [string, string][] = [
    ["Host", `127.0.0.1:${setup.port}`],
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Key", keyVariant(rnd)],
    ["Sec-WebSocket-Version", "13"],
  ];
  const set = (name: string, value: string | null) => {
    const i = fields.findIndex(([n]) => n === name);
    if (i >= 0) fields.splice(i, 1);
    if (value !== null) fields.push([name, value]);
  };
  let method = "GET";
  let version = "HTTP/1.1";
  const target = rnd.pick(["/", "/chat", "/ws?x=1", "/a/b"]);
  if (chance(rnd, 0.06)) method = rnd.pick(["POST", "HEAD", "PUT", "get", "OPTIONS"]);
  if (chance(rnd, 0.04)) version = "HTTP/1.0";
  if (chance(rnd, 0.03)) set("Host", null);
  if (chance(rnd, 0.07)) {
    set(
      "Upgrade",
      rnd.pick([null, "WebSocket", "h2c", "websocket, h2c", "h2c, websocket", "websocket/13", ""]),
    );
  }
  if (chance(rnd, 0.07)) {
    set(
      "Connection",
      rnd.pick([null, "keep-alive", "keep-alive, Upgrade", "close", "upgrade", "Upgrade, close"]),
    );
  }
  if (chance(rnd, 0.1)) {
    set(
      "Sec-WebSocket-Version",
      rnd.pick([null, "8", "12", "14", "13, 8", "", "abc", " 13 ", "013"]),
    );
  }
  if (chance(rnd, 0.03)) fields.push(["Sec-WebSocket-Version", "13"]); // twice
  if (chance(rnd, 0.3)) {
    fields.push(["Origin", rnd.pick(["https://good.example", "https://evil.example", "null"])]);
  }
  if (chance(rnd, 0.45)) {
    const offered = shuffle(rnd, [...PROTOCOLS, "chat", "v3"]).slice(0, 1 + rnd.int(3));
    if (chance(rnd, 0.1)) {
      offered.splice(rnd.int(offered.length + 1), 0, rnd.pick(["a b", "(x)", "", "v2;"]));
    }
    const value = offered.join(", ");
    if (chance(rnd, 0.1) && offered.length > 1) {
      fields.push(["Sec-WebSocket-Protocol", offered[0]], [
        "Sec-WebSocket-Protocol",
        offered.slice(1).join(","),
      ]);
    } else fields.push(["Sec-WebSocket-Protocol", value]);
  }
  const extensions = offerHeader(rnd);
  if (extensions !== null) {
    const items = extensions.split(", ");
    if (items.length > 1 && chance(rnd, 0.15)) {
      const at = 1 + rnd.int(items.length - 1);
      fields.push(
        ["Sec-WebSocket-Extensions", items.slice(0, at).join(", ")],
        ["Sec-WebSocket-Extensions", items.slice(at).join(", ")],
      );
    } else fields.push(["Sec-WebSocket-Extensions", extensions]);
  }
  if (chance(rnd, 0.2)) fields.push(["User-Agent", "fuzz/1.0"]);
  if (chance(rnd, 0.05)) fields.push(["Content-Length", "0"]);
  const names = (n: string) => rnd.pick([n, n.toLowerCase(), n.toUpperCase()]);
  let b = bytes(
    `${method} ${target} ${version}\r\n` +
      shuffle(rnd, fields).map(([n, v]) => `${names(n)}: ${v}\r\n`).join("") + "\r\n",
  );
  const mutated = chance(rnd, 0.2);
  if (mutated) b = rnd.mutate(b);
  return { bytes: b, pieces: rnd.split(b), mutated, target, expect: judgeRequest(b, setup) };
}

/** Checks a 101's headers; returns what both ends use for compression. */
async function check101(
  h: Headers,
  setup: ServerSetup,
  expect: ServerExpect,
  what: string,
): Promise<Agreed | null> {
  assertEquals(h.get("upgrade")?.toLowerCase(), "websocket", `Upgrade: ${what}`);
  assert(
    listTokens(h.get("connection")).some((t) => t.toLowerCase() === "upgrade"),
    `Connection: ${what}`,
  );
  assertEquals(h.get("sec-websocket-accept"), await acceptOf(expect.key), `the accept: ${what}`);
  assertEquals(h.get("sec-websocket-protocol"), expect.protocol, `the subprotocol: ${what}`);
  const e = h.get("sec-websocket-extensions");
  if (expect.looseExtensions) return null; // no round trip with compression then
  if (setup.deflate === null || expect.offer === null) {
    assertEquals(e, null, `an extension where none can be agreed: ${what}`);
    return null;
  }
  ok(e !== null, `the server declined an offer it can take: ${what}`);
  const list = parseExtList(e);
  ok(list !== null && list.length === 1, `the answer ${e}: ${what}`);
  assertEquals(list[0].name, "permessage-deflate", `the answer's name: ${what}`);
  const agreed = answerTo(expect.offer, list[0].params);
  ok(typeof agreed !== "string", `the answer ${e} to the offer: ${agreed}: ${what}`);
  // The server's own options (RFC 7692 7.1: what it may ask for, it asks for).
  const o = setup.deflate;
  const has = (name: string) => list[0].params.some(([n]) => n === name);
  if (o.serverNoContextTakeover) assert(agreed.snct, `server_no_context_takeover: ${what}`);
  if (o.clientNoContextTakeover) assert(agreed.cnct, `client_no_context_takeover: ${what}`);
  if (o.serverMaxWindowBits !== undefined) {
    assert(has("server_max_window_bits") && agreed.smwb <= o.serverMaxWindowBits, `smwb: ${what}`);
  }
  if (
    o.clientMaxWindowBits !== undefined && o.clientMaxWindowBits < 15 && expect.offer.cmwb !== null
  ) {
    assert(has("client_max_window_bits") && agreed.cmwb <= o.clientMaxWindowBits, `cmwb: ${what}`);
  }
  return agreed;
}

/**
 * The client's side of a round trip with a server: messages (compressed as negotiated),
 * their echoes (the server's compressed ones inflate within its window), the closing
 * handshake, and the server ending the connection.
 */
async function echoRoundTrip(
  peer: Peer,
  rnd: Random,
  agreed: Agreed | null,
  offeredNoContext: boolean,
  what: string,
): Promise<void> {
  const messages: (string | Uint8Array)[] = [`hello ${rnd.int(1000)}`];
  if (agreed) {
    const big = repeated(rnd);
    messages.push(big, big.slice(), "text ".repeat(400));
  }
  const deflater = agreed ? new Deflater(agreed.cmwb, agreed.cnct || offeredNoContext) : null;
  const inflater = agreed ? new Inflater(agreed.smwb, agreed.snct) : null;
  try {
    for (const m of messages) {
      const plain = typeof m === "string" ? utf8(m) : m;
      const compressed = deflater && plain.length > 100 ? await deflater.compress(plain) : null;
      const op = typeof m === "string" ? 1 : 2;
      await peer.conn.write(
        rawFrame(0x80 | (compressed ? 0x40 : 0) | op, compressed ?? plain, { mask: MASK }),
      );
    }
    for (const [n, m] of messages.entries()) {
      const got = await peer.message();
      ok(got !== null, `echo ${n} did not come: ${what}`);
      assert(!got.masked, `echo ${n} masked: ${what}`);
      assertEquals(got.opcode, typeof m === "string" ? 1 : 2, `echo ${n}'s type: ${what}`);
      assert(got.rsv === 0 || (got.rsv === 4 && inflater !== null), `echo ${n}'s RSV: ${what}`);
      let data = got.payload;
      if (got.rsv === 4) {
        try {
          data = inflater!.inflate(data);
        } catch (error) {
          throw new Error(`echo ${n}: ${(error as Error).message}: ${what}`);
        }
      }
      const want = typeof m === "string" ? utf8(m) : m;
      assert(
        data.length === want.length && data.every((x, i) => x === want[i]),
        `echo ${n}: ${what}`,
      );
    }
  } finally {
    deflater?.close();
  }
  await peer.conn.write(rawFrame(0x88, closePayload(1000, ""), { mask: MASK }));
  const close = await peer.message();
  ok(close !== null && close.opcode === 8, `no close frame: ${what}`);
  assertEquals(close.payload.subarray(0, 2), new Uint8Array([0x03, 0xe8]), `its code: ${what}`);
  await peer.end(); // the server closes the TCP connection
}

/** One request to one server. */
async function serverCase(
  rnd: Random,
  setup: ServerSetup,
  what: string,
  tally: Tally,
): Promise<void> {
  const plan = planRequest(rnd, setup);
  const expect = plan.expect;
  what += ` to ${setup.label} (expecting ${[...expect.statuses].join("/") || "the end"}` +
    `${expect.why.length ? `: ${expect.why.join("; ")}` : ""}${plan.mutated ? ", mutated" : ""})` +
    `, in pieces of ${plan.pieces.map((p) => p.length).join(" + ")} bytes: ${show(plan.bytes)}`;
  for (const why of expect.why) tally.why("  request fault", why);
  const conn = await connect({ hostname: "127.0.0.1", port: setup.port });
  try {
    const peer = new Peer(conn);
    for (const piece of plan.pieces) await conn.write(piece);
    if (expect.incomplete) await conn.closeWrite();
    const head = await within(peer.head(), CASE_DEADLINE, `no answer: ${what}`);
    if (head === null) {
      tally.add("no answer (the request never ended)");
      assert(expect.incomplete, `the server closed without an answer: ${what}`);
      return;
    }
    const res = parseResponseHead(head);
    const w = `${what}; answered ${show(head)}`;
    tally.add(`status ${res.status}${expect.incomplete ? " to an unfinished request" : ""}`);
    assert(res.status !== 500, `a 500: ${w}`);
    if (expect.incomplete) {
      assertEquals(res.status, 400, `an unfinished request: ${w}`);
      return;
    }
    assert(expect.statuses.has(res.status), `status ${res.status}: ${w}`);
    if (expect.statuses.has(101) && expect.statuses.size > 1) {
      tally.add(`  arguable (${expect.why.join("; ")}): answered ${res.status}`);
    }
    const h = toHeaders(res.fields);
    if (res.status === 426) {
      assert(
        listTokens(h.get("sec-websocket-version")).includes("13"),
        `426 without version 13: ${w}`,
      );
    }
    if (res.status !== 101) return;
    const agreed = await check101(h, setup, expect, w);
    tally.add(`101 ${agreed ? `with permessage-deflate, offer ${expect.offerIndex}` : "without"}`);
    if (expect.rest.length === 0 && !expect.looseExtensions) {
      const offeredNoContext = expect.offer?.cnct ?? false;
      await within(
        echoRoundTrip(peer, rnd, agreed, offeredNoContext, w),
        CASE_DEADLINE,
        `round trip: ${w}`,
      );
    }
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------------------------------
// The tests

function cases(seed: number, count: number): { seed: number; from: number; to: number } {
  seed = knob("FUZZ_SEED") ?? seed;
  const only = knob("FUZZ_CASE");
  return { seed, from: only ?? 0, to: only === null ? count : only + 1 };
}

Deno.test("handshake fuzz: open over a caller's connection fails bad answers and never closes it", async (t) => {
  const { seed, from, to } = cases(0x6455_4101, 2000);
  const tally = new Tally();
  const watch = watchRejections();
  for (let i = from; i < to; i++) await clientOverConn({ seed, i, test: t.name, tally, watch });
  await new Promise((resolve) => setTimeout(resolve, 10)); // late rejections
  tally.print(t.name);
  assertNoRejections(watch);
});

Deno.test("handshake fuzz: open to a URL fails bad answers and closes its connection", async (t) => {
  const { seed, from, to } = cases(0x6455_4201, 300);
  const tally = new Tally();
  const watch = watchRejections();
  let handler: ((conn: Conn) => Promise<void>) | null = null;
  await using raw = await rawServer(async (ctx) => {
    const h = handler;
    handler = null;
    ok(h !== null, "a connection nobody expected");
    await h(ctx.conn).catch(() => {}); // reported through the case's promise
  });
  const server = { port: raw.port, next: (h: (conn: Conn) => Promise<void>) => (handler = h) };
  for (let i = from; i < to; i++) {
    await clientOverUrl({ seed, i, test: t.name, tally, watch }, server);
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
  tally.print(t.name);
  assertNoRejections(watch);
});

Deno.test("handshake fuzz: servers answer random and mutated upgrade requests as RFC 6455 and 7692 say", async (t) => {
  const { seed, from, to } = cases(0x6455_4301, 1000);
  const tally = new Tally();
  const watch = watchRejections();
  const errors: unknown[] = [];
  const servers = await startServers(errors);
  try {
    for (let i = from; i < to; i++) {
      const rnd = new Random(seed + i);
      const setup = rnd.pick(servers);
      watch.during = `case ${i}`;
      const what =
        `seed ${seed} case ${i} (replay: FUZZ_SEED=${seed} FUZZ_CASE=${i} deno test -A ` +
        `tests/websockets/handshake_fuzz_test.ts --filter "${t.name}")`;
      await serverCase(rnd, setup, what, tally);
    }
    // Every server still serves.
    for (const setup of servers) {
      const reply = await WebSockets.open(`ws://127.0.0.1:${setup.port}/`, async (ws) => {
        await ws.send("still there " + "?".repeat(2000));
        return await ws.receive();
      }, { proxy: NO_PROXY, compress: true });
      assertEquals(reply, "still there " + "?".repeat(2000), setup.label);
    }
  } finally {
    for (const setup of servers) await setup.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
  tally.print(t.name);
  assertEquals(errors.map(String), [], "errors the servers reported");
  assertNoRejections(watch);
});
