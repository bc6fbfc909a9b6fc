/**
 * A seeded mutation fuzz test of the HTTP/1.1 server. Valid requests (a GET, a POST, a chunked
 * POST with trailers, a pipelined pair, `Expect: 100-continue`, HEAD, a WebSocket upgrade, ...)
 * are mutated with `Random.mutate`, and random bytes are made up, and each case is sent on a
 * fresh connection in pieces. Whatever arrives, the server answers with valid status lines and
 * never a 500 (the handler here never throws), or just closes; the connection ends within a
 * deadline; nothing is reported to `onError`; and the server still serves a normal request
 * afterwards and closes cleanly.
 *
 * Every case is made from its test's seed up front, so a run is the same on every runtime. A
 * failure names the seed, the case, how the input was cut and sent, and the input's bytes (as
 * a latin1 string literal). `FUZZ_SEED=<n>` runs another seed.
 */
import { assert, assertEquals } from "@std/assert";
import { listen, type Server } from "../../server/server.ts";
import { type Handler, streamHandler } from "../../server/stream_handler.ts";
import { upgrade } from "../../websockets/upgrade.ts";
import type { Conn } from "../../conn/types.ts";
import { Random, seedOr } from "../_random.ts";
import { escapeBytes, latin1 } from "../_bytes.ts";
import { utf8 } from "../_fixtures.ts";
import { dial, rawExchange, statusOf } from "./_raw.ts";

/** The server's `headTimeout`, `keepAliveTimeout` and `bodyIdleTimeout`, the WebSockets' idle and close timeouts. */
const TIMEOUT = 250;
/** The server's `maxHeadSize`, small so that random bytes reach it. */
const MAX_HEAD = 4096;
/** How long a case may take in all before it counts as a hang. */
const DEADLINE = 5000;
/** Cases in flight at once (each on its own connection). */
const PARALLEL = 12;

/**
 * Every status this server and the handler below can answer: 100 and 101 (interim), 200 (the
 * handler), 400 (RFC 9112 parse errors, a bad body, a refused WebSocket handshake), 408 (a
 * late head), 426 (a WebSocket version other than 13), 431 (a head too large or with too many
 * fields), 501 (an unknown transfer coding, or a method a `Request` cannot carry), 505 (an
 * HTTP major version other than 1). Never 500: the handler does not throw.
 */
const STATUSES = new Set([100, 101, 200, 400, 408, 426, 431, 501, 505]);

/** The statuses the server itself answers a request it cannot parse with (RFC 9112). */
const PARSE_ERRORS = new Set([400, 408, 431, 501, 505]);

/** The valid requests the mutations start from, and the statuses each gets as it is. */
const SEEDS: { name: string; request: Uint8Array; statuses: number[]; body?: string }[] = [
  {
    name: "GET with headers",
    request: utf8(
      "GET /search?q=fuzz&n=1 HTTP/1.1\r\nHost: example.test\r\nUser-Agent: fuzz/1.0\r\n" +
        "Accept: */*\r\nAccept-Encoding: gzip, br\r\nX-Trace: a, b;c=1\r\n\r\n",
    ),
    statuses: [200],
    body: "GET /search 0",
  },
  {
    name: "POST with Content-Length",
    request: utf8(
      "POST /echo HTTP/1.1\r\nHost: example.test:8080\r\nContent-Type: text/plain\r\n" +
        "Content-Length: 11\r\n\r\nhello world",
    ),
    statuses: [200],
    body: "POST /echo 11",
  },
  {
    name: "chunked POST with trailers",
    request: utf8(
      "POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
        "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n",
    ),
    statuses: [200],
    body: "POST /chunks 11",
  },
  {
    name: "pipelined pair",
    request: utf8(
      "GET /one HTTP/1.1\r\nHost: x\r\n\r\n" +
        "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    ),
    statuses: [200, 200],
    body: "POST /two 3",
  },
  {
    name: "Expect: 100-continue",
    request: utf8(
      "PUT /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\ndata",
    ),
    statuses: [100, 200],
    body: "PUT /upload 4",
  },
  {
    name: "HEAD",
    request: utf8("HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"),
    statuses: [200],
  },
  {
    name: "WebSocket upgrade with a frame",
    request: new Uint8Array([
      ...utf8(
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ),
      // A masked text frame "hi" (mask 1 2 3 4).
      0x81,
      0x82,
      1,
      2,
      3,
      4,
      "h".charCodeAt(0) ^ 1,
      "i".charCodeAt(0) ^ 2,
    ]),
    statuses: [101],
  },
  {
    name: "absolute-form target",
    request: utf8("GET http://example.test/abs?x=1 HTTP/1.1\r\nHost: example.test\r\n\r\n"),
    statuses: [200],
    body: "GET /abs 0",
  },
  {
    name: "OPTIONS *",
    request: utf8("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"),
    statuses: [200],
    body: "OPTIONS /* 0",
  },
  {
    name: "HTTP/1.0 keep-alive POST",
    request: utf8(
      "POST /old HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    ),
    statuses: [200],
    body: "POST /old 2",
  },
];

/** One input: its bytes, how they are cut into writes, and whether the client half-closes. */
interface Case {
  index: number;
  from: string;
  input: Uint8Array;
  pieces: Uint8Array[];
  halfClose: boolean;
}

/** A replayable description of a case. */
function describe(seed: number, c: Case): string {
  const cuts = c.pieces.map((p) => p.byteLength).join("+");
  const sent = `${c.input.byteLength} bytes written as ${cuts}`;
  return `seed ${seed} case ${c.index} (${c.from}; ${sent}; ` +
    `${c.halfClose ? "half-closed" : "left open"}): input ${escapeBytes(c.input)}`;
}

/** What the server and the handler report, and what the handler is waiting for. */
interface Observed {
  /** Errors given to any `onError`, with the cases in flight at the time. */
  reported: { where: string; error: unknown; inFlight: number[] }[];
  /** The cases in flight. */
  inFlight: Set<number>;
}

/**
 * The handler: reads the whole request body and answers `METHOD /path bytes`, answers a body
 * that fails to arrive whole with 400 itself, and upgrades what asks for a WebSocket to an
 * echo. It never throws.
 */
function fuzzHandler(observed: Observed): Handler {
  const report = (where: string) => (error: unknown) => {
    observed.reported.push({ where, error, inFlight: [...observed.inFlight] });
  };
  const wsOptions = {
    readIdleTimeout: TIMEOUT,
    closeTimeout: TIMEOUT,
    onError: report("the WebSocket function's onError"),
  };
  return async (request) => {
    // Whatever names an Upgrade goes to `upgrade()`, as in an application: what the server
    // did not take for an upgrade (HTTP/1.0, Connection: upgrade mutated away) it refuses
    // with 400, a bad handshake with 400 or 426.
    if (request.headers.has("upgrade")) {
      return await upgrade(request, async (ws) => {
        for await (const message of ws) await ws.send(message);
      }, wsOptions);
    }
    let length: number;
    try {
      length = (await request.arrayBuffer()).byteLength;
    } catch {
      // A malformed or cut-off body is the client's error.
      return new Response("bad request body\n", { status: 400 });
    }
    return new Response(`${request.method} ${new URL(request.url).pathname} ${length}\n`);
  };
}

/** Starts the server under test with short timeouts; every `onError` is recorded. */
function startServer(observed: Observed): Promise<Server> {
  const handler = streamHandler(fuzzHandler(observed), {
    onError: (error) => {
      observed.reported.push({
        where: "the handler's onError",
        error,
        inFlight: [...observed.inFlight],
      });
      return new Response(null, { status: 500 });
    },
  });
  return listen("127.0.0.1", 0, handler, {
    headTimeout: TIMEOUT,
    keepAliveTimeout: TIMEOUT,
    bodyIdleTimeout: TIMEOUT,
    maxHeadSize: MAX_HEAD,
    onError: (error) => {
      observed.reported.push({
        where: "the server's onError",
        error,
        inFlight: [...observed.inFlight],
      });
    },
  });
}

function newObserved(): Observed {
  return { reported: [], inFlight: new Set() };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** What came back on a case's connection, and whether the server ended it in time. */
interface Outcome {
  answer: Uint8Array;
  ended: boolean;
}

/**
 * Sends one case on a fresh connection, piece by piece, then half-closes or not, and reads
 * until the server ends the connection (a reset counts as the end): every case must end on
 * the server's own timeouts (for a stalled head or body) within `DEADLINE` ms.
 */
async function send(port: number, c: Case): Promise<Outcome> {
  const conn: Conn = await dial(port);
  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    try {
      for (let chunk = await conn.read(); chunk; chunk = await conn.read()) chunks.push(chunk);
    } catch {
      // a reset: the end
    }
  })();
  const started = Date.now();
  let ended = false;
  try {
    for (let i = 0; i < c.pieces.length; i++) {
      if (i > 0) await delay(1); // so that the pieces arrive apart
      try {
        await conn.write(c.pieces[i]);
      } catch {
        break; // the server answered and closed early
      }
    }
    if (c.halfClose) await conn.closeWrite().catch(() => {});
    for (let left = DEADLINE; !ended && left > 0; left = DEADLINE - (Date.now() - started)) {
      ended = await settlesWithin(reading, Math.min(left, TIMEOUT));
    }
  } finally {
    conn.close();
    await reading;
  }
  const answer = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    answer.set(chunk, at);
    at += chunk.byteLength;
  }
  return { answer, ended };
}

const STATUS_LINE = /^HTTP\/1\.1 [1-5]\d\d /;

/**
 * The status codes of the response heads in `answer`, up to a 101 (after which come frames).
 * A head starts the answer or follows a line end: every body here ends with one.
 */
function statusesOf(answer: string): number[] {
  const out: number[] = [];
  for (const m of answer.matchAll(/(?:^|\n)HTTP\/1\.1 (\d\d\d) /g)) {
    out.push(Number(m[1]));
    if (m[1] === "101") break;
  }
  return out;
}

/** The invariants of one case; returns what is wrong, or null. */
function violation(outcome: Outcome, allowed: Set<number>): string | null {
  const text = latin1(outcome.answer);
  const shown = escapeBytes(outcome.answer.subarray(0, 300)) +
    (outcome.answer.byteLength > 300 ? "..." : "");
  if (!outcome.ended) {
    return `the connection did not end within ${DEADLINE} ms; the server sent ${shown}`;
  }
  if (text === "") return null; // closed without a word: allowed
  if (!STATUS_LINE.test(text)) return `the answer does not start with a status line: ${shown}`;
  const statuses = statusesOf(text);
  if (statuses.includes(500)) return `a 500 for bad input: ${shown}`;
  const unexpected = statuses.filter((s) => !allowed.has(s));
  if (unexpected.length > 0) return `unexpected status ${unexpected.join(", ")}: ${shown}`;
  return null;
}

/** Runs `cases` against a fresh server, `PARALLEL` at a time, and asserts every invariant. */
async function fuzz(seed: number, cases: Case[], allowed: Set<number>): Promise<void> {
  const observed = newObserved();
  const server = await startServer(observed);
  const failures: string[] = [];
  try {
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++];
        observed.inFlight.add(c.index);
        try {
          const wrong = violation(await send(server.port, c), allowed);
          if (wrong !== null) failures.push(`${describe(seed, c)}:\n  ${wrong}`);
        } finally {
          observed.inFlight.delete(c.index);
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));

    // The server survived: a normal request on a new connection is served.
    const raw = await rawExchange(
      server.port,
      "POST /after HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    assertEquals(statusOf(raw), 200, `seed ${seed}: after the cases: ${raw}`);
    assert(raw.endsWith("\r\n\r\nPOST /after 5\n"), `seed ${seed}: after the cases: ${raw}`);
  } finally {
    const closed = await settlesWithin(server.close(), DEADLINE);
    if (!closed) await server.forceClose();
    assert(closed, `seed ${seed}: server.close() did not finish within ${DEADLINE} ms`);
  }
  const byIndex = new Map(cases.map((c) => [c.index, c]));
  const reports = observed.reported.map(({ where, error, inFlight }) =>
    `${where} got ${error instanceof Error ? error.stack : String(error)}\n  while in flight:\n` +
    inFlight.map((i) => "    " + describe(seed, byIndex.get(i)!)).join("\n")
  );
  assertEquals(
    failures.length + reports.length,
    0,
    `${failures.length} of ${cases.length} cases failed, ${reports.length} errors reported:\n\n` +
      [...failures.slice(0, 10), ...reports.slice(0, 5)].join("\n\n"),
  );
}

Deno.test("each request the mutations start from is answered as expected as it is", async () => {
  const cases = SEEDS.map((s, index) => ({
    index,
    from: s.name,
    input: s.request,
    pieces: [s.request],
    halfClose: true,
  }));
  const observed = newObserved();
  await using server = await startServer(observed);
  for (const [i, c] of cases.entries()) {
    const { answer, ended } = await send(server.port, c);
    const text = latin1(answer);
    assert(ended, `${c.from}: no end`);
    assertEquals(statusesOf(text), SEEDS[i].statuses, `${c.from}: ${escapeBytes(answer)}`);
    if (SEEDS[i].body) assert(text.endsWith(`\r\n\r\n${SEEDS[i].body}\n`), `${c.from}: ${text}`);
  }
  assertEquals(observed.reported, []);
});

Deno.test("the server answers every mutated request with valid statuses or a close, never a 500, and never hangs", async () => {
  const seed = seedOr(0x1f2e3d4c);
  const random = new Random(seed);
  const cases: Case[] = [];
  for (let round = 0; round < 40; round++) {
    for (const s of SEEDS) {
      // Every other round a single edit, which more often leaves a request to serve, so that
      // bodies, chunked framing, trailers and WebSocket frames get fuzzed as well as heads.
      const input = random.mutate(s.request, round % 2 === 0 ? 1 : undefined);
      cases.push({
        index: cases.length,
        from: `mutated ${s.name}`,
        input,
        pieces: random.split(input),
        halfClose: random.int(3) !== 0,
      });
    }
  }
  await fuzz(seed, cases, STATUSES);
});

Deno.test("the server answers random bytes with a parse error status or a close, and never hangs", async () => {
  const seed = seedOr(0x0b5e55ed);
  const random = new Random(seed);
  const cases: Case[] = [];
  for (let index = 0; index < 150; index++) {
    // Mostly short inputs, some longer than the largest head (431).
    const length = random.pick([0, 1, 2, 16, 64, 256, 1024, MAX_HEAD + 512]);
    let input = random.bytes(random.int(length + 1));
    // Half of them end like a head, so the parser gets a whole one to reject.
    if (random.int(2) === 0) input = new Uint8Array([...input, 13, 10, 13, 10]);
    cases.push({
      index,
      from: "random bytes",
      input,
      pieces: random.split(input),
      halfClose: random.int(3) !== 0,
    });
  }
  await fuzz(seed, cases, PARSE_ERRORS);
});
