import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { memoryPair } from "../../conn/memory.ts";
import {
  BufferedReader,
  concat,
  findHeadEnd,
  HeadTooLargeError,
  UnexpectedEofError,
} from "../../http1/buffered_reader.ts";
import { BodyReader } from "../../http1/body_reader.ts";
import { type BodyFraming, HttpParseError, parseRequestHead } from "../../http1/parse.ts";
import { bytes, CountingConn, join, pair, readerOf, rest, str } from "./_helpers.ts";

Deno.test("readHead returns the head through its blank line and keeps what follows buffered", async () => {
  const reader = await readerOf(["GET / HTTP/1.1\r\nHost: h\r\n\r\nBODY"]);
  assertEquals(str((await reader.readHead(1024))!), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  assertEquals(reader.buffered, 4);
  assertEquals(str(reader.peek()), "BODY");
});

Deno.test("readHead skips any number of empty lines before the head, even split across reads", async () => {
  const reader = await readerOf(["\r\n\r", "\n\r", "\n", "\r\nGET / HTTP/1.1\r\n\r\n"]);
  assertEquals(str((await reader.readHead(1024))!), "GET / HTTP/1.1\r\n\r\n");
});

Deno.test("empty lines before a head are skipped", async () => {
  const head = "GET / HTTP/1.1\r\n\r\n";
  const reader = await readerOf(["\r\n".repeat(5) + head]);
  assertEquals(str((await reader.readHead(head.length + 10))!), head);
});

Deno.test("readHead returns null when the stream ends cleanly before a head", async () => {
  assertEquals(await (await readerOf([])).readHead(1024), null);
  assertEquals(await (await readerOf(["\r\n\r\n"])).readHead(1024), null);
  const reader = await readerOf(["GET / HTTP/1.1\r\n\r\n"]);
  assertEquals((await reader.readHead(1024))!.byteLength, 18);
  assertEquals(await reader.readHead(1024), null);
  assertEquals(reader.done, true);
});

Deno.test("readHead rejects with UnexpectedEofError when the stream ends inside a head", async () => {
  for (
    const partial of ["G", "GET / HTTP/1.1", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\n\r", "\r"]
  ) {
    await assertRejects(
      async () => await (await readerOf([partial])).readHead(1024),
      UnexpectedEofError,
    );
  }
});

Deno.test("a line of a head that ends in LF without CR is refused at once with 400", async () => {
  for (
    const sent of ["GET / HTTP/1.1\n", "GET / HTTP/1.1\r\nHost: h\n", "\n", "GET / HTTP/1.1\r\n\n"]
  ) {
    // The stream stays open and the head has not ended: nothing else would end the wait.
    const reader = await readerOf([sent], false);
    await reader.fill();
    const error = assertThrows(() => reader.takeHead(1024), HttpParseError);
    assertEquals(error.status, 400, JSON.stringify(sent));
  }
  // Found from where the last look stopped, when the LF comes in a later read.
  const [client, server] = pair();
  const reader = new BufferedReader(server);
  await client.write(bytes("GET / HTTP/1.1\r\nHost: h"));
  await reader.fill();
  assertEquals(reader.takeHead(1024), undefined);
  await client.write(bytes("\n"));
  await reader.fill();
  assertThrows(() => reader.takeHead(1024), HttpParseError);
  client.close();
});

Deno.test("a head of exactly maxSize bytes is accepted and one byte more is refused", async () => {
  const head = "GET / HTTP/1.1\r\nHost: h\r\nX: " + "x".repeat(40) + "\r\n\r\n";
  const max = head.length;
  for (const chunks of [[head], [...head]]) {
    assertEquals(str((await (await readerOf(chunks)).readHead(max))!), head);
    const error = await assertRejects(
      async () => await (await readerOf(chunks)).readHead(max - 1),
      HeadTooLargeError,
    ) as HeadTooLargeError;
    assertEquals(error.limit, max - 1);
  }
});

Deno.test("an oversized head is refused before its end arrives", async () => {
  const [client, server] = pair();
  const reader = new BufferedReader(server);
  await client.write(bytes("GET / HTTP/1.1\r\nX: " + "a".repeat(200)));
  // The connection stays open and the blank line never comes.
  await assertRejects(() => reader.readHead(128), HeadTooLargeError);
  client.close();
});

Deno.test("readHead finds the blank line when it arrives one byte per read", async () => {
  const text = "GET /slow HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\nNEXT";
  const reader = await readerOf([...text]);
  assertEquals(str((await reader.readHead(1024))!), text.slice(0, -4));
  assertEquals(str(await rest(reader)), "NEXT");
});

Deno.test("a head handed out by readHead is not changed by later reads", async () => {
  const [client, server] = pair();
  const reader = new BufferedReader(server);
  await client.write(bytes("GET /a HTTP/1.1\r\n\r\nGET /b"));
  const head = (await reader.readHead(1024))!;
  await client.write(bytes(" HTTP/1.1\r\n\r\n"));
  const second = (await reader.readHead(1024))!;
  assertEquals(str(head), "GET /a HTTP/1.1\r\n\r\n");
  assertEquals(str(second), "GET /b HTTP/1.1\r\n\r\n");
});

Deno.test("readLine returns each line with its CRLF, then null at the end of the stream", async () => {
  const reader = await readerOf(["first\r\nsec", "ond\r\n", "\r\nthird\r\n"]);
  assertEquals(str((await reader.readLine(100))!), "first\r\n");
  assertEquals(str((await reader.readLine(100))!), "second\r\n");
  assertEquals(str((await reader.readLine(100))!), "\r\n");
  assertEquals(str((await reader.readLine(100))!), "third\r\n");
  assertEquals(await reader.readLine(100), null);
});

Deno.test("readLine rejects with UnexpectedEofError when the stream ends inside a line", async () => {
  await assertRejects(
    async () => await (await readerOf(["no line end"])).readLine(100),
    UnexpectedEofError,
  );
});

Deno.test("readLine refuses a line longer than maxSize, its CRLF included", async () => {
  assertEquals(str((await (await readerOf(["abcd\r\n"])).readLine(6))!), "abcd\r\n");
  await assertRejects(
    async () => await (await readerOf(["abcd\r\n"])).readLine(5),
    HeadTooLargeError,
  );
  await assertRejects(
    async () => await (await readerOf(["abc", "d\r", "\n"])).readLine(5),
    HeadTooLargeError,
  );
  await assertRejects(
    async () => await (await readerOf(["x".repeat(50)], false)).readLine(10),
    HeadTooLargeError,
  );
});

Deno.test("read hands out buffered bytes up to max without touching the connection", async () => {
  const [client, server] = pair();
  const conn = new CountingConn(server);
  const reader = new BufferedReader(conn);
  await client.write(bytes("0123456789"));
  assertEquals(str((await reader.read(4))!), "0123");
  assertEquals(conn.reads, 1);
  assertEquals(str((await reader.read(4))!), "4567");
  assertEquals(str((await reader.read(100))!), "89");
  assertEquals(conn.reads, 1);
  await client.write(bytes("ab"));
  await client.closeWrite();
  assertEquals(str((await reader.read(100))!), "ab");
  assertEquals(conn.reads, 2);
  assertEquals(await reader.read(100), null);
  assertEquals(reader.done, true);
});

Deno.test("take never reads the connection and returns only what is buffered", async () => {
  const [client, server] = pair();
  const conn = new CountingConn(server);
  const reader = new BufferedReader(conn);
  assertEquals(reader.take(10).byteLength, 0);
  await client.write(bytes("hello"));
  assertEquals(conn.reads, 0);
  await reader.fill();
  assertEquals(str(reader.take(2)), "he");
  assertEquals(str(reader.take(10)), "llo");
  assertEquals(reader.take(10).byteLength, 0);
  assertEquals(conn.reads, 1);
});

Deno.test("takeBuffered after a head returns exactly the bytes after it (the upgrade hand-off)", async () => {
  const [client, server] = pair();
  const reader = new BufferedReader(server);
  const frame = new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  const head = "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  await client.write(join([bytes(head), frame]));
  const parsed = parseRequestHead((await reader.readHead(1024))!);
  assertEquals(parsed.upgrade, "websocket");
  assertEquals(reader.takeBuffered(), frame);
  // Nothing is left behind, and later bytes come straight from the connection.
  assertEquals(reader.buffered, 0);
  assertEquals(reader.takeBuffered().byteLength, 0);
  await client.write(bytes("later"));
  assertEquals(str((await server.read())!), "later");
});

Deno.test("takeBuffered after a head that filled its read exactly returns nothing", async () => {
  const reader = await readerOf(["GET / HTTP/1.1\r\nHost: h\r\n\r\n", "after"]);
  await reader.readHead(1024);
  assertEquals(reader.takeBuffered().byteLength, 0);
  assertEquals(str((await reader.conn.read())!), "after");
});

Deno.test("done is true only once the end of the stream was seen and nothing is buffered", async () => {
  const reader = await readerOf(["ab"]);
  assertEquals(reader.done, false);
  await reader.fill();
  assertEquals(reader.done, false);
  assertEquals(await reader.fill(), false);
  assertEquals(reader.done, false);
  reader.take(2);
  assertEquals(reader.done, true);
});

Deno.test("findHeadEnd finds the first CRLF CRLF whose first LF is at or after a position", () => {
  assertEquals(findHeadEnd(bytes("a\r\n\r\nb\r\n\r\n"), 0), 5);
  assertEquals(findHeadEnd(bytes("a\r\n\r\nb\r\n\r\n"), 2), 5);
  assertEquals(findHeadEnd(bytes("a\r\n\r\nb\r\n\r\n"), 3), 10);
  assertEquals(findHeadEnd(bytes("\r\n\r\n"), 0), 4);
  assertEquals(findHeadEnd(bytes("a\r\n\r"), 0), -1);
  assertThrows(() => findHeadEnd(bytes("a\n\n\r\n\r"), 0), HttpParseError);
  assertEquals(findHeadEnd(bytes("\r\r\n\r\n"), 0), 5);
  assertEquals(findHeadEnd(new Uint8Array(0), 0), -1);
});

Deno.test("concat joins two byte arrays into a new one", () => {
  const a = bytes("ab");
  const b = bytes("cde");
  const c = concat(a, b);
  assertEquals(str(c), "abcde");
  a[0] = 0;
  assertEquals(str(c), "abcde");
});

// ---------------------------------------------------------------------------------------------
// Pipelined requests delivered in every possible split

const PIPELINE = [
  "POST /form?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\n" +
  "Content-Type: text/plain\r\n\r\nhello world",
  "PUT /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
  "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Sum: 42\r\nX-Other:  v \r\n\r\n",
  "GET /last HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
];

interface Message {
  method: string;
  target: string;
  fields: string[];
  framing: BodyFraming;
  keepAlive: boolean;
  body: string;
  trailers: string[];
}

const EXPECTED: Message[] = [
  {
    method: "POST",
    target: "/form?x=1",
    fields: ["host", "example.com", "content-length", "11", "content-type", "text/plain"],
    framing: { kind: "length", length: 11 },
    keepAlive: true,
    body: "hello world",
    trailers: [],
  },
  {
    method: "PUT",
    target: "/upload",
    fields: ["host", "example.com", "transfer-encoding", "chunked", "trailer", "X-Sum"],
    framing: { kind: "chunked" },
    keepAlive: true,
    body: "hello0123456789",
    trailers: ["x-sum", "42", "x-other", "v"],
  },
  {
    method: "GET",
    target: "/last",
    fields: ["host", "example.com", "connection", "close"],
    framing: { kind: "none" },
    keepAlive: false,
    body: "",
    trailers: [],
  },
];

/** Reads `count` messages (head, whole body, trailers); returns them and what is left. */
async function readMessages(
  chunks: Uint8Array[],
  count: number,
): Promise<{ messages: Message[]; rest: string }> {
  const reader = await readerOf(chunks);
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) {
    const head = parseRequestHead((await reader.readHead(8192))!);
    const body = new BodyReader(reader, head.framing);
    const parts: Uint8Array[] = [];
    for (let p = await body.read(); p !== null; p = await body.read()) parts.push(p.slice());
    messages.push({
      method: head.method,
      target: head.target,
      fields: head.fields,
      framing: head.framing,
      keepAlive: head.keepAlive,
      body: str(join(parts)),
      trailers: body.trailers,
    });
  }
  if (count === PIPELINE.length) assertEquals(await reader.readHead(8192), null);
  return { messages, rest: str(await rest(reader)) };
}

/** Checks every message and the bytes left after each one, for one way of cutting the wire. */
async function checkDelivery(chunks: Uint8Array[], label: string): Promise<void> {
  for (let count = 1; count <= PIPELINE.length; count++) {
    const out = await readMessages(chunks, count);
    assertEquals(out.messages, EXPECTED.slice(0, count), label);
    assertEquals(out.rest, PIPELINE.slice(count).join(""), `${label}, after ${count}`);
  }
}

Deno.test("pipelined requests split into two writes at every byte parse the same way", async () => {
  const wire = bytes(PIPELINE.join(""));
  for (let at = 0; at <= wire.byteLength; at++) {
    await checkDelivery([wire.subarray(0, at), wire.subarray(at)], `split at ${at}`);
  }
});

Deno.test("pipelined requests written one byte at a time parse the same way", async () => {
  const wire = bytes(PIPELINE.join(""));
  const chunks = Array.from({ length: wire.byteLength }, (_, i) => wire.subarray(i, i + 1));
  await checkDelivery(chunks, "one byte per write");
});

Deno.test("readHead counts empty lines before a head toward its size limit", async () => {
  const reader = await readerOf(["\r\n".repeat(100) + "GET / HTTP/1.1\r\n\r\n"]);
  await assertRejects(() => reader.readHead(64), HeadTooLargeError);
});

Deno.test("takeHead hands out a buffered head without reading, and undefined until one is whole", async () => {
  const [client, server] = pair();
  const counting = new CountingConn(server);
  const reader = new BufferedReader(counting);
  await client.write(bytes("\r\nGET /a HTTP/1.1\r\nHost: h\r\n"));
  assertEquals(await reader.fill(), true);
  assertEquals(reader.takeHead(1024), undefined);
  assertEquals(counting.reads, 1);
  await client.write(bytes("\r\nGET /b HTTP/1.1\r\n\r\n"));
  assertEquals(await reader.fill(), true);
  assertEquals(str(reader.takeHead(1024)!), "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
  assertEquals(str(reader.takeHead(1024)!), "GET /b HTTP/1.1\r\n\r\n");
  assertEquals(reader.takeHead(1024), undefined);
  assertEquals(counting.reads, 2);
  client.close();
});

Deno.test("takeHead counts empty lines that came in earlier reads toward the head's limit", async () => {
  const [client, server] = pair();
  const reader = new BufferedReader(server);
  await client.write(bytes("\r\n".repeat(20)));
  assertEquals(await reader.fill(), true);
  assertEquals(reader.takeHead(64), undefined);
  await client.write(bytes("\r\n".repeat(20)));
  assertEquals(await reader.fill(), true);
  assertThrows(() => reader.takeHead(64), HeadTooLargeError);
  client.close();
});

Deno.test("in push mode, a waiting whenFilled runs within the write that brings the bytes", () => {
  const [client, server] = pair();
  const reader = new BufferedReader(server, { push: true });
  const calls: boolean[] = [];
  reader.whenFilled((more) => calls.push(more), (error) => calls.push(error as boolean));
  client.write(bytes("GET / HTTP/1.1\r\n\r\n")); // a memory pair pushes within write()
  assertEquals(calls, [true]);
  assertEquals(str(reader.takeHead(1024)!), "GET / HTTP/1.1\r\n\r\n");
  reader.whenFilled((more) => calls.push(more), (error) => calls.push(error as boolean));
  client.closeWrite();
  assertEquals(calls, [true, false]);
});

Deno.test("in push mode, fill() resolves with the next bytes pushed, then false at the end", async () => {
  const [client, server] = pair();
  const reader = new BufferedReader(server, { push: true });
  const filled = reader.fill();
  await client.write(bytes("abc"));
  assertEquals(await filled, true);
  assertEquals(str(reader.take(10)), "abc");
  const ended = reader.fill();
  await client.closeWrite();
  assertEquals(await ended, false);
  assertEquals(reader.done, true);
});

Deno.test("in push mode, a reader nobody waits on stops taking bytes past 64 KiB, and the writer waits", async () => {
  const [client, server] = memoryPair({ highWaterMark: 64 * 1024 });
  const reader = new BufferedReader(server, { push: true });
  const chunk = new Uint8Array(16 * 1024).fill(7);
  let written = 0;
  const writes = Array.from({ length: 16 }, () => client.write(chunk).then(() => written++));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert(reader.buffered >= 64 * 1024 && reader.buffered < 96 * 1024, `${reader.buffered}`);
  assert(written < 16, "some writes wait for the reader");
  let total = 0;
  while (total < 16 * chunk.byteLength) total += (await reader.read(1 << 20))!.byteLength;
  await Promise.all(writes);
  assertEquals(total, 16 * chunk.byteLength);
});

Deno.test("takeBuffered in push mode hands the connection back to read()", async () => {
  const [client, server] = pair();
  const reader = new BufferedReader(server, { push: true });
  await client.write(bytes("GET / HTTP/1.1\r\nUpgrade: x\r\n\r\nframe"));
  assertEquals(str(reader.takeHead(1024)!), "GET / HTTP/1.1\r\nUpgrade: x\r\n\r\n");
  assertEquals(str(reader.takeBuffered()), "frame");
  await client.write(bytes("more"));
  assertEquals(str((await server.read())!), "more");
});
