import { assert, assertEquals, assertRejects } from "@std/assert";
import { Transport, type TransportRequest } from "../../client/transport.ts";
import { ConnectionClosedError, ConnectTimeoutError } from "../../client/errors.ts";
import { CA, CERT, KEY } from "../_fixtures.ts";
import { HeadTooLargeError } from "../../http1/buffered_reader.ts";
import { HttpParseError } from "../../http1/parse.ts";
import { countingServe, delay, rawServer, readHead, readRequest } from "./_helpers.ts";

function get(url: string, init: Partial<TransportRequest> = {}): TransportRequest {
  return { method: "GET", url: new URL(url), headers: new Headers(), body: null, ...init };
}

async function text(res: { body: ReadableStream<Uint8Array> | null }): Promise<string> {
  return await new Response(res.body).text();
}

Deno.test("transport: sequential requests reuse one keep-alive connection", async () => {
  await using server = await countingServe((req) => new Response(new URL(req.url).pathname));
  await using transport = new Transport();
  for (let i = 0; i < 5; i++) {
    assertEquals(await text(await transport.request(get(`${server.origin}/${i}`))), `/${i}`);
  }
  assertEquals(server.connections, 1);
  assertEquals(transport.stats(), { connections: 1, idle: 1, connecting: 0, waiting: 0 });
});

Deno.test("transport: a burst opens a connection per request, and the next burst reuses them", async () => {
  await using server = await countingServe(async () => {
    await delay(10);
    return new Response("ok");
  });
  await using transport = new Transport();
  for (let burst = 0; burst < 3; burst++) {
    const responses = await Promise.all(
      Array.from({ length: 4 }, () => transport.request(get(server.origin))),
    );
    await Promise.all(responses.map(text));
  }
  assertEquals(server.connections, 4);
});

Deno.test("transport: maxConnsPerHost caps the connections and queues the other requests", async () => {
  let active = 0;
  let peak = 0;
  await using server = await countingServe(async () => {
    peak = Math.max(peak, ++active);
    await delay(15);
    active--;
    return new Response("ok");
  });
  await using transport = new Transport({ maxConnsPerHost: 2 });
  const all = Array.from({ length: 6 }, async () => {
    const res = await transport.request(get(server.origin));
    return await text(res);
  });
  await delay(5);
  const stats = transport.stats();
  assert(stats.connections + stats.connecting <= 2, JSON.stringify(stats));
  assert(stats.waiting >= 4, JSON.stringify(stats));
  assertEquals(await Promise.all(all), Array(6).fill("ok"));
  assertEquals(peak, 2);
  assertEquals(server.connections, 2);
});

Deno.test("transport: maxIdlePerHost closes connections beyond it as they become idle", async () => {
  await using server = await countingServe(async () => {
    await delay(10);
    return new Response("ok");
  });
  await using transport = new Transport({ maxIdlePerHost: 1 });
  const responses = await Promise.all(
    Array.from({ length: 3 }, () => transport.request(get(server.origin))),
  );
  await Promise.all(responses.map(text));
  assertEquals(transport.stats().connections, 1);
  assertEquals(transport.stats().idle, 1);
});

Deno.test("transport: idle connections close after idleTimeout", async () => {
  await using server = await countingServe(() => new Response("ok"));
  await using transport = new Transport({ idleTimeout: 40 });
  await text(await transport.request(get(server.origin)));
  assertEquals(transport.stats().idle, 1);
  await delay(150);
  assertEquals(transport.stats().connections, 0);
  await text(await transport.request(get(server.origin)));
  assertEquals(server.connections, 2);
});

Deno.test("transport: maxHeadSize and maxHeaderCount bound the response heads it accepts", async () => {
  const fields = Array.from({ length: 20 }, (_, i) => `x-f${i}: ${"v".repeat(10)}`).join("\r\n");
  await using server = await countingServe(() => new Response("ok"));
  await using big = await rawServer(async ({ reader, send }) => {
    await readRequest(reader);
    await send(`HTTP/1.1 200 OK\r\n${fields}\r\ncontent-length: 2\r\n\r\nok`);
  });
  await using small = new Transport({ maxHeadSize: 200 });
  await assertRejects(() => small.request(get(big.origin)), HeadTooLargeError);
  await using few = new Transport({ maxHeaderCount: 10 });
  const error = await assertRejects(() => few.request(get(big.origin)), HttpParseError);
  assertEquals(error.status, 431);
  await using roomy = new Transport({ maxHeadSize: 4096, maxHeaderCount: 30 });
  assertEquals(await text(await roomy.request(get(big.origin))), "ok");
  assertEquals(await text(await small.request(get(server.origin))), "ok");
});

/** Answers the first request on the first connection, then reads the next one and drops it. */
async function flakyServer() {
  return await rawServer(async ({ reader, index, send }) => {
    if (index === 1) {
      await readRequest(reader);
      await send("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst");
      await readHead(reader); // the reused connection's request: never answered
      return;
    }
    const head = (await readHead(reader))!;
    if (head.includes("expect: 100-continue")) await send("HTTP/1.1 100 Continue\r\n\r\n");
    await send("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nretry");
  });
}

Deno.test("transport: a GET on a reused connection the server dropped is retried on a fresh one", async () => {
  await using server = await flakyServer();
  await using transport = new Transport();
  assertEquals(await text(await transport.request(get(server.origin))), "first");
  assertEquals(await text(await transport.request(get(server.origin))), "retry");
  assertEquals(server.accepted, 2);
});

Deno.test("transport: a POST with a body already sent is not retried after the connection drops", async () => {
  await using server = await flakyServer();
  await using transport = new Transport();
  await text(await transport.request(get(server.origin)));
  const post = get(server.origin, { method: "POST", body: new TextEncoder().encode("once") });
  const error = await assertRejects(() => transport.request(post), ConnectionClosedError);
  assertEquals(error.reused, true);
  assertEquals(server.accepted, 1);
});

Deno.test("transport: a POST whose streamed body was not read yet is retried", async () => {
  await using server = await flakyServer();
  await using transport = new Transport({ expectContinueTimeout: 5_000 });
  await text(await transport.request(get(server.origin)));
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode("upload"));
      c.close();
    },
  });
  const res = await transport.request(get(server.origin, {
    method: "POST",
    headers: new Headers({ expect: "100-continue" }),
    body,
  }));
  assertEquals(await text(res), "retry");
  assertEquals(server.accepted, 2);
});

Deno.test("transport: a TLS handshake that never finishes fails with ConnectTimeoutError", async () => {
  await using silent = await rawServer(({ closed }) => closed);
  await using transport = new Transport({ connectTimeout: 80 });
  const url = `https://127.0.0.1:${silent.port}/`;
  const started = performance.now();
  const error = await assertRejects(() => transport.request(get(url)), ConnectTimeoutError);
  assertEquals(error.timeout, 80);
  assert(performance.now() - started < 2000);
  // a per-request connectTimeout overrides the transport's
  const second = await assertRejects(
    () => transport.request(get(url, { connectTimeout: 30 })),
    ConnectTimeoutError,
  );
  assertEquals(second.timeout, 30);
});

Deno.test("transport: a request aborted while waiting for a connection rejects with the reason", async () => {
  await using server = await countingServe(() => new Response("held"));
  await using transport = new Transport({ maxConnsPerHost: 1 });
  const first = await transport.request(get(server.origin)); // body not read: connection busy
  const controller = new AbortController();
  const waiting = transport.request(get(server.origin, { signal: controller.signal }));
  await delay(5);
  assertEquals(transport.stats().waiting, 1);
  controller.abort(new Error("gave up"));
  await assertRejects(() => waiting, Error, "gave up");
  assertEquals(transport.stats().waiting, 0);
  assertEquals(await text(first), "held");
});

Deno.test("transport: close() fails waiting requests, closes connections and refuses new requests", async () => {
  await using server = await countingServe(() =>
    new Response(
      new ReadableStream({
        async pull(c) {
          c.enqueue(new TextEncoder().encode("x"));
          await delay(20);
        },
      }),
    )
  );
  const transport = new Transport({ maxConnsPerHost: 1 });
  const first = await transport.request(get(server.origin));
  const waiting = transport.request(get(server.origin));
  await transport.close();
  await assertRejects(() => waiting, Error, "closed");
  await assertRejects(() => text(first));
  await assertRejects(() => transport.request(get(server.origin)), Error, "closed");
  assertEquals(transport.stats().connections, 0);
});

Deno.test("transport: https with the caller's CA certificates", async () => {
  await using server = await countingServe(
    (req) => new Response(`secure ${new URL(req.url).protocol}`),
    { tls: { cert: CERT, key: KEY, alpnProtocols: ["http/1.1"] } },
  );
  await using transport = new Transport({ caCerts: [CA] });
  const url = `https://localhost:${server.port}/`;
  assertEquals(await text(await transport.request(get(url))), "secure https:");
  assertEquals(await text(await transport.request(get(url))), "secure https:");
  assertEquals(server.connections, 1);
});

Deno.test("transport: an untrusted certificate fails the connection", async () => {
  await using server = await countingServe(() => new Response("x"), {
    tls: { cert: CERT, key: KEY },
  });
  await using transport = new Transport();
  await assertRejects(() => transport.request(get(`https://localhost:${server.port}/`)));
});

Deno.test("transport: a refused connection fails every request waiting for it", async () => {
  const probe = await rawServer(() => {});
  const port = probe.port;
  await probe.close();
  await using transport = new Transport();
  const url = `http://127.0.0.1:${port}/`;
  const results = await Promise.allSettled([
    transport.request(get(url)),
    transport.request(get(url)),
  ]);
  assertEquals(results.map((r) => r.status), ["rejected", "rejected"]);
  assertEquals(transport.stats(), { connections: 0, idle: 0, connecting: 0, waiting: 0 });
});

// ---- HTTP/2 ----

function protocolServer(alpnProtocols?: string[]) {
  return countingServe(
    (req, info) => new Response(`${info.protocol} ${req.method} ${new URL(req.url).pathname}`),
    { tls: { cert: CERT, key: KEY, alpnProtocols } },
  );
}

Deno.test("transport: https negotiates HTTP/2 by ALPN, and concurrent requests share its connection", async () => {
  await using server = await protocolServer();
  await using transport = new Transport({ caCerts: [CA] });
  const url = `https://localhost:${server.port}/`;
  const first = transport.request(get(url));
  assertEquals(transport.stats().connecting, 1);
  const more = Array.from({ length: 4 }, (_, i) => transport.request(get(`${url}${i}`)));
  assertEquals(transport.stats().connecting, 1, "one connection attempt while ALPN is unknown");
  const texts = await Promise.all([first, ...more].map(async (p) => await text(await p)));
  assertEquals(texts, ["HTTP/2 GET /", ...[0, 1, 2, 3].map((i) => `HTTP/2 GET /${i}`)]);
  assertEquals(server.connections, 1);
  assertEquals(transport.stats().connections, 1);
});

Deno.test("transport: preferHttp2 false keeps https on HTTP/1.1", async () => {
  await using server = await protocolServer();
  await using transport = new Transport({ caCerts: [CA], preferHttp2: false });
  const res = await transport.request(get(`https://localhost:${server.port}/`));
  assertEquals(await text(res), "HTTP/1.1 GET /");
  const forced = new Transport({ caCerts: [CA] });
  await using _ = forced;
  const h1 = await forced.request(get(`https://localhost:${server.port}/`, { protocol: "h1" }));
  assertEquals(await text(h1), "HTTP/1.1 GET /");
});

Deno.test("transport: protocol h2 on http:// speaks HTTP/2 by prior knowledge", async () => {
  await using server = await countingServe((_req, info) => new Response(info.protocol));
  await using transport = new Transport();
  const res = await transport.request(get(server.origin, { protocol: "h2" }));
  assertEquals(await text(res), "HTTP/2");
  const body = await transport.request(
    get(server.origin, { method: "POST", protocol: "h2", body: new Uint8Array(3) }),
  );
  assertEquals(await text(body), "HTTP/2");
  assertEquals(server.connections, 1);
});

Deno.test("transport: an origin that answered http/1.1 by ALPN is remembered, so bursts connect in parallel", async () => {
  await using server = await protocolServer(["http/1.1"]);
  await using transport = new Transport({ caCerts: [CA] });
  const url = `https://localhost:${server.port}/`;
  const burst = (n: number) => Array.from({ length: n }, () => transport.request(get(url)));
  const first = burst(3);
  assertEquals(transport.stats().connecting, 1, "unknown origin: one attempt, it may be HTTP/2");
  for (const p of first) assertEquals(await text(await p), "HTTP/1.1 GET /");
  // The waiting requests may have reused the first connection or dialled their own.
  const idle = transport.stats().idle;
  const second = burst(idle + 2); // `idle` go to the idle connections
  assertEquals(transport.stats().connecting, 2, "known HTTP/1.1 origin: one attempt per request");
  for (const p of second) await text(await p);
  const { connections, connecting } = transport.stats();
  assertEquals(connections + connecting, idle + 2);
});

Deno.test("transport: forcing h2 on a TLS server that only speaks http/1.1 fails clearly", async () => {
  await using server = await protocolServer(["http/1.1"]);
  await using transport = new Transport({ caCerts: [CA] });
  await assertRejects(
    () => transport.request(get(`https://localhost:${server.port}/`, { protocol: "h2" })),
    Error,
  );
});
