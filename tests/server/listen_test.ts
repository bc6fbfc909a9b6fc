import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { listen } from "../../server/server.ts";
import { serve } from "../../server/serve.ts";
import { streamHandler } from "../../server/stream_handler.ts";
import { upgradeHandleOf } from "../../server/_upgrade.ts";
import { dial, rawExchange, readToEnd, readUntil, statusOf } from "./_raw.ts";
import { text, utf8, within } from "../_fixtures.ts";
import { memoryPair } from "../../conn/memory.ts";
import { join } from "../_bytes.ts";
import type { Conn, Listener } from "../../conn/types.ts";
import type { Stream } from "../../server/stream.ts";

Deno.test("a head with no body bytes after it is written before the connection closes", async () => {
  await using server = await listen("127.0.0.1", 0, async (stream) => {
    const head = stream.request.method === "HEAD";
    await stream.respond(head ? 400 : 200, { "content-length": head ? "7" : "0" });
    await stream.end();
  });
  for (const method of ["GET", "HEAD"]) {
    const raw = await rawExchange(
      server.port,
      `${method} / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    assertEquals(statusOf(raw), method === "HEAD" ? 400 : 200, `${method}: ${raw}`);
  }
});

Deno.test("a stream handler writes the head, the body in pieces, and trailers", async () => {
  await using server = await listen("127.0.0.1", 0, async (stream) => {
    assertEquals(stream.request.method, "POST");
    assertEquals(stream.request.target, "/up?x=1");
    assertEquals(new URL(stream.request.url).search, "?x=1");
    let body = "";
    for await (const chunk of stream.body) body += text(chunk);
    const trailers = await stream.trailers;
    await stream.respond(201, { "x-got": body, trailer: "x-checksum" });
    await stream.write(utf8("part1,"));
    await stream.write(utf8("part2"));
    await stream.end({ "x-checksum": trailers.get("x-sum") ?? "none" });
  });
  const raw = await rawExchange(
    server.port,
    "POST /up?x=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
      "5\r\nhello\r\n0\r\nX-Sum: 99\r\n\r\n",
  );
  assertEquals(statusOf(raw), 201);
  assertStringIncludes(raw, "x-got: hello\r\n");
  assert(raw.endsWith("6\r\npart1,\r\n5\r\npart2\r\n0\r\nx-checksum: 99\r\n\r\n"), raw);
});

Deno.test("streamHandler runs a Request => Response handler under listen", async () => {
  await using server = await listen(
    "127.0.0.1",
    0,
    streamHandler(async (req) => new Response(`${req.method}:${await req.text()}`)),
  );
  const res = await fetch(`http://127.0.0.1:${server.port}/`, { method: "PUT", body: "x" });
  assertEquals(await res.text(), "PUT:x");
});

Deno.test("a stream handler that never responds gives a 500", async () => {
  await using server = await listen("127.0.0.1", 0, () => {}, { onError: () => {} });
  assertEquals((await fetch(`http://127.0.0.1:${server.port}/`)).status, 500);
});

Deno.test("close() lets the request in flight finish and closes idle connections", async () => {
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const server = await serve("127.0.0.1", 0, async () => {
    entered();
    await gate;
    return new Response("finished");
  });
  const idle = await dial(server.port);
  const inflight = fetch(`http://127.0.0.1:${server.port}/`);
  await inside;
  const closing = server.close();
  // An idle connection is closed right away; a new one is refused.
  assertEquals(await readToEnd(idle, 2000), "");
  await assertRejects(() => dial(server.port));
  release();
  const res = await inflight;
  assertEquals(await res.text(), "finished");
  await closing;
  idle.close();
});

Deno.test("forceClose() cuts requests in flight", async () => {
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  let aborted = false;
  const server = await serve("127.0.0.1", 0, async (_req, info) => {
    entered();
    await new Promise((r) => info.signal.addEventListener("abort", r));
    aborted = true;
    return new Response("never");
  }, { onError: () => new Response(null, { status: 500 }) });
  const conn = await dial(server.port);
  await conn.write(utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  await inside;
  const started = Date.now();
  const forced = server.forceClose();
  assertEquals(await readToEnd(conn, 3000), "");
  assert(Date.now() - started < 2000);
  conn.close();
  await forced;
  assert(aborted, "the handler's signal was aborted");
});

Deno.test("aborting the signal closes the server", async () => {
  const controller = new AbortController();
  const server = await serve("127.0.0.1", 0, () => new Response("ok"), {
    signal: controller.signal,
  });
  assertEquals(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), "ok");
  controller.abort();
  await server.finished;
  await assertRejects(() => dial(server.port));
});

Deno.test("an upgrade hands the raw connection and the bytes after the head to the handler", async () => {
  await using server = await listen("127.0.0.1", 0, async (stream) => {
    const handle = upgradeHandleOf(stream)!;
    assert(handle, "an Upgrade request can be upgraded");
    const { conn, head } = await handle.accept(
      101,
      new Headers({ upgrade: "echo", connection: "upgrade" }),
    );
    // Echo what came with the head, then everything after, in upper case.
    await conn.write(utf8(text(head).toUpperCase()));
    for (let c = await conn.read(); c; c = await conn.read()) {
      await conn.write(utf8(text(c).toUpperCase()));
    }
    conn.close();
  });
  const conn = await dial(server.port);
  await conn.write(
    utf8("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly bytes;"),
  );
  const switched = await readUntil(conn, "EARLY BYTES;");
  assertEquals(statusOf(switched), 101);
  await conn.write(utf8("later"));
  assertEquals(await readUntil(conn, "LATER"), "LATER");
  conn.close();
});

Deno.test("requests without Upgrade cannot be upgraded", async () => {
  let upgradable: boolean | undefined;
  await using server = await listen("127.0.0.1", 0, async (stream) => {
    upgradable = upgradeHandleOf(stream) !== undefined;
    await stream.respond(200, {}, { endStream: true });
  });
  await (await fetch(`http://127.0.0.1:${server.port}/`)).body?.cancel();
  assertEquals(upgradable, false);
});

Deno.test("a client that goes away mid-response aborts the handler's signal and is not reported", async () => {
  const reported: unknown[] = [];
  let aborted!: () => void;
  const abortedP = new Promise<void>((r) => (aborted = r));
  await using server = await serve("127.0.0.1", 0, (_req, info) => {
    info.signal.addEventListener("abort", () => aborted());
    let n = 0;
    return new Response(
      new ReadableStream({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 1));
          c.enqueue(utf8(`tick ${n++}\n`.repeat(1000)));
        },
      }),
    );
  }, {
    onError: (error) => {
      reported.push(error);
      return new Response(null, { status: 500 });
    },
  });
  const conn = await dial(server.port);
  await conn.write(utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  await readUntil(conn, "tick 3");
  conn.close();
  await abortedP;
  assertEquals(reported, []);
});

Deno.test("a client that goes away while the response waits for its next chunk cancels the body at once", async () => {
  const reported: unknown[] = [];
  let cancelled!: (reason: unknown) => void;
  const bodyCancelled = new Promise<unknown>((resolve) => (cancelled = resolve));
  let aborted = false;
  await using server = await serve("127.0.0.1", 0, (request) => {
    request.signal.addEventListener("abort", () => (aborted = true));
    return new Response(
      new ReadableStream({
        start: (c) => c.enqueue(utf8("event: hello\n\n")), // then nothing, for ever
        cancel: (reason) => cancelled(reason),
      }),
    );
  }, {
    onError: (error) => {
      reported.push(error);
      return new Response(null, { status: 500 });
    },
  });
  const conn = await dial(server.port);
  await conn.write(utf8("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  await readUntil(conn, "event: hello");
  conn.close();
  const reason = await within(bodyCancelled, 3000, "the response body's cancel");
  assert(reason instanceof Error, `cancelled with ${reason}`);
  assert(aborted, "request.signal aborted");
  assertEquals(reported, []);
});

Deno.test("a long-polling stream handler learns from info.signal that its client went away", async () => {
  let gone!: () => void;
  const handlerSawIt = new Promise<void>((resolve) => (gone = resolve));
  await using server = await listen("127.0.0.1", 0, async (stream) => {
    await new Promise<void>((resolve) =>
      stream.info.signal.addEventListener("abort", () => resolve())
    );
    gone();
  });
  const conn = await dial(server.port);
  await conn.write(utf8("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n"));
  await new Promise((resolve) => setTimeout(resolve, 20));
  conn.close();
  await within(handlerSawIt, 3000, "the handler seeing its signal abort");
});

Deno.test("watching for the client going away loses no bytes: pipelined requests and request bodies are served whole", async () => {
  await using server = await listen("127.0.0.1", 0, async (stream) => {
    void stream.info.signal; // starts the watch (or, with a body, arms it for the body's end)
    let body = "";
    for await (const chunk of stream.body) body += text(chunk);
    await new Promise((resolve) => setTimeout(resolve, 10)); // the next request arrives meanwhile
    const answer = utf8(`${stream.request.target} ${body}`);
    await stream.respond(200, { "content-length": String(answer.byteLength) });
    await stream.write(answer);
    await stream.end();
  });
  const conn = await dial(server.port);
  await conn.write(utf8("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
  await conn.write(utf8("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab"));
  await new Promise((resolve) => setTimeout(resolve, 20));
  await conn.write(utf8("cde"));
  await conn.write(utf8("GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const raw = await readToEnd(conn);
  assertStringIncludes(raw, "/a ");
  assertStringIncludes(raw, "/b abcde");
  assertStringIncludes(raw, "/c ");
  conn.close();
});

Deno.test("streaming responses lose neither the pipelined request behind them nor one sent later", async () => {
  await using server = await serve("127.0.0.1", 0, (request) => {
    const path = new URL(request.url).pathname;
    let n = 0;
    return new Response(
      new ReadableStream({
        async pull(c) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (n++ === 3) c.close();
          else c.enqueue(utf8(`${path}:${n};`));
        },
      }),
    );
  });
  const conn = await dial(server.port);
  await conn.write(
    utf8("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n"),
  );
  const first = await readUntil(conn, "0\r\n\r\n", 2); // both chunked bodies, in order
  assertStringIncludes(first, "/one:1;");
  assertStringIncludes(first, "/one:3;");
  assertStringIncludes(first, "/two:3;");
  assert(first.indexOf("/one:3;") < first.indexOf("/two:1;"), first);
  await conn.write(utf8("GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  assertStringIncludes(await readToEnd(conn), "/three:3;");
  conn.close();
});

/**
 * A server over one in-memory connection whose server side counts its writes; with
 * `vectored`, it also has a `writev()` (one call counts as one write).
 */
async function countingServer(
  handler: (stream: Stream) => Promise<void>,
  { vectored = false } = {},
) {
  const [client, serverSide] = memoryPair();
  const writes: string[] = [];
  const counted: Conn = Object.assign(
    Object.create(serverSide),
    {
      write(bytes: Uint8Array) {
        writes.push(text(bytes));
        return serverSide.write(bytes);
      },
    },
    vectored
      ? {
        writev(chunks: readonly Uint8Array[]) {
          writes.push(chunks.map(text).join(""));
          return serverSide.write(join(chunks));
        },
      }
      : {},
  );
  const server = await listenOn(counted, handler);
  return { client, writes, server };
}

/** A `listen` server whose listener hands out `conn` and nothing else. */
function listenOn(conn: Conn, handler: (stream: Stream) => void | Promise<void>) {
  let handed = false;
  const listener: Listener = {
    addr: conn.localAddr,
    accept: () => Promise.resolve(handed ? null : (handed = true, conn)),
    close() {},
    async *[Symbol.asyncIterator]() {
      if (!handed) yield (handed = true, conn);
    },
  };
  return listen("127.0.0.1", 0, handler, { listener });
}

Deno.test("a big response body leaves with its head in one vectored write, not copied behind it", async () => {
  const body = new Uint8Array(40_000).fill(97);
  const { client, writes, server } = await countingServer(async (stream) => {
    await stream.respond(200, { "content-length": String(body.byteLength) });
    await stream.write(body);
    await stream.end();
  }, { vectored: true });
  await client.write(utf8("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const raw = await readToEnd(client);
  assert(raw.endsWith("\r\n\r\n" + "a".repeat(40_000)), raw.slice(0, 200));
  assertEquals(writes.length, 1);
  await server.close();
});

Deno.test("a response head goes out in one write with the first body bytes", async () => {
  const { client, writes, server } = await countingServer(async (stream) => {
    await stream.respond(200, { "content-length": "5" });
    await stream.write(utf8("hello"));
    await stream.end();
  });
  await client.write(utf8("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const raw = await readToEnd(client);
  assert(raw.endsWith("\r\n\r\nhello"), raw);
  assertEquals(writes.length, 1);
  assertEquals(writes[0], raw);
  await server.close();
});

Deno.test("a held response head still goes out at once when the body is slow to come", async () => {
  let release!: () => void;
  const later = new Promise<void>((resolve) => (release = resolve));
  const { client, writes, server } = await countingServer(async (stream) => {
    await stream.respond(200, { "x-early": "yes" });
    await later;
    await stream.write(utf8("late"));
    await stream.end();
  });
  await client.write(utf8("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const head = await readUntil(client, "\r\n\r\n");
  assertStringIncludes(head, "x-early: yes\r\n");
  assertEquals(writes.length, 1);
  release();
  const rest = await readToEnd(client);
  assertEquals(rest, "4\r\nlate\r\n0\r\n\r\n");
  await server.close();
});

Deno.test("a write left unawaited that fails aborts the exchange, with no unhandled rejection", async () => {
  const [client, serverSide] = memoryPair();
  const failing: Conn = Object.assign(Object.create(serverSide), {
    write: () => Promise.reject(new Error("the client is gone")),
  });
  let seen!: (signal: AbortSignal) => void;
  const signal = new Promise<AbortSignal>((resolve) => (seen = resolve));
  const server = await listenOn(failing, (stream) => {
    // node:http's shape: nothing awaited.
    stream.respond(200, { "content-length": "5" });
    stream.write(utf8("hello"));
    seen(stream.info.signal);
    return stream.end();
  });
  await client.write(utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const aborted = await within(signal, 2000, "the handler ran");
  await new Promise((resolve) => setTimeout(resolve, 50)); // an unhandled rejection fails here
  assertEquals(aborted.aborted, true);
  assertEquals(String(aborted.reason), "Error: the client is gone");
  client.close();
  await server.forceClose();
});
