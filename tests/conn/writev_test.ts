/**
 * The optional vectored write, `Conn.writev()`, of the Deno and Node adapters: the bytes
 * arrive in order, interleaved correctly with `write()` calls made without waiting, over TCP
 * and TLS; large and small chunks, empty chunks and empty lists; a closed connection rejects.
 */

import { assert, assertEquals, assertRejects } from "@std/assert";
import type { Conn } from "../../conn/types.ts";
import { memoryPair } from "../../conn/memory.ts";
import { DenoConn } from "../../conn/_deno.ts";
import { adapters } from "./_adapters.ts";
import { CA, CERT, KEY } from "../_fixtures.ts";
import { join } from "../_bytes.ts";

/** Reads `n` bytes (no half-close: TLS through Deno's node:tls loses it on large transfers). */
async function readN(conn: Conn, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let c = await conn.read(); c; c = size >= n ? null : await conn.read()) {
    parts.push(c.slice());
    size += c.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) out.set(p, (at += p.byteLength) - p.byteLength);
  return out;
}

/** Chunks of many sizes (9-byte heads, 16 KiB payloads, a 200 KiB one, empty ones), numbered. */
function chunks(seed: number): Uint8Array[] {
  const sizes = [9, 16384, 9, 16384, 0, 1, 200 * 1024, 9, 3, 0, 70_000, 9, 16384];
  return sizes.map((n, k) => new Uint8Array(n).map((_, i) => (seed * 31 + k * 7 + i) % 251));
}

for (const { name, connect, listen } of adapters) {
  for (const secure of [false, true]) {
    const label = `${name}${secure ? " TLS" : ""}`;
    Deno.test(`${label}: writev() sends its chunks in order, interleaved with write() calls`, async () => {
      const listener = await listen({
        hostname: "127.0.0.1",
        port: 0,
        tls: secure ? { cert: CERT, key: KEY } : undefined,
      });
      const expected: Uint8Array[] = [];
      let start!: () => void;
      const ready = new Promise<void>((r) => (start = r));
      const received = (async () => {
        const conn = (await listener.accept())!;
        await ready;
        const got = await readN(conn, join(expected).byteLength);
        conn.close();
        return got;
      })();

      const conn = await connect({
        hostname: "127.0.0.1",
        port: listener.addr.port,
        tls: secure ? { caCerts: [CA], serverName: "localhost" } : undefined,
      });
      assert(typeof conn.writev === "function", "the adapter has writev()");
      const pending: Promise<void>[] = [];
      // Calls overlap (nobody waits): the order of calls is the order on the wire.
      for (let round = 0; round < 6; round++) {
        const parts = chunks(round);
        pending.push(conn.writev!(parts));
        expected.push(...parts);
        const single = new Uint8Array(1000 + round).fill(round);
        pending.push(conn.write(single));
        expected.push(single);
        pending.push(conn.writev!([]));
        const one = [new Uint8Array([250, round])];
        pending.push(conn.writev!(one));
        expected.push(...one);
      }
      start();
      await Promise.all(pending);
      const got = await received;
      const want = join(expected);
      assertEquals(got.byteLength, want.byteLength);
      let firstDiff = -1;
      for (let i = 0; i < want.byteLength && firstDiff < 0; i++) {
        if (got[i] !== want[i]) firstDiff = i;
      }
      assertEquals(firstDiff, -1, "the bytes differ from the concatenation");
      conn.close();
      listener.close();
    });
  }

  Deno.test(`${name}: writev() on a closed connection rejects`, async () => {
    const listener = await listen({ hostname: "127.0.0.1", port: 0 });
    const accepted = listener.accept();
    const conn = await connect({ hostname: "127.0.0.1", port: listener.addr.port });
    conn.close();
    await assertRejects(() => conn.writev!([new Uint8Array(10), new Uint8Array(10)]));
    (await accepted)?.close();
    listener.close();
  });
}

Deno.test("memory pairs have no writev(): callers fall back to write()", () => {
  const [a, b] = memoryPair();
  assertEquals(a.writev, undefined);
  a.close();
  b.close();
});

/** A stand-in for a `Deno.Conn` that records the size and buffer of every write. */
function recordingDenoConn(): { conn: DenoConn; writes: Uint8Array[] } {
  const writes: Uint8Array[] = [];
  const addr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  const raw = {
    localAddr: addr,
    remoteAddr: addr,
    write(bytes: Uint8Array) {
      writes.push(bytes);
      return Promise.resolve(bytes.byteLength);
    },
  } as unknown as Deno.Conn;
  return { conn: new DenoConn(raw, null, false), writes };
}

Deno.test("Deno: writev() copies chunks under 256 KiB into one write, and larger ones go as they are", async () => {
  const { conn, writes } = recordingDenoConn();
  const header = new Uint8Array([0x82, 0x7e, 0x00, 0x10]);
  const payload = new Uint8Array(64 * 1024).fill(7);
  await conn.writev([header, payload]);
  assertEquals(
    writes.map((w) => w.byteLength),
    [4 + 64 * 1024],
    "a header and its payload: one write",
  );
  assertEquals(writes[0], join([header, payload]));
  const big = new Uint8Array(300 * 1024);
  await conn.writev([header, big, header]);
  assertEquals(writes.slice(1).map((w) => w.byteLength), [4, 300 * 1024, 4]);
  assert(writes[2] === big, "a big chunk is not copied");
});

Deno.test("Deno: writev() gathers into a reused buffer once the write is done", async () => {
  const { conn, writes } = recordingDenoConn();
  const parts = [new Uint8Array(100), new Uint8Array(40_000)];
  await conn.writev(parts);
  await conn.writev(parts);
  assertEquals(writes.length, 2);
  assert(writes[0].buffer === writes[1].buffer, "the second gather reuses the first's buffer");
});
