import { assert, assertEquals, assertRejects } from "@std/assert";
import { open } from "../../client/open.ts";
import { countingServe, decoder, delay, streamOf, testClient } from "./_helpers.ts";

Deno.test("open: the body streams to the server as it is written, and f's result is returned", async () => {
  const seen: string[] = [];
  let notify: (() => void) | null = null;
  await using server = await countingServe(async (req) => {
    for await (const chunk of req.body!) {
      seen.push(decoder.decode(chunk));
      notify?.();
    }
    return new Response(`got ${seen.join("")}`);
  });
  await using client = testClient();
  const result = await open("POST", `${server.origin}/up`, async (stream) => {
    for (const piece of ["one ", "two ", "three"]) {
      const arrived = new Promise<void>((resolve) => (notify = resolve));
      await stream.write(piece);
      await arrived; // the server has it before the next piece is written
    }
    await stream.close();
    const res = await stream.response;
    return await res.text();
  }, { client });
  assertEquals(result, "got one two three");
  assertEquals(seen, ["one ", "two ", "three"]);
});

Deno.test("open: an echoed body can be read while it is still being written", async () => {
  await using server = await countingServe((req) => new Response(req.body));
  await using client = testClient();
  const echoed = await open("PUT", server.origin, async (stream) => {
    const write = stream.write("ping-1");
    const res = await stream.response;
    const reader = res.body!.getReader();
    await write;
    const got: string[] = [decoder.decode((await reader.read()).value)];
    await stream.write("ping-2");
    got.push(decoder.decode((await reader.read()).value));
    await stream.close();
    assertEquals((await reader.read()).done, true);
    return got;
  }, { client });
  assertEquals(echoed, ["ping-1", "ping-2"]);
});

Deno.test("open: the writable side can be piped to", async () => {
  await using server = await countingServe(async (req) => new Response(await req.text()));
  await using client = testClient();
  const text = await open("POST", server.origin, async (stream) => {
    await streamOf("a", "b", "c").pipeTo(stream.writable);
    return await (await stream.response).text();
  }, { client });
  assertEquals(text, "abc");
});

Deno.test("open: the body is ended if f did not end it, and an unread response body is cancelled", async () => {
  let received = "";
  await using server = await countingServe(async (req) => {
    received = await req.text();
    return new Response("x".repeat(100_000));
  });
  await using client = testClient();
  const result = await open("POST", server.origin, async (stream) => {
    await stream.write("left open");
    return 42;
  }, { client });
  assertEquals(result, 42);
  assertEquals(received, "left open");
  assertEquals(client.transport.stats().connections, 0, "the unread body's connection is closed");
});

Deno.test("open: a throw in f aborts the request and is rethrown", async () => {
  let aborted = false;
  await using server = await countingServe(async (req) => {
    try {
      await req.text();
    } catch {
      aborted = true;
    }
    return new Response("never read");
  });
  await using client = testClient();
  await assertRejects(
    () =>
      open("POST", server.origin, async (stream) => {
        await stream.write("partial");
        await delay(10);
        throw new Error("f failed");
      }, { client }),
    Error,
    "f failed",
  );
  await delay(20);
  assert(aborted, "the server saw the request body cut short");
});

Deno.test("open: a failed request that f never looked at is thrown", async () => {
  await using client = testClient();
  await assertRejects(() => open("GET", "http://127.0.0.1:9/", () => "ignored", { client }));
});
