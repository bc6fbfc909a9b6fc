/**
 * `info.completed` (`Deno.ServeHandlerInfo.completed`), over HTTP/1.1 and HTTP/2 alike, and
 * a handler typed `Deno.ServeHandler` passed to `serve` as it is.
 */
import { assert, assertEquals } from "@std/assert";
import { serve } from "../../server/serve.ts";
import { listen } from "../../server/server.ts";
import { streamHandler } from "../../server/stream_handler.ts";
import type { ServeInfo } from "../../server/stream.ts";
import { Client } from "../../client/client.ts";
import { utf8, within } from "../_fixtures.ts";

const PROTOCOLS = ["h1", "h2"] as const;

/** Settles to "resolved" or the rejection's message, or "pending" after `ms`. */
function outcome(p: Promise<void>, ms = 3000): Promise<string> {
  return Promise.race([
    p.then(() => "resolved", (e) => `rejected: ${e instanceof Error ? e.message : e}`),
    new Promise<string>((resolve) => setTimeout(() => resolve("pending"), ms)),
  ]);
}

for (const protocol of PROTOCOLS) {
  Deno.test(`${protocol}: info.completed resolves once the response is sent`, async () => {
    let completed!: Promise<void>;
    await using server = await serve("127.0.0.1", 0, (_request, info) => {
      completed = info.completed;
      return new Response("hello");
    });
    await using client = new Client();
    const response = await client.request("GET", `http://127.0.0.1:${server.port}/`, {
      protocol,
    });
    assertEquals(await response.text(), "hello");
    assertEquals(await outcome(completed), "resolved");
  });

  Deno.test(`${protocol}: info.completed rejects with a stream handler's error, and resolves once onError's response is sent`, async () => {
    const infos: ServeInfo[] = [];
    await using server = await listen("127.0.0.1", 0, (stream) => {
      infos.push(stream.info);
      if (stream.request.target === "/stream") throw new Error("boom");
      return streamHandler(() => {
        throw new Error("boom");
      }, { onError: () => new Response("sorry", { status: 500 }) })(stream);
    }, { onError: () => {} });
    await using client = new Client();
    for (const path of ["/stream", "/serve"]) {
      const url = `http://127.0.0.1:${server.port}${path}`;
      const response = await client.request("GET", url, { protocol });
      assertEquals(response.status, 500);
      await response.body?.cancel();
    }
    assertEquals(await outcome(infos[0].completed), "rejected: boom");
    assertEquals(await outcome(infos[1].completed), "resolved");
  });

  Deno.test(`${protocol}: info.completed rejects when the client goes away mid-response`, async () => {
    let completed!: Promise<void>;
    let cancelled!: () => void;
    const bodyCancelled = new Promise<void>((resolve) => (cancelled = resolve));
    await using server = await serve("127.0.0.1", 0, (_request, info) => {
      completed = info.completed;
      const body = new ReadableStream<Uint8Array>({
        start: (c) => c.enqueue(utf8("first")),
        cancel: () => cancelled(),
      });
      return new Response(body);
    }, { onError: () => new Response(null, { status: 500 }) });
    await using client = new Client();
    const abort = new AbortController();
    const response = await client.request("GET", `http://127.0.0.1:${server.port}/`, {
      protocol,
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    assertEquals((await reader.read()).done, false);
    abort.abort();
    await within(bodyCancelled, 3000, "the response body's cancel");
    const result = await outcome(completed);
    assert(result.startsWith("rejected"), result);
  });

  Deno.test(`${protocol}: info.completed is the same on the Stream API, and a late look sees the outcome`, async () => {
    const infos: ServeInfo[] = [];
    await using server = await listen("127.0.0.1", 0, async (stream) => {
      infos.push(stream.info);
      await stream.respond(200, { "content-length": "2" });
      await stream.write(utf8("ok"));
      await stream.end();
    });
    await using client = new Client();
    const url = `http://127.0.0.1:${server.port}/`;
    assertEquals(await (await client.request("GET", url, { protocol })).text(), "ok");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assertEquals(await outcome(infos[0].completed), "resolved"); // asked for after the fact
  });

  Deno.test(`${protocol}: a stream handler that returns before end() has its response ended`, async () => {
    const infos: ServeInfo[] = [];
    await using server = await listen("127.0.0.1", 0, async (stream) => {
      infos.push(stream.info);
      await stream.respond(200);
      await stream.write(utf8("partial"));
    });
    await using client = new Client();
    const url = `http://127.0.0.1:${server.port}/`;
    const response = await client.request("GET", url, { protocol });
    assertEquals(await outcome(response.text().then(() => {})), "resolved");
    assertEquals(await outcome(infos[0].completed), "resolved");
  });

  Deno.test(`${protocol}: a stream handler that returns without responding gives a 500`, async () => {
    const infos: ServeInfo[] = [];
    await using server = await listen("127.0.0.1", 0, (stream) => {
      infos.push(stream.info);
    });
    await using client = new Client();
    const url = `http://127.0.0.1:${server.port}/`;
    const response = await client.request("GET", url, { protocol });
    assertEquals(response.status, 500);
    await response.body?.cancel();
    assertEquals(
      await outcome(infos[0].completed),
      "rejected: the handler returned without a response",
    );
  });
}

Deno.test("a handler typed Deno.ServeHandler is served as it is, info.completed and all", async () => {
  let logged = "";
  const handler: Deno.ServeHandler = (request, info) => {
    info.completed.then(() => (logged = `${request.method} ${info.remoteAddr.transport}`));
    return new Response("typed");
  };
  await using server = await serve("127.0.0.1", 0, handler);
  assertEquals(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), "typed");
  await new Promise((resolve) => setTimeout(resolve, 50));
  assertEquals(logged, "GET tcp");
});

Deno.test("info.completed's rejection, unlooked at, is not an unhandled rejection", async () => {
  await using server = await listen("127.0.0.1", 0, (stream) => {
    void stream.info.completed; // made, never awaited
    throw new Error("boom");
  }, { onError: () => {} });
  const response = await fetch(`http://127.0.0.1:${server.port}/`);
  assertEquals(response.status, 500);
  await response.body?.cancel();
  await new Promise((resolve) => setTimeout(resolve, 50)); // an unhandled one fails the test here
});

for (const protocol of PROTOCOLS) {
  Deno.test(`${protocol}: a response body that does not match its content-length is refused, and the client is not left waiting`, async () => {
    const reported: string[] = [];
    const handlerSaw: string[] = [];
    await using server = await listen("127.0.0.1", 0, async (stream) => {
      const route = stream.request.target;
      if (route === "/null") {
        // A Response-style head that promises 5 bytes and ends at once.
        await stream.respond(200, { "content-length": "5" }, { endStream: true })
          .catch((e) => handlerSaw.push(`null: ${e.message}`));
        return;
      }
      await stream.respond(200, { "content-length": route === "/long" ? "3" : "5" });
      try {
        await stream.write(utf8(route === "/long" ? "hello" : "abc"));
        await stream.end();
      } catch (error) {
        handlerSaw.push(`${route}: ${(error as Error).message}`);
        throw error;
      }
    }, { onError: (error) => reported.push((error as Error).message) });
    await using client = new Client();
    for (const path of ["/null", "/long", "/short"]) {
      const url = `http://127.0.0.1:${server.port}${path}`;
      const result = await within(
        client.request("GET", url, { protocol }).then(
          async (response) => `${response.status} ${await response.text()}`,
          (error) => `error: ${error}`,
        ).catch((error) => `body error: ${error}`),
        3000,
        `${path} left the client waiting`,
      );
      if (path === "/null") assertEquals(result, "500 ", path); // answered before any head
      else assert(result.includes("error"), `${path}: ${result}`);
    }
    // (Over HTTP/1.1 the client retries the GET whose connection closed before any head.)
    assertEquals([...new Set(handlerSaw)], [
      "null: content-length 5 with no body",
      "/long: response body longer than its content-length",
      "/short: response body shorter than its content-length",
    ]);
    assertEquals([...new Set(reported)], [
      "response body longer than its content-length",
      "response body shorter than its content-length",
    ]);
  });
}
