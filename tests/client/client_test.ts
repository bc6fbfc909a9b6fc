import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import {
  ConnectTimeoutError,
  ReadIdleTimeoutError,
  RedirectError,
  RequestTimeoutError,
  ResponseHeaderTimeoutError,
  TimeoutError,
  WriteIdleTimeoutError,
} from "../../client/errors.ts";
import { Transport } from "../../client/transport.ts";
import { CA, CERT, KEY } from "../_fixtures.ts";
import {
  countingServe,
  delay,
  lazyStream,
  rawServer,
  readHead,
  readRequest,
  streamOf,
  testClient,
} from "./_helpers.ts";

/** A server with redirect routes and an echo route. */
async function redirectServer() {
  let hits = 0;
  const server = await countingServe(async (req) => {
    hits++;
    const url = new URL(req.url);
    const parts = url.pathname.split("/");
    if (parts[1] === "redirect") {
      const to = url.searchParams.get("to") ?? "/echo";
      return new Response("redirect body", { status: Number(parts[2]), headers: { location: to } });
    }
    if (parts[1] === "loop") {
      return new Response(null, { status: 302, headers: { location: "/loop" } });
    }
    if (parts[1] === "nolocation") return new Response("no location", { status: 302 });
    return Response.json({
      method: req.method,
      path: url.pathname,
      body: await req.text(),
      contentType: req.headers.get("content-type"),
      authorization: req.headers.get("authorization"),
      cookie: req.headers.get("cookie"),
      custom: req.headers.get("x-custom"),
      acceptEncoding: req.headers.get("accept-encoding"),
    });
  });
  return Object.defineProperty(server, "hits", { get: () => hits }) as typeof server & {
    readonly hits: number;
  };
}

Deno.test("client: a redirect is followed; response.url is the final URL and redirected is true", async () => {
  await using server = await redirectServer();
  await using client = testClient();
  const res = await client.get(`${server.origin}/redirect/302?to=/echo%3Fa=1#frag`);
  assertEquals(res.status, 200);
  assertEquals(res.url, `${server.origin}/echo?a=1`);
  assertEquals(res.redirected, true);
  assertEquals((await res.json()).path, "/echo");
  const direct = await client.get(`${server.origin}/echo`);
  assertEquals(direct.redirected, false);
  assertEquals(direct.url, `${server.origin}/echo`);
  await direct.body?.cancel();
  assertEquals(server.connections, 1, "redirect bodies are drained so the connection is reused");
});

Deno.test("client: 301 and 302 turn a POST into a body-less GET; 303 does so for any method but HEAD", async () => {
  await using server = await redirectServer();
  await using client = testClient();
  for (const status of [301, 302, 303]) {
    const res = await client.post(`${server.origin}/redirect/${status}`, { body: "data" });
    const echo = await res.json();
    assertEquals([status, echo.method, echo.body, echo.contentType], [status, "GET", "", null]);
  }
  const put303 = await (await client.put(`${server.origin}/redirect/303`, { body: "x" })).json();
  assertEquals(put303.method, "GET");
  const put302 = await (await client.put(`${server.origin}/redirect/302`, { body: "x" })).json();
  assertEquals([put302.method, put302.body], ["PUT", "x"]);
  const head303 = await client.head(`${server.origin}/redirect/303`);
  assertEquals(head303.url, `${server.origin}/echo`);
});

Deno.test("client: 307 and 308 keep the method and the body", async () => {
  await using server = await redirectServer();
  await using client = testClient();
  for (const status of [307, 308]) {
    const res = await client.post(`${server.origin}/redirect/${status}`, {
      body: new URLSearchParams({ a: "1" }),
    });
    const echo = await res.json();
    assertEquals(
      [echo.method, echo.body, echo.contentType],
      ["POST", "a=1", "application/x-www-form-urlencoded;charset=UTF-8"],
    );
  }
});

Deno.test("client: a 307 that would have to resend a streamed body fails with RedirectError", async () => {
  await using server = await redirectServer();
  await using client = testClient();
  const error = await assertRejects(
    () => client.post(`${server.origin}/redirect/307`, { body: streamOf("streamed") }),
    RedirectError,
    "stream",
  );
  assertEquals(error.status, 307);
  assertEquals(error.location, `${server.origin}/echo`);
});

Deno.test("client: a cross-origin redirect drops authorization and cookie; a same-origin one keeps them", async () => {
  await using a = await redirectServer();
  await using b = await redirectServer();
  await using client = testClient();
  const headers = { authorization: "Bearer secret", cookie: "id=1", "x-custom": "kept" };
  const same = await (await client.get(`${a.origin}/redirect/302`, { headers })).json();
  assertEquals([same.authorization, same.cookie, same.custom], ["Bearer secret", "id=1", "kept"]);
  const cross = await (await client.get(
    `${a.origin}/redirect/302?to=${encodeURIComponent(`${b.origin}/echo`)}`,
    { headers },
  )).json();
  assertEquals([cross.authorization, cross.cookie, cross.custom], [null, null, "kept"]);
});

Deno.test("client: more than maxRedirects redirects fail with RedirectError", async () => {
  await using server = await redirectServer();
  await using client = testClient({ maxRedirects: 3 });
  const error = await assertRejects(() => client.get(`${server.origin}/loop`), RedirectError);
  assert(error.message.includes("more than 3"));
  assertEquals(server.hits, 4);
  await assertRejects(
    () => client.get(`${server.origin}/loop`, { maxRedirects: 0 }),
    RedirectError,
  );
});

Deno.test("client: redirect manual returns the redirect; redirect error throws RedirectError", async () => {
  await using server = await redirectServer();
  await using client = testClient({ redirect: "manual" });
  const res = await client.get(`${server.origin}/redirect/301`);
  assertEquals(res.status, 301);
  assertEquals(res.headers.get("location"), "/echo");
  assertEquals(await res.text(), "redirect body");
  const error = await assertRejects(
    () => client.get(`${server.origin}/redirect/308`, { redirect: "error" }),
    RedirectError,
  );
  assertEquals(error.status, 308);
});

Deno.test("client: a redirect without a Location is returned; one to a non-http URL fails", async () => {
  await using server = await redirectServer();
  await using client = testClient();
  const res = await client.get(`${server.origin}/nolocation`);
  assertEquals([res.status, await res.text()], [302, "no location"]);
  await assertRejects(
    () => client.get(`${server.origin}/redirect/302?to=ftp://example.com/`),
    RedirectError,
    "ftp:",
  );
});

// ---- decoding ----

async function compressed(format: string, text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(
    new CompressionStream(format as CompressionFormat),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function supports(format: string): boolean {
  try {
    new CompressionStream(format as CompressionFormat);
    return true;
  } catch {
    return false;
  }
}

async function encodingServer() {
  const text = "hello compressed world ".repeat(200);
  const bodies: Record<string, Uint8Array<ArrayBuffer>> = {
    gzip: await compressed("gzip", text),
    deflate: await compressed("deflate", text),
    "deflate-raw": await compressed("deflate-raw", text),
  };
  if (supports("brotli")) bodies.br = await compressed("brotli", text);
  let lastAccept: string | null = null;
  const server = await countingServe((req) => {
    lastAccept = req.headers.get("accept-encoding");
    const kind = new URL(req.url).pathname.slice(1);
    const coding = kind === "deflate-raw" ? "deflate" : kind;
    return new Response(bodies[kind], { headers: { "content-encoding": coding } });
  });
  return Object.defineProperties(server, {
    text: { value: text },
    lastAccept: { get: () => lastAccept },
  }) as typeof server & { readonly text: string; readonly lastAccept: string | null };
}

Deno.test("client: a corrupt gzip or deflate body fails its read with a TypeError on every runtime, as fetch's does", async () => {
  await using server = await countingServe(() =>
    new Response(new TextEncoder().encode("this is not compressed at all"), {
      headers: { "content-encoding": "gzip" },
    })
  );
  await using client = testClient();
  const res = await client.get(`${server.origin}/`);
  const error = await assertRejects(() => res.text());
  assert(error instanceof TypeError, `${(error as Error)?.constructor?.name}: ${error}`);
});

Deno.test("client: gzip and deflate (zlib or raw) bodies are decoded, with accept-encoding sent", async () => {
  await using server = await encodingServer();
  await using client = testClient();
  for (const kind of ["gzip", "deflate", "deflate-raw"]) {
    const res = await client.get(`${server.origin}/${kind}`);
    assertEquals(res.headers.has("content-encoding"), false);
    assertEquals(res.headers.has("content-length"), false);
    assertEquals(await res.text(), server.text, kind);
  }
  assert(server.lastAccept!.startsWith("gzip, deflate"));
});

Deno.test({
  name: "client: br bodies are decoded where the runtime's DecompressionStream has brotli",
  ignore: !supports("brotli"),
  fn: async () => {
    await using server = await encodingServer();
    await using client = testClient();
    const res = await client.get(`${server.origin}/br`);
    assertEquals(await res.text(), server.text);
    assertEquals(server.lastAccept, "gzip, deflate, br");
  },
});

Deno.test("client: decompress false leaves the body encoded; a caller's accept-encoding is kept", async () => {
  await using server = await encodingServer();
  await using client = testClient({ decompress: false });
  const res = await client.get(`${server.origin}/gzip`);
  assertEquals(res.headers.get("content-encoding"), "gzip");
  const raw = new Uint8Array(await res.arrayBuffer());
  assertEquals([raw[0], raw[1]], [0x1f, 0x8b]);
  assertEquals(server.lastAccept, null);
  await using decoding = testClient();
  const own = await decoding.get(`${server.origin}/gzip`, {
    headers: { "accept-encoding": "gzip" },
  });
  assertEquals(server.lastAccept, "gzip");
  assertEquals(await own.text(), server.text);
});

// ---- bodies and headers ----

Deno.test("client: bodies are sent as fetch sends them, with the content types fetch sets", async () => {
  await using server = await redirectServer();
  await using client = testClient();
  const echo = async (body: unknown, headers?: HeadersInit) =>
    await (await client.post(`${server.origin}/echo`, {
      body: body as never,
      headers,
    })).json();
  let e = await echo("text");
  assertEquals([e.body, e.contentType], ["text", "text/plain;charset=UTF-8"]);
  e = await echo(new URLSearchParams({ q: "a b" }));
  assertEquals([e.body, e.contentType], [
    "q=a+b",
    "application/x-www-form-urlencoded;charset=UTF-8",
  ]);
  e = await echo(new Blob(["blob"], { type: "application/x-blob" }));
  assertEquals([e.body, e.contentType], ["blob", "application/x-blob"]);
  e = await echo(new TextEncoder().encode("bytes").buffer);
  assertEquals([e.body, e.contentType], ["bytes", null]);
  e = await echo(new DataView(new TextEncoder().encode("xviewx").buffer, 1, 4));
  assertEquals(e.body, "view");
  e = await echo(streamOf("str", "eam"));
  assertEquals(e.body, "stream");
  e = await echo("{}", { "content-type": "application/json" });
  assertEquals(e.contentType, "application/json");
  const form = new FormData();
  form.set("field", "value");
  e = await echo(form);
  assert(e.contentType.startsWith("multipart/form-data; boundary="));
  assert(e.body.includes('name="field"') && e.body.includes("value"));
});

Deno.test("client: default headers go with every request; a request's own replace them", async () => {
  await using server = await redirectServer();
  await using client = testClient({ headers: { "x-custom": "default", authorization: "Basic a" } });
  let e = await (await client.get(`${server.origin}/echo`)).json();
  assertEquals([e.custom, e.authorization], ["default", "Basic a"]);
  e = await (await client.get(`${server.origin}/echo`, { headers: { "x-custom": "mine" } })).json();
  assertEquals([e.custom, e.authorization], ["mine", "Basic a"]);
});

Deno.test("client: methods are normalized as fetch does; bad methods and schemes are refused", async () => {
  await using server = await redirectServer();
  await using client = testClient();
  assertEquals(
    (await (await client.request("post", `${server.origin}/echo`)).json()).method,
    "POST",
  );
  assertEquals(
    (await (await client.request("patch", `${server.origin}/echo`)).json()).method,
    "PATCH",
  );
  assertEquals(
    (await (await client.request("PROPFIND", `${server.origin}/echo`)).json()).method,
    "PROPFIND",
  );
  await assertRejects(() => client.request("BAD METHOD", `${server.origin}/`), TypeError);
  await assertRejects(() => client.get("ftp://example.com/"), TypeError, "ftp:");
});

Deno.test("client: preferHttp2 false keeps this client's https requests on HTTP/1.1, even on a shared transport", async () => {
  await using server = await countingServe((_req, info) => new Response(info.protocol), {
    tls: { cert: CERT, key: KEY },
  });
  const url = `https://localhost:${server.port}/`;
  await using own = testClient({ caCerts: [CA], preferHttp2: false });
  assertEquals(await (await own.get(url)).text(), "HTTP/1.1");
  const transport = new Transport({ caCerts: [CA] });
  await using shared = testClient({ transport, preferHttp2: false });
  assertEquals(await (await shared.get(url)).text(), "HTTP/1.1");
  assertEquals(await (await shared.get(url, { protocol: "h1" })).text(), "HTTP/1.1");
});

Deno.test("client: a closed client refuses requests", async () => {
  const client = testClient();
  await client.close();
  await assertRejects(() => client.get("http://127.0.0.1:1/"), Error, "closed");
});

// ---- timeouts ----

Deno.test("client: connectTimeout fails with ConnectTimeoutError", async () => {
  await using silent = await rawServer(({ closed }) => closed);
  await using client = testClient({ connectTimeout: 60 });
  const error = await assertRejects(
    () => client.get(`https://127.0.0.1:${silent.port}/`),
    ConnectTimeoutError,
  );
  assertInstanceOf(error, TimeoutError);
});

Deno.test("client: requestTimeout covers the whole exchange, body included", async () => {
  await using server = await rawServer(async ({ reader, send, closed }) => {
    const head = (await readHead(reader))!;
    if (head.startsWith("GET /silent")) return await closed;
    await send("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npart");
    await closed;
  });
  await using client = testClient({ requestTimeout: 80 });
  await assertRejects(() => client.get(`${server.origin}/silent`), RequestTimeoutError);
  const res = await client.get(`${server.origin}/body`);
  assertEquals(res.status, 200);
  const error = await assertRejects(() => res.text(), RequestTimeoutError);
  assertInstanceOf(error, TimeoutError);
  assertEquals(error.timeout, 80);
});

Deno.test("client: responseHeaderTimeout fails a server that does not answer in time", async () => {
  await using server = await rawServer(async ({ reader, closed }) => {
    await readRequest(reader);
    await closed;
  });
  await using client = testClient({ responseHeaderTimeout: 60 });
  await assertRejects(() => client.get(server.origin), ResponseHeaderTimeoutError);
});

Deno.test("client: responseHeaderTimeout starts only once the request body has been sent", async () => {
  await using server = await rawServer(async ({ reader, send }) => {
    await readRequest(reader);
    await send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
  });
  await using client = testClient({ responseHeaderTimeout: 60 });
  let n = 0;
  const slowUpload = new ReadableStream<Uint8Array>({
    async pull(c) {
      await delay(30);
      if (n++ === 5) c.close();
      else c.enqueue(new Uint8Array(10));
    },
  }, { highWaterMark: 0 });
  const res = await client.post(server.origin, { body: slowUpload });
  assertEquals(await res.text(), "ok");
});

/** Sends a head and `pieces` body pieces `gap` ms apart; then stalls (or ends). */
async function tricklingServer(pieces: number, gap: number, stallAfter: boolean) {
  return await rawServer(async ({ reader, send, closed }) => {
    await readRequest(reader);
    await send(`HTTP/1.1 200 OK\r\ncontent-length: ${pieces + (stallAfter ? 1 : 0)}\r\n\r\n`);
    for (let i = 0; i < pieces; i++) {
      await delay(gap);
      await send("x");
    }
    await closed;
  });
}

Deno.test("client: readIdleTimeout is re-armed on every read, so a trickling body completes", async () => {
  await using server = await tricklingServer(6, 25, false);
  await using client = testClient({ readIdleTimeout: 100 });
  const res = await client.get(server.origin);
  assertEquals(await res.text(), "xxxxxx");
});

Deno.test("client: readIdleTimeout fails a body that stalls", async () => {
  await using server = await tricklingServer(2, 10, true);
  await using client = testClient({ readIdleTimeout: 60 });
  const res = await client.get(server.origin);
  await assertRejects(() => res.text(), ReadIdleTimeoutError);
});

Deno.test("client: readIdleTimeout also bounds the body of a redirect being drained, and still runs after it", async () => {
  await using server = await rawServer(async ({ reader, send, closed }) => {
    for (let head = await readHead(reader); head !== null; head = await readHead(reader)) {
      const target = head.split(" ")[1];
      if (target === "/stall") {
        // A redirect whose body stops short: the client drains it before following.
        await send("HTTP/1.1 301 Moved\r\nlocation: /next\r\ncontent-length: 10\r\n\r\npart");
        return await closed;
      }
      if (target === "/drained") {
        await send("HTTP/1.1 302 Found\r\nlocation: /next\r\ncontent-length: 4\r\n\r\nbody");
      } else await send("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\npart");
    }
  });
  // requestTimeout only as a backstop: the drain used to wait for it (or forever without it).
  await using client = testClient({ readIdleTimeout: 60, requestTimeout: 2000 });
  await assertRejects(() => client.get(`${server.origin}/stall`), ReadIdleTimeoutError);
  const res = await client.get(`${server.origin}/drained`);
  assertEquals(res.redirected, true);
  await assertRejects(() => res.text(), ReadIdleTimeoutError);
});

Deno.test("client: writeIdleTimeout fails an upload the server stops reading", async () => {
  await using server = await rawServer(async ({ reader, closed }) => {
    await readHead(reader);
    await closed;
  });
  await using client = testClient({ writeIdleTimeout: 100 });
  const error = await assertRejects(
    () => client.post(server.origin, { body: lazyStream(1024, 256 * 1024) }),
    WriteIdleTimeoutError,
  );
  assertInstanceOf(error, TimeoutError);
});

Deno.test("client: writeIdleTimeout does not count the caller's own slowness in producing the body", async () => {
  await using server = await rawServer(async ({ reader, send }) => {
    await readRequest(reader);
    await send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
  });
  await using client = testClient({ writeIdleTimeout: 50 });
  let n = 0;
  const slow = new ReadableStream<Uint8Array>({
    async pull(c) {
      await delay(40);
      if (n++ === 3) c.close();
      else c.enqueue(new Uint8Array(100));
    },
  }, { highWaterMark: 0 });
  assertEquals(await (await client.post(server.origin, { body: slow })).text(), "ok");
});

Deno.test("client: a request's own timeouts override the client's, 0 turning one off", async () => {
  await using server = await tricklingServer(3, 40, false);
  await using client = testClient({ requestTimeout: 50 });
  const res = await client.get(server.origin, { requestTimeout: 0 });
  assertEquals(await res.text(), "xxx");
});

// ---- abort ----

Deno.test("client: an AbortSignal aborts the body being read with its reason", async () => {
  await using server = await tricklingServer(1, 1, true);
  await using client = testClient();
  const controller = new AbortController();
  const res = await client.get(server.origin, { signal: controller.signal });
  const reader = res.body!.getReader();
  await reader.read();
  const reading = reader.read();
  controller.abort(new Error("enough"));
  await assertRejects(() => reading, Error, "enough");
});

Deno.test("client: an already aborted signal rejects at once with its reason", async () => {
  await using client = testClient({ requestTimeout: 1000 });
  const reason = new Error("never mind");
  const error = await assertRejects(() =>
    client.get("http://127.0.0.1:9/", { signal: AbortSignal.abort(reason) })
  );
  assertEquals(error, reason);
});
