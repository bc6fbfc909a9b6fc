import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import * as http from "../../client/request.ts";
import { defaultClient, del, get, head, patch, post, put, request } from "../../client/request.ts";
import { countingServe, testClient } from "./_helpers.ts";

async function methodServer() {
  return await countingServe(async (req) =>
    new Response(`${req.method} ${new URL(req.url).pathname} ${await req.text()}`, {
      headers: { "x-method": req.method },
    })
  );
}

Deno.test("request: request() and each method helper send their method through the given client", async () => {
  await using server = await methodServer();
  await using client = testClient();
  const url = `${server.origin}/m`;
  assertEquals(await (await request("OPTIONS", url, { client })).text(), "OPTIONS /m ");
  assertEquals(await (await get(url, { client })).text(), "GET /m ");
  assertEquals(await (await post(url, { client, body: "p" })).text(), "POST /m p");
  assertEquals(await (await put(url, { client, body: "u" })).text(), "PUT /m u");
  assertEquals(await (await patch(url, { client, body: "a" })).text(), "PATCH /m a");
  assertEquals(await (await del(url, { client })).text(), "DELETE /m ");
  const h = await head(url, { client });
  assertEquals([h.status, h.body, h.headers.get("x-method")], [200, null, "HEAD"]);
  assertEquals(server.connections, 1);
});

Deno.test("request: del is also exported as delete", async () => {
  await using server = await methodServer();
  await using client = testClient();
  assertStrictEquals(http.delete, del);
  assertEquals(await (await http.delete(`${server.origin}/x`, { client })).text(), "DELETE /x ");
});

Deno.test("request: a URL object is accepted as well as a string", async () => {
  await using server = await methodServer();
  await using client = testClient();
  const res = await get(new URL("/obj?q=1", server.origin), { client });
  assertEquals(await res.text(), "GET /obj ");
  assertEquals(res.url, `${server.origin}/obj?q=1`);
});

Deno.test("request: without a client the shared default client is used, and remade once closed", async () => {
  await using server = await methodServer();
  const shared = defaultClient();
  assertStrictEquals(defaultClient(), shared);
  if (shared.proxy.proxyFor(server.origin) === null) {
    // connection: close, so no idle connection outlives the test
    const res = await get(`${server.origin}/d`, { headers: { connection: "close" } });
    assertEquals(await res.text(), "GET /d ");
  }
  await shared.close();
  const next = defaultClient();
  assert(next !== shared && !next.closed);
  await next.close();
});
