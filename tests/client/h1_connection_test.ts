import { assert, assertEquals, assertRejects } from "@std/assert";
import { memoryPair } from "../../conn/memory.ts";
import type { Conn } from "../../conn/types.ts";
import { BufferedReader } from "../../http1/buffered_reader.ts";
import { HttpParseError } from "../../http1/parse.ts";
import { H1ClientConnection, type H1ConnectionOptions } from "../../client/h1_connection.ts";
import type { ProtocolRequest } from "../../client/_protocol.ts";
import { ConnectionClosedError } from "../../client/errors.ts";
import { bytes, decoder, delay, readRequest, str, streamOf } from "./_helpers.ts";

interface Setup {
  h1: H1ClientConnection;
  server: Conn;
  reader: BufferedReader;
  send(text: string): Promise<void>;
}

function setup(options?: H1ConnectionOptions, highWaterMark?: number): Setup {
  const [client, server] = memoryPair({ highWaterMark });
  const h1 = new H1ClientConnection(client, options);
  return {
    h1,
    server,
    reader: new BufferedReader(server),
    send: (text) => server.write(bytes(text)),
  };
}

function req(
  method: string,
  url: string,
  init: Partial<Omit<ProtocolRequest, "method" | "url">> = {},
): ProtocolRequest {
  return {
    method,
    url: new URL(url),
    headers: init.headers ?? new Headers(),
    body: init.body ?? null,
    trailers: init.trailers,
    signal: init.signal,
  };
}

async function text(body: ReadableStream<Uint8Array> | null): Promise<string> {
  return await new Response(body).text();
}

Deno.test("h1: a GET goes out as one head, host from the URL first, then the caller's fields", async () => {
  const { h1, server, send } = setup();
  const pending = h1.request(
    req("GET", "http://example.com:8080/a/b?c=1#frag", { headers: new Headers({ "x-one": "1" }) }),
  );
  assertEquals(
    str((await server.read())!),
    "GET /a/b?c=1 HTTP/1.1\r\nhost: example.com:8080\r\nx-one: 1\r\n\r\n",
  );
  await send("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-answer: yes\r\n\r\nhello");
  const res = await pending;
  assertEquals(res.status, 200);
  assertEquals(res.statusText, "OK");
  assertEquals(res.headers.get("x-answer"), "yes");
  assertEquals(await text(res.body), "hello");
  h1.close();
});

Deno.test("h1: a small byte body leaves in the same write as the head, with its content-length", async () => {
  const { h1, server, send } = setup();
  const pending = h1.request(
    req("PUT", "http://example.com/x", { body: new TextEncoder().encode("payload") }),
  );
  const first = str((await server.read())!);
  assertEquals(
    first,
    "PUT /x HTTP/1.1\r\nhost: example.com\r\ncontent-length: 7\r\n\r\npayload",
  );
  await send("HTTP/1.1 204 No Content\r\n\r\n");
  const res = await pending;
  assertEquals(res.body, null);
  assert(h1.available);
  h1.close();
});

Deno.test("h1: a POST without a body says content-length: 0, a GET says nothing", async () => {
  const { h1, reader, send } = setup();
  let pending = h1.request(req("POST", "http://example.com/"));
  let got = (await readRequest(reader))!;
  assertEquals(got.headers.get("content-length"), "0");
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  await pending;
  pending = h1.request(req("GET", "http://example.com/"));
  got = (await readRequest(reader))!;
  assertEquals(got.headers.has("content-length"), false);
  assertEquals(got.headers.has("transfer-encoding"), false);
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  await pending;
  h1.close();
});

Deno.test("h1: a streamed body is sent chunked with trailers after the last chunk", async () => {
  const { h1, reader, send } = setup();
  const pending = h1.request(req("POST", "http://example.com/up", {
    body: streamOf("abc", "", "defgh"),
    trailers: new Headers({ "x-checksum": "42" }),
  }));
  const got = (await readRequest(reader))!;
  assertEquals(got.headers.get("transfer-encoding"), "chunked");
  assertEquals(decoder.decode(got.body), "abcdefgh");
  assertEquals(got.trailers.get("x-checksum"), "42");
  await send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  assertEquals(await text((await pending).body), "ok");
  assert(h1.available);
  h1.close();
});

Deno.test("h1: a streamed body is pulled only as fast as the connection takes it", async () => {
  const { h1, server, reader, send } = setup({}, 1024);
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (++pulls > 64) controller.close();
      else controller.enqueue(new Uint8Array(4096));
    },
  }, { highWaterMark: 0 });
  const pending = h1.request(req("POST", "http://example.com/", { body }));
  await delay(50);
  assert(pulls <= 3, `pulled ${pulls} chunks while the peer read nothing`);
  const got = (await readRequest(reader))!;
  assertEquals(got.body.byteLength, 64 * 4096);
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  await pending;
  h1.close();
  server.close();
});

Deno.test("h1: a caller's content-length frames a streamed body; a longer body fails the request", async () => {
  const { h1, reader, send } = setup();
  const ok = h1.request(req("POST", "http://example.com/", {
    headers: new Headers({ "content-length": "6" }),
    body: streamOf("abc", "def"),
  }));
  const got = (await readRequest(reader))!;
  assertEquals(got.headers.get("content-length"), "6");
  assertEquals(got.headers.has("transfer-encoding"), false);
  assertEquals(decoder.decode(got.body), "abcdef");
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  await ok;

  const tooLong = h1.request(req("POST", "http://example.com/", {
    headers: new Headers({ "content-length": "2" }),
    body: streamOf("abc"),
  }));
  await assertRejects(() => tooLong, RangeError, "longer than its content-length");
  assert(h1.closed);
});

Deno.test("h1: interim 1xx responses are skipped", async () => {
  const { h1, reader, send } = setup();
  const pending = h1.request(req("GET", "http://example.com/"));
  await readRequest(reader);
  await send("HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n");
  await send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  const res = await pending;
  assertEquals(res.status, 200);
  assertEquals(res.headers.has("link"), false);
  assertEquals(await text(res.body), "ok");
  h1.close();
});

Deno.test("h1: Expect: 100-continue holds the body back until the server's 100", async () => {
  const { h1, server, reader, send } = setup({ expectContinueTimeout: 10_000 });
  const pending = h1.request(req("PUT", "http://example.com/", {
    headers: new Headers({ expect: "100-continue" }),
    body: bytes("the body"),
  }));
  const head = (await reader.readHead(4096))!;
  assert(str(head).includes("expect: 100-continue"));
  const bodyRead = server.read();
  const early = await Promise.race([bodyRead, delay(50).then(() => "nothing")]);
  assertEquals(early, "nothing", "the body must wait for 100 Continue");
  await send("HTTP/1.1 100 Continue\r\n\r\n");
  assertEquals(str((await bodyRead)!), "the body");
  await send("HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n");
  assertEquals((await pending).status, 201);
  assert(h1.available);
  h1.close();
});

Deno.test("h1: Expect: 100-continue answered with a final status sends no body and closes after", async () => {
  const { h1, server, reader, send } = setup({ expectContinueTimeout: 10_000 });
  let pulled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled = true;
      c.enqueue(bytes("x"));
      c.close();
    },
  }, { highWaterMark: 0 });
  const pending = h1.request(req("PUT", "http://example.com/", {
    headers: new Headers({ expect: "100-continue" }),
    body,
  }));
  await reader.readHead(4096);
  await send("HTTP/1.1 417 Expectation Failed\r\ncontent-length: 3\r\n\r\nno!");
  const res = await pending;
  assertEquals(res.status, 417);
  assertEquals(await text(res.body), "no!");
  assertEquals(pulled, false);
  assert(h1.closed, "the declared body was never sent, so the connection cannot be reused");
  assertEquals(await server.read(), null);
});

Deno.test("h1: Expect: 100-continue sends the body anyway after expectContinueTimeout", async () => {
  const { h1, reader, send } = setup({ expectContinueTimeout: 30 });
  const pending = h1.request(req("PUT", "http://example.com/", {
    headers: new Headers({ expect: "100-continue" }),
    body: bytes("late body"),
  }));
  const got = (await readRequest(reader))!;
  assertEquals(decoder.decode(got.body), "late body");
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  assertEquals((await pending).status, 200);
  h1.close();
});

Deno.test("h1: a chunked response body streams and then yields its trailers", async () => {
  const { h1, reader, send } = setup();
  const pending = h1.request(req("GET", "http://example.com/"));
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n");
  const res = await pending;
  const r = res.body!.getReader();
  assertEquals(decoder.decode((await r.read()).value), "wiki");
  assertEquals(decoder.decode((await r.read()).value), "pedia");
  await send("0\r\nx-digest: abc\r\nx-count: 2\r\n\r\n");
  assertEquals((await r.read()).done, true);
  const trailers = await res.trailers;
  assertEquals(trailers.get("x-digest"), "abc");
  assertEquals(trailers.get("x-count"), "2");
  assert(h1.available);
  h1.close();
});

Deno.test("h1: a body without a length runs to the end of the connection, which is then closed", async () => {
  const { h1, server, reader, send } = setup();
  const pending = h1.request(req("GET", "http://example.com/"));
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\n\r\nall of this ");
  const res = await pending;
  await send("until the end");
  await server.closeWrite();
  assertEquals(await text(res.body), "all of this until the end");
  assert(h1.closed);
});

Deno.test("h1: connection: close from the server closes the connection after the body", async () => {
  const { h1, reader, send } = setup();
  const pending = h1.request(req("GET", "http://example.com/"));
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 3\r\n\r\nbye");
  const res = await pending;
  assert(!h1.available);
  assertEquals(await text(res.body), "bye");
  assert(h1.closed);
});

Deno.test("h1: connection: close from the caller closes the connection after the response", async () => {
  const { h1, reader, send } = setup();
  const pending = h1.request(
    req("GET", "http://example.com/", { headers: new Headers({ connection: "close" }) }),
  );
  assertEquals((await readRequest(reader))!.headers.get("connection"), "close");
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  await pending;
  assert(h1.closed);
});

Deno.test("h1: the connection is available again only once the body has been read to its end", async () => {
  const { h1, reader, send } = setup();
  let changes = 0;
  h1.onStateChange = () => changes++;
  const pending = h1.request(req("GET", "http://example.com/"));
  assertEquals(h1.available, false);
  assertEquals(h1.activeRequests, 1);
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nabc");
  const res = await pending;
  const r = res.body!.getReader();
  await r.read();
  assertEquals(h1.available, false);
  await send("def");
  await r.read();
  assertEquals((await r.read()).done, true);
  assertEquals(h1.available, true);
  assertEquals(h1.activeRequests, 0);
  assertEquals(changes, 1);
  // and the next request goes out on the same connection
  const second = h1.request(req("GET", "http://example.com/2"));
  assertEquals((await readRequest(reader))!.target, "/2");
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  await second;
  assertEquals(h1.requestCount, 2);
  h1.close();
});

Deno.test("h1: a HEAD response has no body even with a content-length, and the connection stays", async () => {
  const { h1, reader, send } = setup();
  const pending = h1.request(req("HEAD", "http://example.com/"));
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n");
  const res = await pending;
  assertEquals(res.body, null);
  assertEquals(res.headers.get("content-length"), "1000");
  assert(h1.available);
  h1.close();
});

Deno.test("h1: a malformed status line rejects with HttpParseError and closes the connection", async () => {
  const { h1, reader, send } = setup();
  const pending = h1.request(req("GET", "http://example.com/"));
  await readRequest(reader);
  await send("HTTP/1.1 2000 Way OK\r\n\r\n");
  await assertRejects(() => pending, HttpParseError);
  assert(h1.closed);
});

Deno.test("h1: conflicting content-lengths in a response are refused", async () => {
  const { h1, reader, send } = setup();
  const pending = h1.request(req("GET", "http://example.com/"));
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd");
  await assertRejects(() => pending, HttpParseError, "conflicting");
  assert(h1.closed);
});

Deno.test("h1: a response head whose lines end in LF alone is refused at once, not waited for", async () => {
  const { h1, reader, send } = setup();
  // The signal only bounds the wait if the head were waited for (it would never end).
  const signal = AbortSignal.timeout(5000);
  const pending = h1.request(req("GET", "http://example.com/", { signal }));
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\ncontent-length: 2\n\nok"); // and the connection stays open
  await assertRejects(() => pending, HttpParseError, "LF without CR");
  assert(h1.closed);
});

Deno.test("h1: an aborted signal rejects a request waiting for its head with the reason", async () => {
  const { h1, server, reader } = setup();
  const controller = new AbortController();
  const pending = h1.request(req("GET", "http://example.com/", { signal: controller.signal }));
  await readRequest(reader);
  const reason = new Error("changed my mind");
  controller.abort(reason);
  const error = await assertRejects(() => pending);
  assertEquals(error, reason);
  assert(h1.closed);
  assertEquals(await server.read(), null);
});

Deno.test("h1: an aborted signal errors the response body being read with the reason", async () => {
  const { h1, reader, send } = setup();
  const controller = new AbortController();
  const pending = h1.request(req("GET", "http://example.com/", { signal: controller.signal }));
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfirst");
  const res = await pending;
  const r = res.body!.getReader();
  assertEquals(decoder.decode((await r.read()).value), "first");
  const reading = r.read();
  controller.abort(new DOMException("stop", "AbortError"));
  const error = await assertRejects(() => reading);
  assertEquals((error as DOMException).name, "AbortError");
  await assertRejects(() => res.trailers);
  assert(h1.closed);
});

Deno.test("h1: cancelling the response body closes the connection", async () => {
  const { h1, server, reader, send } = setup();
  const pending = h1.request(req("GET", "http://example.com/"));
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial");
  const res = await pending;
  await res.body!.cancel();
  assert(h1.closed);
  assertEquals(await server.read(), null);
});

Deno.test("h1: a connection that ends before any response byte fails with ConnectionClosedError", async () => {
  const { h1, server, reader, send } = setup();
  const first = h1.request(req("GET", "http://example.com/"));
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  await first;
  // The server closes just as the client reuses the connection.
  const second = h1.request(req("GET", "http://example.com/"));
  await readRequest(reader);
  server.close();
  const error = await assertRejects(() => second, ConnectionClosedError);
  assertEquals(error.reused, true);
  assertEquals(error.bodyStarted, false);

  const fresh = setup();
  const p = fresh.h1.request(req("GET", "http://example.com/"));
  await readRequest(fresh.reader);
  fresh.server.close();
  assertEquals((await assertRejects(() => p, ConnectionClosedError)).reused, false);
});

Deno.test("h1: an idle connection closed by the server is noticed at once", async () => {
  const { h1, server, reader, send } = setup();
  let closedSeen = false;
  h1.onStateChange = () => (closedSeen = h1.closed);
  const pending = h1.request(req("GET", "http://example.com/"));
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  await pending;
  assert(h1.available);
  server.close();
  await h1.finished;
  assert(h1.closed);
  assert(closedSeen);
});

Deno.test("h1: bytes nobody asked for on an idle connection close it", async () => {
  const { h1, reader, send } = setup();
  const pending = h1.request(req("GET", "http://example.com/"));
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  await pending;
  await send("HTTP/1.1 200 OK\r\n\r\n");
  await h1.finished;
  assert(h1.closed);
});

Deno.test("h1: a failing request body stream fails the request with its error", async () => {
  const { h1 } = setup();
  const failure = new Error("disk on fire");
  let n = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (n++ === 0) c.enqueue(bytes("some"));
      else c.error(failure);
    },
  });
  const error = await assertRejects(() => h1.request(req("POST", "http://example.com/", { body })));
  assertEquals(error, failure);
  assert(h1.closed);
});

Deno.test("h1: forward-proxy connections send absolute-form targets and proxy credentials", async () => {
  const { h1, reader, send } = setup({ absoluteForm: true, proxyAuthorization: "Basic dTpw" });
  const pending = h1.request(req("GET", "http://user:pw@example.com:81/p?q#f"));
  const got = (await readRequest(reader))!;
  assertEquals(got.target, "http://example.com:81/p?q");
  assertEquals(got.headers.get("host"), "example.com:81");
  assertEquals(got.headers.get("proxy-authorization"), "Basic dTpw");
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  await pending;
  h1.close();
});

Deno.test("h1: 101 Switching Protocols is returned without a body and ends the connection", async () => {
  const { h1, reader, send } = setup();
  const pending = h1.request(req("GET", "http://example.com/", {
    headers: new Headers({ connection: "upgrade", upgrade: "something" }),
  }));
  await readRequest(reader);
  await send(
    "HTTP/1.1 101 Switching Protocols\r\nupgrade: something\r\nconnection: upgrade\r\n\r\n",
  );
  const res = await pending;
  assertEquals(res.status, 101);
  assertEquals(res.body, null);
  assert(h1.closed);
});

Deno.test("h1: a response that arrives before the upload ends is delivered; the connection is then closed", async () => {
  const { h1, server, reader, send } = setup({}, 4096);
  const pending = h1.request(req("POST", "http://example.com/", {
    body: new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(1024));
      },
    }),
  }));
  await reader.readHead(4096);
  await send("HTTP/1.1 413 Content Too Large\r\ncontent-length: 8\r\n\r\ntoo big!");
  const res = await pending;
  assertEquals(res.status, 413);
  assertEquals(await text(res.body), "too big!");
  assert(h1.closed);
  server.close();
});

Deno.test("h1: a second request while one is in flight is refused", async () => {
  const { h1, reader, send } = setup();
  const first = h1.request(req("GET", "http://example.com/"));
  await assertRejects(() => h1.request(req("GET", "http://example.com/")), Error, "in flight");
  await readRequest(reader);
  await send("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  await first;
  h1.close();
});
