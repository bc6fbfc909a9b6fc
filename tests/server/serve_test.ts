import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { serve } from "../../server/serve.ts";
import { dial, rawExchange, readToEnd, readUntil, statusOf } from "./_raw.ts";
import { text, utf8 } from "../_fixtures.ts";

const quiet = { onError: () => new Response(null, { status: 500 }) };

Deno.test("serve answers a GET with the handler's response", async () => {
  await using server = await serve("127.0.0.1", 0, (req) => {
    return new Response(`${req.method} ${new URL(req.url).pathname}`, {
      headers: { "x-test": "1" },
    });
  });
  const res = await fetch(`http://127.0.0.1:${server.port}/hello?x=1`);
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("x-test"), "1");
  assertEquals(await res.text(), "GET /hello");
});

Deno.test("serve gives the handler the request body as a stream", async () => {
  await using server = await serve("127.0.0.1", 0, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    return new Response(`${body.byteLength} ${body[0]} ${body[body.byteLength - 1]}`);
  });
  const big = new Uint8Array(5_000_000).map((_, i) => i % 200);
  const res = await fetch(`http://127.0.0.1:${server.port}/`, { method: "POST", body: big });
  assertEquals(await res.text(), `5000000 0 ${(5_000_000 - 1) % 200}`);
});

Deno.test("serve streams a response body chunk by chunk as the handler produces it", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  await using server = await serve("127.0.0.1", 0, () => {
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(utf8("first;"));
        await gate;
        c.enqueue(utf8("second"));
        c.close();
      },
    });
    return new Response(body);
  });
  const res = await fetch(`http://127.0.0.1:${server.port}/`);
  assertEquals(res.headers.get("transfer-encoding"), "chunked");
  const reader = res.body!.getReader();
  // The first chunk arrives while the handler still holds the second back.
  assertEquals(text((await reader.read()).value!), "first;");
  release();
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += text(r.value);
  assertEquals(rest, "second");
});

Deno.test("serve sends a known body with content-length in one response", async () => {
  await using server = await serve("127.0.0.1", 0, () => new Response("twelve bytes"));
  const raw = await rawExchange(
    server.port,
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  assertStringIncludes(raw.toLowerCase(), "content-length: 12\r\n");
  assert(raw.endsWith("\r\n\r\ntwelve bytes"));
});

Deno.test("a body stream that closes right behind its one chunk is sent with content-length", async () => {
  await using server = await serve("127.0.0.1", 0, () =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(utf8("one chunk"));
          c.close();
        },
      }),
    ));
  const raw = await rawExchange(
    server.port,
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  assertStringIncludes(raw.toLowerCase(), "content-length: 9\r\n");
  assert(!raw.toLowerCase().includes("transfer-encoding"));
  assert(raw.endsWith("\r\n\r\none chunk"));
});

Deno.test("a body whose chunks are all there at once is sent whole, with content-length (Bun splits static bodies so)", async () => {
  await using server = await serve("127.0.0.1", 0, () =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(utf8("first, "));
          c.enqueue(utf8("second, "));
          c.enqueue(utf8("third"));
          c.close();
        },
      }),
    ));
  const raw = await rawExchange(
    server.port,
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  assertStringIncludes(raw.toLowerCase(), "content-length: 20\r\n");
  assert(!raw.toLowerCase().includes("transfer-encoding"));
  assert(raw.endsWith("\r\n\r\nfirst, second, third"));
});

Deno.test("a body that is all there at once is still streamed past 1 MiB or 64 chunks, not gathered to its end", async () => {
  const cases: Record<string, Uint8Array[]> = {
    "/large": Array.from({ length: 40 }, () => new Uint8Array(64 * 1024).fill(97)),
    "/many": Array.from({ length: 100 }, () => utf8("b")),
  };
  await using server = await serve("127.0.0.1", 0, (req) => {
    const chunks = cases[new URL(req.url).pathname];
    return new Response(
      new ReadableStream({
        start(c) {
          for (const chunk of chunks) c.enqueue(chunk);
          c.close();
        },
      }),
    );
  });
  for (const [path, chunks] of Object.entries(cases)) {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
    assertEquals(res.headers.get("transfer-encoding"), "chunked", path);
    const length = chunks.reduce((n, c) => n + c.byteLength, 0);
    assertEquals((await res.bytes()).byteLength, length, path);
  }
});

Deno.test("a body stream that fails right behind its first chunk gives a 500, not a cut-off 200", async () => {
  const seen: unknown[] = [];
  await using server = await serve("127.0.0.1", 0, () => {
    let pulls = 0;
    return new Response(
      new ReadableStream({
        pull(c) {
          if (pulls++ === 0) c.enqueue(utf8("partial"));
          else c.error(new Error("the body failed"));
        },
      }),
    );
  }, {
    onError: (error) => {
      seen.push(error);
      return new Response(null, { status: 500 });
    },
  });
  const raw = await rawExchange(
    server.port,
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  assertEquals(statusOf(raw), 500);
  assert(!raw.includes("partial"));
});

Deno.test("a thrown handler gives a 500, is reported, and the server lives on", async () => {
  const seen: unknown[] = [];
  await using server = await serve("127.0.0.1", 0, (req) => {
    if (new URL(req.url).pathname === "/boom") throw new Error("boom");
    return new Response("fine");
  }, {
    onError: (error) => {
      seen.push(error);
      return new Response("sorry", { status: 500 });
    },
  });
  const bad = await fetch(`http://127.0.0.1:${server.port}/boom`);
  assertEquals(bad.status, 500);
  assertEquals(await bad.text(), "sorry");
  assertEquals((seen[0] as Error).message, "boom");
  assertEquals(await (await fetch(`http://127.0.0.1:${server.port}/ok`)).text(), "fine");
});

Deno.test("a rejected handler, and one that returns no Response at once or later, go to onError", async () => {
  const seen: string[] = [];
  await using server = await serve("127.0.0.1", 0, (req) => {
    switch (new URL(req.url).pathname) {
      case "/reject":
        return Promise.reject(new Error("rejected"));
      case "/nothing":
        return undefined as unknown as Response;
      case "/nothing-later":
        return Promise.resolve("text" as unknown as Response);
      default:
        return Promise.resolve(new Response("fine"));
    }
  }, {
    onError: (error) => {
      seen.push((error as Error).message);
      return new Response("sorry", { status: 500 });
    },
  });
  for (const path of ["/reject", "/nothing", "/nothing-later"]) {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
    assertEquals([res.status, await res.text()], [500, "sorry"], path);
  }
  assertEquals(seen, [
    "rejected",
    "the handler did not return a Response",
    "the handler did not return a Response",
  ]);
  assertEquals(await (await fetch(`http://127.0.0.1:${server.port}/ok`)).text(), "fine");
});

Deno.test("keep-alive serves several requests on one connection", async () => {
  await using server = await serve(
    "127.0.0.1",
    0,
    (req) => new Response(new URL(req.url).pathname),
  );
  const conn = await dial(server.port);
  for (const path of ["/a", "/b", "/c"]) {
    await conn.write(utf8(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    const raw = await readUntil(conn, path);
    assertEquals(statusOf(raw), 200);
    assert(raw.endsWith(path));
  }
  conn.close();
});

Deno.test("pipelined requests are answered in order", async () => {
  await using server = await serve("127.0.0.1", 0, async (req) => {
    const body = req.body ? await req.text() : "";
    return new Response(new URL(req.url).pathname + body);
  });
  const raw = await rawExchange(
    server.port,
    "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n" +
      "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
      "POST /3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n" +
      "GET /4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  const bodies = raw.split("HTTP/1.1 200 OK").slice(1).map((r) => r.split("\r\n\r\n")[1]);
  assertEquals(bodies, ["/1", "/2abc", "/3de", "/4"]);
});

Deno.test("HTTP/1.0 requests close the connection unless keep-alive is asked", async () => {
  await using server = await serve("127.0.0.1", 0, () => new Response("old"));
  const raw = await rawExchange(server.port, "GET / HTTP/1.0\r\n\r\n");
  assertEquals(statusOf(raw), 200);
  assertStringIncludes(raw.toLowerCase(), "connection: close");
  assert(raw.endsWith("old"));
});

Deno.test("HEAD, 204 and 304 responses carry no body", async () => {
  await using server = await serve("127.0.0.1", 0, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/204") return new Response(null, { status: 204 });
    if (path === "/304") return new Response(null, { status: 304 });
    return new Response("body");
  });
  const raw = await rawExchange(
    server.port,
    "HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\n" +
      "GET /304 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  const parts = raw.split(/(?=HTTP\/1\.1 )/);
  assertEquals(parts.map((p) => p.slice(9, 12)), ["200", "204", "304"]);
  for (const part of parts) assert(part.endsWith("\r\n\r\n"), JSON.stringify(part));
  assertStringIncludes(parts[0].toLowerCase(), "content-length: 4");
});

Deno.test("a known body goes out with its own length whatever content-length its handler set; HEAD keeps the handler's", async () => {
  await using server = await serve("127.0.0.1", 0, (req) => {
    const length = new URL(req.url).pathname.slice(1); // "3" or "10"
    return new Response("hello", { headers: { "content-length": length } });
  });
  for (const length of ["3", "10"]) {
    const raw = await rawExchange(
      server.port,
      `GET /${length} HTTP/1.1\r\nHost: x\r\n\r\nHEAD /${length} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    const [get, head] = raw.split(/(?=HTTP\/1\.1 )/);
    assertEquals(statusOf(get), 200, raw);
    assertStringIncludes(get.toLowerCase(), "content-length: 5\r\n");
    assert(get.endsWith("\r\n\r\nhello"), JSON.stringify(get));
    assertStringIncludes(head.toLowerCase(), `content-length: ${length}\r\n`);
    assert(head.endsWith("\r\n\r\n"), JSON.stringify(head));
  }
});

Deno.test("Expect: 100-continue gets 100 Continue when the handler reads the body", async () => {
  await using server = await serve("127.0.0.1", 0, async (req) => new Response(await req.text()));
  const conn = await dial(server.port);
  await conn.write(utf8(
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
  ));
  const interim = await readUntil(conn, "\r\n\r\n");
  assertEquals(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  await conn.write(utf8("hello"));
  const raw = await readToEnd(conn);
  assertEquals(statusOf(raw), 200);
  assert(raw.endsWith("hello"));
  conn.close();
});

Deno.test("a handler that answers without reading the body skips 100 Continue", async () => {
  await using server = await serve(
    "127.0.0.1",
    0,
    () => new Response("no thanks", { status: 413 }),
  );
  const raw = await rawExchange(
    server.port,
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
  );
  assertEquals(statusOf(raw), 413);
  assert(!raw.includes("100 Continue"));
});

Deno.test("request trailers reach the handler", async () => {
  await using server = await serve(
    "127.0.0.1",
    0,
    async (req) => new Response(await req.text()),
    quiet,
  );
  const raw = await rawExchange(
    server.port,
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
      "3\r\nabc\r\n0\r\nX-Sum: 42\r\n\r\n",
  );
  assert(raw.endsWith("abc"));
});

Deno.test("listenAny moves to the next free port when the port is taken", async () => {
  await using first = await serve("127.0.0.1", 0, () => new Response("1"));
  await using second = await serve("127.0.0.1", first.port, () => new Response("2"), {
    listenAny: true,
  });
  assert(second.port > first.port);
  assertEquals(await (await fetch(`http://127.0.0.1:${second.port}/`)).text(), "2");
});

Deno.test("serve takes Deno.serve's options form", async () => {
  await using server = await serve({ hostname: "127.0.0.1", port: 0 }, () => new Response("ok"));
  assertEquals(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), "ok");
});

Deno.test("serve takes Deno.serve's other forms: the handler in the options, and the handler alone", async () => {
  await using inOptions = await serve({
    hostname: "127.0.0.1",
    port: 0,
    handler: () => new Response("in the options"),
  });
  assertEquals(
    await (await fetch(`http://127.0.0.1:${inOptions.port}/`)).text(),
    "in the options",
  );
  await assertRejects(() => serve({ port: 0 } as never), TypeError, "no handler");
  // Alone, it binds 0.0.0.0:8000 as Deno.serve does (no other test uses that port).
  await using alone = await serve(() => new Response("alone"));
  assertEquals([alone.hostname, alone.port], ["0.0.0.0", 8000]);
  assertEquals(await (await fetch("http://127.0.0.1:8000/")).text(), "alone");
});

Deno.test("return fetch(upstream) proxies a compressed upstream as what fetch decoded; a Response made here keeps its coding", async () => {
  const text = "hello world ".repeat(500);
  const gzipped = new Uint8Array(
    await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  const compressed = () =>
    new Response(gzipped, {
      headers: { "content-encoding": "gzip", "content-length": String(gzipped.byteLength) },
    });
  await using upstream = await serve("127.0.0.1", 0, compressed);
  await using proxy = await serve(
    "127.0.0.1",
    0,
    (request) =>
      request.url.endsWith("/own") ? compressed() : fetch(`http://127.0.0.1:${upstream.port}/`),
  );
  // fetch decoded the body but kept the headers that describe the encoded bytes: they go.
  const raw = await rawExchange(
    proxy.port,
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  const head = raw.slice(0, raw.indexOf("\r\n\r\n")).toLowerCase();
  assertEquals(statusOf(raw), 200);
  assert(!head.includes("content-encoding"), head);
  // Chunked, or the decoded length when the whole body came at once.
  const length = /content-length: (\d+)/.exec(head)?.[1];
  assert(length === undefined || length === String(text.length), head);
  assertStringIncludes(raw, "hello world hello world");
  // A Response made by the handler is sent as it is: its body is the encoded bytes.
  const own = await fetch(`http://127.0.0.1:${proxy.port}/own`);
  assertEquals(own.headers.get("content-encoding"), "gzip");
  assertEquals(own.headers.get("content-length"), String(gzipped.byteLength));
  assertEquals(await own.text(), text);
});
