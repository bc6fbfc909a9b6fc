/**
 * Our HTTP/2 client and server talking over a memory pair: multiplexing, trailers, large
 * bodies both ways, full duplex, aborts, graceful shutdown, refused streams.
 */

import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { type ProtocolRequest, RetryableRequestError } from "../../client/_protocol.ts";
import { memoryPair } from "../../conn/memory.ts";
import { Http2ClientConnection } from "../../http2/client_connection.ts";
import { Http2Error, Http2ErrorCode } from "../../http2/errors.ts";
import {
  type Http2ServerConnection,
  type Http2ServerOptions,
  serveHttp2,
} from "../../http2/server_connection.ts";
import { HTTP2Settings, type HTTP2SettingsInit } from "../../http2/settings.ts";
import type { Stream } from "../../server/stream.ts";
import { streamHandler } from "../../server/stream_handler.ts";

interface Pair {
  client: Http2ClientConnection;
  server: Http2ServerConnection;
}

async function pair(
  handler: (stream: Stream) => void | Promise<void>,
  opts: { server?: Partial<Http2ServerOptions>; client?: HTTP2SettingsInit } = {},
): Promise<Pair> {
  const [a, b] = memoryPair();
  const server = serveHttp2(b, handler, {
    settings: new HTTP2Settings(),
    onError: () => {},
    ...opts.server,
  });
  const client = await Http2ClientConnection.connect(a, {
    settings: new HTTP2Settings(opts.client),
  });
  return { client, server };
}

async function close(p: Pair): Promise<void> {
  p.client.close();
  await p.client.finished;
  await p.server.closed;
}

function request(
  method: string,
  path: string,
  body: ProtocolRequest["body"] = null,
  extra: Partial<ProtocolRequest> = {},
): ProtocolRequest {
  return { method, url: new URL(`http://h2.test${path}`), headers: new Headers(), body, ...extra };
}

/** Echoes the request body back as it arrives, with the request's trailers as response trailers. */
async function echo(stream: Stream): Promise<void> {
  await stream.respond(200, { "x-method": stream.request.method });
  for await (const chunk of stream.body) await stream.write(chunk);
  const t = await stream.trailers;
  await stream.end(t);
}

function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function readAll(body: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

function chunked(data: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(ctl) {
      if (at >= data.length) return ctl.close();
      ctl.enqueue(data.slice(at, at + size));
      at += size;
    },
  });
}

Deno.test("a GET gets its response head, body and the request URL built from pseudo-headers", async () => {
  const p = await pair(async (s) => {
    await s.respond(200, { "content-type": "text/plain" });
    await s.write(new TextEncoder().encode(`${s.request.method} ${s.request.url} ${s.hasBody}`));
    await s.end();
  });
  const res = await p.client.request(request("GET", "/a/b?q=1"));
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/plain");
  assertEquals(
    new TextDecoder().decode(await readAll(res.body)),
    "GET http://h2.test/a/b?q=1 false",
  );
  await close(p);
});

Deno.test("many concurrent requests are multiplexed on one connection, queued beyond the stream limit", async () => {
  let active = 0;
  let peak = 0;
  const p = await pair(async (s) => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 5));
    await s.respond(200);
    await s.write(new TextEncoder().encode(s.request.target));
    await s.end();
    active--;
  }, { server: { settings: new HTTP2Settings({ maxConcurrentStreams: 20 }) } });
  // Let the server's SETTINGS (20 streams) arrive first.
  await (await p.client.request(request("GET", "/warmup"))).body?.cancel();
  const n = 200;
  const results = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await p.client.request(request("GET", `/r${i}`));
      return new TextDecoder().decode(await readAll(res.body));
    }),
  );
  assertEquals(results, Array.from({ length: n }, (_, i) => `/r${i}`));
  assert(peak > 1, `requests overlapped (peak ${peak})`);
  assert(peak <= 20, `the server's limit held (peak ${peak})`);
  await close(p);
});

Deno.test("trailers travel both ways", async () => {
  const p = await pair(echo);
  const res = await p.client.request(
    request("POST", "/", chunked(new TextEncoder().encode("hello trailers"), 4), {
      trailers: new Headers({ "x-checksum": "abc123" }),
    }),
  );
  assertEquals(new TextDecoder().decode(await readAll(res.body)), "hello trailers");
  const t = await res.trailers;
  assertEquals(t.get("x-checksum"), "abc123");
  await close(p);
});

Deno.test("a 1 MiB body goes both ways with the default 65535-byte windows", async () => {
  const p = await pair(echo);
  const body = pattern(1 << 20);
  const res = await p.client.request(request("PUT", "/", chunked(body, 10000)));
  const got = await readAll(res.body);
  assertEquals(got.length, body.length);
  assertEquals(got, body);
  await close(p);
});

Deno.test("a 1 MiB body goes both ways with 1 MiB windows on both ends", async () => {
  const big: HTTP2SettingsInit = { initialWindowSize: 1 << 20, connectionWindowSize: 1 << 21 };
  const p = await pair(echo, {
    server: { settings: new HTTP2Settings({ ...big, maxFrameSize: 65536 }) },
    client: { ...big, maxFrameSize: 65536 },
  });
  const body = pattern(1 << 20, 7);
  const res = await p.client.request(request("PUT", "/", body));
  assertEquals(await readAll(res.body), body);
  await close(p);
});

Deno.test("full duplex: response chunks arrive while the request body is still being sent", async () => {
  const p = await pair(echo);
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
  const res = await p.client.request(request("POST", "/duplex", body));
  const reader = res.body!.getReader();
  for (let i = 0; i < 10; i++) {
    ctl.enqueue(new TextEncoder().encode(`ping ${i}`));
    const { value } = await reader.read();
    assertEquals(new TextDecoder().decode(value), `ping ${i}`);
  }
  ctl.close();
  assertEquals((await reader.read()).done, true);
  await close(p);
});

Deno.test("aborting one request resets only its stream; the others complete", async () => {
  const aborted: unknown[] = [];
  const p = await pair(async (s) => {
    s.info.signal.addEventListener("abort", () => aborted.push(s.request.target));
    await s.respond(200);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 10));
      if (s.info.signal.aborted) return;
      await s.write(new TextEncoder().encode(`${i}`));
    }
    await s.end();
  });
  const ac = new AbortController();
  const victim = p.client.request(request("GET", "/victim", null, { signal: ac.signal }));
  const others = [1, 2, 3].map((i) => p.client.request(request("GET", `/other${i}`)));
  const res = await victim;
  const reader = res.body!.getReader();
  await reader.read();
  const reason = new DOMException("enough", "AbortError");
  ac.abort(reason);
  assertEquals(await reader.read().then(() => null, (e) => e), reason);
  for (const o of others) {
    assertEquals(new TextDecoder().decode(await readAll((await o).body)), "01234");
  }
  assertEquals(aborted, ["/victim"]);
  assertEquals(p.client.closed, false);
  await close(p);
});

Deno.test("graceful shutdown: in-flight streams finish, new requests are refused as retryable", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started = 0;
  const p = await pair(async (s) => {
    started++;
    await gate;
    await s.respond(200);
    await s.write(new TextEncoder().encode("finished"));
    await s.end();
  });
  const inflight = [p.client.request(request("GET", "/1")), p.client.request(request("GET", "/2"))];
  while (started < 2) await new Promise((r) => setTimeout(r, 1));
  p.server.shutdown();
  while (!p.client.closed) await new Promise((r) => setTimeout(r, 1));
  await assertRejects(() => p.client.request(request("GET", "/late")), RetryableRequestError);
  release();
  for (const r of inflight) {
    assertEquals(new TextDecoder().decode(await readAll((await r).body)), "finished");
  }
  await p.server.closed;
  await p.client.finished;
});

Deno.test("graceful shutdown by the server's signal works the same way", async () => {
  const ac = new AbortController();
  const [a, b] = memoryPair();
  const server = serveHttp2(b, async (s) => {
    ac.abort();
    await new Promise((r) => setTimeout(r, 20));
    await s.respond(200, {}, { endStream: true });
  }, { settings: new HTTP2Settings(), signal: ac.signal });
  const client = await Http2ClientConnection.connect(a, { settings: new HTTP2Settings() });
  const res = await client.request(request("GET", "/"));
  assertEquals(res.status, 200);
  await server.closed;
  await client.finished;
});

Deno.test("REFUSED_STREAM reaches the caller as RetryableRequestError", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const [a, b] = memoryPair();
  const client = await Http2ClientConnection.connect(a, { settings: new HTTP2Settings() });
  // Both go out before the server (limit 1) has said anything.
  const first = client.request(request("GET", "/1"));
  const second = client.request(request("GET", "/2"));
  const server = serveHttp2(b, async (s) => {
    await gate;
    await s.respond(200, {}, { endStream: true });
  }, { settings: new HTTP2Settings({ maxConcurrentStreams: 1 }) });
  await assertRejects(() => second, RetryableRequestError);
  release();
  assertEquals((await first).status, 200);
  await close({ client, server });
});

Deno.test("a handler failing before responding answers 500; after, resets the stream", async () => {
  const p = await pair(async (s) => {
    if (s.request.target === "/late") {
      await s.respond(200);
      await s.write(new Uint8Array(3));
    }
    throw new Error("boom");
  });
  assertEquals((await p.client.request(request("GET", "/early"))).status, 500);
  const res = await p.client.request(request("GET", "/late"));
  const err = await readAll(res.body).then(() => null, (e) => e);
  assertInstanceOf(err, Http2Error);
  assertEquals((err as Http2Error).code, Http2ErrorCode.INTERNAL_ERROR);
  await close(p);
});

Deno.test("HEAD and 204 responses have no body; a HEAD handler's writes are dropped", async () => {
  const p = await pair(async (s) => {
    const status = s.request.target === "/204" ? 204 : 200;
    await s.respond(status, { "content-length": "5" });
    await s.write(new TextEncoder().encode("hello"));
    await s.end();
  });
  const head = await p.client.request(request("HEAD", "/"));
  assertEquals([head.status, head.body, head.headers.get("content-length")], [200, null, "5"]);
  const nc = await p.client.request(request("GET", "/204"));
  assertEquals([nc.status, nc.body], [204, null]);
  const get = await p.client.request(request("GET", "/"));
  assertEquals(new TextDecoder().decode(await readAll(get.body)), "hello");
  await close(p);
});

Deno.test("a Response whose body is known up front goes out with its content-length, HEAD too", async () => {
  const p = await pair(
    streamHandler((request) =>
      request.url.endsWith("/none") ? new Response(null, { status: 204 }) : new Response("hello")
    ),
  );
  for (const method of ["GET", "HEAD"]) {
    const res = await p.client.request(request(method, "/"));
    assertEquals(res.headers.get("content-length"), "5", method);
    const body = res.body === null ? "" : new TextDecoder().decode(await readAll(res.body));
    assertEquals(body, method === "GET" ? "hello" : "");
  }
  const none = await p.client.request(request("GET", "/none"));
  assertEquals([none.status, none.headers.get("content-length")], [204, null]);
  await close(p);
});

Deno.test("a known body goes out with its own length whatever content-length its handler set; HEAD keeps the handler's", async () => {
  const p = await pair(
    streamHandler((request) =>
      new Response("hello", {
        headers: { "content-length": new URL(request.url).pathname.slice(1) },
      })
    ),
  );
  for (const length of ["3", "10"]) {
    const get = await p.client.request(request("GET", `/${length}`));
    assertEquals(get.headers.get("content-length"), "5", length);
    assertEquals(new TextDecoder().decode(await readAll(get.body)), "hello");
    const head = await p.client.request(request("HEAD", `/${length}`));
    assertEquals([head.headers.get("content-length"), head.body], [length, null]);
  }
  await close(p);
});

Deno.test("cancelling a response body resets the stream; the server's signal aborts", async () => {
  let signal!: AbortSignal;
  const p = await pair(async (s) => {
    signal = s.info.signal;
    await s.respond(200);
    try {
      for (;;) await s.write(new Uint8Array(16384));
    } catch { /* reset */ }
  });
  const res = await p.client.request(request("GET", "/stream"));
  const reader = res.body!.getReader();
  await reader.read();
  await reader.cancel();
  while (!signal.aborted) await new Promise((r) => setTimeout(r, 1));
  assertInstanceOf(signal.reason, Http2Error);
  assertEquals((signal.reason as Http2Error).code, Http2ErrorCode.CANCEL);
  assertEquals((await p.client.request(request("HEAD", "/"))).status, 200);
  await close(p);
});

Deno.test("request headers arrive at the server; cookies sent as crumbs are joined", async () => {
  const p = await pair(async (s) => {
    await s.respond(200, {
      "x-seen": `${s.request.headers.get("x-a")}|${s.request.headers.get("cookie")}`,
    }, { endStream: true });
  });
  const res = await p.client.request(
    request("GET", "/", null, { headers: new Headers({ "x-a": "1", cookie: "a=1; b=2" }) }),
  );
  assertEquals(res.headers.get("x-seen"), "1|a=1; b=2");
  await close(p);
});

Deno.test("closing the client fails its in-flight requests and aborts the server's streams", async () => {
  let signal!: AbortSignal;
  let started!: () => void;
  const isStarted = new Promise<void>((r) => (started = r));
  const p = await pair(async (s) => {
    signal = s.info.signal;
    started();
    await new Promise((r) => s.info.signal.addEventListener("abort", r));
  });
  const r = p.client.request(request("GET", "/hang"));
  await isStarted;
  p.client.close();
  assertInstanceOf(await r.catch((e) => e), Error);
  await p.server.closed;
  assertEquals(signal.aborted, true);
});

Deno.test("many streams with large bodies interleave fairly", async () => {
  const p = await pair(echo);
  const bodies = Array.from({ length: 8 }, (_, i) => pattern(200_000, i + 3));
  const got = await Promise.all(bodies.map(async (b) => {
    const res = await p.client.request(request("POST", "/", chunked(b, 16384)));
    return await readAll(res.body);
  }));
  for (let i = 0; i < bodies.length; i++) assertEquals(got[i], bodies[i]);
  await close(p);
});

Deno.test("a server handler's abort() resets the stream; the client sees the Http2Error", async () => {
  const p = await pair(async (s) => {
    await s.respond(200);
    await s.write(new Uint8Array(10));
    s.abort(new Http2Error(Http2ErrorCode.INTERNAL_ERROR, "gave up", { scope: "stream" }));
  });
  const res = await p.client.request(request("GET", "/"));
  const err = await readAll(res.body).then(() => null, (e) => e);
  assertInstanceOf(err, Http2Error);
  assertEquals([(err as Http2Error).code, (err as Http2Error).remote], [
    Http2ErrorCode.INTERNAL_ERROR,
    true,
  ]);
  await close(p);
});

Deno.test("the server stream API: informational heads, trailers empty when none, one respond()", async () => {
  const seen: unknown[] = [];
  const p = await pair(async (s) => {
    await s.respond(103, { link: "</style.css>; rel=preload" });
    seen.push(s.responded);
    await s.respond(200, { "x-final": "yes" });
    seen.push(await s.respond(201).then(() => "again", (e) => e.constructor.name));
    for await (const _ of s.body) { /* drain */ }
    seen.push([...await s.trailers]);
    await s.end();
  });
  const res = await p.client.request(request("POST", "/", new Uint8Array(3)));
  assertEquals([res.status, res.headers.get("x-final")], [200, "yes"]);
  await readAll(res.body);
  assertEquals(seen, [false, "TypeError", []]);
  await close(p);
});
