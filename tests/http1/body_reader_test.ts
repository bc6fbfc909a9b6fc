import { assertEquals, assertRejects } from "@std/assert";
import { BufferedReader, UnexpectedEofError } from "../../http1/buffered_reader.ts";
import { BodyReader, bodyStream } from "../../http1/body_reader.ts";
import { type BodyFraming, HttpParseError } from "../../http1/parse.ts";
import { bytes, CountingConn, join, pair, readerOf, rest, str } from "./_helpers.ts";

/** Reads a body to its end; returns its pieces. */
async function readAll(body: BodyReader): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  for (let p = await body.read(); p !== null; p = await body.read()) parts.push(p.slice());
  return parts;
}

/** Lets pending promise jobs and timers run. */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

/** A reader over a connection that counts reads, and the writing end. */
function counted() {
  const [client, server] = pair();
  const conn = new CountingConn(server);
  return { client, conn, reader: new BufferedReader(conn) };
}

Deno.test("a length body reads exactly its bytes and leaves the next message buffered", async () => {
  const reader = await readerOf(["helloGET / HTTP/1.1\r\n\r\n"]);
  const body = new BodyReader(reader, { kind: "length", length: 5 });
  assertEquals(body.finished, false);
  assertEquals(str(join(await readAll(body))), "hello");
  assertEquals(body.finished, true);
  assertEquals(await body.read(), null);
  assertEquals(str(await rest(reader)), "GET / HTTP/1.1\r\n\r\n");
});

Deno.test("a length body is handed out piece by piece as it arrives", async () => {
  const { client, reader } = counted();
  const body = new BodyReader(reader, { kind: "length", length: 10 });
  await client.write(bytes("abc"));
  assertEquals(str((await body.read())!), "abc");
  const next = body.read();
  await client.write(bytes("defghijXYZ"));
  assertEquals(str((await next)!), "defghij");
  assertEquals(await body.read(), null);
  assertEquals(str(reader.peek()), "XYZ");
});

Deno.test("a length body larger than 1 MiB comes in pieces of at most 1 MiB", async () => {
  const size = (1 << 20) * 2 + 7;
  const data = new Uint8Array(size).map((_, i) => i % 253);
  const body = new BodyReader(await readerOf([data]), { kind: "length", length: size });
  const parts = await readAll(body);
  assertEquals(parts.map((p) => p.byteLength), [1 << 20, 1 << 20, 7]);
  assertEquals(join(parts), data);
});

Deno.test("a length body cut short anywhere rejects with UnexpectedEofError", async () => {
  const full = "0123456789";
  for (let cut = 0; cut < full.length; cut++) {
    const body = new BodyReader(await readerOf([full.slice(0, cut)]), {
      kind: "length",
      length: 10,
    });
    await assertRejects(() => readAll(body), UnexpectedEofError, undefined, `cut at ${cut}`);
    assertEquals(body.finished, false);
  }
});

Deno.test("a body framed as none is finished at once and never reads the connection", async () => {
  for (const framing of [{ kind: "none" }, { kind: "length", length: 0 }] as BodyFraming[]) {
    const { client, conn, reader } = counted();
    const body = new BodyReader(reader, framing);
    assertEquals(body.finished, true, framing.kind);
    // The connection is open and silent: a read that touched it would never settle.
    assertEquals(await body.read(), null, framing.kind);
    assertEquals(await body.discard(0), true);
    assertEquals(conn.reads, 0, framing.kind);
    client.close();
  }
});

Deno.test("a read-to-close body reads everything until the peer finishes sending", async () => {
  const reader = await readerOf(["first ", "second ", "third"]);
  const body = new BodyReader(reader, { kind: "close" });
  assertEquals(str(join(await readAll(body))), "first second third");
  assertEquals(body.finished, true);
  assertEquals(await body.read(), null);
});

Deno.test("a chunked body decodes its data and exposes its trailers once finished", async () => {
  const reader = await readerOf(["4\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\nNEXT"]);
  const body = new BodyReader(reader, { kind: "chunked" });
  assertEquals(body.trailers, []);
  assertEquals(str(join(await readAll(body))), "Wikipedia");
  assertEquals(body.finished, true);
  assertEquals(body.trailers, ["expires", "never"]);
  assertEquals(str(await rest(reader)), "NEXT");
});

Deno.test("trailers of a body that is not chunked are empty", async () => {
  const body = new BodyReader(await readerOf(["abc"]), { kind: "length", length: 3 });
  await readAll(body);
  assertEquals(body.trailers, []);
});

Deno.test("discard drops the rest of a body within its budget and stops at the next message", async () => {
  const reader = await readerOf(["0123456789NEXT"]);
  const body = new BodyReader(reader, { kind: "length", length: 10 });
  assertEquals(await body.discard(10), true);
  assertEquals(body.finished, true);
  assertEquals(str(await rest(reader)), "NEXT");
  const chunked = await readerOf(["3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\nNEXT"]);
  const cbody = new BodyReader(chunked, { kind: "chunked" });
  assertEquals(await cbody.discard(6), true);
  assertEquals(cbody.finished, true);
  assertEquals(str(await rest(chunked)), "NEXT");
});

Deno.test("discard gives up without reading when a length body exceeds its budget", async () => {
  const { client, conn, reader } = counted();
  const body = new BodyReader(reader, { kind: "length", length: 1000 });
  assertEquals(await body.discard(999), false);
  assertEquals(conn.reads, 0);
  await client.write(bytes("x".repeat(1000)));
  assertEquals(await body.discard(1000), true);
  assertEquals(body.finished, true);
});

Deno.test("discard gives up when a chunked or read-to-close body outgrows its budget", async () => {
  const chunked = new BodyReader(await readerOf(["5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"]), {
    kind: "chunked",
  });
  assertEquals(await chunked.discard(7), false);
  const close = new BodyReader(await readerOf(["0123456789"]), { kind: "close" });
  assertEquals(await close.discard(5), false);
  const small = new BodyReader(await readerOf(["01234"]), { kind: "close" });
  assertEquals(await small.discard(5), true);
});

Deno.test("discard rejects when the body is cut short", async () => {
  const body = new BodyReader(await readerOf(["abc"]), { kind: "length", length: 10 });
  await assertRejects(() => body.discard(100), UnexpectedEofError);
});

// ---------------------------------------------------------------------------------------------
// bodyStream

Deno.test("bodyStream reads nothing and calls no hook until its consumer reads", async () => {
  const { client, conn, reader } = counted();
  await client.write(bytes("hello"));
  await client.closeWrite();
  const log: string[] = [];
  const stream = bodyStream(new BodyReader(reader, { kind: "length", length: 5 }), {
    onFirstPull: () => void log.push(`first pull (reads: ${conn.reads})`),
    onEnd: (error) => void log.push(`end ${error}`),
  });
  await tick();
  assertEquals([log, conn.reads], [[], 0]);
  const streamReader = stream.getReader();
  assertEquals(str((await streamReader.read()).value!), "hello");
  assertEquals(log, ["first pull (reads: 0)"]);
  assertEquals((await streamReader.read()).done, true);
  assertEquals(log, ["first pull (reads: 0)", "end undefined"]);
});

Deno.test("bodyStream waits for onFirstPull before it reads the connection", async () => {
  // As a server sends 100 Continue first: here the hook makes the client send the body.
  const { client, conn, reader } = counted();
  let pulls = 0;
  const stream = bodyStream(new BodyReader(reader, { kind: "length", length: 4 }), {
    onFirstPull: async () => {
      pulls++;
      assertEquals(conn.reads, 0);
      await tick();
      await client.write(bytes("data"));
    },
  });
  assertEquals(await new Response(stream).text(), "data");
  assertEquals(pulls, 1);
});

Deno.test("bodyStream does not read ahead of its consumer", async () => {
  const { client, conn, reader } = counted();
  const stream = bodyStream(new BodyReader(reader, { kind: "close" }));
  const r = stream.getReader();
  await client.write(bytes("one"));
  assertEquals(str((await r.read()).value!), "one");
  const reads = conn.reads;
  await client.write(bytes("two"));
  await tick();
  assertEquals(conn.reads, reads);
  assertEquals(str((await r.read()).value!), "two");
  assertEquals(conn.reads, reads + 1);
  await client.closeWrite();
  assertEquals((await r.read()).done, true);
});

Deno.test("bodyStream calls onEnd once with no error when the body ends", async () => {
  const ends: unknown[][] = [];
  const reader = await readerOf(["2\r\nhi\r\n0\r\n\r\n"]);
  const stream = bodyStream(new BodyReader(reader, { kind: "chunked" }), {
    onEnd: (...args) => void ends.push(args),
  });
  const r = stream.getReader();
  assertEquals(str((await r.read()).value!), "hi");
  assertEquals(ends, []);
  assertEquals((await r.read()).done, true);
  assertEquals((await r.read()).done, true);
  await r.cancel("late");
  assertEquals(ends, [[undefined]]);
});

Deno.test("bodyStream errors and calls onEnd once with the error when the body is cut short", async () => {
  const ends: unknown[] = [];
  const reader = await readerOf(["hel"]);
  const stream = bodyStream(new BodyReader(reader, { kind: "length", length: 5 }), {
    onEnd: (error) => void ends.push(error),
  });
  const r = stream.getReader();
  assertEquals(str((await r.read()).value!), "hel");
  const error = await assertRejects(() => r.read(), UnexpectedEofError);
  await assertRejects(() => r.read(), UnexpectedEofError);
  assertEquals(ends.length, 1);
  assertEquals(ends[0], error);
});

Deno.test("bodyStream hands a malformed chunked body's HttpParseError to the consumer and onEnd", async () => {
  const ends: unknown[] = [];
  const reader = await readerOf(["2\r\nhiX\r\n0\r\n\r\n"]);
  const stream = bodyStream(new BodyReader(reader, { kind: "chunked" }), {
    onEnd: (error) => void ends.push(error),
  });
  const error = await assertRejects(() => new Response(stream).text(), HttpParseError);
  assertEquals((error as HttpParseError).status, 400);
  assertEquals(ends, [error]);
});

Deno.test("bodyStream calls onEnd once with the reason when its consumer cancels", async () => {
  const ends: unknown[] = [];
  const { client, reader } = counted();
  const stream = bodyStream(new BodyReader(reader, { kind: "length", length: 100 }), {
    onEnd: (error) => void ends.push(error),
  });
  const r = stream.getReader();
  await client.write(bytes("partial"));
  assertEquals(str((await r.read()).value!), "partial");
  const reason = new Error("not interested");
  await r.cancel(reason);
  await r.cancel(new Error("again")).catch(() => {});
  assertEquals(ends, [reason]);
});

Deno.test("bodyStream gives onEnd an error even when cancelled without a reason", async () => {
  const ends: unknown[] = [];
  const { reader } = counted();
  const stream = bodyStream(new BodyReader(reader, { kind: "close" }), {
    onEnd: (error) => void ends.push(error),
  });
  await stream.cancel();
  assertEquals(ends.length, 1);
  assertEquals(ends[0] instanceof Error, true);
});

Deno.test("bodyStream errors and calls onEnd when onFirstPull fails", async () => {
  const ends: unknown[] = [];
  const { conn, reader } = counted();
  const failure = new Error("could not send 100 Continue");
  const stream = bodyStream(new BodyReader(reader, { kind: "length", length: 3 }), {
    onFirstPull: () => Promise.reject(failure),
    onEnd: (error) => void ends.push(error),
  });
  const error = await assertRejects(() => stream.getReader().read());
  assertEquals(error, failure);
  assertEquals(ends, [failure]);
  assertEquals(conn.reads, 0);
});

Deno.test("bodyStream of an empty body ends without reading the connection", async () => {
  const ends: unknown[][] = [];
  let pulls = 0;
  const { conn, reader } = counted();
  const stream = bodyStream(new BodyReader(reader, { kind: "none" }), {
    onFirstPull: () => void pulls++,
    onEnd: (...args) => void ends.push(args),
  });
  assertEquals(await new Response(stream).text(), "");
  assertEquals([pulls, ends, conn.reads], [1, [[undefined]], 0]);
});
