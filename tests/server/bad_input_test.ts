import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { serve } from "../../server/serve.ts";
import { listen } from "../../server/server.ts";
import { streamHandler } from "../../server/stream_handler.ts";
import { dial, rawExchange, readToEnd, statusOf } from "./_raw.ts";
import { utf8, within } from "../_fixtures.ts";
import { data as h2Data, E, headers as h2Headers, RawPeer, req } from "../http2/_frames.ts";

/** Each rule: the raw request and the status the server must answer it with. */
const rules: [string, string, number][] = [
  ["obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400],
  ["a bare CR in a field value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400],
  ["a bare LF in a field value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n", 400],
  ["a bare LF ending the request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", 400],
  ["a * target outside OPTIONS", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400],
  ["a target of no form", "GET foo HTTP/1.1\r\nHost: x\r\n\r\n", 400],
  ["an authority-form target outside CONNECT", "GET x:80 HTTP/1.1\r\nHost: x\r\n\r\n", 400],
  // Heads that never end in CRLF CRLF: answered at once, not after the head timeout.
  ["a head whose lines all end in LF alone", "GET / HTTP/1.1\nHost: x\n\n", 400],
  ["an empty line of LF alone after the fields", "GET / HTTP/1.1\r\nHost: x\r\n\n", 400],
  ["a NUL byte in a field value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400],
  ["a space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400],
  ["a field name with a bad character", "GET / HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n", 400],
  ["a malformed request line", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400],
  ["a missing Host", "GET / HTTP/1.1\r\n\r\n", 400],
  ["two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
  [
    "both Content-Length and Transfer-Encoding",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    400,
  ],
  [
    "two different Content-Length values",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    400,
  ],
  [
    "a Content-Length list with different values",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd",
    400,
  ],
  ["a negative Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400],
  [
    "an unknown transfer coding",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    501,
  ],
  ["an HTTP/2.0 request line", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505],
  [
    "too many header fields",
    "GET / HTTP/1.1\r\nHost: x\r\n" + "X-A: 1\r\n".repeat(101) + "\r\n",
    431,
  ],
  [
    "an oversized head",
    "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + "a".repeat(70_000) + "\r\n\r\n",
    431,
  ],
];

for (const [what, request, status] of rules) {
  Deno.test(`the server answers ${what} with ${status} and closes`, async () => {
    let handled = 0;
    await using server = await serve("127.0.0.1", 0, () => {
      handled++;
      return new Response("ok");
    });
    const raw = await rawExchange(server.port, request);
    assertEquals(statusOf(raw), status, raw.slice(0, 200));
    assertEquals(handled, 0);
    // Other connections keep working.
    assertEquals(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), "ok");
  });
}

Deno.test("identical repeated Content-Length values are accepted", async () => {
  await using server = await serve("127.0.0.1", 0, async (req) => new Response(await req.text()));
  const raw = await rawExchange(
    server.port,
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
  );
  assertEquals(statusOf(raw), 200);
  assert(raw.endsWith("abc"));
});

Deno.test("a malformed chunked body ends the exchange without hurting the server", async () => {
  const errors: unknown[] = [];
  await using server = await serve("127.0.0.1", 0, async (req) => {
    try {
      return new Response(await req.text());
    } catch (error) {
      errors.push(error);
      return new Response("bad body", { status: 400 });
    }
  });
  const raw = await rawExchange(
    server.port,
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
  );
  assertEquals(statusOf(raw), 400);
  assertEquals(errors.length, 1);
  assertEquals(
    await (await fetch(`http://127.0.0.1:${server.port}/`, { method: "POST", body: "x" })).text(),
    "x",
  );
});

const MALFORMED_BODY =
  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n";

Deno.test("a malformed body a handler throws on gets 400 and closes, and is not the handler's error", async () => {
  const handlerErrors: unknown[] = [];
  await using server = await serve("127.0.0.1", 0, async (req) => new Response(await req.text()), {
    onError: (error) => {
      handlerErrors.push(error);
      return new Response("handler failed", { status: 500 });
    },
  });
  const raw = await rawExchange(server.port, MALFORMED_BODY);
  assertEquals(statusOf(raw), 400, raw.slice(0, 200));
  assertStringIncludes(raw.toLowerCase(), "connection: close");
  assertEquals(handlerErrors, []);
  assertEquals(
    await (await fetch(`http://127.0.0.1:${server.port}/`, { method: "POST", body: "x" })).text(),
    "x",
  );
});

Deno.test("a handler that turns a malformed body into an error of its own still fails with 500", async () => {
  const handlerErrors: unknown[] = [];
  await using server = await serve("127.0.0.1", 0, async (req) => {
    try {
      await req.text();
    } catch {
      throw new Error("mine");
    }
    return new Response("ok");
  }, {
    onError: (error) => {
      handlerErrors.push(error);
      return new Response("handler failed", { status: 500 });
    },
  });
  assertEquals(statusOf(await rawExchange(server.port, MALFORMED_BODY)), 500);
  assertEquals(handlerErrors.map((e) => (e as Error).message), ["mine"]);
});

Deno.test("listen: a Stream handler that throws its malformed body's error gets 400, and nothing is reported", async () => {
  const reported: unknown[] = [];
  await using server = await listen("127.0.0.1", 0, async (stream) => {
    await new Response(stream.body).text();
    stream.respond(200, {}, { endStream: true });
  }, { onError: (error) => reported.push(error) });
  const raw = await rawExchange(server.port, MALFORMED_BODY);
  assertEquals(statusOf(raw), 400, raw.slice(0, 200));
  assertEquals(reported, []);
});

Deno.test("a malformed body thrown on after the response started closes the connection, and nothing is reported", async () => {
  const reported: unknown[] = [];
  await using server = await listen("127.0.0.1", 0, async (stream) => {
    await stream.respond(200, { "content-type": "text/plain" });
    await stream.write(utf8("partial"));
    await new Response(stream.body).text();
    await stream.end();
  }, { onError: (error) => reported.push(error) });
  const raw = await rawExchange(server.port, MALFORMED_BODY);
  assertEquals(statusOf(raw), 200);
  assert(!raw.endsWith("0\r\n\r\n"), "the response must not look complete");
  assertEquals(reported, []);
});

Deno.test("a head that does not arrive in time gets 408 (slowloris)", async () => {
  await using server = await serve("127.0.0.1", 0, () => new Response("ok"), { headTimeout: 200 });
  const slow = await dial(server.port);
  await slow.write(utf8("GET / HTTP/1.1\r\nHost: x\r\n"));
  const started = Date.now();
  // Meanwhile another client is served.
  assertEquals(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), "ok");
  const raw = await readToEnd(slow);
  assertEquals(statusOf(raw), 408);
  assert(Date.now() - started < 2000);
  slow.close();
});

Deno.test("a client that takes none of its response is cut off after writeIdleTimeout, and nothing is reported", async () => {
  const reported: unknown[] = [];
  let completed: Promise<unknown> | null = null;
  // More than the sockets can buffer, so that the writes wait on the client.
  const big = new Uint8Array(64 * 1024 * 1024);
  const handler = streamHandler((_request, info) => {
    completed = info.completed.then(() => "sent", (error: Error) => error.message);
    return new Response(big);
  });
  await using server = await listen("127.0.0.1", 0, handler, {
    writeIdleTimeout: 300,
    onError: (error) => reported.push(error),
  });
  const stalled = await dial(server.port);
  try {
    await stalled.write(utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); // and never reads
    while (completed === null) await new Promise((resolve) => setTimeout(resolve, 10));
    const end = String(await within(completed, 5000, "the stalled exchange's end"));
    assertStringIncludes(end, "idle");
    // Other clients are served meanwhile and after.
    const other = await fetch(`http://127.0.0.1:${server.port}/`).then((r) => r.arrayBuffer());
    assertEquals(other.byteLength, big.byteLength);
    assertEquals(reported, []);
  } finally {
    stalled.close(); // else a failure here would leave the server's close waiting on it
  }
});

Deno.test("a client that takes its response slowly but steadily is not cut off by writeIdleTimeout", async () => {
  // At about 5 MB/s, the whole body takes longer than the timeout to go out, each 1 MiB piece
  // of it less.
  const body = new Uint8Array(8 * 1024 * 1024).fill(7);
  await using server = await serve("127.0.0.1", 0, () => new Response(body), {
    writeIdleTimeout: 600,
  });
  const conn = await dial(server.port);
  await conn.write(utf8("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  let received = 0;
  for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) {
    received += chunk.byteLength;
    await new Promise((resolve) => setTimeout(resolve, (chunk.byteLength / 65536) * 12));
  }
  conn.close();
  assert(received > body.byteLength, `${received} bytes`); // the head, and the whole body
});

Deno.test("a body that stops arriving closes the connection after bodyIdleTimeout, and nothing is reported", async () => {
  const reported: unknown[] = [];
  let readError: unknown = null;
  const handler = streamHandler(async (request) => {
    if (request.method === "GET") return new Response("ok");
    try {
      await request.arrayBuffer();
    } catch (error) {
      readError = error;
      throw error; // the client's stall: the server does not report it
    }
    return new Response("read it all");
  });
  await using server = await listen("127.0.0.1", 0, handler, {
    bodyIdleTimeout: 200,
    onError: (error) => reported.push(error),
  });
  const slow = await dial(server.port);
  await slow.write(utf8("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  const started = Date.now();
  // Meanwhile another client is served.
  assertEquals(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), "ok");
  assertEquals(await readToEnd(slow), "");
  assert(Date.now() - started < 2000, "closed by the body timeout, not the test's");
  assert(readError instanceof Error, "the handler's read of the body failed");
  assertEquals(reported, []);
  slow.close();
});

Deno.test("over HTTP/2, a body that stops arriving is reset with RST_STREAM CANCEL after bodyIdleTimeout; the connection goes on", async () => {
  const reported: unknown[] = [];
  await using server = await listen(
    "127.0.0.1",
    0,
    streamHandler(async (request) => new Response(`got ${(await request.text()).length}`)),
    { bodyIdleTimeout: 200, onError: (error) => reported.push(error) },
  );
  const peer = new RawPeer(await dial(server.port)); // HTTP/2 by prior knowledge
  await peer.handshake();
  const started = Date.now();
  await peer.send(h2Headers(1, req("POST", "/")), h2Data(1, "abc"));
  await peer.expectRst(1, E.CANCEL, 3000);
  assert(Date.now() - started < 2000, "reset by the body timeout, not the test's");
  await peer.send(h2Headers(3, req("POST", "/")), h2Data(3, "abcd", { endStream: true }));
  const fields = await peer.response(3);
  assertEquals(fields.find(([name]) => name === ":status")?.[1], "200");
  assertEquals(reported, []);
  peer.close();
});

Deno.test("a body that keeps arriving, however slowly, is not cut off by bodyIdleTimeout", async () => {
  await using server = await serve("127.0.0.1", 0, async (request) => {
    return new Response(`got ${(await request.arrayBuffer()).byteLength}`);
  }, { bodyIdleTimeout: 300 });
  const conn = await dial(server.port);
  await conn.write(
    utf8("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\n"),
  );
  for (const byte of "abcd") {
    await new Promise((resolve) => setTimeout(resolve, 150));
    await conn.write(utf8(byte));
  }
  const raw = await readToEnd(conn);
  assertEquals(statusOf(raw), 200);
  assert(raw.endsWith("got 4"), raw);
  conn.close();
});

Deno.test("an idle keep-alive connection is closed after keepAliveTimeout", async () => {
  await using server = await serve("127.0.0.1", 0, () => new Response("ok"), {
    keepAliveTimeout: 100,
  });
  const conn = await dial(server.port);
  await conn.write(utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const started = Date.now();
  const raw = await readToEnd(conn);
  assertEquals(statusOf(raw), 200);
  assert(Date.now() - started < 2000, "closed by the idle timeout, not the test's");
  conn.close();
});

Deno.test("a connection that closes mid-head is dropped quietly", async () => {
  let reported = 0;
  await using server = await serve("127.0.0.1", 0, () => new Response("ok"), {
    onError: () => {
      reported++;
      return new Response(null, { status: 500 });
    },
  });
  const conn = await dial(server.port);
  await conn.write(utf8("GET / HTT"));
  conn.close();
  assertEquals(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), "ok");
  assertEquals(reported, 0);
});

/**
 * Requests that parse but whose URL the URL standard refuses, and the status the server answers
 * with before any handler sees them.
 */
const unrepresentable: [string, string, number][] = [
  // Found by fuzz_test.ts: "OPTIONS *" and "GET http://..." with a byte changed made the URLs
  // `http://*>/` and `http://://example.test/abs/`, which the Request constructor throws at: 500s.
  ["a request target the URL parser rejects", "OPTIO *> HTTP/1.1\r\nHost: x\r\n", 400],
  ["a target that is neither origin- nor absolute-form", "GET ://x/a HTTP/1.1\r\nHost: x\r\n", 400],
  ["a Host port above 65535", "GET / HTTP/1.1\r\nHost: x:99999\r\n", 400],
  ["a Host that is a bad IPv4 address", "GET / HTTP/1.1\r\nHost: 10.0.0.256\r\n", 400],
  ["an absolute-form target the URL parser rejects", "GET http://[x HTTP/1.1\r\nHost: x\r\n", 400],
];

for (const [what, head, status] of unrepresentable) {
  Deno.test(`serve answers ${what} with ${status} without calling the handler`, async () => {
    let handled = 0;
    await using server = await serve("127.0.0.1", 0, () => {
      handled++;
      return new Response("ok");
    }, {
      onError: () => {
        handled++;
        return new Response(null, { status: 500 });
      },
    });
    const raw = await rawExchange(server.port, head + "Connection: close\r\n\r\n");
    assertEquals(statusOf(raw), status, raw.slice(0, 200));
    assertEquals(handled, 0);
    assertEquals(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), "ok");
  });
}

for (const [what, head, status] of unrepresentable) {
  Deno.test(`listen answers ${what} with ${status} too: a Stream's url always parses`, async () => {
    let handled = 0;
    await using server = await listen("127.0.0.1", 0, async (stream) => {
      handled++;
      new URL(stream.request.url);
      await stream.respond(200, { "content-length": "2" });
      await stream.write(utf8("ok"));
      await stream.end();
    });
    const raw = await rawExchange(server.port, head + "Connection: close\r\n\r\n");
    assertEquals(statusOf(raw), status, raw.slice(0, 200));
    assertEquals(handled, 0);
  });
}

for (const [method, target] of [["TRACE", "/"], ["CONNECT", "x:443"]]) {
  // Deno's and Node's Request refuse the fetch standard's forbidden methods; Bun's takes them.
  let carried = true;
  try {
    new Request("http://x/", { method });
  } catch {
    carried = false;
  }
  Deno.test(`serve answers ${method} with 501, unless a Request can carry it (then the handler does)`, async () => {
    let handled = 0;
    await using server = await serve("127.0.0.1", 0, (req) => {
      handled++;
      return new Response(req.method);
    });
    const raw = await rawExchange(
      server.port,
      `${method} ${target} HTTP/1.1\r\nHost: x:443\r\nConnection: close\r\n\r\n`,
    );
    assertEquals(statusOf(raw), carried ? 200 : 501, raw.slice(0, 200));
    assertEquals(handled, carried ? 1 : 0);
  });
}

Deno.test("the handler's URL is an absolute-form target as sent, of any scheme, and OPTIONS * is on the host", async () => {
  const urls: string[] = [];
  await using server = await serve("127.0.0.1", 0, (req) => {
    urls.push(req.url);
    return new Response("ok");
  });
  for (
    const [method, target] of [["GET", "ftp://y/a"], ["GET", "https://y/a?q"], ["OPTIONS", "*"]]
  ) {
    const raw = await rawExchange(
      server.port,
      `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    assertEquals(statusOf(raw), 200, raw.slice(0, 200));
  }
  assertEquals(urls, ["ftp://y/a", "https://y/a?q", "http://x/*"]);
});

Deno.test("writes left unawaited behind a large one go out after it, in order", async () => {
  const big = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => i % 251);
  await using server = await listen("127.0.0.1", 0, (stream) => {
    stream.respond(200, { "content-type": "application/octet-stream" }); // chunked
    stream.write(big); // more than one piece of a watched write
    stream.write(utf8("tail"));
    return stream.end();
  });
  const body = new Uint8Array(
    await (await fetch(`http://127.0.0.1:${server.port}/`)).arrayBuffer(),
  );
  assertEquals(body.byteLength, big.byteLength + 4);
  assertEquals(body.subarray(0, big.byteLength), big);
  assertEquals(new TextDecoder().decode(body.subarray(big.byteLength)), "tail");
});
