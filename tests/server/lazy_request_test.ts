// The Request a server hands a bodiless GET or HEAD is made when first needed
// (server/_lazy_request.ts); to its handler it is a Request like any other.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { inspect } from "node:util";
import { serve } from "../../server/serve.ts";
import { lazyRequestsWork } from "../../server/_lazy_request.ts";
import { isServerRequest } from "../../server/_server_request.ts";
import { rawExchange, statusOf } from "./_raw.ts";

/** Runs `look` on the Request a GET to `path` (with `init`) gives its handler. */
async function seen<T>(
  look: (request: Request) => T | Promise<T>,
  init: RequestInit = {},
  path = "/a/b?q=1",
): Promise<T> {
  let result!: T;
  await using server = await serve("127.0.0.1", 0, async (request) => {
    result = await look(request);
    return new Response("ok");
  });
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, init);
  await response.body?.cancel();
  assertEquals(response.status, 200);
  return result;
}

Deno.test("this runtime takes a lazily made GET request for a Request", () => {
  assert(lazyRequestsWork());
});

Deno.test("a GET handler sees its request's URL, method, headers, signal and no body", async () => {
  const seenBy = await seen((request) => ({
    url: request.url,
    method: request.method,
    header: request.headers.get("x-a"),
    host: request.headers.get("host"),
    aborted: request.signal.aborted,
    body: request.body,
    bodyUsed: request.bodyUsed,
  }), { headers: { "x-a": "1" } });
  assertEquals(seenBy.url, "http://127.0.0.1:" + new URL(seenBy.url).port + "/a/b?q=1");
  assertEquals(seenBy.method, "GET");
  assertEquals(seenBy.header, "1");
  assert(seenBy.host?.startsWith("127.0.0.1:"));
  assertEquals(seenBy.aborted, false);
  assertEquals(seenBy.body, null);
  assertEquals(seenBy.bodyUsed, false);
});

Deno.test("a GET request's URL is the one new Request() would give", async () => {
  const urls: string[] = [];
  await using server = await serve("127.0.0.1", 0, (request) => {
    urls.push(request.url);
    return new Response("ok");
  });
  const targets = ["/a/./b/../c/%7e?x=%41&y=\"'", "/%zz/\\x/{}", "/../../x?"];
  for (const target of targets) {
    const raw = await rawExchange(
      server.port,
      `GET ${target} HTTP/1.1\r\nHost: Ex.COM:80\r\nConnection: close\r\n\r\n`,
    );
    assertEquals(statusOf(raw), 200);
  }
  assertEquals(urls, targets.map((target) => new Request(`http://Ex.COM:80${target}`).url));
  assertEquals(urls[0], "http://ex.com/a/c/%7e?x=%41&y=%22%27");
});

Deno.test("a HEAD handler sees the method HEAD and its headers", async () => {
  const seenBy = await seen(
    (request) => `${request.method} ${request.headers.get("x-a")} ${request.body}`,
    { method: "HEAD", headers: { "x-a": "2" } },
  );
  assertEquals(seenBy, "HEAD 2 null");
});

Deno.test("a GET request is a Request and a request of this module's server", async () => {
  const seenBy = await seen((request) => ({
    request: request instanceof Request,
    ours: isServerRequest(request),
    tag: Object.prototype.toString.call(request),
    prototype: Object.getPrototypeOf(request) instanceof Object &&
      Object.getPrototypeOf(Object.getPrototypeOf(request)) === Request.prototype,
  }));
  assertEquals(seenBy, { request: true, ours: true, tag: "[object Request]", prototype: true });
});

Deno.test("a GET request can be copied, cloned and read as any Request can", async () => {
  const seenBy = await seen(async (request) => {
    const copy = new Request(request);
    const post = new Request(request, { method: "POST", body: "b" });
    const clone = request.clone();
    return {
      copy: `${copy.method} ${copy.url === request.url} ${copy.headers.get("x-a")}`,
      post: `${post.method} ${post.headers.get("x-a")} ${await post.text()}`,
      clone: `${clone.method} ${clone.url === request.url} ${clone.headers.get("x-a")}`,
      text: await request.text(),
      bytes: (await request.arrayBuffer()).byteLength,
    };
  }, { headers: { "x-a": "3" } });
  assertEquals(seenBy, {
    copy: "GET true 3",
    post: "POST 3 b",
    clone: "GET true 3",
    text: "",
    bytes: 0,
  });
});

Deno.test("a GET request can be forwarded with fetch", async () => {
  await using upstream = await serve("127.0.0.1", 0, (request) => {
    return new Response(
      `${request.method} ${new URL(request.url).pathname} ${request.headers.get("x-a")}`,
    );
  });
  const forwarded = await seen(async (request) => {
    const response = await fetch(new Request(`http://127.0.0.1:${upstream.port}/up`, request));
    return await response.text();
  }, { headers: { "x-a": "4" } });
  assertEquals(forwarded, "GET /up 4");
});

Deno.test("a GET request prints as a Request made at once does", async () => {
  const printers: ((value: unknown) => string)[] = [inspect];
  if (typeof Deno.inspect === "function") printers.push(Deno.inspect);
  const printed = await seen((request) => printers.map((print) => print(request)));
  const made = new Request("http://127.0.0.1/a/b?q=1");
  printers.forEach((print, i) => {
    assertStringIncludes(printed[i], "Request");
    // Bun prints none of a Request's members.
    if (print(made).includes("/a/b?q=1")) assertStringIncludes(printed[i], "/a/b?q=1");
  });
});

Deno.test("a GET request keeps what is set on it, and has the keys a Request has", async () => {
  const seenBy = await seen((request) => {
    const extra = request as Request & { extra?: number };
    extra.extra = 1;
    const kept = `${extra.extra} ${"extra" in extra}`;
    delete extra.extra;
    return {
      kept,
      deleted: "extra" in extra,
      keys: Object.keys(request),
      json: JSON.stringify(request),
    };
  });
  assertEquals(seenBy, {
    kept: "1 true",
    deleted: false,
    keys: Object.keys(new Request("http://x/")),
    json: JSON.stringify(new Request("http://x/")),
  });
});

Deno.test("a GET request's headers can be read after its response went out", async () => {
  let kept!: Request;
  await using server = await serve("127.0.0.1", 0, (request) => {
    kept = request;
    return new Response("ok");
  });
  const response = await fetch(`http://127.0.0.1:${server.port}/`, { headers: { "x-a": "5" } });
  assertEquals(await response.text(), "ok");
  assertEquals(kept.headers.get("x-a"), "5");
  assertEquals(kept.method, "GET");
});

Deno.test("a GET request cannot be frozen, as the server's documentation says", async () => {
  const refused = await seen((request) => {
    try {
      Object.freeze(request);
      return null;
    } catch (error) {
      return error instanceof TypeError;
    }
  });
  assertEquals(refused, true);
});
