/**
 * A seeded mutation fuzz test of the HTTP/1.1 client against a hostile server. A raw TCP
 * server on 127.0.0.1 answers each request with the bytes of its case: a valid response (200
 * with Content-Length, chunked with trailers, gzip, 204, 304, a HEAD response, 1xx then 200, a
 * 301 to another path of the same server, a keep-alive pair, a body read to the close) mutated
 * with `Random.mutate`, sometimes followed by stray bytes (a CRLF, random bytes, a whole
 * smuggled response), or random bytes; each answer is cut with `Random.split` and the pieces
 * are written apart, then the server keeps the connection or half-closes it.
 *
 * Whatever arrives, `request()` settles within a deadline (the client's header and read-idle
 * timeouts are short); it resolves to a `Response` with a status in 100-599 whose body is read
 * to its end or fails with an `Error`, or it rejects with one of the client's typed errors (or
 * the `TypeError` it documents for statuses a `Response` cannot carry). A body read to its end
 * is exactly as long as its Content-Length. After every case a normal request on the same
 * client gets its own answer and nothing else (no stale byte of the case is read as its
 * response), and it goes out on a fresh connection whenever the case's connection failed; a
 * connection the server closed is closed by the client too. Deno's sanitizers catch unhandled
 * rejections and leaked resources.
 *
 * Cases run in lanes (one client each), one case at a time per lane. Every case is made from
 * its test's seed up front, so a run is the same on every runtime. A failure names the seed,
 * the case, how each answer was cut and written, and its bytes (as a latin1 string literal).
 * `FUZZ_SEED=<n>` runs another seed; `FUZZ_CASE=<i>` runs only case `i` of it (in a run, every
 * case but a lane's first starts with one clean idle connection, left by the normal request
 * after the case before; a replayed case starts with none); `FUZZ_VERBOSE=1` prints which
 * errors the cases ended with.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { Client } from "../../client/client.ts";
import { request } from "../../client/request.ts";
import { ProxyConfig } from "../../client/proxy.ts";
import { ConnectionClosedError, RedirectError, TimeoutError } from "../../client/errors.ts";
import { HeadTooLargeError, UnexpectedEofError } from "../../http1/buffered_reader.ts";
import { HttpParseError } from "../../http1/parse.ts";
import type { Conn } from "../../conn/types.ts";
import { knob, Random, seedOr } from "../_random.ts";
import { escapeBytes, latin1 } from "../_bytes.ts";
import { bytes, delay, type RawServer, rawServer, readRequest } from "./_helpers.ts";

/** The fuzzed requests' `responseHeaderTimeout` and `readIdleTimeout` (no `requestTimeout`). */
const TIMEOUT = 150;
/** The timeouts of the normal requests between cases, and of the unmutated cases. */
const SLOW_TIMEOUT = 2500;
/** How long a request, and then the reading of its body, may take before it counts as a hang. */
const DEADLINE = 3000;
/** Lanes: clients running their cases side by side, each one case at a time. */
const LANES = 8;
/**
 * How long the server waits for the client's next move after an answer whose end the
 * reference framing cannot tell (see `startServer`).
 */
const UNSURE = 100;

/** The body of the gzip seed, and its encoding (made once; kept as bytes for every runtime). */
const GZIP_TEXT = "gzip-encoded body, decoded by the client\n";
const GZIP = Uint8Array.from(
  atob("H4sIAAAAAAAA/0qvyizQTc1Lzk9JTVFIyk+p1FFISYXyKhVKMlIVknMyU/NKuAAAAAD//wMAK4/J1SkAAAA="),
  (c) => c.charCodeAt(0),
);

/** What the client should make of an unmutated seed, per call. */
interface Expected {
  status: number;
  body: string;
  redirected?: boolean;
}

/** A valid exchange the mutations start from. */
interface Seed {
  name: string;
  method: "GET" | "HEAD";
  /** The answers to `/<case>/0`, `/<case>/1`, ... (made per case: a Location names its path). */
  answers: (index: number) => string[];
  /** The client's calls, to `/<case>/0`, `/<case>/1`, ... (a redirect is one call, two answers). */
  calls: number;
  /** The server closes the connection after the answer (else it waits for the next request). */
  closes?: boolean;
  expected: Expected[];
  /** Whether the connection is kept for the next request, as the seed is. */
  keptAlive: boolean;
}

const SEEDS: Seed[] = [
  {
    name: "200 with Content-Length",
    method: "GET",
    answers: () => [
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nX-Server: fuzz\r\n\r\n" +
      "hello world",
    ],
    calls: 1,
    expected: [{ status: 200, body: "hello world" }],
    keptAlive: true,
  },
  {
    name: "chunked with trailers",
    method: "GET",
    answers: () => [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n",
    ],
    calls: 1,
    expected: [{ status: 200, body: "hello world" }],
    keptAlive: true,
  },
  {
    name: "gzip-encoded body",
    method: "GET",
    answers: () => [
      `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${GZIP.byteLength}\r\n` +
      `Vary: Accept-Encoding\r\n\r\n${latin1(GZIP)}`,
    ],
    calls: 1,
    expected: [{ status: 200, body: GZIP_TEXT }],
    keptAlive: true,
  },
  {
    name: "204 No Content",
    method: "GET",
    answers: () => ["HTTP/1.1 204 No Content\r\nX-Server: fuzz\r\n\r\n"],
    calls: 1,
    expected: [{ status: 204, body: "" }],
    keptAlive: true,
  },
  {
    name: "304 Not Modified",
    method: "GET",
    answers: () => ['HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 11\r\n\r\n'],
    calls: 1,
    expected: [{ status: 304, body: "" }],
    keptAlive: true,
  },
  {
    name: "HEAD response",
    method: "HEAD",
    answers: () => ["HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1234\r\n\r\n"],
    calls: 1,
    expected: [{ status: 200, body: "" }],
    keptAlive: true,
  },
  {
    name: "1xx informational then 200",
    method: "GET",
    answers: () => [
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n" +
      "\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ],
    calls: 1,
    expected: [{ status: 200, body: "ok" }],
    keptAlive: true,
  },
  {
    name: "301 redirect to another path",
    method: "GET",
    answers: (index) => [
      `HTTP/1.1 301 Moved Permanently\r\nLocation: /${index}/1\r\nContent-Length: 6\r\n\r\nmoved\n`,
      "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhere",
    ],
    calls: 1,
    expected: [{ status: 200, body: "here", redirected: true }],
    keptAlive: true,
  },
  {
    name: "keep-alive pair",
    method: "GET",
    answers: () => [
      "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\none",
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo",
    ],
    calls: 2,
    expected: [{ status: 200, body: "one" }, { status: 200, body: "two" }],
    keptAlive: true,
  },
  {
    name: "Connection: close, body read to the close",
    method: "GET",
    answers: () => [
      "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nread until the end",
    ],
    calls: 1,
    closes: true,
    expected: [{ status: 200, body: "read until the end" }],
    keptAlive: false,
  },
];

/** One answer of a case: its bytes, how they are cut into writes, and whether a close follows. */
interface Answer {
  bytes: Uint8Array;
  pieces: Uint8Array[];
  close: boolean;
  /**
   * What follows the response by the framing rules (see {@linkcode framingEnd}): nothing,
   * stray bytes (which the client must close the connection on), only empty lines (which a
   * client may also skip before the next response, RFC 9112 section 2.2), or unknown.
   */
  after: "nothing" | "stray" | "blank" | "unknown";
}

/** One case: the client's calls and the server's answers. */
interface Case {
  index: number;
  from: string;
  method: "GET" | "HEAD";
  calls: number;
  /** The answers to `/<index>/0`, `/<index>/1`, ... */
  answers: Answer[];
  /** Which answer was mutated (-1: none). */
  mutated: number;
  /** 1 when every Location in the answers stays on this server, else 0 (never followed). */
  maxRedirects: number;
}

/** A Location value that stays on the same origin whatever the URL parser makes of it. */
const SAME_ORIGIN_PATH = /^\/(?![/\\])[\x21-\x5b\x5d-\x7e]*$/;

/**
 * Whether a redirect in `answers` can be followed without leaving this server: every
 * `location` field line anywhere in them is a plain absolute path. (A mutated Location may name
 * another host, which would be looked up in DNS; such a case follows no redirect.)
 */
function staysHere(answers: Uint8Array[]): boolean {
  for (const answer of answers) {
    for (const m of latin1(answer).matchAll(/\r\nlocation:([^\r\n]*)/gi)) {
      if (!SAME_ORIGIN_PATH.test(m[1].replace(/^[ \t]+|[ \t]+$/g, ""))) return false;
    }
  }
  return true;
}

/**
 * Where the final response at the start of `data` ends, by the framing rules of RFC 9112
 * section 6.3, after any interim responses (every status below 200 but 101, as the client
 * skips them): a reference, written apart from the client's parser, that only needs to be
 * right about the answers the client reads in full. `null` when it cannot tell (a malformed
 * or incomplete head or body, or a 101), `data.byteLength` for a body read to the close.
 */
function framingEnd(data: Uint8Array, method: string): number | null {
  const text = latin1(data);
  let at = 0;
  while (true) {
    while (text.startsWith("\r\n", at)) at += 2;
    const end = text.indexOf("\r\n\r\n", at);
    if (end === -1) return null;
    const lines = text.slice(at, end).split("\r\n");
    const status = /^HTTP\/1\.\d (\d{3})(?: |$)/.exec(lines[0]);
    if (status === null) return null;
    const code = Number(status[1]);
    at = end + 4;
    if (code === 101) return null;
    if (code < 200) continue;
    if (method === "HEAD" || code === 204 || code === 304) return at;
    const fields = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) return null;
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      fields.set(name, fields.has(name) ? `${fields.get(name)},${value}` : value);
    }
    const list = (name: string) =>
      fields.get(name)!.split(",").map((v) => v.trim().toLowerCase()).filter((v) => v !== "");
    if (fields.has("transfer-encoding")) {
      return list("transfer-encoding").at(-1) === "chunked" ? chunkedEnd(text, at) : text.length;
    }
    if (!fields.has("content-length")) return text.length;
    const lengths = list("content-length");
    if (!lengths.every((v) => /^\d+$/.test(v) && Number(v) === Number(lengths[0]))) return null;
    const stop = at + Number(lengths[0]);
    return stop <= text.length ? stop : null;
  }
}

/** Where a chunked body starting at `at` ends (its trailer section included), or null. */
function chunkedEnd(text: string, at: number): number | null {
  while (true) {
    const eol = text.indexOf("\r\n", at);
    if (eol === -1) return null;
    const size = /^[0-9a-fA-F]+/.exec(text.slice(at, eol));
    if (size === null) return null;
    at = eol + 2;
    if (Number.parseInt(size[0], 16) === 0) break;
    at += Number.parseInt(size[0], 16) + 2;
    if (at > text.length) return null;
  }
  while (true) {
    const eol = text.indexOf("\r\n", at);
    if (eol === -1) return null;
    const empty = eol === at;
    at = eol + 2;
    if (empty) return at;
  }
}

/** How a case is made. */
interface CaseInit {
  from: string;
  method?: "GET" | "HEAD";
  calls?: number;
  answers: Uint8Array[];
  /** Which answer was mutated (default -1: none). */
  mutated?: number;
  /** Whether the server closes after each answer (default: one time in three). */
  closes?: boolean;
  /**
   * Whether some answers get bytes after them, written last and apart (default no): a stray
   * CRLF, random bytes, or a whole smuggled response, which must never be read as the answer
   * to the next request.
   */
  trailing?: boolean;
}

/** A response that must never be taken for the answer to a later request. */
const SMUGGLED = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Probe: smuggled\r\n\r\nsmuggled";

function makeCase(random: Random, index: number, init: CaseInit): Case {
  const method = init.method ?? "GET";
  const calls = init.calls ?? 1;
  const answers = init.answers.map((data, e): Answer => {
    const pieces = random.split(data);
    if (init.trailing && random.int(4) === 0) {
      const extra = random.pick([
        () => bytes("\r\n"),
        () => random.bytes(1 + random.int(8)),
        () => bytes(SMUGGLED),
      ])();
      pieces.push(extra);
      data = Uint8Array.from([...data, ...extra]);
    }
    // A redirect's second answer is for the GET that follows it.
    const end = framingEnd(data, e === 0 || calls > 1 ? method : "GET");
    const rest = end === null ? "" : latin1(data.subarray(end));
    const after = end === null
      ? "unknown"
      : rest === ""
      ? "nothing"
      : /^(\r\n)+$/.test(rest)
      ? "blank"
      : "stray";
    return { bytes: data, pieces, close: init.closes ?? random.int(3) === 0, after };
  });
  return {
    index,
    from: init.from,
    method,
    calls,
    answers,
    mutated: init.mutated ?? -1,
    maxRedirects: staysHere(answers.map((a) => a.bytes)) ? 1 : 0,
  };
}

/** A replayable description of a case. */
function describe(seed: number, c: Case): string {
  const answers = c.answers.map((a, e) => {
    const cuts = a.pieces.map((p) => p.byteLength).join("+");
    const shown = a.bytes.byteLength > 4096
      ? `${escapeBytes(a.bytes.subarray(0, 4096))}... (${a.bytes.byteLength} bytes)`
      : escapeBytes(a.bytes);
    return `/${c.index}/${e}${e === c.mutated ? " (mutated)" : ""}: ${a.bytes.byteLength} bytes ` +
      `written as ${cuts}${a.close ? ", then closed" : ""}: ${shown}`;
  });
  return `seed ${seed} case ${c.index} (${c.from}; ${c.calls} ${c.method} call(s), ` +
    `maxRedirects ${c.maxRedirects}):\n    ${answers.join("\n    ")}`;
}

/** The probe's answer: a normal response naming the case it follows. */
function probeAnswer(index: number): Answer {
  const body = `probe ${index}`;
  const data = bytes(
    `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nX-Probe: ${index}\r\n\r\n${body}`,
  );
  return { bytes: data, pieces: [data], close: false, after: "nothing" };
}

const NOT_FOUND: Answer = (() => {
  const data = bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  return { bytes: data, pieces: [data], close: false, after: "nothing" };
})();

/** A request as the server saw it: on which connection, for what. */
interface Arrival {
  conn: number;
  target: string;
}

/** What the server saw and is doing for one lane (its requests carry `x-lane`). */
class LaneState {
  arrivals: Arrival[] = [];
  /** Connections the client kept open for `DEADLINE` ms after the server closed them. */
  lingering: string[] = [];
  /** Holds longer than `UNSURE` that ran out (the client made no move), for `FUZZ_VERBOSE`. */
  expired = 0;
  #holds = 0;
  #waiters: (() => void)[] = [];

  /** Resolves once the server holds nothing for this lane (see {@linkcode hold}). */
  async quiet(): Promise<void> {
    // Again after each wake: a hold may be released and another taken in the same turn.
    while (this.#holds > 0) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Holds the lane's next call back (while an answer is written, and until the client has
   * let go of a connection it must not reuse), for at most `ms` (by default longer than the
   * server waits for a client to close, so that a client that does not is reported first).
   * Returns the release.
   */
  hold(ms = 2 * DEADLINE): () => void {
    this.#holds++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      if (expired && ms > UNSURE) this.expired++;
      if (--this.#holds > 0) return;
      for (const wake of this.#waiters.splice(0)) wake();
    };
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      release();
    }, ms);
    return release;
  }
}

interface FuzzServer extends AsyncDisposable {
  raw: RawServer;
  lane(n: number): LaneState;
  close(): Promise<void>;
}

/** Reads `conn` to its end (or a failure). */
async function drain(conn: Conn): Promise<void> {
  try {
    while (await conn.read() !== null) {
      // what comes after the close is nobody's
    }
  } catch {
    // a reset: the end
  }
}

/**
 * The hostile server: reads each request, answers `/<case>/<n>` with that answer's pieces (1 ms
 * apart), `/probe/<case>` with a normal response and anything else with a 404.
 *
 * So that no late byte of an answer can race the lane's next call, the lane is held until the
 * client has made its move (closed the connection, or sent another request on it):
 * - after an answer with a close: the server half-closes and waits for the client's close;
 * - after an answer with stray bytes after its response (by {@linkcode framingEnd}), empty
 *   lines included, or any answer on a connection that has carried stray bytes other than
 *   empty lines (a redirect followed at once may have taken them for its answer, and the
 *   client is then out of step); if the client sends another request instead of closing, the
 *   normal request after the case tells whether stray bytes were read as its answer;
 * - after an answer whose end the reference cannot tell (mostly a malformed head, which the
 *   client closes on): for at most `UNSURE` ms.
 */
async function startServer(cases: Map<number, Case>): Promise<FuzzServer> {
  const lanes = new Map<number, LaneState>();
  const lane = (n: number) => {
    let state = lanes.get(n);
    if (state === undefined) lanes.set(n, state = new LaneState());
    return state;
  };
  const answerFor = (target: string): Answer => {
    const probe = /^\/probe\/(\d+)$/.exec(target);
    if (probe) return probeAnswer(Number(probe[1]));
    const m = /^\/(\d+)\/(\d+)$/.exec(target);
    return (m && cases.get(Number(m[1]))?.answers[Number(m[2])]) || NOT_FOUND;
  };
  const raw = await rawServer(async ({ conn, reader, index }) => {
    let held: (() => void) | null = null;
    /** Stray bytes went out on this connection (the last answer's, or earlier ones'). */
    let stray = false;
    try {
      while (true) {
        let got;
        try {
          got = await readRequest(reader);
        } finally {
          held?.();
          held = null;
        }
        if (got === null) return;
        const state = lane(Number(got.headers.get("x-lane")));
        state.arrivals.push({ conn: index, target: got.target });
        const answer = answerFor(got.target);
        held = state.hold();
        for (let i = 0; i < answer.pieces.length; i++) {
          if (i > 0) await delay(1); // so that the pieces arrive apart
          await conn.write(answer.pieces[i]);
        }
        if (answer.close) {
          await conn.closeWrite();
          if (await within(drain(conn), DEADLINE) === null) {
            state.lingering.push(`connection ${index} (after ${got.target})`);
          }
          return;
        }
        stray ||= answer.after === "stray";
        if (stray || answer.after === "blank") continue;
        held();
        held = answer.after === "unknown" ? state.hold(UNSURE) : null;
      }
    } finally {
      held?.();
    }
  });
  return {
    raw,
    lane,
    close: () => raw.close(),
    [Symbol.asyncDispose]: () => raw.close(),
  };
}

/** A promise's outcome, or `null` if it did not settle within `ms`. */
type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown } | null;

async function within<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ ok: true as const, value }),
        (error) => ({ ok: false as const, error }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The errors a request may reject with: the HTTP/1.1 parser's (a malformed head, a head
 * over the limit, a connection cut short), the client's (a connection closed before the
 * response, its timeouts, a redirect not followed), and the `TypeError` the client throws for
 * a status a `Response` cannot carry (1xx final responses, 600 and up).
 */
const REQUEST_ERRORS = [
  HttpParseError,
  HeadTooLargeError,
  UnexpectedEofError,
  ConnectionClosedError,
  TimeoutError,
  RedirectError,
  TypeError,
];

/**
 * The errors that say the connection itself failed (framing, a cut, a timeout): the
 * connection must not carry another request. (A redirect refused, a status out of range or a
 * content coding that does not decode leave a well-framed message behind: the connection may
 * be reused.)
 */
const CONNECTION_ERRORS = [
  HttpParseError,
  HeadTooLargeError,
  UnexpectedEofError,
  ConnectionClosedError,
  TimeoutError,
];

function isOneOf(error: unknown, classes: readonly (abstract new (...args: never[]) => Error)[]) {
  return classes.some((c) => error instanceof c);
}

function nameOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return error.constructor.name + (typeof code === "string" ? ` (${code})` : "");
  }
  return `a non-Error ${typeof error}`;
}

function show(error: unknown): string {
  return error instanceof Error ? (error.stack ?? String(error)) : String(error);
}

/** The numeric value of a Content-Length field, or null if absent or not one number. */
function declaredLength(headers: Headers): number | null {
  const value = headers.get("content-length");
  if (value === null) return null;
  const parts = value.split(",").map((p) => p.trim());
  if (!parts.every((p) => /^\d+$/.test(p) && p === parts[0])) return null;
  return Number(parts[0]);
}

/** What one call came to. */
interface CallResult {
  /** What is wrong, if anything. */
  wrong: string[];
  /** Whether the call failed in a way that condemns its connection. */
  broken: boolean;
  /** `request: Name`, `body: Name` or `ok`, for the tally. */
  outcome: string;
  response?: Response;
  body?: Uint8Array;
}

/** Makes one request and reads its body, checking every invariant that needs no context. */
async function call(
  client: Client,
  method: string,
  url: string,
  options: { maxRedirects?: number; slow?: boolean },
): Promise<CallResult> {
  const timeouts = options.slow
    ? { responseHeaderTimeout: SLOW_TIMEOUT, readIdleTimeout: SLOW_TIMEOUT }
    : {};
  const pending = request(method, url, { client, maxRedirects: options.maxRedirects, ...timeouts });
  const settled = await within(pending, DEADLINE);
  if (settled === null) {
    pending.then((r) => r.body?.cancel().catch(() => {}), () => {});
    return {
      wrong: [`${method} ${url} did not settle within ${DEADLINE} ms`],
      broken: true,
      outcome: "hang",
    };
  }
  if (!settled.ok) {
    const error = settled.error;
    const wrong = isOneOf(error, REQUEST_ERRORS)
      ? []
      : [`${method} ${url} rejected with an untyped error: ${show(error)}`];
    return {
      wrong,
      // A redirect refused or a status out of range may leave a well-framed message behind.
      broken: !isOneOf(error, [RedirectError, TypeError]),
      outcome: `request: ${nameOf(error)}`,
    };
  }
  const response = settled.value;
  const wrong: string[] = [];
  if (!Number.isInteger(response.status) || response.status < 100 || response.status > 599) {
    wrong.push(`a Response with status ${response.status}`);
  }
  const reading = response.arrayBuffer();
  const read = await within(reading, DEADLINE);
  if (read === null) {
    reading.catch(() => {});
    wrong.push(`reading the body of ${method} ${url} did not end within ${DEADLINE} ms`);
    return { wrong, broken: true, outcome: "body: hang", response };
  }
  if (!read.ok) {
    // A framing error, a cut, a timeout, or a TypeError for a coding that does not decode
    // (as fetch's; the same on every runtime).
    if (!isOneOf(read.error, [...CONNECTION_ERRORS, TypeError])) {
      wrong.push(`the body of ${method} ${url} failed with ${show(read.error)}`);
    }
    return {
      wrong,
      broken: isOneOf(read.error, CONNECTION_ERRORS),
      outcome: `body: ${nameOf(read.error)}`,
      response,
    };
  }
  const body = new Uint8Array(read.value);
  const length = declaredLength(response.headers);
  // No body for HEAD, 204 and 304 (RFC 9112 section 6.3); none either for a 205, whose body
  // the client drops as fetch does (a null body status).
  const bodiless = method === "HEAD" || [204, 205, 304].includes(response.status);
  if (
    length !== null && !bodiless && !response.headers.has("transfer-encoding") &&
    body.byteLength !== length
  ) {
    wrong.push(
      `a body of ${body.byteLength} bytes was delivered for Content-Length ${length}: ` +
        escapeBytes(body.subarray(0, 300)),
    );
  }
  return { wrong, broken: false, outcome: "ok", response, body };
}

/**
 * Runs one case and then a normal request (the probe) on the lane's client. Before each call
 * after the first it waits until the server holds nothing for the lane (see `startServer`), so
 * that no late byte of an answer races it; a call that follows a failed one must not arrive on
 * the failed one's connection; the probe must get exactly its own answer. With `strict` (an
 * unmutated seed), each call must also get what the seed expects, and the probe must reuse the
 * connection exactly when the seed keeps it alive.
 */
async function runCase(
  client: Client,
  server: FuzzServer,
  laneNumber: number,
  c: Case,
  outcomes: Map<string, number>,
  strict?: Seed,
): Promise<string[]> {
  const lane = server.lane(laneNumber);
  const origin = server.raw.origin;
  const wrong: string[] = [];
  let previous: { what: string; conn: number | undefined; broken: boolean } | null = null;
  for (let i = 0; i <= c.calls; i++) {
    const probe = i === c.calls;
    if (i > 0) await lane.quiet();
    const path = probe ? `/probe/${c.index}` : `/${c.index}/${i}`;
    const before = lane.arrivals.length;
    const result = await call(client, probe ? "GET" : c.method, origin + path, {
      maxRedirects: c.maxRedirects,
      slow: probe || strict !== undefined,
    });
    if (!probe) outcomes.set(result.outcome, (outcomes.get(result.outcome) ?? 0) + 1);
    const what = probe ? `the normal request after the case` : `call ${i} (${path})`;
    wrong.push(...result.wrong.map((w) => `${what}: ${w}`));
    const mine = (a: Arrival) => probe ? a.target === path : a.target.startsWith(`/${c.index}/`);
    const conns = lane.arrivals.slice(before).filter(mine).map((a) => a.conn);
    if (previous?.broken && previous.conn !== undefined && conns.includes(previous.conn)) {
      wrong.push(
        `${what} went out on connection ${previous.conn}, which ${previous.what} failed on ` +
          `(a poisoned connection was reused)`,
      );
    }
    if (probe) {
      const text = result.body && latin1(result.body);
      if (
        result.response?.status !== 200 || text !== `probe ${c.index}` ||
        result.response.headers.get("x-probe") !== String(c.index)
      ) {
        wrong.push(
          `${what} did not get its own answer (${result.outcome}: status ` +
            `${result.response?.status}, x-probe ${result.response?.headers.get("x-probe")}, ` +
            `body ${text === undefined ? "none" : escapeBytes(result.body!)}): were bytes of the ` +
            `case read as its response?`,
        );
      }
      if (strict && strict.keptAlive !== (conns[0] === previous?.conn)) {
        wrong.push(
          `${what} went out on ${conns[0] === previous?.conn ? "the same" : "a new"} connection ` +
            `(${previous?.conn} then ${conns[0]}), but the valid answer ` +
            `${strict.keptAlive ? "keeps" : "does not keep"} it`,
        );
      }
    } else if (strict) {
      const expected = strict.expected[i];
      const got = {
        status: result.response?.status,
        body: result.body && new TextDecoder().decode(result.body),
        redirected: result.response?.redirected ?? false,
      };
      const want = { ...expected, redirected: expected.redirected ?? false };
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        wrong.push(
          `${what}: got ${JSON.stringify(got)} (${result.outcome}), expected ${
            JSON.stringify(want)
          }`,
        );
      }
    }
    previous = { what, conn: conns.at(-1), broken: result.broken };
  }
  await lane.quiet();
  for (const conn of lane.lingering.splice(0)) {
    wrong.push(`the client kept ${conn} open for ${DEADLINE} ms after the server closed it`);
  }
  return wrong;
}

/** Runs `cases` in `LANES` lanes against one server, and asserts every invariant. */
async function fuzz(seed: number, all: Case[]): Promise<void> {
  const only = knob("FUZZ_CASE");
  const cases = only === null ? all : all.filter((c) => c.index === only);
  const byIndex = new Map(cases.map((c) => [c.index, c]));
  await using server = await startServer(byIndex);
  const outcomes = new Map<string, number>();
  const failures: string[] = [];
  let next = 0;
  const lane = async (n: number) => {
    const client = new Client({
      proxy: new ProxyConfig(),
      headers: { "x-lane": String(n) },
      responseHeaderTimeout: TIMEOUT,
      readIdleTimeout: TIMEOUT,
      connectTimeout: SLOW_TIMEOUT,
    });
    try {
      while (next < cases.length) {
        const c = cases[next++];
        const wrong = await runCase(client, server, n, c, outcomes);
        if (wrong.length > 0) failures.push(`${describe(seed, c)}\n  ${wrong.join("\n  ")}`);
      }
      // After all the cases, a normal request still works.
      const path = `/probe/${1_000_000 + n}`;
      const last = await call(client, "GET", server.raw.origin + path, { slow: true });
      if (last.outcome !== "ok" || last.response?.status !== 200) {
        failures.push(`seed ${seed} lane ${n}: the request after the cases: ${last.outcome}`);
      }
    } finally {
      await client.close();
    }
  };
  await Promise.all(Array.from({ length: LANES }, (_, n) => lane(n)));
  if (knob("FUZZ_VERBOSE")) {
    let expired = 0;
    for (let n = 0; n < LANES; n++) expired += server.lane(n).expired;
    console.log(
      `seed ${seed}, ${cases.length} cases (${expired} long holds ran out):`,
      Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])),
    );
  }
  assertEquals(
    failures.length,
    0,
    `${failures.length} of ${cases.length} cases failed:\n\n${failures.slice(0, 10).join("\n\n")}`,
  );
}

Deno.test("each response the mutations start from is read as expected as it is, on a kept connection", async () => {
  const seed = 0;
  const random = new Random(seed);
  const cases = SEEDS.map((s, index) =>
    makeCase(random, index, {
      from: s.name,
      method: s.method,
      calls: s.calls,
      answers: s.answers(index).map(bytes),
      closes: s.closes ?? false,
    })
  );
  const outcomes = new Map<string, number>();
  await using server = await startServer(new Map(cases.map((c) => [c.index, c])));
  await using client = new Client({ proxy: new ProxyConfig(), headers: { "x-lane": "0" } });
  for (const [i, c] of cases.entries()) {
    const wrong = await runCase(client, server, 0, c, outcomes, SEEDS[i]);
    assertEquals(wrong, [], describe(seed, c));
  }
  assertEquals(outcomes.get("ok"), cases.reduce((n, c) => n + c.calls, 0));
});

Deno.test("the client reads every mutated response, or fails it with a typed error, within its timeouts, and never reuses a broken connection", async () => {
  const seed = seedOr(0x5eed1e55);
  const random = new Random(seed);
  const cases: Case[] = [];
  for (let round = 0; round < 40; round++) {
    for (const s of SEEDS) {
      const index = cases.length;
      const answers = s.answers(index).map(bytes);
      // One answer is mutated; every other round with a single edit, which more often leaves
      // a response to read, so that bodies, chunked framing and trailers get fuzzed too.
      const mutated = random.int(answers.length);
      answers[mutated] = random.mutate(answers[mutated], round % 2 === 0 ? 1 : undefined);
      cases.push(
        makeCase(random, index, {
          from: `mutated ${s.name}`,
          method: s.method,
          calls: s.calls,
          answers,
          mutated,
          closes: s.closes,
          trailing: true,
        }),
      );
    }
  }
  await fuzz(seed, cases);
});

Deno.test("the client fails random bytes with a typed error within its timeouts, and never reuses a broken connection", async () => {
  const seed = seedOr(0x0b5e55ed);
  const random = new Random(seed);
  const cases: Case[] = [];
  for (let index = 0; index < 200; index++) {
    let answer: Uint8Array;
    let from: string;
    const kind = random.int(10);
    if (kind < 5) {
      // Mostly short inputs; half of them end like a head, so the parser gets a whole one.
      from = "random bytes";
      answer = random.bytes(random.int(random.pick([1, 2, 16, 64, 256, 1024, 4096]) + 1));
      if (random.int(2) === 0) answer = Uint8Array.from([...answer, 13, 10, 13, 10]);
    } else if (kind < 9) {
      // A status line (a usual one, or any three digits: 0xx and 6xx-9xx are not valid
      // statuses), then random field bytes and maybe the head's end, or no fields or just a
      // Content-Length, then a random body.
      from = "a status line and random bytes";
      const status = random.int(2) === 0
        ? random.pick(["200 OK", "204 No Content", "301 Moved", "100 Continue"])
        : `${String(random.int(1000)).padStart(3, "0")} Whatever`;
      const fields = random.pick([
        () => [...random.bytes(random.int(256)), ...(random.int(2) === 0 ? [13, 10] : [])],
        () => [],
        () => [...bytes(`Content-Length: ${random.int(64)}\r\n`)],
      ])();
      answer = Uint8Array.from([
        ...bytes(`HTTP/1.1 ${status}\r\n`),
        ...fields,
        13,
        10,
        ...random.bytes(random.int(64)),
      ]);
    } else if (random.int(2) === 0) {
      // More than the client's largest head (256 KiB).
      from = "an endless head";
      answer = Uint8Array.from([
        ...bytes("HTTP/1.1 200 OK\r\nX-Filler: "),
        ...new Uint8Array(257 * 1024).fill(0x61),
      ]);
    } else {
      // More header fields than the client takes (500).
      from = "too many header fields";
      answer = bytes(`HTTP/1.1 200 OK\r\n${"X-Field: value\r\n".repeat(501)}\r\n`);
    }
    cases.push(makeCase(random, index, { from, answers: [answer] }));
  }
  await fuzz(seed, cases);
});
