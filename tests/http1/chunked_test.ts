import { assertEquals, assertRejects } from "@std/assert";
import { BufferedReader, UnexpectedEofError } from "../../http1/buffered_reader.ts";
import {
  ChunkedDecoder,
  type ChunkedLimits,
  encodeChunk,
  encodeLastChunk,
} from "../../http1/chunked.ts";
import { HttpParseError } from "../../http1/parse.ts";
import { bytes, join, pair, readerOf, rest, str } from "./_helpers.ts";

/** Decodes a whole chunked body; returns its data, trailers, and what the reader has left. */
async function decode(
  chunks: (string | Uint8Array)[],
  limits?: ChunkedLimits,
): Promise<{ data: string; pieces: number; trailers: string[]; rest: string }> {
  const reader = await readerOf(chunks);
  const decoder = new ChunkedDecoder(reader, limits);
  const parts: Uint8Array[] = [];
  for (let p = await decoder.read(); p !== null; p = await decoder.read()) parts.push(p.slice());
  return {
    data: str(join(parts)),
    pieces: parts.length,
    trailers: decoder.trailers,
    rest: str(await rest(reader)),
  };
}

/** Asserts that decoding rejects with an HttpParseError of `status`. */
async function rejectsWith(body: string, status: number, limits?: ChunkedLimits): Promise<void> {
  const error = await assertRejects(() => decode([body], limits), HttpParseError) as HttpParseError;
  assertEquals(error.status, status, `${JSON.stringify(body)}: ${error.message}`);
}

Deno.test("several chunks decode to their data in order, with no trailers", async () => {
  const out = await decode(["5\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\n\r\n"]);
  assertEquals(out, { data: "hello, world", pieces: 3, trailers: [], rest: "" });
});

Deno.test("a body of only the last chunk is empty", async () => {
  assertEquals(await decode(["0\r\n\r\n"]), { data: "", pieces: 0, trailers: [], rest: "" });
});

Deno.test("the decoder stops at the end of the body and leaves the next message buffered", async () => {
  const out = await decode(["3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"]);
  assertEquals([out.data, out.rest], ["abc", "GET / HTTP/1.1\r\n\r\n"]);
});

Deno.test("chunk extensions are accepted and ignored, on data chunks and the last chunk", async () => {
  const out = await decode([
    "5;name=value\r\nhello\r\n" +
    "1 ; a=b;c\r\n!\r\n" +
    '2;q="quoted; \\"text\\""\r\nok\r\n' +
    "3\t;x\r\nabc\r\n" +
    '1;e="caf\xe9"\r\nZ\r\n' +
    "0;last=yes\r\n\r\n",
  ]);
  assertEquals(out.data, "hello!okabcZ");
});

Deno.test("chunk sizes are hexadecimal in either case, with leading zeros", async () => {
  const ten = "0123456789";
  const out = await decode([
    `A\r\n${ten}\r\na\r\n${ten}\r\n00000F\r\n${"f".repeat(15)}\r\n1F\r\n${
      "x".repeat(31)
    }\r\n0\r\n\r\n`,
  ]);
  assertEquals(out.data, ten + ten + "f".repeat(15) + "x".repeat(31));
});

Deno.test("trailers after the last chunk are parsed into lowercase names and values", async () => {
  const out = await decode([
    "3\r\nabc\r\n0\r\nX-Checksum: 900150983cd24fb0\r\nServer-Timing:  total;dur=12 \r\nX-Checksum: again\r\n\r\nNEXT",
  ]);
  assertEquals(out.trailers, [
    "x-checksum",
    "900150983cd24fb0",
    "server-timing",
    "total;dur=12",
    "x-checksum",
    "again",
  ]);
  assertEquals([out.data, out.rest], ["abc", "NEXT"]);
});

Deno.test("trailers are empty until the body has ended", async () => {
  const reader = await readerOf(["2\r\nhi\r\n0\r\nA: 1\r\n\r\n"]);
  const decoder = new ChunkedDecoder(reader);
  assertEquals(str((await decoder.read())!), "hi");
  assertEquals(decoder.trailers, []);
  assertEquals(await decoder.read(), null);
  assertEquals(decoder.trailers, ["a", "1"]);
  // Reading past the end keeps returning null.
  assertEquals(await decoder.read(), null);
});

Deno.test("malformed trailer fields are rejected with 400", async () => {
  await rejectsWith("0\r\nX: a\r\n folded\r\n\r\n", 400);
  await rejectsWith("0\r\nX : a\r\n\r\n", 400);
  await rejectsWith("0\r\nX: a\x00\r\n\r\n", 400);
  await rejectsWith("0\r\nX: a\nY: b\r\n\r\n", 400);
  await rejectsWith("0\r\nno colon\r\n\r\n", 400);
});

Deno.test("too many or too large trailers are rejected with 431", async () => {
  await rejectsWith("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, { maxHeaderCount: 2 });
  await rejectsWith(`0\r\nA: ${"x".repeat(200)}\r\n\r\n`, 431, { maxTrailerSize: 100 });
  const ok = await decode(["0\r\nA: 1\r\nB: 2\r\n\r\n"], { maxHeaderCount: 2 });
  assertEquals(ok.trailers, ["a", "1", "b", "2"]);
});

Deno.test("chunk data not followed by CRLF is rejected with 400", async () => {
  await rejectsWith("5\r\nhelloX\r\n0\r\n\r\n", 400);
  await rejectsWith("3\r\nhello\r\n0\r\n\r\n", 400);
  await rejectsWith("5\r\nhello\n0\r\n\r\n", 400);
  await rejectsWith("5\r\nhello\r0\r\n\r\n", 400);
  await rejectsWith("5\r\nhello0\r\n\r\n", 400);
});

Deno.test("an invalid chunk size is rejected with 400", async () => {
  for (
    const line of [
      "g",
      "",
      "-1",
      "+5",
      "0x5",
      " 5",
      "5 ",
      "5 x",
      "5x",
      "5,",
      "5\r",
      "5\x00",
      "5;\x00",
      "5;a\rb",
      "12345678901234",
      "\u00bd",
    ]
  ) {
    await rejectsWith(`${line}\r\nhello\r\n0\r\n\r\n`, 400);
  }
  await rejectsWith("5\nhello\r\n0\r\n\r\n", 400);
  await rejectsWith("0\n\r\n", 400);
});

Deno.test("a chunk size line longer than maxChunkLine is rejected with 400", async () => {
  const ext = ";" + "a".repeat(5000);
  await rejectsWith(`5${ext}\r\nhello\r\n0\r\n\r\n`, 400);
  // The limit counts the whole line, its CRLF included.
  await rejectsWith("5;abcdef\r\nhello\r\n0\r\n\r\n", 400, { maxChunkLine: 9 });
  assertEquals(
    (await decode(["5;abcdef\r\nhello\r\n0\r\n\r\n"], { maxChunkLine: 10 })).data,
    "hello",
  );
});

Deno.test("a too-long size line is refused before its end arrives", async () => {
  const [client, server] = pair();
  const decoder = new ChunkedDecoder(new BufferedReader(server), { maxChunkLine: 64 });
  await client.write(bytes("5;" + "a".repeat(100)));
  // No CRLF yet and the connection stays open: the decoder must not wait for more.
  const error = await assertRejects(() => decoder.read(), HttpParseError) as HttpParseError;
  assertEquals(error.status, 400);
  client.close();
});

Deno.test("a body cut short anywhere rejects with UnexpectedEofError", async () => {
  const full = "5;x=y\r\nhello\r\n0\r\nA: 1\r\n\r\n";
  for (let cut = 0; cut < full.length; cut++) {
    await assertRejects(
      () => decode([full.slice(0, cut)]),
      UnexpectedEofError,
      undefined,
      `cut at ${cut}: ${JSON.stringify(full.slice(0, cut))}`,
    );
  }
  assertEquals((await decode([full])).data, "hello");
});

Deno.test("data is handed out as it arrives, before the rest of the chunk", async () => {
  const [client, server] = pair();
  const decoder = new ChunkedDecoder(new BufferedReader(server));
  await client.write(bytes("b\r\nhel"));
  assertEquals(str((await decoder.read())!), "hel");
  const next = decoder.read();
  await client.write(bytes("lo worl"));
  assertEquals(str((await next)!), "lo worl");
  await client.write(bytes("d\r\n0\r\n\r\n"));
  assertEquals(str((await decoder.read())!), "d");
  assertEquals(await decoder.read(), null);
});

Deno.test("a chunk larger than 1 MiB is handed out in pieces of at most 1 MiB", async () => {
  const size = (1 << 20) + 12345;
  const data = new Uint8Array(size).map((_, i) => i % 251);
  const reader = await readerOf([
    join([bytes(size.toString(16) + "\r\n"), data, bytes("\r\n0\r\n\r\n")]),
  ]);
  const decoder = new ChunkedDecoder(reader);
  const pieces: Uint8Array[] = [];
  for (let p = await decoder.read(); p !== null; p = await decoder.read()) pieces.push(p);
  assertEquals(pieces.map((p) => p.byteLength), [1 << 20, 12345]);
  assertEquals(join(pieces), data);
});

Deno.test("encodeChunk frames data with a lowercase hex size line and CRLF", () => {
  assertEquals(str(encodeChunk(bytes("hi"))), "2\r\nhi\r\n");
  assertEquals(str(encodeChunk(new Uint8Array(255))), "ff\r\n" + "\0".repeat(255) + "\r\n");
  const big = encodeChunk(new Uint8Array(1 << 20));
  assertEquals(str(big.subarray(0, 8)), "100000\r\n");
  assertEquals(big.byteLength, 8 + (1 << 20) + 2);
});

Deno.test("encodeLastChunk ends a body with or without trailer fields", () => {
  assertEquals(str(encodeLastChunk()), "0\r\n\r\n");
  assertEquals(str(encodeLastChunk(new Headers())), "0\r\n\r\n");
  assertEquals(
    str(encodeLastChunk(new Headers([["X-Sum", "42"], ["Server-Timing", "a;dur=1"]]))),
    "0\r\nserver-timing: a;dur=1\r\nx-sum: 42\r\n\r\n",
  );
});

Deno.test("chunks from encodeChunk and encodeLastChunk round-trip through the decoder", async () => {
  const sizes = [1, 2, 15, 16, 17, 255, 256, 4095, 4096, 65537, 100_000];
  const datas = sizes.map((n, k) => new Uint8Array(n).map((_, i) => (i * 31 + k) % 256));
  const trailers = new Headers([["x-checksum", "abc"], ["x-latin", "caf\u00e9"], ["x-n", "1"]]);
  const wire = join([...datas.map(encodeChunk), encodeLastChunk(trailers)]);
  // Delivered whole, and cut into 7-byte pieces.
  for (
    const chunks of [
      [wire],
      Array.from(
        { length: Math.ceil(wire.byteLength / 7) },
        (_, i) => wire.subarray(i * 7, i * 7 + 7),
      ),
    ]
  ) {
    const reader = await readerOf(chunks);
    const decoder = new ChunkedDecoder(reader);
    const parts: Uint8Array[] = [];
    for (let p = await decoder.read(); p !== null; p = await decoder.read()) parts.push(p.slice());
    assertEquals(join(parts), join(datas));
    assertEquals(decoder.trailers, ["x-checksum", "abc", "x-latin", "caf\u00e9", "x-n", "1"]);
    assertEquals((await rest(reader)).byteLength, 0);
  }
});

Deno.test("the chunked decoder drops trailers that must not be trailers", async () => {
  const decoder = new ChunkedDecoder(
    await readerOf([
      "1\r\nx\r\n0\r\nContent-Length: 99\r\nX-Ok: 1\r\nHost: evil\r\nTransfer-Encoding: gzip\r\n\r\n",
    ]),
  );
  while ((await decoder.read()) !== null) { /* drain */ }
  assertEquals(decoder.trailers, ["x-ok", "1"]);
});
