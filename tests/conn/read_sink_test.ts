import { assertEquals } from "@std/assert";
import type { Conn, ReadSink } from "../../conn/types.ts";
import { memoryPair } from "../../conn/memory.ts";
import { nodeConnect, nodeListen } from "../../conn/_node.ts";
import { join } from "../_bytes.ts";
import { text, utf8 } from "../_fixtures.ts";

/** The connections that can push what they read: a writer end and a reader end of each. */
const kinds: { name: string; open(): Promise<[Conn, Conn, () => void]> }[] = [
  {
    name: "memory pair",
    open: () => {
      const [a, b] = memoryPair();
      return Promise.resolve([a, b, () => (a.close(), b.close())]);
    },
  },
  {
    name: "node:net",
    open: async () => {
      const listener = await nodeListen({ hostname: "127.0.0.1", port: 0 });
      const accepted = listener.accept();
      const writer = await nodeConnect({ hostname: "127.0.0.1", port: listener.addr.port });
      const reader = (await accepted)!;
      return [writer, reader, () => (writer.close(), reader.close(), listener.close())];
    },
  },
];

/** A sink that keeps what it gets; `ended` settles with the end's error (or null). */
function collector(): ReadSink & { chunks: Uint8Array[]; ended: Promise<Error | null> } {
  let end!: (error: Error | null) => void;
  const chunks: Uint8Array[] = [];
  return {
    chunks,
    ended: new Promise((resolve) => (end = resolve)),
    data: (chunk) => chunks.push(chunk),
    end: (error) => end(error),
  };
}

/** Resolves once `reader` has queued `n` bytes for read() (waits for them to arrive). */
async function arrived(reader: Conn, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  while (size < n) {
    const chunk = (await reader.read())!;
    parts.push(chunk);
    size += chunk.byteLength;
  }
  return join(parts);
}

for (const kind of kinds) {
  Deno.test(`${kind.name}: a read sink gets what was read before it, then each chunk as it comes, then the end once`, async () => {
    const [writer, reader, close] = await kind.open();
    try {
      await writer.write(utf8("one,"));
      await new Promise((resolve) => setTimeout(resolve, 20)); // read and queued by now
      const sink = collector();
      reader.setReadSink!(sink);
      assertEquals(text(join(sink.chunks)), "one,", "the queued chunk is handed over at once");
      await writer.write(utf8("two,"));
      await writer.write(utf8("three"));
      await writer.closeWrite();
      assertEquals(await sink.ended, null);
      assertEquals(text(join(sink.chunks)), "one,two,three");
    } finally {
      close();
    }
  });

  Deno.test(`${kind.name}: with the sink taken away, later chunks wait for read()`, async () => {
    const [writer, reader, close] = await kind.open();
    try {
      const sink = collector();
      reader.setReadSink!(sink);
      await writer.write(utf8("pushed"));
      while (join(sink.chunks).byteLength < 6) await new Promise((r) => setTimeout(r, 5));
      reader.setReadSink!(null);
      await writer.write(utf8("pulled"));
      assertEquals(text(await arrived(reader, 6)), "pulled");
      assertEquals(text(join(sink.chunks)), "pushed");
    } finally {
      close();
    }
  });

  Deno.test(`${kind.name}: closing the connection ends its sink without an error`, async () => {
    const [_writer, reader, close] = await kind.open();
    try {
      const sink = collector();
      reader.setReadSink!(sink);
      reader.close();
      assertEquals(await sink.ended, null);
    } finally {
      close();
    }
  });
}

Deno.test("a sink that steps back while taking queued chunks gets no more of them", async () => {
  const [writer, reader] = memoryPair();
  for (const part of ["a", "b", "c"]) await writer.write(utf8(part));
  const got: string[] = [];
  reader.setReadSink!({
    data: (chunk) => {
      got.push(text(chunk));
      reader.setReadSink!(null);
    },
    end: () => got.push("end"),
  });
  assertEquals(got, ["a"]);
  assertEquals(text((await reader.read())!), "b");
  assertEquals(text((await reader.read())!), "c");
});
